// The catalogue of diagnostic codes, one static member per code, grouped by stage.
// Keep `all` in code order; Grammar.md's table and the golden files are checked against it.

extension DiagnosticCode {
  public static let invalidUTF8 = DiagnosticCode(
    id: "RC1001", name: "invalid-utf8", severity: .error,
    summary: "the file is not valid UTF-8",
    explanation: "Rule files are UTF-8. A byte that does not start or continue a valid UTF-8 sequence is reported at its offset; the lexer skips it and goes on, so later problems are still found. Re-save the file as UTF-8.",
    bad: "",
    good: "")
  public static let unexpectedCharacter = DiagnosticCode(
    id: "RC1002", name: "unexpected-character", severity: .error,
    summary: "a character that cannot start any token",
    explanation: "Only letters, digits, `_`, `-`, the punctuation of the grammar and white space may appear outside strings and comments. Comments start with `#`.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) < 0.6 @ }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) < 0.6 }\n}\n")
  public static let unterminatedString = DiagnosticCode(
    id: "RC1003", name: "unterminated-string", severity: .error,
    summary: "a string literal has no closing quote",
    explanation: "A string starts and ends with `\"` on the same line. Write `\\\"` for a quote inside a string.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  description \"pets the model is unsure about\n  pre_queue { sample 10% }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  description \"pets the model is unsure about\"\n  pre_queue { sample 10% }\n}\n")
  public static let invalidEscape = DiagnosticCode(
    id: "RC1004", name: "invalid-escape", severity: .error,
    summary: "an unknown escape sequence in a string",
    explanation: "Strings accept `\\\\`, `\\\"`, `\\n`, `\\t` and `\\u{...}` (1 to 8 hex digits naming a Unicode scalar). Any other backslash sequence is an error.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require metadata.path starts_with \"C:\\data\" }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require metadata.path starts_with \"C:\\\\data\" }\n}\n")
  public static let invalidNumber = DiagnosticCode(
    id: "RC1005", name: "invalid-number", severity: .error,
    summary: "a malformed or out-of-range number",
    explanation: "Numbers are decimal: digits, an optional fraction and an optional exponent (`1e-3`), optionally followed by `%`. A number that does not fit a binary64 double is an error.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) < 1e }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) < 1e-1 }\n}\n")
  public static let expected = DiagnosticCode(
    id: "RC1006", name: "expected-token", severity: .error,
    summary: "a required token is missing",
    explanation: "The parser names what it expected and what it found, then recovers at the next clause or statement so that later problems are still reported.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require (max(concepts) < 0.6 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require (max(concepts) < 0.6) }\n}\n")
  public static let unknownClause = DiagnosticCode(
    id: "RC1007", name: "unknown-clause", severity: .error,
    summary: "an unknown clause inside a collector",
    explanation: "A collector body holds the clauses `description`, `source`, `destination`, `datasets`, `key`, `map`, `pre_queue` and `post_queue`. A misspelt clause gets a did-you-mean.",
    bad: "collector demo {\n  sorce clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n")
  public static let unknownStatement = DiagnosticCode(
    id: "RC1008", name: "unknown-statement", severity: .error,
    summary: "an unknown statement inside a stage",
    explanation: "A stage holds the statements `require EXPR`, `drop if EXPR`, `sample RATE [by PATH] [seed SEED]` and `limit N per [M] UNIT`.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { requir max(concepts) < 0.6 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) < 0.6 }\n}\n")
  public static let unclosedDelimiter = DiagnosticCode(
    id: "RC1009", name: "unclosed-delimiter", severity: .error,
    summary: "a brace, bracket or parenthesis is never closed",
    explanation: "Reported at the opening delimiter when the file ends before its partner. Add the closing delimiter.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10%\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n")
  public static let nestingTooDeep = DiagnosticCode(
    id: "RC1010", name: "nesting-too-deep", severity: .error,
    summary: "expressions nest deeper than the limit",
    explanation: "Parentheses, `not`, unary minus and nested quantifiers may nest at most 100 levels. The limit keeps the checker's stack bounded whatever the input; no real rule comes near it.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require (((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((true))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))) }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require true }\n}\n")
  public static let expectedExpression = DiagnosticCode(
    id: "RC1011", name: "expected-expression", severity: .error,
    summary: "an expression is missing",
    explanation: "`require`, `drop if`, comparisons and function arguments need an expression. The parser reports what it found instead.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) < }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) < 0.6 }\n}\n")
  public static let unknownTimeUnit = DiagnosticCode(
    id: "RC1012", name: "unknown-time-unit", severity: .error,
    summary: "a rate limit names an unknown time unit",
    explanation: "`limit N per [M] UNIT` takes `second`, `minute`, `hour`, `day` or `week` (singular or plural).",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { limit 100 per fortnight }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { limit 100 per 2 weeks }\n}\n")
  public static let chainedComparison = DiagnosticCode(
    id: "RC1013", name: "chained-comparison", severity: .error,
    summary: "comparisons written as a chain (a < x < b)",
    explanation: "A comparison compares two values; `0.2 < max(concepts) < 0.6` is not a range test. Write the two comparisons joined by `and`. The parser reads the chain that way after reporting it, so the rest of the file is still checked.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require 0.2 < max(concepts) < 0.6\n  }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require 0.2 < max(concepts) and max(concepts) < 0.6\n  }\n}\n")
  public static let yamlSyntax = DiagnosticCode(
    id: "RC2001", name: "yaml-syntax", severity: .error,
    summary: "the YAML file is not well-formed",
    explanation: "libyaml could not read the file. The diagnostic carries libyaml's own words and position. Nothing else in the file is checked until it parses.",
    bad: "collectors:\n  - id: demo\n    source: {user: clarifai, app: main, model: general-image-recognition}\n    destination: {user: me, app: dataset}\n    key: {env: DEMO_KEY}\n    pre_queue: [sample 10%\n",
    good: "collectors:\n  - id: demo\n    source: {user: clarifai, app: main, model: general-image-recognition}\n    destination: {user: me, app: dataset}\n    key: {env: DEMO_KEY}\n    pre_queue: [sample 10%]\n")
  public static let yamlDuplicateKey = DiagnosticCode(
    id: "RC2002", name: "yaml-duplicate-key", severity: .error,
    summary: "a YAML mapping repeats a key",
    explanation: "YAML forbids a key twice in one mapping; later values would silently replace earlier ones. Remove or rename one.",
    bad: "collectors:\n  - id: demo\n    source: {user: clarifai, app: main, model: general-image-recognition}\n    destination: {user: me, app: dataset}\n    key: {env: DEMO_KEY}\n    pre_queue: [sample 10%]\n    pre_queue: [sample 20%]\n",
    good: "collectors:\n  - id: demo\n    source: {user: clarifai, app: main, model: general-image-recognition}\n    destination: {user: me, app: dataset}\n    key: {env: DEMO_KEY}\n    pre_queue: [sample 10%]\n")
  public static let yamlUnknownKey = DiagnosticCode(
    id: "RC2003", name: "yaml-unknown-key", severity: .error,
    summary: "a YAML mapping has a key rulec does not know",
    explanation: "Every key of the YAML form is listed in Grammar.md. A misspelt key gets a did-you-mean; an unknown key is never ignored silently.",
    bad: "collectors:\n  - id: demo\n    source: {user: clarifai, app: main, model: general-image-recognition}\n    destination: {user: me, app: dataset}\n    key: {env: DEMO_KEY}\n    pre_queu: [sample 10%]\n",
    good: "collectors:\n  - id: demo\n    source: {user: clarifai, app: main, model: general-image-recognition}\n    destination: {user: me, app: dataset}\n    key: {env: DEMO_KEY}\n    pre_queue: [sample 10%]\n")
  public static let yamlWrongType = DiagnosticCode(
    id: "RC2004", name: "yaml-wrong-type", severity: .error,
    summary: "a YAML value has the wrong shape",
    explanation: "The YAML form expects a mapping, a list or a scalar at each key as Grammar.md says; the diagnostic names what it expected.",
    bad: "collectors:\n  - id: demo\n    source: {user: clarifai, app: main, model: general-image-recognition}\n    destination: {user: me, app: dataset}\n    key: {env: DEMO_KEY}\n    pre_queue: sample 10%\n",
    good: "collectors:\n  - id: demo\n    source: {user: clarifai, app: main, model: general-image-recognition}\n    destination: {user: me, app: dataset}\n    key: {env: DEMO_KEY}\n    pre_queue: [sample 10%]\n")
  public static let yamlMissingKey = DiagnosticCode(
    id: "RC2005", name: "yaml-missing-key", severity: .error,
    summary: "a YAML mapping lacks a required key",
    explanation: "For example a collector without `id`, a source without `model`, or a thresholder without `concepts`.",
    bad: "collectors:\n  - source: {user: clarifai, app: main, model: general-image-recognition}\n    destination: {user: me, app: dataset}\n    key: {env: DEMO_KEY}\n    pre_queue: [sample 10%]\n",
    good: "collectors:\n  - id: demo\n    source: {user: clarifai, app: main, model: general-image-recognition}\n    destination: {user: me, app: dataset}\n    key: {env: DEMO_KEY}\n    pre_queue: [sample 10%]\n")
  public static let yamlInvalidComparator = DiagnosticCode(
    id: "RC2006", name: "yaml-invalid-comparator", severity: .error,
    summary: "an unknown concept-thresholder comparator",
    explanation: "`concept_threshold_type` is one of `GREATER_THAN` (1), `GREATER_THAN_OR_EQUAL` (2), `LESS_THAN` (3), `LESS_THAN_OR_EQUAL` (4) or `EQUAL` (5), as in Clarifai's ValueComparator. There is no not-equal.",
    bad: "collectors:\n  - id: demo\n    source: {user: clarifai, app: main, model: general-image-recognition}\n    destination: {user: me, app: dataset}\n    key: {env: DEMO_KEY}\n    pre_queue:\n      - concept_thresholder:\n          concepts: [{name: dog, value: 0.8}]\n          concept_threshold_type: NOT_EQUAL\n",
    good: "collectors:\n  - id: demo\n    source: {user: clarifai, app: main, model: general-image-recognition}\n    destination: {user: me, app: dataset}\n    key: {env: DEMO_KEY}\n    pre_queue:\n      - concept_thresholder:\n          concepts: [{name: dog, value: 0.8}]\n          concept_threshold_type: GREATER_THAN\n")
  public static let unknownName = DiagnosticCode(
    id: "RC3001", name: "unknown-name", severity: .error,
    summary: "a name that means nothing here",
    explanation: "Bare names in expressions are paths (`metadata.x`, `input.kind`, `model.id`), element fields inside `where` (`value`, `name`, `id`, `area`, ...), or input kinds after `input.kind ==`. A concept is written `concept(dog)`.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require maximum < 0.6 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) < 0.6 }\n}\n")
  public static let unknownFunction = DiagnosticCode(
    id: "RC3002", name: "unknown-function", severity: .error,
    summary: "a call to a function that does not exist",
    explanation: "The built-in functions are listed in Grammar.md (`concept`, `max`, `min`, `top`, `margin`, `entropy`, `least_confidence`, `count`, `exists`, `length`, `type`). A misspelt name gets a did-you-mean.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require maxx(concepts) < 0.6 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) < 0.6 }\n}\n")
  public static let typeMismatch = DiagnosticCode(
    id: "RC3003", name: "type-mismatch", severity: .error,
    summary: "an operator or statement got a value of the wrong type",
    explanation: "For example `and` of a number, `<` between a string and a number, or `require` of a number. Types are number, string, bool, list and input kind; metadata values are checked at run time and a mismatch there is simply false.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) > 0.5 }\n}\n")
  public static let wrongArguments = DiagnosticCode(
    id: "RC3004", name: "wrong-arguments", severity: .error,
    summary: "a function got the wrong number or kind of arguments",
    explanation: "Each built-in takes a fixed list of arguments; aggregates take a concept collection such as `concepts` or `concepts in [dog, cat]`.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts, 2) < 0.6 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require top(concepts, 2) < 0.6 }\n}\n")
  public static let probabilityOutOfRange = DiagnosticCode(
    id: "RC3005", name: "probability-out-of-range", severity: .error,
    summary: "a probability is compared with a number outside [0, 1]",
    explanation: "Concept values, `max`, `min`, `top`, `margin`, `least_confidence`, region values and box areas all lie in [0, 1]. A threshold outside it is almost always a percentage written as a fraction: write `60%` or `0.6`.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) < 60 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) < 60% }\n}\n")
  public static let rateOutOfRange = DiagnosticCode(
    id: "RC3006", name: "rate-out-of-range", severity: .error,
    summary: "a sampling rate outside (0, 100%]",
    explanation: "`sample` takes a percentage in (0%, 100%] or a fraction in (0, 1]. A rate of 0 would collect nothing.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 150% }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 15% }\n}\n")
  public static let duplicateCollectorID = DiagnosticCode(
    id: "RC3007", name: "duplicate-collector-id", severity: .error,
    summary: "two collectors share an id",
    explanation: "Collector ids are unique across every file checked together, because deterministic destination input ids are derived from them.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\ncollector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 20% }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\ncollector demo-2 {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 20% }\n}\n")
  public static let invalidID = DiagnosticCode(
    id: "RC3008", name: "invalid-id", severity: .error,
    summary: "an id has characters or a length Clarifai does not accept",
    explanation: "Collector ids hold letters, digits, `_` and `-`, 1 to 48 characters. User, app, model and dataset ids hold letters, digits, `_`, `-` and `.`; source parts may also be `*`.",
    bad: "collector \"demo pets!\" {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n",
    good: "collector demo-pets {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n")
  public static let noStage = DiagnosticCode(
    id: "RC3009", name: "no-stage", severity: .error,
    summary: "a collector has neither a pre-queue nor a post-queue stage",
    explanation: "As in Clarifai's Collectors, at least one stage is required; a collector that should copy every input says so with `pre_queue { sample 100% }`.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 100% }\n}\n")
  public static let inlineSecret = DiagnosticCode(
    id: "RC3010", name: "inline-secret", severity: .error,
    summary: "an API key is written into the rule file",
    explanation: "Keys are referenced, never written down: `key env NAME` reads an environment variable and `key file \"PATH\"` reads a file when the collector starts. Remove the key from the file and rotate it, since it may already be in version control.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key \"3f9a1c0e77d24b1c9e0a6d2f4b8c7e51\"\n  pre_queue { sample 10% }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n")
  public static let missingClause = DiagnosticCode(
    id: "RC3011", name: "missing-clause", severity: .error,
    summary: "a collector lacks a required clause",
    explanation: "Every collector needs `source`, `destination` and `key`.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n")
  public static let duplicateClause = DiagnosticCode(
    id: "RC3012", name: "duplicate-clause", severity: .error,
    summary: "a clause appears twice in one collector",
    explanation: "Each clause may appear once per collector; statements inside a stage may repeat.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n  pre_queue { sample 20% }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n")
  public static let mapCycle = DiagnosticCode(
    id: "RC3013", name: "map-cycle", severity: .error,
    summary: "concept-map entries form a cycle",
    explanation: "A map sends source concepts to target concepts once; a cycle (`a -> b`, `b -> a`) means the map was written backwards somewhere.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  map { dog -> canine  canine -> dog }\n  pre_queue { require concept(canine) > 0.5 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  map { dog -> canine }\n  pre_queue { require concept(canine) > 0.5 }\n}\n")
  public static let mapConflict = DiagnosticCode(
    id: "RC3014", name: "map-conflict", severity: .error,
    summary: "a concept is mapped to two targets",
    explanation: "Many-to-one is allowed (`dog, puppy -> canine`); one-to-many is not, because a source concept's value can only go to one place.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  map { dog -> canine  dog -> pet }\n  pre_queue { require concept(canine) > 0.5 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  map { dog -> canine }\n  pre_queue { require concept(canine) > 0.5 }\n}\n")
  public static let unknownConcept = DiagnosticCode(
    id: "RC3015", name: "unknown-concept", severity: .error,
    summary: "a concept the source model does not have",
    explanation: "With `--concepts FILE`, every concept named in a rule or as a map source must be a name or id in the model's concept list. A likely misspelling gets a did-you-mean.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require concept(dgo) > 0.5 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require concept(dog) > 0.5 }\n}\n")
  public static let invalidRegex = DiagnosticCode(
    id: "RC3016", name: "invalid-regex", severity: .error,
    summary: "a `matches` pattern is not a valid regular expression",
    explanation: "Patterns use Swift Regex syntax and are compiled once when the rules are checked.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  post_queue { require input.text matches \"refund(\" }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  post_queue { require input.text matches \"refund\\\\(\" }\n}\n")
  public static let notVisibleInStage = DiagnosticCode(
    id: "RC3017", name: "not-visible-in-stage", severity: .error,
    summary: "a stage reads something it cannot see",
    explanation: "The pre-queue stage sees the model's output (concepts, regions, frames, model) and the echoed input; the post-queue stage sees only the original input (media, text, metadata). Move model-output tests to `pre_queue`.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  post_queue { require max(concepts) < 0.6 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) < 0.6 }\n}\n")
  public static let invalidLimit = DiagnosticCode(
    id: "RC3018", name: "invalid-limit", severity: .error,
    summary: "a rate limit with a zero or fractional count or window",
    explanation: "`limit N per [M] UNIT` needs whole numbers N >= 1 and M >= 1.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { limit 0 per day }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { limit 10 per day }\n}\n")
  public static let mapFile = DiagnosticCode(
    id: "RC3019", name: "map-file", severity: .error,
    summary: "a concept-map file cannot be read or has a bad row",
    explanation: "`map file \"PATH\"` reads a CSV file of `source, target` rows or a YAML mapping `target: [sources]`, relative to the rule file.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  map file \"no-such-map.csv\"\n  pre_queue { sample 10% }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  map { dog -> canine }\n  pre_queue { sample 10% }\n}\n")
  public static let invalidRank = DiagnosticCode(
    id: "RC3020", name: "invalid-rank", severity: .error,
    summary: "`top(C, k)` with k not a whole number of at least 1",
    explanation: "`top(concepts, k)` is the k-th largest value, so k counts from 1 (`top(concepts, 1)` is `max(concepts)`).",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require top(concepts, 0) > 0.2 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require top(concepts, 1) > 0.2 }\n}\n")
  public static let neverTrue = DiagnosticCode(
    id: "RC4001", name: "never-true", severity: .warning,
    summary: "a condition can never be true",
    explanation: "Interval reasoning over comparisons of the same quantity with constants found no value that satisfies them, e.g. `max(concepts) < 0.3 and max(concepts) > 0.5`.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { drop if max(concepts) < 0.3 and max(concepts) > 0.5 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { drop if max(concepts) < 0.3 or max(concepts) > 0.5 }\n}\n")
  public static let alwaysTrue = DiagnosticCode(
    id: "RC4002", name: "always-true", severity: .warning,
    summary: "a condition is always true whenever its quantity has a value",
    explanation: "For example `max(concepts) >= 0` or `margin(concepts) < 0.2 or margin(concepts) >= 0.1`. A missing value still makes the comparison false, so the warning says 'whenever it has a value'.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) >= 0 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { require max(concepts) >= 0.2 }\n}\n")
  public static let collectsNothing = DiagnosticCode(
    id: "RC4003", name: "collects-nothing", severity: .error,
    summary: "after this statement the stage can collect nothing",
    explanation: "A `require` that can never hold (given the statements before it) or a `drop if` that always holds drops every input, so the collector can never collect anything.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require max(concepts) < 0.3\n    require max(concepts) > 0.5\n  }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require max(concepts) < 0.5\n    require max(concepts) > 0.3\n  }\n}\n")
  public static let unreachable = DiagnosticCode(
    id: "RC4004", name: "unreachable", severity: .warning,
    summary: "a statement can never be reached",
    explanation: "It follows a statement after which the stage collects nothing.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require false\n    sample 10%\n  }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    sample 10%\n  }\n}\n")
  public static let unusedMapEntry = DiagnosticCode(
    id: "RC4005", name: "unused-map-entry", severity: .warning,
    summary: "a concept-map target no rule reads",
    explanation: "A target is used when a rule names it (`concept(canine)`, `concepts in [canine]`) or reads the whole concept list (`max(concepts)`). Otherwise the entry changes nothing.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  map { dog -> canine  cat -> feline }\n  pre_queue { require concept(canine) > 0.5 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  map { dog -> canine }\n  pre_queue { require concept(canine) > 0.5 }\n}\n")
  public static let mapChain = DiagnosticCode(
    id: "RC4006", name: "map-chain", severity: .warning,
    summary: "a map target is also a map source",
    explanation: "The map is applied once, not transitively: with `puppy -> dog` and `dog -> canine`, a `puppy` becomes `dog`, not `canine`. Map every source straight to its final target.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  map { puppy -> dog  dog -> canine }\n  pre_queue { require concept(canine) > 0.5 }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  map { puppy, dog -> canine }\n  pre_queue { require concept(canine) > 0.5 }\n}\n")
  public static let noEffect = DiagnosticCode(
    id: "RC4007", name: "no-effect", severity: .warning,
    summary: "a statement that never changes the outcome",
    explanation: "`sample 100%`, `require true` and `drop if false` keep every input; remove them.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require max(concepts) < 0.6\n    sample 100%\n  }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require max(concepts) < 0.6\n  }\n}\n")
  public static let limitNotLast = DiagnosticCode(
    id: "RC4008", name: "limit-not-last", severity: .warning,
    summary: "statements follow a rate limit in its stage",
    explanation: "A `limit` counts every input that reaches it; an input dropped by a later statement still used up the budget, so fewer than N are collected. Put `limit` last.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    limit 100 per day\n    require max(concepts) < 0.6\n  }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require max(concepts) < 0.6\n    limit 100 per day\n  }\n}\n")
  public static let emptyFile = DiagnosticCode(
    id: "RC4009", name: "empty-file", severity: .warning,
    summary: "a rule file defines no collectors",
    explanation: "An empty file is allowed but probably a mistake.",
    bad: "# nothing here yet\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n")

  public static let probabilityEquality = DiagnosticCode(
    id: "RC4010", name: "probability-equality", severity: .warning,
    summary: "a probability compared with == or != a number",
    explanation: "Concept values and aggregates of them are floating-point probabilities computed by a model: `concept(dog) == 0.6` holds only for an output that is exactly 0.6, which almost never happens, and `!=` almost always holds. Compare with `<`, `>=`, or a band of values.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require concept(dog) == 0.6\n  }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require concept(dog) >= 0.6\n  }\n}\n")
  public static let versionIDShape = DiagnosticCode(
    id: "RC4011", name: "version-id-shape", severity: .warning,
    summary: "a model version id that is not 32 hexadecimal characters",
    explanation: "Clarifai's model version ids are 32 hexadecimal characters (`aa7f35c01e0642fda5cf400f543e7c40`). A version written otherwise (`v1`, a version number, a name) matches no output, so the collector would see nothing. Copy the id from the model's versions, or leave `version` out to watch every version.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition version v1\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition version aa7f35c01e0642fda5cf400f543e7c40\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n")
  public static let collectsIntoSource = DiagnosticCode(
    id: "RC4012", name: "collects-into-source", severity: .warning,
    summary: "the destination is the app the collector watches",
    explanation: "A collector copies inputs into a dataset app for labeling and training. Posting them into the app whose model it watches mixes the copies with the production traffic they came from (and, with a workflow on new inputs, predicts on them again). Collect into an app of its own.",
    bad: "collector demo {\n  source acme/prod/detector\n  destination acme/prod\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n",
    good: "collector demo {\n  source acme/prod/detector\n  destination acme/prod-review\n  key env DEMO_KEY\n  pre_queue { sample 10% }\n}\n")

  public static let beyondVocabulary = DiagnosticCode(
    id: "RC4013", name: "beyond-vocabulary", severity: .warning,
    summary: "a bound no output can reach, given the model's concepts",
    explanation: "With `--concepts`, the checker knows the concepts the rules see (the model's, after the concept map). `top(concepts, k)` with k larger than their number is missing for every output, and `entropy(concepts)` is at most ln n for n concepts, so `entropy(concepts) > c` with c at or above ln n never holds.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require top(concepts, 5) > 0.1\n  }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require top(concepts, 2) > 0.1\n  }\n}\n")
  public static let conceptMappedAway = DiagnosticCode(
    id: "RC4014", name: "concept-mapped-away", severity: .warning,
    summary: "a rule reads a concept that the concept map renames",
    explanation: "A collector's concept map renames the model's concepts before its rules run: after `dog -> canine`, outputs hold `canine`, not `dog`, so `concept(dog)` is missing for every output. Write the target's name.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  map {\n    dog, puppy -> canine\n  }\n  pre_queue {\n    require concept(dog) > 0.5\n  }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  map {\n    dog, puppy -> canine\n  }\n  pre_queue {\n    require concept(canine) > 0.5\n  }\n}\n")

  // Rule tests (`rulec test`, Grammar.md §13). Their examples are test files of the rules in
  // `DiagnosticCode.exampleRules`.

  /// The rule file the test-file examples below test (`rules "example.rule"`).
  public static let exampleRules = "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require max(concepts) < 0.6\n  }\n}\n"
  public static let testUnknownCollector = DiagnosticCode(
    id: "RC5001", name: "test-unknown-collector", severity: .error,
    summary: "an expectation names a collector the rules do not define",
    explanation: "`expect COLLECTOR ...` checks what one collector of the tested rules made of the event. A name that is not a collector's id is an error, with the closest id as help.",
    bad: "rules \"example.rule\"\n\ntest \"a confident dog is left alone\" {\n  event {\"status\": {\"code\": 10000}, \"model\": {\"id\": \"general-image-recognition\", \"user_id\": \"clarifai\", \"app_id\": \"main\"}, \"input\": {\"id\": \"in-1\"}, \"data\": {\"concepts\": [{\"id\": \"dog\", \"value\": 0.97}]}}\n  expect dmeo dropped\n}\n",
    good: "rules \"example.rule\"\n\ntest \"a confident dog is left alone\" {\n  event {\"status\": {\"code\": 10000}, \"model\": {\"id\": \"general-image-recognition\", \"user_id\": \"clarifai\", \"app_id\": \"main\"}, \"input\": {\"id\": \"in-1\"}, \"data\": {\"concepts\": [{\"id\": \"dog\", \"value\": 0.97}]}}\n  expect demo dropped\n}\n")
  public static let testBadEvent = DiagnosticCode(
    id: "RC5002", name: "test-bad-event", severity: .error,
    summary: "a test's event cannot be read as a model output",
    explanation: "An event is a JSON output or PostModelOutputs response written in the test, or `\"FILE:LINE\"`, a line of a recording relative to the test file. JSON that is not well formed, an output rulec cannot read (the same reasons as a bad line of `rulec run`), a file that cannot be read and a line past its end are errors at the event.",
    bad: "rules \"example.rule\"\n\ntest \"a confident dog is left alone\" {\n  event {\"status\": {\"code\": 10000}, \"model\": }\n  expect demo dropped\n}\n",
    good: "rules \"example.rule\"\n\ntest \"a confident dog is left alone\" {\n  event {\"status\": {\"code\": 10000}, \"model\": {\"id\": \"general-image-recognition\", \"user_id\": \"clarifai\", \"app_id\": \"main\"}, \"input\": {\"id\": \"in-1\"}, \"data\": {\"concepts\": [{\"id\": \"dog\", \"value\": 0.97}]}}\n  expect demo dropped\n}\n")
  public static let testNoStatement = DiagnosticCode(
    id: "RC5003", name: "test-no-statement", severity: .error,
    summary: "`dropped at line N` names no statement of the collector",
    explanation: "`expect C dropped at line N` expects the statement on line N of C's rule file to drop the event. A line holding no statement of C (in the stage named, if one is) can never match: it is an error, with the lines that hold statements as help.",
    bad: "rules \"example.rule\"\n\ntest \"a confident dog is left alone\" {\n  event {\"status\": {\"code\": 10000}, \"model\": {\"id\": \"general-image-recognition\", \"user_id\": \"clarifai\", \"app_id\": \"main\"}, \"input\": {\"id\": \"in-1\"}, \"data\": {\"concepts\": [{\"id\": \"dog\", \"value\": 0.97}]}}\n  expect demo dropped at line 5\n}\n",
    good: "rules \"example.rule\"\n\ntest \"a confident dog is left alone\" {\n  event {\"status\": {\"code\": 10000}, \"model\": {\"id\": \"general-image-recognition\", \"user_id\": \"clarifai\", \"app_id\": \"main\"}, \"input\": {\"id\": \"in-1\"}, \"data\": {\"concepts\": [{\"id\": \"dog\", \"value\": 0.97}]}}\n  expect demo dropped at line 6\n}\n")
  public static let testRules = DiagnosticCode(
    id: "RC5004", name: "test-rules", severity: .error,
    summary: "the rules a test names cannot be loaded",
    explanation: "Every case tests the rules named by `rules PATH` in the case or at the top of its file (a rule file or a folder, relative to the test file). A case with no rules, a path that cannot be read, and rules with errors (printed as `rulec check` prints them) make the case an error rather than a pass or a failure.",
    bad: "test \"a confident dog is left alone\" {\n  event {\"status\": {\"code\": 10000}, \"model\": {\"id\": \"general-image-recognition\", \"user_id\": \"clarifai\", \"app_id\": \"main\"}, \"input\": {\"id\": \"in-1\"}, \"data\": {\"concepts\": [{\"id\": \"dog\", \"value\": 0.97}]}}\n  expect demo dropped\n}\n",
    good: "rules \"example.rule\"\n\ntest \"a confident dog is left alone\" {\n  event {\"status\": {\"code\": 10000}, \"model\": {\"id\": \"general-image-recognition\", \"user_id\": \"clarifai\", \"app_id\": \"main\"}, \"input\": {\"id\": \"in-1\"}, \"data\": {\"concepts\": [{\"id\": \"dog\", \"value\": 0.97}]}}\n  expect demo dropped\n}\n")
  public static let testCannotFail = DiagnosticCode(
    id: "RC5005", name: "test-cannot-fail", severity: .warning,
    summary: "a test expects nothing, so it cannot fail",
    explanation: "A case with no `expect` passes whatever the rules do. Events without expectations are useful to build up state (limits, dedupe) before the event that is checked, but a case needs at least one expectation.",
    bad: "rules \"example.rule\"\n\ntest \"a confident dog is left alone\" {\n  event {\"status\": {\"code\": 10000}, \"model\": {\"id\": \"general-image-recognition\", \"user_id\": \"clarifai\", \"app_id\": \"main\"}, \"input\": {\"id\": \"in-1\"}, \"data\": {\"concepts\": [{\"id\": \"dog\", \"value\": 0.97}]}}\n}\n",
    good: "rules \"example.rule\"\n\ntest \"a confident dog is left alone\" {\n  event {\"status\": {\"code\": 10000}, \"model\": {\"id\": \"general-image-recognition\", \"user_id\": \"clarifai\", \"app_id\": \"main\"}, \"input\": {\"id\": \"in-1\"}, \"data\": {\"concepts\": [{\"id\": \"dog\", \"value\": 0.97}]}}\n  expect demo dropped\n}\n")
  public static let testExpectWithoutEvent = DiagnosticCode(
    id: "RC5006", name: "test-expect-without-event", severity: .error,
    summary: "an expectation comes before any event",
    explanation: "`expect` checks the event written before it in the same case; one before the first event has nothing to check.",
    bad: "rules \"example.rule\"\n\ntest \"a confident dog is left alone\" {\n  expect demo dropped\n  event {\"status\": {\"code\": 10000}, \"model\": {\"id\": \"general-image-recognition\", \"user_id\": \"clarifai\", \"app_id\": \"main\"}, \"input\": {\"id\": \"in-1\"}, \"data\": {\"concepts\": [{\"id\": \"dog\", \"value\": 0.97}]}}\n}\n",
    good: "rules \"example.rule\"\n\ntest \"a confident dog is left alone\" {\n  event {\"status\": {\"code\": 10000}, \"model\": {\"id\": \"general-image-recognition\", \"user_id\": \"clarifai\", \"app_id\": \"main\"}, \"input\": {\"id\": \"in-1\"}, \"data\": {\"concepts\": [{\"id\": \"dog\", \"value\": 0.97}]}}\n  expect demo dropped\n}\n")

  /// Every code, in code order.
  // Compiling rules to SQL (`rulec compile --target sql`, Grammar.md §15).

  public static let sqlUnsupported = DiagnosticCode(
    id: "RC6001", name: "sql-unsupported", severity: .error,
    summary: "a construct the SQL target cannot express (yet)",
    explanation: "`rulec compile --target sql` writes one query that must accept exactly what `rulec run` accepts. A statement it cannot translate with the same meaning (today: a second `limit` in one collector) is an error at the statement, and no query is written: a query that meant something else would be worse than none.",
    bad: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require max(concepts) < 0.6\n    limit 100 per day\n    limit 10 per hour\n  }\n}\n",
    good: "collector demo {\n  source clarifai/main/general-image-recognition\n  destination me/dataset\n  key env DEMO_KEY\n  pre_queue {\n    require max(concepts) < 0.6\n    sample 10%\n  }\n}\n")

  public static let sqlRegex = DiagnosticCode(
    id: "RC6002", name: "sql-regex", severity: .error,
    summary: "a regular expression the SQL dialect would read differently",
    explanation: "`matches` tests a Swift Regex in `rulec run`; the SQL query uses the dialect's own engine (RE2 in DuckDB). They agree on literals, `.`, bracket classes, quantifiers, alternation, groups, anchors and `(?i)`. The shorthand classes (`\\d`, `\\w`, `\\s`, `\\b` and their negations) are Unicode-aware in Swift and ASCII in RE2, and RE2 has no lookaround, backreference, atomic group or possessive quantifier: such a pattern is an error at the statement, and no query is written.",
    bad: "collector demo {\n  source acme/support/ticket-router\n  destination me/tickets\n  key env DEMO_KEY\n  post_queue {\n    require input.text matches \"order \\\\d+\"\n  }\n}\n",
    good: "collector demo {\n  source acme/support/ticket-router\n  destination me/tickets\n  key env DEMO_KEY\n  post_queue {\n    require input.text matches \"order [0-9]+\"\n  }\n}\n")

  public static let all: [DiagnosticCode] = [
    .invalidUTF8,
    .unexpectedCharacter,
    .unterminatedString,
    .invalidEscape,
    .invalidNumber,
    .expected,
    .unknownClause,
    .unknownStatement,
    .unclosedDelimiter,
    .nestingTooDeep,
    .expectedExpression,
    .unknownTimeUnit,
    .chainedComparison,
    .yamlSyntax,
    .yamlDuplicateKey,
    .yamlUnknownKey,
    .yamlWrongType,
    .yamlMissingKey,
    .yamlInvalidComparator,
    .unknownName,
    .unknownFunction,
    .typeMismatch,
    .wrongArguments,
    .probabilityOutOfRange,
    .rateOutOfRange,
    .duplicateCollectorID,
    .invalidID,
    .noStage,
    .inlineSecret,
    .missingClause,
    .duplicateClause,
    .mapCycle,
    .mapConflict,
    .unknownConcept,
    .invalidRegex,
    .notVisibleInStage,
    .invalidLimit,
    .mapFile,
    .invalidRank,
    .neverTrue,
    .alwaysTrue,
    .collectsNothing,
    .unreachable,
    .unusedMapEntry,
    .mapChain,
    .noEffect,
    .limitNotLast,
    .emptyFile,
    .probabilityEquality,
    .versionIDShape,
    .collectsIntoSource,
    .beyondVocabulary,
    .conceptMappedAway,
    .testUnknownCollector,
    .testBadEvent,
    .testNoStatement,
    .testRules,
    .testCannotFail,
    .testExpectWithoutEvent,
    .sqlUnsupported,
    .sqlRegex,
  ]
}
