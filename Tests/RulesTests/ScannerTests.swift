import Foundation
import PropertyBased
@testable import RulesEvents
import Testing

/// The scanner is the decoder's fast path: on every line, valid or broken, it must give the decoder's
/// events or the decoder's error.
@Suite struct ScannerTests {
  static let projection: MetadataProjection = {
    var p = MetadataProjection()
    for path in [["source"], ["country"], ["tags"], ["nested", "device", "os"], ["nested"], ["upload", "bytes"], ["missing"]] {
      p.slot(for: path)
    }
    return p
  }()
  static let keys = ["dog", "cat", "ai_9e5e43a8", "café", "no person"]

  /// Everything an event holds, as text (numbers by bit pattern).
  static func describe(_ e: Event) -> String {
    var parts: [String] = []
    func add(_ name: String, _ v: Any?) { parts.append("\(name)=\(v.map { "\($0)" } ?? "nil")") }
    add("line", e.line)
    add("index", e.indexInLine)
    add("status", e.statusCode)
    add("statusName", e.statusName)
    add("outputID", e.outputID)
    add("createdAt", e.createdAt?.bitPattern)
    add("model", [e.modelID, e.modelUser, e.modelApp, e.modelVersion].map { $0 ?? "nil" }.joined(separator: ","))
    add("inputID", e.inputID)
    add("kind", e.inputKind)
    add("text", e.inputText)
    add("url", e.inputURL)
    add("media", e.mediaRange)
    add("metadataRange", e.metadataRange)
    add("rulecKey", e.metadataHasRulecKey)
    add("metadata", e.metadata.map { "\($0.map { "\($0)" } ?? "absent")" }.joined(separator: ";"))
    add("concepts", e.concepts.map { "\($0.id)|\($0.name)|\($0.value.bitPattern)" }.joined(separator: ";"))
    add("regions", e.regions.count)
    add("frames", e.frames.count)
    return parts.joined(separator: " ")
  }

  /// The decoder's reading of a line, and the scanner's (into events reused from `previous`).
  /// `scanner`, when given, is one that has read other lines (and remembers their model objects).
  static func both(
    _ line: [UInt8], needs: DecodeNeeds, previous: [Event] = [], scanner given: OutputScanner? = nil
  ) -> (decoder: String, scanner: String, keys: String) {
    let decoder = OutputDecoder(projection: projection, needs: needs, requiresModel: false)
    let scanner = given ?? OutputScanner(projection: projection, conceptKeys: keys, needs: needs, requiresModel: false)
    return line.withUnsafeBufferPointer { bytes in
      let expected: String
      var expectedKeys = ""
      do {
        let events = try decoder.decode(line: bytes, lineNumber: 7)
        expected = events.map(describe).joined(separator: "\n")
        expectedKeys = events.map { e in e.concepts.map { "\(scanner.keys.key($0.name)),\(scanner.keys.key($0.id))" }.joined(separator: ";") }
          .joined(separator: "/")
      } catch {
        expected = "error: \(error)"
      }
      var events = previous
      do {
        let count = try scanner.decode(line: bytes, lineNumber: 7, into: &events)
        let got = events[0..<count].map(describe).joined(separator: "\n")
        let keys = events[0..<count].map { e in
          zip(e.conceptNameKeys, e.conceptIDKeys).map { "\($0),\($1)" }.joined(separator: ";")
        }.joined(separator: "/")
        return (expected, got, keys == expectedKeys ? "same" : "keys \(keys) != \(expectedKeys)")
      } catch {
        return (expected, "error: \(error)", "same")
      }
    }
  }

  static let sample: [[UInt8]] = {
    let text = try! String(contentsOfFile: TestPaths.path("samples/recording.jsonl"), encoding: .utf8)
    return text.split(separator: "\n").prefix(400).map { Array($0.utf8) }
  }()

