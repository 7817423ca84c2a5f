import FuzzSupport
import RulesDiagnostics
import RulesLoader
import RulesSema
import RulesSource

/// The YAML front end (Yams, then rulec's reading of the nodes) and the checker on any bytes.
/// Oracle: never a crash, and every diagnostic lies inside the file.
func YAMLTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let source = SourceFile(path: "fuzz.yaml", bytes: Array(UnsafeBufferPointer(start: data, count: size)))
  let sink = DiagnosticSink()
  _ = Checker(sink: sink).check([RuleLoader.parse(source, sink: sink)])
  expectDiagnosticsInside(sink, size: size)
  return 0
}

// Entry points: SwiftPM's (`FuzzYAML_main`) runs libFuzzer's driver; libFuzzer's own names the target.
@_cdecl("FuzzYAML_main")
public func entryPoint(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
  runFuzzer(argc, argv) { YAMLTarget($0, $1) }
}
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 { YAMLTarget(data, size) }
