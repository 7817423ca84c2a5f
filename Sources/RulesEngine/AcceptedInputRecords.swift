/// Accepted inputs written compactly, for a driver that needs only which inputs each collector
/// accepted (`rulec diff`): per input, the collector's index (4 bytes, little-endian), the source
/// input id's length (4 bytes) and its UTF-8 bytes.
public enum AcceptedInputRecords {
  static func append(collector: Int, input: String, to out: inout [UInt8]) {
    var input = input
    input.withUTF8 { bytes in
      withUnsafeBytes(of: UInt32(truncatingIfNeeded: collector).littleEndian) { out.append(contentsOf: $0) }
      withUnsafeBytes(of: UInt32(truncatingIfNeeded: bytes.count).littleEndian) { out.append(contentsOf: $0) }
      out.append(contentsOf: bytes)
    }
  }

  /// Calls `body` with each record of `block` (whole records only, as the engine writes them).
  public static func forEach(in block: [UInt8], _ body: (_ collector: Int, _ input: String) -> Void) {
    block.withUnsafeBytes { raw in
      var k = 0
      while k + 8 <= raw.count {
        let collector = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: k, as: UInt32.self)))
        let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: k + 4, as: UInt32.self)))
        let end = min(raw.count, k + 8 + length)
        body(collector, String(decoding: UnsafeRawBufferPointer(rebasing: raw[(k + 8)..<end]), as: UTF8.self))
        k = end
      }
    }
  }
}
