import Foundation
import RulecCommands
import RulesServe
import Testing

/// `rulec proxy --record`: files rotate by the hour and by size, their names sort in the order they
/// were written, none is overwritten, and `rulec run` reads them (plain or gzip) as they are.
@Suite struct RecorderTests {
  static func line(_ k: Int) -> [UInt8] {
    Array(
      ("{\"caller_user_id\":\"alice\",\"model\":{\"id\":\"m\",\"user_id\":\"u\",\"app_id\":\"a\"},\"input\":{\"id\":\"in-\(k)\"},"
        + "\"data\":{\"concepts\":[{\"id\":\"c\",\"name\":\"cat\",\"value\":0.5}]}}\n").utf8)
  }

  @Test(arguments: [false, true]) func filesRotateByHourAndSizeAndReadBackInOrder(gzip: Bool) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("rulec-record-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: folder) }
    var options = OutputRecorder.Options(directory: folder)
    options.gzip = gzip
    options.maxBytes = gzip ? 250 : 600
    let hour = Date(timeIntervalSince1970: 1_796_000_000)
    var recorder: OutputRecorder? = try OutputRecorder(options)
    for k in 0..<6 { try recorder!.append([Self.line(k)], at: hour) }
    try recorder!.append([Self.line(6), Self.line(7)], at: hour.addingTimeInterval(3600))
    let files = recorder!.files
    recorder = nil
    // A restart in the same hour takes the next free number: nothing is overwritten.
    let again = try OutputRecorder(options)
    try again.append([Self.line(8)], at: hour.addingTimeInterval(3600))
    again.close()
    let all = (files + again.files)
    let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    #expect(names == all.map { ($0 as NSString).lastPathComponent }, "names sort in the order written")
    #expect(names.first == "outputs-20261130-00-001.jsonl" + (gzip ? ".gz" : ""))
    #expect(files.count >= 3)
    #expect(Set(names.map { $0.dropLast(gzip ? 13 : 10) }).count == 2, "two hours")
    let rules = folder + "/all.rule"
    try "collector all {\n  source u/a/m caller alice\n  destination d/d\n  key env K\n  pre_queue {\n    require count(concepts) > 0\n  }\n}\n"
      .write(toFile: rules, atomically: true, encoding: .utf8)
    var err = Capture()
    var items = ""
    let status = Run.execute(
      rules: rules, events: names.map { folder + "/" + $0 }, out: nil, report: nil, strict: true, explain: nil, err: &err, stdout: { items += $0 })
    #expect(status == 0, "\(err.text)")
    let ids = items.split(separator: "\n").map { line -> String in
      let item = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
      return ((item["data"] as! [String: Any])["metadata"] as! [String: Any]).description
    }
    #expect(ids.count == 9)
    #expect(items.range(of: "in-0")!.lowerBound < items.range(of: "in-8")!.lowerBound)
  }
}
