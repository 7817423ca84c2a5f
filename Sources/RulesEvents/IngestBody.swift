/// Why a request body was refused; nothing of it was queued.
public struct IngestError: Error, Sendable, Equatable {
  public var line: Int
  public var reason: String

  public init(line: Int, reason: String) {
    self.line = line
    self.reason = reason
  }
}

/// How `rulec serve` reads a request body: one JSON value (an output, or a PostModelOutputs
/// response, possibly spread over several lines), else JSON Lines of them. A line that cannot be
/// read refuses the whole body with its number. Pure (the request handlers run it concurrently),
/// and here rather than in the server so the fuzz target `FuzzIngest` reaches it.
public enum IngestBody {
  /// Each output with the bytes of the line (or the whole body) it came from.
  public static func events(in body: UnsafeBufferPointer<UInt8>, decoder: OutputDecoder) throws(IngestError) -> [(Event, Range<Int>)] {
    if let whole = try? decoder.decode(line: body, lineNumber: 1) {
      return whole.map { ($0, 0..<body.count) }
    }
    var events: [(Event, Range<Int>)] = []
    var start = 0
    var number = 0
    while start < body.count {
      let end = body[start...].firstIndex(of: 10) ?? body.count
      number += 1
      let line = UnsafeBufferPointer(rebasing: body[start..<end])
      if !line.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 13 }) {
        do {
          events += try decoder.decode(line: line, lineNumber: number).map { ($0, start..<end) }
        } catch {
          throw IngestError(line: number, reason: error.description)
        }
      }
      start = end + 1
    }
    return events
  }
}
