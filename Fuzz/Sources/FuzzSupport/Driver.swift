import RulesDiagnostics

/// Runs libFuzzer's driver with `target`: each fuzz executable's entry point (SwiftPM links it as
/// `NAME_main`) hands its arguments and its target here.
public func runFuzzer(
  _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
  _ target: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32 {
  var argc = argc
  var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
  return LLVMFuzzerRunDriver(&argc, &argv, target)
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32


/// The oracle every rule-file target shares: each diagnostic lies inside the file it is about.
public func expectDiagnosticsInside(_ sink: DiagnosticSink, size: Int) {
  for d in sink.sorted where d.range.start > size || d.range.end > size || d.range.start > d.range.end {
    fatalError("a diagnostic outside the file: \(d.code.id) at \(d.range) of \(size) bytes")
  }
}
