/// The kind of media an input holds.
public enum InputKind: String, Sendable, CaseIterable {
  case image, video, text, audio

  /// This kind's bit in a set of kinds (bit i = `allCases[i]`).
  @inline(__always) public var bit: UInt8 {
    switch self {
    case .image: 1
    case .video: 2
    case .text: 4
    case .audio: 8
    }
  }
}

/// One concept of a model output: `{id, name, value}`.
public struct ConceptValue: Sendable, Equatable {
  public var id: String
  public var name: String
  public var value: Double

  public init(id: String, name: String, value: Double) {
    self.id = id
    self.name = name
    self.value = value
  }
}

/// Where a concept's name and id lie in its line (plain strings, without escapes).
public struct ConceptTextRange: Sendable, Equatable {
  public var nameStart: Int32
  public var nameCount: Int32
  public var idStart: Int32
  public var idCount: Int32
}

/// What the rules of a run read beyond the fields every run needs, so the decoder can skip the rest.
/// Fields no rule reads are still checked to be JSON, but not checked for their types.
public struct DecodeNeeds: Sendable, Equatable {
  /// Concept names and ids as strings (for `name`/`id` tests, concept maps, the reference evaluator).
  public var conceptText = true
  /// `input.url` and the text's `raw`.
  public var mediaText = true
  /// Regions and frames of `data` (their types are checked only when this is on).
  public var regionsAndFrames = true

  public init() {}

  /// Everything: what a caller that does not know its rules asks for.
  public static let everything = DecodeNeeds()
}

/// A region's bounding box, normalised to [0, 1].
public struct BoundingBox: Sendable, Equatable {
  public var top: Double
  public var left: Double
  public var bottom: Double
  public var right: Double

  public init(top: Double, left: Double, bottom: Double, right: Double) {
    self.top = top
    self.left = left
    self.bottom = bottom
    self.right = right
  }
}

/// One detection region.
public struct RegionValue: Sendable, Equatable {
  public var id: String
  /// The region's own confidence, if given.
  public var value: Double?
  public var box: BoundingBox?
  public var concepts: [ConceptValue]

  public init(id: String = "", value: Double? = nil, box: BoundingBox? = nil, concepts: [ConceptValue] = []) {
    self.id = id
    self.value = value
    self.box = box
    self.concepts = concepts
  }
}

/// One video frame.
public struct FrameValue: Sendable, Equatable {
  public var id: String
  public var index: Double?
  /// Milliseconds from the start of the video.
  public var time: Double?
  public var concepts: [ConceptValue]
  public var regions: [RegionValue]

  public init(id: String = "", index: Double? = nil, time: Double? = nil, concepts: [ConceptValue] = [], regions: [RegionValue] = []) {
    self.id = id
    self.index = index
    self.time = time
    self.concepts = concepts
    self.regions = regions
  }
}

/// A metadata value read at one of the paths the rules use. Not `indirect`: lists recurse through
/// an array already, and boxing every case cost a heap allocation per value decoded and a pointer
/// chase per value read (R4 in the VM, with the field order below: 37.1 → 36.0 ns a collector-event).
public enum MetadataValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case list([MetadataValue])
  /// An object: only its presence is known (rules compare scalars and lists).
  case object
}

/// One model output, decoded: only the fields rules can read, plus raw JSON slices of the input's
/// media and metadata so an accepted input is forwarded exactly as it came.
public struct Event: Sendable {
  // The fields every collector reads come first, in one cache line: behind the others they spread
  // over three, and with 64 events cycling through the VM benchmark these loads missed L1.

  /// The rules' concept key of each top-level concept's name and id (−1: none), when the scanner
  /// resolved them from the bytes against the key table `conceptKeyTable` (0: not resolved).
  ///
  /// Only this module writes the resolved columns (`forgetResolvedConcepts` clears them), so when
  /// `conceptKeyTable` is not 0 the name keys, id keys and values have one length: a reader that
  /// checks one of them against `concepts` may trust the others.
  public internal(set) var conceptKeyTable: UInt64 = 0
  public var concepts: [ConceptValue] = []
  public internal(set) var conceptNameKeys: [Int32] = []
  public internal(set) var conceptIDKeys: [Int32] = []
  /// Each top-level concept's value again, end to end, under the same condition as the keys: the
  /// rules' aggregates read 8 bytes a concept here instead of one 40-byte `ConceptValue` each
  /// (VM, a collector-event: R2 55 → 39 ns, R6 130 → 100 ns).
  public internal(set) var conceptValues: [Double] = []
  /// Values at the projected metadata paths, by slot; nil where the path is absent.
  public var metadata: [MetadataValue?] = []

  /// 1-based line of the recording, and the output's position in that line's `outputs` array.
  public var line = 0
  public var indexInLine = 0

  /// `status.code` when it was a number; nil when absent.
  public var statusCode: Int?
  /// `status.code` when it was an enum name (`"SUCCESS"`).
  public var statusName: String?
  /// The output's `id`. The scanner keeps it in `outputIDText`, in place: Clarifai's output ids are
  /// 32 characters, past what a `String` holds without a heap allocation, and a new one on every
  /// line was the scanner's one allocation per event.
  public var outputID: String? {
    get { outputIDText.string }
    set { outputIDText = ShortText(newValue) }
  }
  public var outputIDText = ShortText()
  /// `created_at` in seconds since the Unix epoch.
  public var createdAt: Double?

