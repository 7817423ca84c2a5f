import Foundation
import PropertyBased
import RulesDiagnostics
import RulesSource
import RulesSyntax
import Testing

/// Arbitrary bytes never crash or hang the front ends and the checker, and formatting is stable.
@Suite struct RobustnessTests {
  static let seedFile = read("rules/combined.rule")
  static let seedYAML = read("rules/yaml/combined.yaml")

  @Test func randomBytesGetDiagnostics() async {
    await propertyCheck(count: 300, input: Gen.uint8().array(of: 0...400)) { bytes in
      _ = check(bytes: bytes, path: "random.rule")
      _ = check(bytes: bytes, path: "random.yaml")
    }
  }

  @Test func mutatedFilesNeverCrash() async {
    let base = Array(Self.seedFile.utf8)
    let yaml = Array(Self.seedYAML.utf8)
    let edits = Gen.int(in: 0...1_000_000_000).array(of: 1...12)
    await propertyCheck(count: 300, input: edits, Gen.uint8()) { positions, byte in
      for source in [base, yaml] {
        var bytes = source
        for (i, p) in positions.enumerated() where !bytes.isEmpty {
          let at = p % bytes.count
          switch i % 4 {
          case 0: bytes[at] = byte
          case 1: bytes.remove(at: at)
          case 2: bytes.insert(byte, at: at)
          default: bytes = Array(bytes[..<at])  // truncated
          }
        }
        _ = check(bytes: bytes, path: source == base ? "m.rule" : "m.yaml")
      }
    }
  }

  /// Whatever parses without errors formats to text that parses again and formats to itself.
  @Test func formattingIsIdempotentOnMutations() async {
    let base = Array(Self.seedFile.utf8)
    await propertyCheck(count: 300, input: Gen.int(in: 0...1_000_000_000), Gen.int(in: 0...1_000_000_000)) { a, b in
      var bytes = base
      let lo = min(a % bytes.count, b % bytes.count)
      let hi = max(a % bytes.count, b % bytes.count)
      bytes.removeSubrange(lo..<hi)  // delete a random span
      let sink = DiagnosticSink()
      let parsed = Parser.parse(SourceFile(path: "f.rule", bytes: bytes), sink: sink)
      guard !sink.hasErrors else { return }
      let once = Printer.format(parsed)
      let sink2 = DiagnosticSink()
      let twice = Printer.format(Parser.parse(SourceFile(path: "f.rule", text: once), sink: sink2))
      #expect(!sink2.hasErrors)
      #expect(once == twice)
    }
  }

  @Test func deepNestingHasItsOwnCode() {
    let deep = String(repeating: "(", count: 10_000) + "true" + String(repeating: ")", count: 10_000)
    let ds = check(collector(pre: "    require " + deep))
    #expect(codes(ds) == ["RC1010"])
    let nots = String(repeating: "not ", count: 10_000) + "true"
    #expect(codes(check(collector(pre: "    require " + nots))) == ["RC1010"])
    let yaml = YAMLFrontEndTests.header + "    pre_queue:\n      - require: \"\(String(repeating: "-", count: 5000))1 > 0\"\n"
    #expect(codes(check(yaml, path: "t.yaml")).contains("RC1010"))
  }

  @Test func hugeLineNULBytesAndTruncation() {
    let huge = collector(pre: "    require metadata.a == \"" + String(repeating: "x", count: 10_000_000) + "\"")
    #expect(codes(check(huge)) == [])
    let unterminated = collector(pre: "    require metadata.a == \"" + String(repeating: "y", count: 10_000_000))
    #expect(codes(check(unterminated)).first == "RC1003")
    let text = collector(pre: "    sample 10%")
    var withNUL = Array(text.utf8)
    withNUL.insert(0, at: text.utf8.count - 3)  // between tokens, before the closing braces
    #expect(codes(check(bytes: withNUL)) == ["RC1002"])
    let truncated = String(Self.seedFile.prefix(Self.seedFile.count / 2))
    #expect(!check(truncated).isEmpty)
    let binary = [UInt8](repeating: 0xFF, count: 100_000)
    let ds = check(bytes: binary)
    #expect(codes(ds) == ["RC1001"])
  }
}
