import Foundation
import PropertyBased
@testable import RulesEvents
import Testing

/// The straight-line concept path reads exactly what the general path reads, and fails the same way.
@Suite struct DecoderTests {
  static let pieces = [
    #""id":"ai_1""#, #""name":"dog""#, #""value":0.5"#, #""value":1e-3"#, #""value":-0"#, #""app_id":"main""#,
    #""name":"d\"og""#, #""name":"café""#, #""id":null"#, #""value":"0.5""#, #""value":1e999"#, #""extra":true"#,
    #""extra":{"a":[1,2]}"#, #""extra":false"#, #""name":"dog""#, #""value":0.25"#, #""x":"\u00e9""#, #""value": 7"#,
  ]

  static func decode(_ line: String, plain: Bool) -> String {
    var decoder = OutputDecoder(projection: MetadataProjection())
    decoder.plainConcepts = plain
    return Array(line.utf8).withUnsafeBufferPointer { bytes in
      do {
        let events = try decoder.decode(line: bytes, lineNumber: 1)
        return events.map { e in e.concepts.map { "\($0.id)|\($0.name)|\($0.value.bitPattern)" }.joined(separator: ";") }
          .joined(separator: "/")
      } catch {
        return "error: \(error)"
      }
    }
  }

  @Test func plainPathMatchesTheGeneralPath() async {
    let gen = Gen.int(in: 0...(Self.pieces.count - 1)).array(of: 0...5).array(of: 1...4)
    await propertyCheck(count: 500, input: gen, Gen.int(in: 0...3)) { objects, spacing in
      let space = String(repeating: " ", count: spacing)
      let concepts = objects.map { keys in "{" + space + keys.map { Self.pieces[$0] }.joined(separator: "," + space) + space + "}" }
      let line = #"{"id":"o","data":{"concepts":["# + concepts.joined(separator: ",") + "]}}"
      #expect(Self.decode(line, plain: true) == Self.decode(line, plain: false), "\(line)")
    }
  }
}