  @Test func everySampleLineReadsTheSame() {
    var reused: [Event] = []
    // One scanner for all lines too, as the runner has: it reads repeated model objects from memory.
    let shared = OutputScanner(projection: Self.projection, conceptKeys: Self.keys, requiresModel: false)
    for line in Self.sample {
      let (d, s, k) = Self.both(line, needs: .everything, previous: reused)
      #expect(d == s)
      #expect(k == "same")
      let (_, remembered, sharedKeys) = Self.both(line, needs: .everything, previous: reused, scanner: shared)
      #expect(d == remembered)
      #expect(sharedKeys == "same")
      // Reuse the events of the previous line, as the runner does.
      let scanner = OutputScanner(projection: Self.projection, conceptKeys: Self.keys, requiresModel: false)
      _ = line.withUnsafeBufferPointer { try? scanner.decode(line: $0, lineNumber: 1, into: &reused) }
    }
  }

  /// Without concept text, events reused from line to line hold each line's values, keys and labels
  /// (the list is overwritten in place and cut to length).
  @Test func reusedEventsWithoutTextMatchTheDecoder() {
    var needs = DecodeNeeds()
    needs.conceptText = false
    let scanner = OutputScanner(projection: Self.projection, conceptKeys: Self.keys, needs: needs, requiresModel: false)
    let decoder = OutputDecoder(projection: Self.projection, requiresModel: false)
    var reused: [Event] = []
    // Long lists, then short ones, then long again.
    for line in Self.sample + Self.sample.reversed() {
      line.withUnsafeBufferPointer { bytes in
        guard let expected = try? decoder.decode(line: bytes, lineNumber: 1),
          let count = try? scanner.decode(line: bytes, lineNumber: 1, into: &reused)
        else { return }
        #expect(count == expected.count)
        for (e, want) in zip(reused.prefix(count), expected) {
          #expect(e.concepts.map(\.value) == want.concepts.map(\.value))
          #expect(e.concepts.indices.map { e.conceptLabel($0, line: bytes) } == want.concepts.map { $0.name.isEmpty ? $0.id : $0.name })
          #expect(e.conceptNameKeys == want.concepts.map { scanner.keys.key($0.name) })
        }
      }
    }
  }

  static let fragments: [String] = [
    "\"", "\\", "{", "}", "[", "]", ",", ":", " ", "e", "E5", "-", "0", "9", ".", "null", "true", "\"é\"", "\u{00}",
    "\\u00e9", "\\x", "\"id\":\"dup\",", "\"value\":1e999,", "\"name\":null,", "\"rulec\":1,", "\"outputs\":[{}],",
    "\"status\":{\"code\":\"FAILURE\"},", "\"regions\":[{\"id\":3}],", "\u{FF}", "12345678901234567",
    "\\ud83d\\ude00", "\\ud800", "\\udc00", "\\ud800\\u0041",
    // proto3 JSON's other forms: a null or quoted code, quoted numbers, a status without a code.
    "\"status\":{\"code\":null},", "\"status\":{\"code\":\"10000\"},", "\"status\":{},", "\"value\":\"0.9\",",
    "\"value\":\"0.9 \",", "\"value\":null,",
  ]

