import Foundation
import PropertyBased
import RulesDiagnostics
@testable import RulesEditor
import RulesSource
import Testing

/// `rulec lsp` in-process: positions in UTF-16 units, incremental edits, the piecewise analysis
/// against the whole-file check, and the JSON-RPC framing (a real client drives the binary in
/// `tools/lsp/test_lsp.py`, run by `.ci/run`).
@Suite struct LanguageServerTests {
  @Test func positionsAreUTF16UnitsAndEditsApplyInPlace() {
    var document = TextDocument(uri: "file:///tmp/a%20b.rule", version: 1, text: "ab🐶c\né x\n")
    #expect(document.path == "/tmp/a b.rule")
    // 🐶 is 4 bytes and 2 UTF-16 units.
    #expect(document.offset(line: 0, character: 2) == 2)
    #expect(document.offset(line: 0, character: 4) == 6)
    #expect(document.position(of: 6) == (0, 4))
    #expect(document.offset(line: 1, character: 1) == 10)  // é is 2 bytes, 1 unit
    #expect(document.offset(line: 0, character: 99) == 7)  // past the end of a line: its end (before the newline)
    #expect(document.offset(line: 9, character: 0) == document.bytes.count)
    document.apply(range: ((0, 4), (0, 5)), text: "d!")
    #expect(String(decoding: document.bytes, as: UTF8.self) == "ab🐶d!\né x\n")
    document.apply(range: nil, text: "new")
    #expect(document.bytes == Array("new".utf8))
  }

  @Test func framedMessagesInAnswersOut() throws {
    final class Sent: @unchecked Sendable { var bytes: [UInt8] = [] }
    let sent = Sent()
    let server = LanguageServer { sent.bytes += $0 }
    func frame(_ object: [String: Any]) throws -> Data {
      let body = try JSONSerialization.data(withJSONObject: object)
      return Data("Content-Length: \(body.count)\r\n\r\n".utf8) + body
    }
    let pipe = Pipe()
    var input = Data()
    input += try frame(["jsonrpc": "2.0", "id": 1, "method": "initialize", "params": [:]])
    input += try frame([
      "jsonrpc": "2.0", "method": "textDocument/didOpen",
      "params": ["textDocument": ["uri": "file:///x.rule", "languageId": "rulec", "version": 1, "text": "collector {"]],
    ])
    input += try frame(["jsonrpc": "2.0", "id": 2, "method": "no/such"])
    input += Data("Content-Length: 5\r\n\r\n{bad}".utf8)
    input += try frame(["jsonrpc": "2.0", "id": 3, "method": "shutdown"])
    input += try frame(["jsonrpc": "2.0", "method": "exit"])
    pipe.fileHandleForWriting.write(input)
    try pipe.fileHandleForWriting.close()
    #expect(server.run(input: pipe.fileHandleForReading) == 0)
    let text = String(decoding: sent.bytes, as: UTF8.self)
    #expect(text.contains(#""documentFormattingProvider":true"#))
    #expect(text.contains("publishDiagnostics") && text.contains(#""code":"RC1006""#))
    #expect(text.contains(#""code":-32601"#))  // an unknown request
    #expect(text.contains(#""code":-32700"#))  // a body that is not JSON
    #expect(text.contains(#""id":3,"jsonrpc":"2.0","result":null"#))
  }

  /// The line table kept through edits is the one a fresh document would build.
  @Test func lineStartsFollowEdits() async {
    let base = read("rules/combined.rule")
    let edit = Gen.int(in: 0...1_000_000).array(of: 4...4)
    let texts = Gen.element(of: ["", "x", "\n", "a\nb\n", "\n\n🐶\n", "é"])
    await propertyCheck(count: 300, input: edit.array(of: 1...6), texts.array(of: 6...6)) { edits, inserts in
      var document = TextDocument(uri: "file:///t.rule", version: 1, text: base)
      for (k, e) in edits.enumerated() {
        let lines = document.lineStarts.count
        let a = (e[0] % lines, e[1] % 40)
        let b = (a.0 + e[2] % 3, e[3] % 40)
        document.apply(range: (a, b), text: inserts[k] ?? "")
        #expect(document.lineStarts == [0] + TextDocument.newlines(in: document.bytes[...], base: 0))
      }
    }
  }

