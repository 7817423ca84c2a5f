import RulesMath
import Foundation
import RulesSema
import Testing

/// The sampling hash reproduces the test vectors published in Grammar.md.
@Suite struct SamplingTests {
  @Test func standardFNVVectors() {
    #expect(Sampling.fnv1a64([UInt8]()) == 0xcbf2_9ce4_8422_2325)
    #expect(Sampling.fnv1a64(Array("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
    #expect(Sampling.fnv1a64(Array("foobar".utf8)) == 0x8594_4171_f739_67e8)
  }

  /// Rows of the table in Grammar.md section 4.2, read from the document itself.
  @Test func grammarTableVectors() throws {
    let rows = read("Grammar.md").split(separator: "\n").filter { $0.hasPrefix("| `") && $0.contains("0x") }
    #expect(rows.count == 6)
    for row in rows {
      let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
      let seed = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
      let key = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
      let hash = UInt64(cells[2].trimmingCharacters(in: CharacterSet(charactersIn: "`")).dropFirst(2), radix: 16)
      let bucket = UInt64(cells[3])
      #expect(Sampling.fnv1a64(Array("\(seed):\(key)".utf8)) == hash)
      #expect(Sampling.bucket(seed: seed, key: key) == bucket)
      for (rate, cell) in [(0.05, cells[4]), (0.25, cells[5]), (0.65, cells[6])] {
        #expect(Sampling.keeps(seed: seed, key: key, rate: rate) == (cell == "yes"), "\(seed):\(key) at \(rate)")
      }
    }
  }

  /// The bucket hashes seed, colon and key in turn; that is the hash of the joined text, for short
  /// and long strings (stored inline or not) and non-ASCII ones.
  @Test func bucketIsTheHashOfTheJoinedText() {
    var rng = SystemRandomNumberGenerator()
    let alphabet = Array("ab-_0é🐶:".unicodeScalars)
    for _ in 0..<500 {
      let seed = String(String.UnicodeScalarView((0..<Int(rng.next() % 30)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }))
      let key = String(String.UnicodeScalarView((0..<Int(rng.next() % 30)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }))
      #expect(Sampling.bucket(seed: seed, key: key) == Sampling.fnv1a64(Array("\(seed):\(key)".utf8)) % Sampling.buckets)
    }
  }

  @Test func thresholdIsExactForDecimalRates() {
    #expect(Sampling.threshold(rate: 0.07) == 70_000)
    #expect(Sampling.threshold(rate: 0.29) == 290_000)
    #expect(Sampling.threshold(rate: 1) == 1_000_000)
    #expect(Sampling.threshold(rate: 0.0000004) == 0)
  }

  @Test func rateIsRespectedOverManyKeys() {
    let kept = (0..<100_000).count { Sampling.keeps(seed: "s", key: "input-\($0)", rate: 0.1) }
    #expect(abs(kept - 10_000) < 500)
  }
}