  /// The proto3 JSON forms (`null` as the default, numbers and enum numbers as strings): the
  /// scanner reads what the decoder reads, or hands the line over and gets the decoder's error.
  @Test func proto3FormsReadTheSame() {
    let statuses = [
      #"{"code":null}"#, #"{"code":"10000"}"#, #"{"code":" 10000"}"#, #"{"code":"+10000"}"#, #"{"code":"SUCCESS"}"#, #"{"code":10000}"#,
      #"{"description":"Ok"}"#, "{}", "null", #"{"code":"1e4"}"#, #"{"code":""}"#, #"{"code":"\u0031\u0030000"}"#, #"{"code":"9999999999"}"#,
    ]
    let values = [#""0.9""#, #""1e-3""#, #""NaN""#, #""-Infinity""#, "null", #""0.9 ""#, #""""#, #""abc""#, #""1e999""#, "0.9"]
    let scanner = OutputScanner(projection: Self.projection, conceptKeys: Self.keys, requiresModel: false)
    for status in statuses {
      for value in values {
        let line = #"{"id":"o","status":\#(status),"model":{"id":"m"},"input":{"id":"i"},"data":{"concepts":[{"id":"dog","name":"dog","value":\#(value)},{"value":\#(value),"name":"cat"}],"regions":[{"value":\#(value)}]}}"#
        for needs in [DecodeNeeds.everything, DecodeNeeds()] {
          let (d, s, k) = Self.both(Array(line.utf8), needs: needs)
          #expect(d == s, "\(line)")
          #expect(k == "same")
          // A scanner that has read other statuses (it remembers status objects byte for byte).
          let (_, remembered, _) = Self.both(Array(line.utf8), needs: needs, scanner: scanner)
          #expect(d == remembered, "\(line)")
        }
      }
    }
    // What the forms read to, so that agreeing on an error everywhere would not pass.
    let (read, _, _) = Self.both(Array(#"{"status":{"code":null},"data":{"concepts":[{"id":"dog","value":"0.9"}]}}"#.utf8), needs: .everything)
    #expect(read.contains("status=0 ") && read.contains("dog||\(0.9.bitPattern)"), "\(read)")
    let (quoted, _, _) = Self.both(Array(#"{"status":{"code":"10000"}}"#.utf8), needs: .everything)
    #expect(quoted.contains("status=10000 statusName=nil"), "\(quoted)")
  }

  /// Half a UTF-16 surrogate pair in an escape is a bad line wherever it is (a field no rule reads
  /// too: it would be copied into items that strict JSON parsers refuse); a whole pair is a character.
  @Test func loneSurrogatesAreBadLines() {
    for (escape, bad) in [
      (#"\ud83d\ude00"#, false), (#"\uD83D\uDE00"#, false), (#"\ud800"#, true), (#"\udfff"#, true),
      (#"\ud800\u0041"#, true), (#"\ud800\n"#, true), (#"\ude00\ud83d"#, true),
    ] {
      for line in [
        #"{"id":"o","input":{"id":"i","data":{"metadata":{"note":"a\#(escape)b"}}},"data":{}}"#,
        #"{"id":"o","input":{"id":"i"},"extra":{"deep":["\#(escape)"]},"data":{}}"#,
        #"{"id":"o\#(escape)","input":{"id":"i"},"data":{}}"#,
      ] {
        let (d, s, _) = Self.both(Array(line.utf8), needs: DecodeNeeds())
        #expect(d == s, "\(line)")
        #expect(d.hasPrefix("error: ") == bad, "\(line): \(d)")
        if bad { #expect(d.contains("half a surrogate pair"), "\(d)") }
      }
    }
  }

  /// Random edits of real lines (bytes deleted, inserted, lines cut short): the scanner gives the
  /// decoder's events or its error, with all needs and with the fewest.
  @Test func brokenAndOddLinesReadTheSame() async {
    await propertyCheck(count: 1500, input: Gen.uint64()) { seed in
      var rng = SplitMix(state: seed)
      var line = Self.sample[Int.random(in: 0..<Self.sample.count, using: &rng)]
      let everything = Bool.random(using: &rng)
      for _ in 0..<Int.random(in: 1...3, using: &rng) {
        let position = Int.random(in: 0...line.count, using: &rng)
        switch Int.random(in: 0...5, using: &rng) {
        case 0...3: line.insert(contentsOf: Array(Self.fragments.randomElement(using: &rng)!.utf8), at: position)
        case 4: if position < line.count { line.remove(at: position) }
        default: line = Array(line.prefix(position))
        }
      }
      var needs = DecodeNeeds()
      if !everything {
        needs.regionsAndFrames = false
      }
      let (d, s, k) = Self.both(line, needs: needs)
      #expect(d == s, "\(String(decoding: line, as: UTF8.self))")
      #expect(k == "same")
      // A scanner that remembers the sample's model objects: an edit inside one is a miss, an edit
      // elsewhere leaves it a hit, and either way the reading is the decoder's.
      let (_, remembered, _) = Self.both(line, needs: needs, scanner: everything ? Self.warmScanners.everything : Self.warmScanners.fewest)
      #expect(d == remembered, "\(String(decoding: line, as: UTF8.self))")
    }
  }

  /// Scanners that have read the whole sample (each check reads one more line with them).
  static let warmScanners: (everything: OutputScanner, fewest: OutputScanner) = {
    var fewest = DecodeNeeds()
    fewest.regionsAndFrames = false
    let scanners = (
      OutputScanner(projection: projection, conceptKeys: keys, requiresModel: false), OutputScanner(projection: projection, conceptKeys: keys, needs: fewest, requiresModel: false)
    )
    var events: [Event] = []
    for line in sample {
      line.withUnsafeBufferPointer { bytes in
        _ = try? scanners.0.decode(line: bytes, lineNumber: 1, into: &events)
        _ = try? scanners.1.decode(line: bytes, lineNumber: 1, into: &events)
      }
    }
    return (scanners.0, scanners.1)
  }()

  /// Without concept text the scanner keeps where names lie, and labels read from the line.
  @Test func conceptLabelsComeFromTheLine() {
    var needs = DecodeNeeds()
    needs.conceptText = false
    let scanner = OutputScanner(projection: Self.projection, conceptKeys: Self.keys, needs: needs, requiresModel: false)
    let line = Array(#"{"id":"o","data":{"concepts":[{"id":"ai_1","name":"dog","value":0.2},{"id":"ai_2","value":0.9}]}}"#.utf8)
    var events: [Event] = []
    line.withUnsafeBufferPointer { bytes in
      #expect((try? scanner.decode(line: bytes, lineNumber: 1, into: &events)) == 1)
      #expect(events[0].concepts.map(\.name) == ["", ""])
      #expect(events[0].conceptLabel(0, line: bytes) == "dog")
      #expect(events[0].conceptLabel(1, line: bytes) == "ai_2")
      #expect(events[0].topConceptIndex == 1)
      #expect(events[0].conceptNameKeys == [0, -1])
    }
  }

  /// Grammar.md §9: a line holds at most 10,000 outputs (memory stays bounded whatever a line holds).
  @Test func tooManyOutputsMakeABadLine() {
    let scanner = OutputScanner(projection: MetadataProjection(), conceptKeys: [], requiresModel: false)
    var events: [Event] = []
    for (n, ok) in [(OutputDecoder.maxOutputsPerLine, true), (OutputDecoder.maxOutputsPerLine + 1, false)] {
      let line = Array(("{\"outputs\":[" + Array(repeating: "{}", count: n).joined(separator: ",") + "]}").utf8)
      line.withUnsafeBufferPointer { bytes in
        do throws(DecodeError) {
          let count = try scanner.decode(line: bytes, lineNumber: 1, into: &events)
          #expect(ok && count == n)
        } catch {
          #expect(!ok && error.reason == "more than 10000 outputs in one line")
        }
      }
    }
  }

  /// Grammar.md §9: a line makes at most 200,000 list elements in memory, all lists together (one
  /// concept list, concepts spread over outputs, regions), read by the scanner and the decoder alike.
  @Test func tooManyListElementsMakeABadLine() {
    var needs = DecodeNeeds()
    needs.conceptText = false
    let limit = OutputDecoder.maxListElementsPerLine
    for scanner in [OutputScanner(projection: MetadataProjection(), conceptKeys: ["a"], requiresModel: false), OutputScanner(projection: MetadataProjection(), conceptKeys: [], needs: needs, requiresModel: false)] {
      var events: [Event] = []
      func read(_ line: String) -> Result<Int, DecodeError> {
        Array(line.utf8).withUnsafeBufferPointer { bytes in
          do throws(DecodeError) { return .success(try scanner.decode(line: bytes, lineNumber: 1, into: &events)) } catch { return .failure(error) }
        }
      }
      func list(_ n: Int) -> String { "[" + Array(repeating: "{}", count: n).joined(separator: ",") + "]" }
      let failure = "more than \(limit) list elements in one line"
      // One list at the limit and one past it.
      guard case .success(1) = read("{\"data\":{\"concepts\":\(list(limit))}}") else { Issue.record("at the limit"); continue }
      #expect(events[0].conceptValues.count == limit)
      if case .failure(let e) = read("{\"data\":{\"concepts\":\(list(limit + 1))}}") { #expect(e.reason == failure) } else { Issue.record("past the limit") }
      // 1,000 outputs of 200 concepts: each list is short, the line is not (1,000 outputs count too).
      let outputs = "{\"outputs\":[" + Array(repeating: "{\"data\":{\"concepts\":\(list(200))}}", count: 1000).joined(separator: ",") + "]}"
      if case .failure(let e) = read(outputs) { #expect(e.reason == failure) } else { Issue.record("outputs") }
      // Regions are elements too.
      if case .failure(let e) = read("{\"data\":{\"regions\":\(list(limit + 1))}}") { #expect(e.reason == failure) } else { Issue.record("regions") }
    }
  }

  /// Grammar.md §9: regions and frames are type-checked only when a rule reads them.
  @Test func regionsAreCheckedOnlyWhenRead() {
    let line = Array(#"{"id":"o","data":{"concepts":[],"regions":5}}"#.utf8)
    var needs = DecodeNeeds()
    needs.regionsAndFrames = false
    let lenient = OutputScanner(projection: MetadataProjection(), conceptKeys: [], needs: needs, requiresModel: false)
    let strict = OutputScanner(projection: MetadataProjection(), conceptKeys: [], requiresModel: false)
    var events: [Event] = []
    line.withUnsafeBufferPointer { bytes in
      #expect((try? lenient.decode(line: bytes, lineNumber: 1, into: &events)) == 1)
      #expect(throws: DecodeError.self) { _ = try strict.decode(line: bytes, lineNumber: 1, into: &events) }
      // Not JSON is a bad line either way.
      let broken = Array(#"{"id":"o","data":{"regions":[1,}}"#.utf8)
      _ = broken.withUnsafeBufferPointer { b in
        #expect(throws: DecodeError.self) { _ = try lenient.decode(line: b, lineNumber: 1, into: &events) }
      }
    }
  }

  /// Keys resolve by exact text, with more keys than the linear search handles too.
  @Test func keyMatcherFindsEveryKey() {
    let many = (0..<40).map { "concept-\($0)" } + ["café", ""]
    for keys in [Self.keys, many, (0..<40).map { "k\($0)" }] {
      let matcher = ConceptKeyMatcher(keys: keys)
      for (i, k) in keys.enumerated() {
        let bytes = Array(k.utf8)
        let found = bytes.withUnsafeBufferPointer { matcher.key($0.baseAddress ?? UnsafePointer(bitPattern: 1)!, $0.count, ascii: bytes.allSatisfy { $0 < 0x80 }) }
        #expect(found == Int32(i))
      }
      #expect(matcher.key("not-a-key") == -1)
      // "é" as e and a combining accent is the same name as the one-scalar "é".
      #expect(matcher.key("cafe\u{301}") == matcher.key("café"))
    }
  }
  /// Output ids are kept in place up to 48 bytes (no allocation per line), longer or escaped ones
  /// as strings; either way they read back as their text, and a scanner reusing one event over
  /// lines of every kind leaves no byte of an earlier id behind.
  @Test func outputIDsReadBackWhereverTheyAreKept() throws {
    for text in [nil, "", "a", String(repeating: "7", count: 32), String(repeating: "x", count: 48), String(repeating: "y", count: 49), "caf\u{E9}-\u{1F600}"] {
      var e = Event()
      e.outputID = text
      #expect(e.outputID == text)
      let bytes = Array((text ?? "").utf8)
      let inPlace = bytes.withUnsafeBufferPointer { ShortText(utf8: $0) }
      #expect(inPlace.string == (text ?? ""))
      #expect(inPlace.withUTF8 { $0.map(Array.init) } == bytes)
    }
    let scanner = OutputScanner(projection: MetadataProjection(), conceptKeys: [], requiresModel: false)
    var events: [Event] = []
    let ids: [String?] = [String(repeating: "f", count: 32), "short", String(repeating: "z", count: 60), "esc\\\"aped", "", "last-one", nil]
    for (k, id) in ids.enumerated() {
      let line = id.map { "{\"id\":\"\($0)\",\"data\":{}}" } ?? "{\"data\":{}}"
      let count = try Array(line.utf8).withUnsafeBufferPointer { try scanner.decode(line: $0, lineNumber: k + 1, into: &events) }
      #expect(count == 1)
      let expected = id.map { $0.replacingOccurrences(of: "\\\"", with: "\"") }
      #expect(events[0].outputID == expected, "line \(k + 1)")
    }
  }
}