  /// Edits that keep a file readable (a number changed, a line removed or repeated, a collector
  /// renamed to another's id) on the example rules: for every file without syntax errors, the
  /// piecewise analysis says exactly what the whole-file check says, and parses again only the
  /// pieces that changed.
  @Test func piecewiseAnalysisMatchesTheWholeFileCheck() async {
    let examples = ["combined", "uncertain", "metadata-filter", "knowledge-graph-map", "concept-threshold", "random-sample", "confident"]
    let base = examples.map { read("rules/\($0).rule") }.joined(separator: "\n")
    let path = TestPaths.path("rules/edited.rule")
    final class Count: @unchecked Sendable { var compared = 0 }
    let count = Count()
    await propertyCheck(count: 150, input: Gen.int(in: 0...1_000_000).array(of: 3...3).array(of: 1...8)) { edits in
      var lines = base.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
      var analysis = PiecewiseAnalysis()
      _ = analysis.update(SourceFile(path: path, text: lines.joined(separator: "\n")), options: .init())
      for e in edits {
        let at = e[1] % lines.count
        switch e[0] % 4 {
        case 0: lines[at] = lines[at].replacingOccurrences(of: "0.", with: "0.\(e[2] % 10)")
        case 1: lines.remove(at: at)
        case 2: lines.insert(lines[at], at: (e[2] % lines.count))
        default: lines[at] = lines[at].replacingOccurrences(of: "collector ", with: "collector uncertain-general ").replacingOccurrences(of: "general {", with: "general {")
        }
        if lines.isEmpty { lines = [""] }
        let source = SourceFile(path: path, text: lines.joined(separator: "\n"))
        let before = analysis.pieces.count
        let piecewise = analysis.update(source, options: .init())
        let whole = check(bytes: source.bytes, path: path)
        for d in piecewise { #expect(d.range.end <= source.bytes.count) }
        guard !whole.contains(where: { $0.code.id.hasPrefix("RC1") }) else { continue }
        count.compared += 1
        let render = { (ds: [Diagnostic]) in ds.map { "\($0.code.id) \($0.range) \($0.message.text) \($0.notes.map { "\($0.message) \(String(describing: $0.range))" })" } }
        #expect(render(piecewise) == render(whole), "after edit \(e)")
        #expect(analysis.reparsed <= max(2, abs(analysis.pieces.count - before) + 2))
      }
    }
    #expect(count.compared > 100, "too few edits left the file readable: \(count.compared)")
  }

  /// A one-character change inside one collector of many parses that collector again, nothing more;
  /// the diagnostics move with the text.
  @Test func aChangeParsesOnlyItsPiece() {
    let one = read("rules/uncertain.rule")
    let text = (0..<50).map { one.replacingOccurrences(of: "uncertain-general", with: "c\($0)") }.joined(separator: "\n")
    var analysis = PiecewiseAnalysis()
    #expect(analysis.update(SourceFile(path: "/t/many.rule", text: text), options: .init()).isEmpty)
    #expect(analysis.reparsed == 51 && analysis.pieces.count == 51)  // the comment above the first collector is a piece
    let broken = text.replacingOccurrences(of: "collector c30 {\n  description \"Images where no concept reaches 50%\"\n  source clarifai/main/general-image-recognition\n  destination acme/active-learning\n  key env ACME_AL_KEY\n  pre_queue {\n    require max(concepts) < 0.5", with: "collector c30 {\n  description \"Images where no concept reaches 50%\"\n  source clarifai/main/general-image-recognition\n  destination acme/active-learning\n  key env ACME_AL_KEY\n  pre_queue {\n    require maxx(concepts) < 0.5")
    #expect(broken != text)
    let found = analysis.update(SourceFile(path: "/t/many.rule", text: broken), options: .init())
    #expect(analysis.reparsed == 1)
    #expect(found.map(\.code.id) == ["RC3002"])
    #expect(String(decoding: Array(broken.utf8)[found[0].range.start..<found[0].range.end], as: UTF8.self) == "maxx")
    // Text inserted above moves it, without parsing it again.
    let moved = analysis.update(SourceFile(path: "/t/many.rule", text: "# a comment\n" + broken), options: .init())
    #expect(analysis.reparsed == 1)
    #expect(moved[0].range.start == found[0].range.start + 12)
  }
}
