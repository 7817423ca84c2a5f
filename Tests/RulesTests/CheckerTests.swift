import RulesDiagnostics
import RulesSema
import RulesSource
import RulesSyntax
import Testing

/// The checker's rules, one case each: fires on the bad form, not on the good one.
@Suite struct CheckerTests {
  static func pre(_ s: String) -> [String] { codes(check(collector(pre: "    " + s))) }
  static func post(_ s: String) -> [String] { codes(check(collector(post: "    " + s))) }

  @Test(arguments: [
    ("require max(concepts) < 0.6", [String]()),
    ("require maxx(concepts) < 0.6", ["RC3002"]),
    ("require maximum < 0.6", ["RC3001"]),
    ("require max(concepts)", ["RC3003"]),
    ("require metadata.a < \"x\"", ["RC3003"]),
    ("require max(concepts, 2) < 0.5", ["RC3004"]),
    ("require max(regions) < 0.5", ["RC3004"]),
    ("require concept(dog) > 1.5", ["RC3005"]),
    ("require any concept > 120%", ["RC3005"]),
    ("require count(concepts > 0.5) > 3", []),
    ("sample 0", ["RC3006"]),
    ("sample 101%", ["RC3006"]),
    ("sample 10", ["RC3006"]),
    ("limit 0 per day", ["RC3018"]),
    ("limit 10 per 1.5 hours", ["RC3018"]),
    ("require top(concepts, 0) > 0.5", ["RC3020"]),
    ("require top(concepts, 2.5) > 0.5", ["RC3020"]),
    ("require metadata.text matches \"(\"", ["RC3016"]),
    ("require input.kind == imag", ["RC3001"]),
    ("require input.knd == image", ["RC3001"]),
    ("require model.id == \"general\"", []),
    ("require any region where (concept(person) > 0.4 and area > 0.01)", []),
    ("require any frame where value > 0.5", ["RC3001"]),
    ("require any frame > 0.5", ["RC3003"]),
    ("require all regions where width < 0.5", []),
    ("require exists(metadata.user) and length(input.text) > 3", []),
    ("require input.text contains metadata.word", ["RC3003"]),
    ("require type(metadata.tags) == \"list\" and type(metadata.x) in [string, number]", []),
    ("require type(metadata.tags) == \"lits\"", ["RC3003"]),
    ("require type(metadata.tags) starts_with \"l\"", ["RC3003"]),
    ("require metadata.tags contains 3 and metadata.flags contains true", []),
    ("require metadata.tags contains \"outdoor\" and not (metadata.os == \"ios\")", []),
  ])
  func preQueueRules(statement: String, expected: [String]) {
    #expect(Self.pre(statement) == expected, "\(statement)")
  }

  @Test func postQueueSeesOnlyTheInput() {
    #expect(Self.post("require max(concepts) < 0.6") == ["RC3017"])
    #expect(Self.post("require concept(dog) > 0.5") == ["RC3017"])
    #expect(Self.post("require model.id == \"x\"") == ["RC3017"])
    #expect(Self.post("require input.kind == text and metadata.lang == \"en\"") == [])
  }

  @Test func collectorDefinitions() {
    #expect(codes(check("collector a { source u/a/m destination u/b key env K }")) == ["RC3009"])
    #expect(codes(check("collector a { destination u/b key env K pre_queue { sample 1% } }")) == ["RC3011"])
    #expect(codes(check("collector \"bad id!\" { source u/a/m destination u/b key env K pre_queue { sample 1% } }")) == ["RC3008"])
    #expect(codes(check("collector a { source u/a/m destination u/b key env 3f9a1c0e77d24b1c9e0a6d2f4b8c7e51 pre_queue { sample 1% } }")) == ["RC3010"])
    #expect(codes(check("collector a { source u/a/m destination u/b key \"sk-live\" pre_queue { sample 1% } }")) == ["RC3010"])
    let forgotten = check("collector a { source u/a/m destination u/b key PETS_KEY pre_queue { sample 1% } }")
    #expect(codes(forgotten) == ["RC1006"])
    #expect(forgotten[0].message.help == "write 'key env PETS_KEY'")
    #expect(codes(check("collector a { source u/a/m source u/a/n destination u/b key env K pre_queue { sample 1% } }")) == ["RC3012"])
    #expect(codes(check("")) == ["RC4009"])
  }

  @Test func conceptMaps() {
    func m(_ map: String, _ pre: String = "    require max(concepts) < 0.5") -> [String] {
      codes(check(collector(pre: pre, map: map)))
    }
    #expect(m("map { dog, puppy -> canine }") == [])
    #expect(m("map { dog -> canine  dog -> pet }") == ["RC3014"])
    #expect(m("map { a -> b  b -> c  c -> a }") == ["RC3013"])
    #expect(m("map { a -> a }") == ["RC3013"])
    #expect(m("map { puppy -> dog  dog -> canine }") == ["RC4006"])
    #expect(m("map { dog -> canine  cat -> feline }", "    require concept(canine) > 0.5") == ["RC4005"])
    #expect(m("map file \"missing.csv\"") == ["RC3019"])
  }

  /// `pre-queue` written as prose is one error proposing `pre_queue`, and its statements are still
  /// checked; a clause that is only `pre` is an unknown clause as any other.
  @Test func hyphenatedStages() {
    let hyphen = collector(pre: "    require maxx(concepts) < 0.6").replacingOccurrences(of: "pre_queue", with: "pre-queue")
    let ds = check(hyphen)
    #expect(codes(ds) == ["RC1007", "RC3002"], "\(codes(ds))")
    #expect(ds.first?.message.help == "did you mean 'pre_queue'?")
    let post = collector(pre: "    sample 10%", post: "    require input.kind == image").replacingOccurrences(of: "post_queue", with: "post-queue")
    #expect(codes(check(post)) == ["RC1007"])
    let bare = collector(pre: "    sample 10%").replacingOccurrences(of: "pre_queue", with: "pre")
    #expect(codes(check(bare)).first == "RC1007")
  }

