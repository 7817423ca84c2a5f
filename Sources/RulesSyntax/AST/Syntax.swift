import RulesSource

/// A word as written: a bare word glued from adjacent tokens (`general-image-recognition`,
/// `8d1f6c0b`), `*`, or a quoted string.
public struct Word: Sendable, Hashable {
  public var text: String
  public var range: SourceRange
  public var quoted: Bool

  public init(_ text: String, _ range: SourceRange, quoted: Bool = false) {
    self.text = text
    self.range = range
    self.quoted = quoted
  }
}

/// One parsed rule file (`.rule`) or YAML file: its collectors, in order, and its comments.
public struct RuleFile: Sendable {
  public var file: SourceFile
  public var collectors: [Collector]
  public var comments: [SourceRange]

  public init(file: SourceFile, collectors: [Collector], comments: [SourceRange]) {
    self.file = file
    self.collectors = collectors
    self.comments = comments
  }
}

/// `collector ID { clauses }`. Clauses keep the order they were written in.
public struct Collector: Sendable {
  public var id: Word
  public var clauses: [Clause]
  public var range: SourceRange
  /// The parser recovered from a syntax error inside this collector, so a clause may be missing
  /// because it was unreadable; the checker then does not report missing clauses.
  public var hadSyntaxErrors: Bool

  public init(id: Word, clauses: [Clause], range: SourceRange, hadSyntaxErrors: Bool = false) {
    self.id = id
    self.clauses = clauses
    self.range = range
    self.hadSyntaxErrors = hadSyntaxErrors
  }
}

/// One clause of a collector; `keyword` points at the clause's first word.
public struct Clause: Sendable {
  public var kind: ClauseKind
  public var keyword: Word
  public var range: SourceRange

  public init(_ kind: ClauseKind, keyword: Word, range: SourceRange) {
    self.kind = kind
    self.keyword = keyword
    self.range = range
  }
}

public enum ClauseKind: Sendable {
  case description(Word)
  case source(ModelSource)
  case destination(user: Word, app: Word)
  case datasets([Word])
  case key(KeyReference)
  case map(ConceptMapSyntax)
  /// `collect_outputs [KIND, ...]`: the predictions are copied onto the collected input (`concepts`,
  /// `regions`; an empty list, the clause alone, means both).
  case collectOutputs([Word])
  case stage(Stage)
}

/// `source USER/APP/MODEL [version V] [caller U]`.
public struct ModelSource: Sendable {
  public var user: Word
  public var app: Word
  public var model: Word
  public var version: Word?
  public var caller: Word?

  public init(user: Word, app: Word, model: Word, version: Word? = nil, caller: Word? = nil) {
    self.user = user
    self.app = app
    self.model = model
    self.version = version
    self.caller = caller
  }
}

/// Where the post-inputs key comes from. `inline` exists only so the checker can reject it.
public enum KeyReference: Sendable {
  case environment(Word)
  case file(Word)
  case inline(Word)
}

/// `map { a, b -> t ... unmapped drop }` or `map file "PATH"`.
public struct ConceptMapSyntax: Sendable {
  public var entries: [MapEntry]
  public var file: Word?
  /// `keep` (the default) or `drop`.
  public var unmapped: Word?

  public init(entries: [MapEntry], file: Word? = nil, unmapped: Word? = nil) {
    self.entries = entries
    self.file = file
    self.unmapped = unmapped
  }
}

/// `dog, puppy -> canine`.
public struct MapEntry: Sendable {
  public var sources: [Word]
  public var target: Word
  public var range: SourceRange

  public init(sources: [Word], target: Word, range: SourceRange) {
    self.sources = sources
    self.target = target
    self.range = range
  }
}

/// Which of the two stages.
public enum StageKind: String, Sendable {
  case preQueue = "pre_queue"
  case postQueue = "post_queue"
}

/// A `pre_queue { ... }` or `post_queue { ... }` block.
public struct Stage: Sendable {
  public var kind: StageKind
  public var statements: [Statement]

  public init(kind: StageKind, statements: [Statement]) {
    self.kind = kind
    self.statements = statements
  }
}

/// One statement of a stage; `range` covers it from its keyword to its last token.
public struct Statement: Sendable {
  public var kind: StatementKind
  public var keyword: Word
  public var range: SourceRange

  public init(_ kind: StatementKind, keyword: Word, range: SourceRange) {
    self.kind = kind
    self.keyword = keyword
    self.range = range
  }
}

public enum StatementKind: Sendable {
  case require(Expr)
  case dropIf(Expr)
  /// `sample RATE [by PATH] [seed SEED]`; `rate` is a number literal (fraction or percentage).
  case sample(rate: Expr, by: Expr?, seed: Word?)
  /// `limit COUNT per [WINDOW] UNIT`.
  case limit(count: Expr, window: Expr?, unit: Word)
}

/// The time units of `limit`, in seconds.
public enum TimeUnit: String, CaseIterable, Sendable {
  case second, minute, hour, day, week

  public var seconds: Double {
    switch self {
    case .second: 1
    case .minute: 60
    case .hour: 3600
    case .day: 86400
    case .week: 604800
    }
  }

  /// Accepts singular and plural spellings.
  public init?(word: String) {
    let singular = word.hasSuffix("s") ? String(word.dropLast()) : word
    self.init(rawValue: singular)
  }
}
