import FuzzSupport
import RulesDiagnostics
import RulesSema
import RulesSource
import RulesSyntax

/// Lexer, parser, checker and formatter on any bytes. Oracle: never a crash; a file that parses
/// without errors formats to text that parses without errors, formats to itself (idempotent), and
/// keeps the same diagnostic codes.
func RulesTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  let sink = DiagnosticSink()
  let file = Parser.parse(SourceFile(path: "fuzz.rule", bytes: bytes), sink: sink)
  _ = Checker(sink: sink).check([file])
  expectDiagnosticsInside(sink, size: size)
  let syntaxErrors = sink.sorted.contains { $0.severity == .error && $0.code.id.hasPrefix("RC1") }
  guard !syntaxErrors else { return 0 }
  let formatted = Printer.format(file)
  let again = DiagnosticSink()
  let reparsed = Parser.parse(SourceFile(path: "fuzz.rule", text: formatted), sink: again)
  _ = Checker(sink: again).check([reparsed])
  let before = sink.sorted.map(\.code.id).sorted()
  let after = again.sorted.map(\.code.id).sorted()
  if before != after {
    fatalError("formatting changed the diagnostics: \(before) → \(after)\n\(formatted)")
  }
  let twice = Printer.format(reparsed)
  if twice != formatted { fatalError("formatting is not idempotent:\n\(formatted)\n---\n\(twice)") }
  return 0
}

// Entry points: SwiftPM's (`FuzzRules_main`) runs libFuzzer's driver; libFuzzer's own names the target.
@_cdecl("FuzzRules_main")
public func entryPoint(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
  runFuzzer(argc, argv) { RulesTarget($0, $1) }
}
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 { RulesTarget(data, size) }
