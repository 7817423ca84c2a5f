import Foundation
import FuzzSupport
import RulesEvents

/// The readers of request bodies that `rulec serve` and `rulec proxy` take from the network. The
/// first byte chooses:
/// - even: the rest is a body posted to `serve`'s ingest endpoint (`IngestBody`). Oracle: never a
///   crash; every output's range lies inside the body and reads again, alone, to at least that output;
///   a refusal names a line of the body.
/// - odd: the rest is a PostModelOutputs exchange, the request and the answer split at the first NUL
///   byte, through the proxy (`PredictExchange`). Oracle: never a crash; one line each, ending in a
///   newline; when both bodies are strict JSON (Foundation's parser), so is every line made of them.
func IngestTarget(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  guard size > 0 else { return 0 }
  let rest = UnsafeBufferPointer(start: data + 1, count: size - 1)
  if data[0] & 1 == 0 {
    serveBody(rest)
  } else {
    proxyExchange(rest, choice: Int(data[0] >> 1))
  }
  return 0
}

let decoder = OutputDecoder(projection: MetadataProjection(), requiresModel: false)

func serveBody(_ body: UnsafeBufferPointer<UInt8>) {
  do {
    for (event, range) in try IngestBody.events(in: body, decoder: decoder) {
      guard range.lowerBound >= 0, range.upperBound <= body.count else { fatalError("a range outside the body: \(range) of \(body.count)") }
      let again = try? decoder.decode(line: UnsafeBufferPointer(rebasing: body[range]), lineNumber: 1)
      guard let again, again.contains(where: { $0.outputID == event.outputID && $0.inputID == event.inputID }) else {
        fatalError("an output's own line does not read to it again: \(range)")
      }
    }
  } catch {
    let lines = body.reduce(1) { $0 + ($1 == 10 ? 1 : 0) }
    if error.line < 1 || error.line > lines { fatalError("a refusal at line \(error.line) of \(lines)") }
  }
}

let calls = [
  PredictCall(user: "u", app: "a", model: "m"), PredictCall(model: "m", version: "v"), PredictCall(user: "me"), PredictCall(),
]

func proxyExchange(_ bytes: UnsafeBufferPointer<UInt8>, choice: Int) {
  let split = bytes.firstIndex(of: 0) ?? bytes.count
  let request = UnsafeBufferPointer(rebasing: bytes[..<split])
  let response = UnsafeBufferPointer(rebasing: bytes[min(split + 1, bytes.count)...])
  let caller = choice & 4 == 0 ? "caller-1" : nil
  guard let lines = try? PredictExchange.outputLines(call: calls[choice & 3], request: request, response: response, caller: caller) else { return }
  for line in lines {
    guard line.last == 10, !line.dropLast().contains(10) else { fatalError("not one line: \(String(decoding: line, as: UTF8.self))") }
  }
  guard !lines.isEmpty, strictJSON(request), strictJSON(response) else { return }
  for line in lines where !line.dropLast().withUnsafeBufferPointer({ strictJSON($0) }) {
    fatalError("strict JSON in, not strict JSON out: \(String(decoding: line, as: UTF8.self))")
  }
}

func strictJSON(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
  (try? JSONSerialization.jsonObject(with: Data(buffer: bytes), options: [.fragmentsAllowed])) != nil
}

// Entry points: SwiftPM's (`FuzzIngest_main`) runs libFuzzer's driver; libFuzzer's own names the target.
@_cdecl("FuzzIngest_main")
public func entryPoint(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> Int32 {
  runFuzzer(argc, argv) { IngestTarget($0, $1) }
}
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 { IngestTarget(data, size) }