  /// Typographic quotes pasted from a document: one error proposing straight quotes (there were
  /// three: each quote, and the word between them read as a name), and the string still read.
  @Test func typographicQuotes() {
    let ds = check(collector(pre: "    drop if metadata.source == “test-harness”\n    require max(concepts) < 0.6"))
    #expect(codes(ds) == ["RC1002"], "\(codes(ds))")
    #expect(ds.first?.message.help == "use straight quotes: \"test-harness\"")
    #expect(codes(check(collector(pre: "    drop if metadata.source == “unclosed"))).contains("RC1002"))
  }

  /// With `--concepts`, bounds that no output can reach (RC4013), after the concept map.
  @Test func boundsOfTheVocabulary() {
    let three: Set<String> = ["dog", "cat", "person"]
    func codesOf(_ pre: String, map: String? = nil) -> [String] { codes(check(collector(pre: "    " + pre, map: map), concepts: three)) }
    #expect(codesOf("require top(concepts, 3) > 0.1") == [])
    #expect(codesOf("require top(concepts, 4) > 0.1") == ["RC4013"])
    #expect(codesOf("require entropy(concepts) > 1.05") == [])  // ln 3 = 1.0986
    #expect(codesOf("require entropy(concepts) > 1.1") == ["RC4013"])
    #expect(codesOf("require 1.2 < entropy(concepts)") == ["RC4013"])
    #expect(codesOf("require entropy(concepts) < 1.2") == [])
    // After a map that keeps two of the three concepts and drops the rest, the rules see two.
    let map = "map {\n    dog -> animal\n    cat -> animal\n    person -> human\n    unmapped drop\n  }"
    #expect(codesOf("require top(concepts, 2) > 0.1 and concept(animal) > 0.1 and concept(human) < 1", map: map) == [])
    #expect(codesOf("require top(concepts, 3) > 0.1 and concept(animal) > 0.1 and concept(human) < 1", map: map) == ["RC4013"])
    // A concept the map renamed is read under its new name only.
    #expect(codesOf("require concept(dog) > 0.1 and concept(animal) > 0.1 and concept(human) < 1", map: map).contains("RC4014"))
  }

  @Test func unknownConceptsWithACatalog() {
    let ds = check(collector(pre: "    require concept(dgo) > 0.5 or any concept in [cat, feline] > 0.2", map: "map { kitten -> feline }"), concepts: ["dog", "cat", "kitten"])
    #expect(codes(ds) == ["RC3015"])
    #expect(ds[0].message.help == "did you mean 'dog'?")
  }

  @Test(arguments: [
    ("    require max(concepts) < 0.3 and max(concepts) > 0.5", ["RC4003"]),
    ("    drop if metadata.a == \"x\" and metadata.a == \"y\"", ["RC4001"]),
    ("    require max(concepts) < 0.7 or max(concepts) >= 0.5", ["RC4002"]),
    ("    require count(concepts) < 0", ["RC4003"]),
    ("    require max(concepts) < 0.3\n    require max(concepts) > 0.5\n    sample 10%", ["RC4003", "RC4004"]),
    ("    drop if max(concepts) < 0.5\n    require max(concepts) < 0.4", ["RC4003"]),
    ("    drop if max(concepts) < 0.5\n    require max(concepts) < 0.6", []),
    ("    require max(concepts) > 0.2\n    drop if max(concepts) > 0.1", ["RC4003"]),
    ("    require true", ["RC4007"]),
    ("    sample 100%", ["RC4007"]),
    ("    drop if true", ["RC4003"]),
    ("    limit 5 per hour\n    require max(concepts) < 0.5", ["RC4008"]),
    ("    require max(concepts) < 0.5 or (margin(concepts) < 0.1 and margin(concepts) > 0.2)", ["RC4001"]),
    ("    require margin(concepts) < 0.2 or margin(concepts) > 0.2", []),
    ("    require margin(concepts) <= 0.2 or margin(concepts) >= 0.2", ["RC4002"]),
    // Strings and sets across statements; empty lists.
    ("    require metadata.source == \"a\"\n    require metadata.source == \"b\"", ["RC4003"]),
    ("    require metadata.source in [a, b]\n    require metadata.source != \"a\"\n    require metadata.source == \"b\"", ["RC4007"]),
    ("    require metadata.source in [a, b]\n    require metadata.source != \"c\"", ["RC4007"]),
    ("    require metadata.source in [a, b]\n    require metadata.source != \"a\"", []),
    ("    require metadata.source in []", ["RC4003"]),
    ("    require any concept in [] > 0.5", ["RC4003"]),
    ("    require all concept in [] > 0.5", []),
    // Redundant statements: implied by an earlier one.
    ("    require max(concepts) < 0.6\n    require max(concepts) < 0.8", ["RC4007"]),
    ("    require max(concepts) < 0.8\n    require max(concepts) < 0.6", []),
    ("    drop if max(concepts) > 0.9\n    drop if max(concepts) > 0.95", ["RC4007"]),
    ("    drop if max(concepts) > 0.95\n    drop if max(concepts) > 0.9", []),
    // A drop leaves outputs without concepts, which a require then drops: not redundant.
    ("    drop if max(concepts) > 0.9\n    require max(concepts) < 0.95", []),
    // Equality on a probability.
    ("    require concept(dog) == 0.6", ["RC4010"]),
    ("    require count(concepts) == 2", []),
  ])
  func lints(statements: String, expected: [String]) {
    #expect(codes(check(collector(pre: statements))) == expected, "\(statements)")
  }
}
