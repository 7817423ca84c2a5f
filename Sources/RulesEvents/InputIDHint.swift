/// Told each input id as the scanner reads it, before the rest of the line: what consumes the events
/// can start loading what it will look up for that input while the line is still being read. Only a
/// hint: it changes no result. The scanner that holds it is used by one thread at a time, and so is
/// the hint.
public protocol InputIDHint: AnyObject, Sendable {
  /// Whether any hint is wanted now (checked before the id is handed over).
  var isActive: Bool { get }
  /// The id's UTF-8 bytes, lent for the call.
  func inputIDRead(_ id: UnsafeBufferPointer<UInt8>)
}