  public var modelID: String?
  public var modelUser: String?
  public var modelApp: String?
  public var modelVersion: String?
  /// The user whose prediction call made the output (`caller_user_id`), which `rulec proxy` stamps
  /// on what it collects and records; nil for outputs from elsewhere.
  public var caller: String?

  public var inputID: String?
  public var inputKind: InputKind?
  public var inputText: String?
  public var inputURL: String?
  /// Where the raw JSON of `input.data.<kind>` (for example `{"url": "..."}`) and of
  /// `input.data.metadata` lie in the line, to forward an accepted input exactly as it came; slicing
  /// them only for accepted inputs keeps the others free of copies.
  public var mediaRange: Range<Int>?
  public var metadataRange: Range<Int>?
  /// The metadata already has a top-level `rulec` key (forwarding replaces it).
  public var metadataHasRulecKey = false
  public var regions: [RegionValue] = []
  public var frames: [FrameValue] = []
  /// Where each top-level concept's name and id lie in the line when the scanner did not make them
  /// into strings (`DecodeNeeds.conceptText` off); empty otherwise.
  public internal(set) var conceptTextRanges: [ConceptTextRange] = []

  public init() {}

  /// Drops what the scanner resolved from the concepts' text (after the concepts were changed, for
  /// example renamed by a concept map).
  public mutating func forgetResolvedConcepts() {
    conceptKeyTable = 0
    conceptNameKeys = []
    conceptIDKeys = []
    conceptValues = []
    conceptTextRanges = []
  }

  /// A top-level concept's label for reports: its name, or its id when it has no name. Reads the
  /// line when the scanner kept only the ranges.
  public func conceptLabel(_ i: Int, line: UnsafeBufferPointer<UInt8>) -> String {
    if let range = conceptLabelRange(i) {
      guard range.upperBound <= line.count else { return "" }
      return String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self)
    }
    return concepts[i].name.isEmpty ? concepts[i].id : concepts[i].name
  }

  /// Where `conceptLabel(i)` lies in the line, when the scanner kept only the ranges; nil when the
  /// label is in `concepts[i]`. Inlinable, as `topConceptIndex`: called on an event lent by
  /// pointer, the out-of-line form copied the whole event (and retained every field) per call.
  @inlinable public func conceptLabelRange(_ i: Int) -> Range<Int>? {
    guard i < conceptTextRanges.count else { return nil }
    let r = conceptTextRanges[i]
    return r.nameCount > 0 ? Int(r.nameStart)..<Int(r.nameStart + r.nameCount) : Int(r.idStart)..<Int(r.idStart + r.idCount)
  }

  /// The index of the top-level concept with the largest value (the first on ties), or nil.
  @inlinable public var topConceptIndex: Int? {
    guard !concepts.isEmpty else { return nil }
    var best = 0
    for i in 1..<concepts.count where concepts[i].value > concepts[best].value { best = i }
    return best
  }

  /// A successful output that does not say which model made it (`model.id` missing or empty): it
  /// cannot be routed, so its line is bad rather than skipped. A failed output is skipped by its
  /// status whatever it names.
  @inlinable public var lacksModel: Bool {
    guard isSuccess else { return false }
    guard let modelID else { return true }
    return modelID.isEmpty
  }

  /// Outputs whose own status is not success are skipped (Clarifai code 10000, or `"SUCCESS"`).
  public var isSuccess: Bool { Self.isSuccess(code: statusCode, name: statusName) }

  /// Whether a status means success: code 10000, or the name `"SUCCESS"`; no status counts as success.
  public static func isSuccess(code: Int?, name: String?) -> Bool {
    if let code { return code == 10000 }
    if let name { return name == "SUCCESS" }
    return true
  }
}

/// Text of up to `inlineCapacity` UTF-8 bytes held in place, or any text as a `String`; or none.
public struct ShortText: Sendable {
  /// The most bytes held in place.
  public static let inlineCapacity = 48
  private var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
  /// Bytes held in place; −1 when the text is `long`, or absent.
  private var count = -1
  private var long: String?

  /// No text.
  public init() {}

  /// The text of `string` (none for nil).
  public init(_ string: String?) { long = string }

  /// The text of `bytes`, held in place when it fits, else as a `String`.
  public init(utf8 bytes: UnsafeBufferPointer<UInt8>) {
    self.init()
    set(utf8: bytes)
  }

  /// Replaces the text with `bytes` (valid UTF-8), in place when it fits.
  public mutating func set(utf8 bytes: UnsafeBufferPointer<UInt8>) {
    guard bytes.count <= Self.inlineCapacity else {
      long = String(decoding: bytes, as: UTF8.self)
      count = -1
      return
    }
    long = nil
    count = bytes.count
    if let base = bytes.baseAddress {
      withUnsafeMutableBytes(of: &words) { $0.baseAddress!.copyMemory(from: base, byteCount: bytes.count) }
    }
  }

  /// The text as a `String`, or nil when there is none.
  public var string: String? {
    if count < 0 { return long }
    return withUTF8 { String(decoding: $0!, as: UTF8.self) }
  }

  /// Lends the text's UTF-8 bytes (nil when there is none).
  public func withUTF8<R>(_ body: (UnsafeBufferPointer<UInt8>?) -> R) -> R {
    if count < 0 {
      guard var long else { return body(nil) }
      return long.withUTF8 { body($0) }
    }
    var words = words
    return withUnsafeBytes(of: &words) { body(UnsafeBufferPointer(start: $0.bindMemory(to: UInt8.self).baseAddress!, count: count)) }
  }
}
