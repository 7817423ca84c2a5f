import FuzzSupport
import RulesEvents

/// The event scanner (the fast path) against the plain decoder on any line. Oracle: the same
/// outputs with the same fields, or both refuse the line.
func EventsTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let line = UnsafeBufferPointer(start: data, count: size)
  let projection = MetadataProjection()
  let decoder = OutputDecoder(projection: projection, requiresModel: false)
  let scanner = OutputScanner(projection: projection, conceptKeys: [], requiresModel: false)
  let expected: [String]?
  do {
    expected = try decoder.decode(line: line, lineNumber: 1).map(summary)
  } catch {
    expected = nil
  }
  var events: [Event] = []
  let got: [String]?
  do {
    let count = try scanner.decode(line: line, lineNumber: 1, into: &events)
    got = events[0..<count].map(summary)
  } catch {
    got = nil
  }
  if expected != got { fatalError("the scanner and the decoder disagree:\n\(String(describing: expected))\n\(String(describing: got))") }
  return 0
}

/// What both readers must agree on about an output.
func summary(_ e: Event) -> String {
  let concepts = e.concepts.map { "\($0.id)|\($0.name)|\($0.value.bitPattern)" }.joined(separator: ";")
  let regions = e.regions.map { r in "\(r.id)|\(r.value?.bitPattern ?? 0)|\(r.box.map { "\($0.top.bitPattern),\($0.left.bitPattern),\($0.bottom.bitPattern),\($0.right.bitPattern)" } ?? "-")|\(r.concepts.count)" }
  return [
    e.outputID ?? "-", "\(e.statusCode ?? -1)", e.statusName ?? "-", "\(e.createdAt?.bitPattern ?? 0)", e.modelID ?? "-", e.modelUser ?? "-",
    e.modelApp ?? "-", e.modelVersion ?? "-", e.caller ?? "-", e.inputID ?? "-", e.inputKind.map { "\($0)" } ?? "-",
    e.inputURL ?? "-", e.inputText ?? "-", "\(e.mediaRange.map { "\($0)" } ?? "-")", "\(e.metadataRange.map { "\($0)" } ?? "-")",
    concepts, regions.joined(separator: ";"), "\(e.frames.count)",
  ].joined(separator: " ")
}

// Entry points: SwiftPM's (`FuzzEvents_main`) runs libFuzzer's driver; libFuzzer's own names the target.
@_cdecl("FuzzEvents_main")
public func entryPoint(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
  runFuzzer(argc, argv) { EventsTarget($0, $1) }
}
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 { EventsTarget(data, size) }
