import Foundation
import RulesSource

/// The fast path of `OutputDecoder`: decodes the usual line in one tight pass over raw bytes into
/// events that are reused from line to line, reading only what the rules need.
///
/// `OutputDecoder` defines what a line means. The scanner handles the common shapes and, on anything
/// it does not handle or that is not valid, hands the line to the decoder, which gives the same
/// events or the exact error (`ScannerTests` checks that the two agree). What it saves on every line:
/// no closures or thrown errors, concept names and ids resolved to keys from the bytes instead of
/// made into strings, strings that repeat (model ids) reused, and no arrays allocated once the reused
/// events have grown.
public final class OutputScanner: Sendable {
  /// The definition, and the fallback.
  public let decoder: OutputDecoder
  public let keys: ConceptKeyMatcher
  let tables: Tables

  /// The metadata projection as a flat trie of byte keys (node 0 is `metadata` itself).
  final class Tables: Sendable {
    struct Edge: Sendable {
      let key: [UInt8]
      let node: Int
    }
    struct Node: Sendable {
      var slot: Int
      var edges: [Edge]
    }
    let nodes: [Node]
    let slotCount: Int

    init(_ projection: MetadataProjection) {
      var nodes: [Node] = []
      func add(_ n: MetadataProjection.Node) -> Int {
        let index = nodes.count
        nodes.append(Node(slot: n.slot ?? -1, edges: []))
        var edges: [Edge] = []
        for (name, child) in n.children.sorted(by: { $0.key < $1.key }) {
          edges.append(Edge(key: Array(name.utf8), node: add(child)))
        }
        nodes[index].edges = edges
        return index
      }
      _ = add(projection.root)
      self.nodes = nodes
      slotCount = projection.slotCount
    }
  }

  /// The model and status objects of recent lines (see `throughRecent`), and the heads of recent
  /// concepts. A scanner is used by one thread at a time.
  let recentModels = RecentObjects<ModelFields>()
  let recentStatuses = RecentObjects<StatusFields>()
  let recentConcepts = RecentConcepts()
  let recentTimestamp = RecentTimestamp()
  /// Told each input id as soon as it is read (the engine starts loading what it will look up).
  let inputIDHint: (any InputIDHint)?
  let metadataSpares: MetadataSpares
  /// Scratch for a concept list's columns (see `concepts`).
  let conceptColumns = ConceptColumns()

  public init(
    projection: MetadataProjection, conceptKeys: [String], needs: DecodeNeeds = .everything, inputIDHint: (any InputIDHint)? = nil,
    requiresModel: Bool = true
  ) {
    self.inputIDHint = inputIDHint
    decoder = OutputDecoder(projection: projection, needs: needs, requiresModel: requiresModel)
    keys = ConceptKeyMatcher(keys: conceptKeys)
    tables = Tables(projection)
    metadataSpares = MetadataSpares(slots: projection.slotCount)
  }

  public var needs: DecodeNeeds { decoder.needs }

  /// Decodes one line into `events[0..<count]` and returns `count`, reusing the events' storage.
  public func decode(line: UnsafeBufferPointer<UInt8>, lineNumber: Int, into events: inout [Event]) throws(DecodeError) -> Int {
    if events.isEmpty { events.append(Event()) }
    if let base = line.baseAddress, line.count > 0 {
      var c = ByteCursor(p: base, n: line.count)
      if let count = scanLine(&c, lineNumber, &events) { return count }
    }
    // Not the usual shape, or not valid: the decoder decides (and words the error).
    let decoded = try decoder.decode(line: line, lineNumber: lineNumber)
    for (k, e) in decoded.enumerated() {
      if k < events.count { events[k] = e } else { events.append(e) }
      resolveKeys(&events[k])
    }
    return decoded.count
  }

  /// Resolves the keys of a decoded event's concepts from their strings.
  func resolveKeys(_ e: inout Event) {
    e.conceptNameKeys = e.concepts.map { keys.key($0.name) }
    e.conceptIDKeys = e.concepts.map { keys.key($0.id) }
    e.conceptValues = e.concepts.map(\.value)
    e.conceptTextRanges = []
    e.conceptKeyTable = keys.tableID
  }

  // MARK: Lines and outputs

  /// Bits of the string fields an output object set (the others are cleared when it ends).
  struct Seen: OptionSet {
    let rawValue: UInt32
    static let outputID = Seen(rawValue: 1 << 8)
    static let modelID = Seen(rawValue: 1 << 9)
    static let modelUser = Seen(rawValue: 1 << 10)
    static let modelApp = Seen(rawValue: 1 << 11)
    static let modelVersion = Seen(rawValue: 1 << 12)
    static let inputID = Seen(rawValue: 1 << 13)
    static let caller = Seen(rawValue: 1 << 14)
  }

  func scanLine(_ c: inout ByteCursor, _ lineNumber: Int, _ events: inout [Event]) -> Int? {
    guard c.peek() == UInt8(ascii: "{") else { return nil }
    c.i += 1
    reset(&events[0], lineNumber, 0)
    // Bits 0–6 as in `OutputDecoder.decode` (outputs, id, status, created_at, model, input, data).
    var seen: UInt32 = 0
    var count = -1
    var sawOutputField = false
    var singleFields: UInt32 = 0
    if c.peek() == UInt8(ascii: "}") {
      c.i += 1
    } else {
      while true {
        guard c.peek() == UInt8(ascii: "\"") else { return nil }
        var key = 0..<0
        guard c.key(&key) else { return nil }
        if c.matches(key, "outputs") {
          guard firstTime(&seen, 1), c.peek() == UInt8(ascii: "[") else { return nil }
          c.i += 1
          count = 0
          if c.peek() == UInt8(ascii: "]") {
            c.i += 1
          } else {
            while true {
              guard count < OutputDecoder.maxOutputsPerLine, c.countListElement() else { return nil }
              if count == events.count { events.append(Event()) }
              reset(&events[count], lineNumber, count)
              // An output that names no model is a bad line: the decoder says so.
              guard output(&c, &events[count]), !(events[count].lacksModel && decoder.requiresModel) else { return nil }
              count += 1
              guard c.peek() != 0 else { return nil }
              let next = c.p[c.i]
              c.i += 1
              if next == UInt8(ascii: "]") { break }
              guard next == UInt8(ascii: ",") else { return nil }
            }
          }
        } else {
          switch outputField(&c, key, &events[0], &seen, &singleFields) {
          case .failed: return nil
          case .read:
            // A field of the line itself after its `outputs` would land on an output: leave it to the decoder.
            guard count < 0 else { return nil }
            sawOutputField = true
          case .other:
            guard c.skip(0) else { return nil }
          }
        }
        guard c.peek() != 0 else { return nil }
        let next = c.p[c.i]
        c.i += 1
        if next == UInt8(ascii: "}") { break }
        guard next == UInt8(ascii: ",") else { return nil }
      }
    }
    c.ws()
    guard c.i == c.n else { return nil }
    if count >= 0 { return count }
    guard sawOutputField else { return nil }
    clearUnset(&events[0], singleFields)
    guard !(events[0].lacksModel && decoder.requiresModel) else { return nil }
    return 1
  }

  /// Prepares a reused event for a new output (its strings are kept until the output sets or clears them).
  @inline(__always) func reset(_ e: inout Event, _ line: Int, _ index: Int) {
    e.line = line
    e.indexInLine = index
    e.statusCode = nil
    e.statusName = nil
    e.createdAt = nil
    e.inputKind = nil
    e.inputText = nil
    e.inputURL = nil
    e.mediaRange = nil
    e.metadataRange = nil
    e.metadataHasRulecKey = false
    if e.metadata.count != tables.slotCount {
      e.metadata = Array(repeating: nil, count: tables.slotCount)
    } else {
      let spares = metadataSpares.lists
      for k in 0..<tables.slotCount {
        // A list's storage is kept for the slot's next list (see `metadataObject`).
        if case .list(var items)? = e.metadata[k] {
          e.metadata[k] = nil
          items.removeAll(keepingCapacity: true)
          if k < metadataSpares.count { spares[k] = items }
        } else {
          e.metadata[k] = nil
        }
      }
    }
    // `concepts` is overwritten in place and cut to length when the output ends (`clearUnset`):
    // emptying it destroyed two strings per concept on every line.
    e.conceptNameKeys.removeAll(keepingCapacity: true)
    e.conceptIDKeys.removeAll(keepingCapacity: true)
    e.conceptValues.removeAll(keepingCapacity: true)
    e.conceptTextRanges.removeAll(keepingCapacity: true)
    e.conceptKeyTable = keys.tableID
    if !e.regions.isEmpty { e.regions.removeAll(keepingCapacity: true) }
    if !e.frames.isEmpty { e.frames.removeAll(keepingCapacity: true) }
  }

  func output(_ c: inout ByteCursor, _ e: inout Event) -> Bool {
    guard c.peek() == UInt8(ascii: "{") else { return false }
    c.i += 1
    var seen: UInt32 = 0
    var fields: UInt32 = 0
    defer { clearUnset(&e, fields) }
    if c.peek() == UInt8(ascii: "}") {
      c.i += 1
      return true
    }
    while true {
      guard c.peek() == UInt8(ascii: "\"") else { return false }
      var key = 0..<0
      guard c.key(&key) else { return false }
      switch outputField(&c, key, &e, &seen, &fields) {
      case .failed: return false
      case .read: break
      case .other: guard c.skip(1) else { return false }
      }
      guard c.peek() != 0 else { return false }
      let next = c.p[c.i]
      c.i += 1
      if next == UInt8(ascii: "}") { return true }
      guard next == UInt8(ascii: ",") else { return false }
    }
  }

  /// Clears the strings an output did not set (`fields` holds the `Seen` bits of those it did).
  @inline(__always) func clearUnset(_ e: inout Event, _ fields: UInt32) {
    // One key per concept read: what is beyond is left from an earlier line.
    let read = e.conceptNameKeys.count
    if e.concepts.count > read { e.concepts.removeLast(e.concepts.count - read) }
    if fields & Seen.outputID.rawValue == 0 { e.outputIDText = ShortText() }
    if fields & Seen.modelID.rawValue == 0 { e.modelID = nil }
    if fields & Seen.modelUser.rawValue == 0 { e.modelUser = nil }
    if fields & Seen.modelApp.rawValue == 0 { e.modelApp = nil }
    if fields & Seen.modelVersion.rawValue == 0 { e.modelVersion = nil }
    if fields & Seen.inputID.rawValue == 0 { e.inputID = nil }
    if fields & Seen.caller.rawValue == 0 { e.caller = nil }
  }

  enum FieldResult { case read, other, failed }

  /// Reads one field of an output object (the cursor is after the key).
  func outputField(_ c: inout ByteCursor, _ key: Range<Int>, _ e: inout Event, _ seen: inout UInt32, _ fields: inout UInt32) -> FieldResult {
    switch key.count {
    case 2 where c.matches(key, "id"):
      guard firstTime(&seen, 1 << 1), c.optionalShortText(&e.outputIDText, &fields, Seen.outputID.rawValue) else { return .failed }
    case 6 where c.matches(key, "status"):
      guard firstTime(&seen, 1 << 2), status(&c, &e) else { return .failed }
    case 10 where c.matches(key, "created_at"):
      guard firstTime(&seen, 1 << 3) else { return .failed }
      if c.peek() == UInt8(ascii: "n") {
        guard c.null() else { return .failed }
      } else {
        guard c.peek() == UInt8(ascii: "\"") else { return .failed }
        var s = ByteCursor.StringSpan()
        guard c.string(&s), !s.escaped,
          let t = Timestamp.parse(UnsafeBufferPointer(start: c.p + s.start, count: s.count), recent: &recentTimestamp.date.pointee)
        else {
          return .failed
        }
        e.createdAt = t
      }
    case 5 where c.matches(key, "model"):
      guard firstTime(&seen, 1 << 4), model(&c, &e, &fields) else { return .failed }
    case 5 where c.matches(key, "input"):
      guard firstTime(&seen, 1 << 5), input(&c, &e, &fields) else { return .failed }
    case 4 where c.matches(key, "data"):
      guard firstTime(&seen, 1 << 6), data(&c, &e) else { return .failed }
    case 14 where c.matches(key, "caller_user_id"):
      guard firstTime(&seen, 1 << 7), c.optionalText(&e.caller, &fields, Seen.caller.rawValue) else { return .failed }
    case 9 where JSONBytes.isLowerCamel(of: "created_at", c.p, key), 12 where JSONBytes.isLowerCamel(of: "caller_user_id", c.p, key):
      // proto3 JSON's spelling (`MessageToJson`'s default): the decoder reads both.
      return .failed
    default:
      return .other
    }
    return .read
  }

  /// Reads an object through `cache`: an object met byte for byte in a recent line gives what it
  /// decoded to then, without being read again (a JSON value ends where its own bytes say, so equal
  /// bytes are the same object); another is read by `read`, which sets the event's fields and
  /// returns what to remember. Lines of one model repeat its object exactly, about 300 bytes of a
  /// 2 KB line (300k outputs: R4 0.63 → 0.59 s, R1 0.69 → 0.62 s, R3 0.80 → 0.76 s), and the status
  /// object `{"code":10000,"description":"Ok"}` is on nearly every line (R5 over 100k outputs,
  /// `perf stat -r 6`: 0.218 → 0.214 s).
  @inline(__always) func throughRecent<Decoded>(
    _ cache: RecentObjects<Decoded>, _ c: inout ByteCursor, apply: (Decoded) -> Void, read: (inout ByteCursor) -> Decoded?
  ) -> Bool {
    guard c.peek() == UInt8(ascii: "{") else { return read(&c) != nil }
    let start = c.i
    if let k = cache.find(c.p + start, c.n - start) {
      apply(cache.entries[k].decoded)
      c.i += cache.entries[k].bytes.count
      return true
    }
    guard let decoded = read(&c) else { return false }
    cache.remember(UnsafeBufferPointer(start: c.p + start, count: c.i - start), decoded)
    return true
  }

  func status(_ c: inout ByteCursor, _ e: inout Event) -> Bool {
    throughRecent(recentStatuses, &c) { status in
      e.statusCode = status.code
      e.statusName = status.name
    } read: { c in
      statusFields(&c, &e) ? StatusFields(code: e.statusCode, name: e.statusName) : nil
    }
  }

  /// As `OutputDecoder.decodeStatus`: `null` or no `code` is 0, a string an integer or a name; a
  /// string that is neither (or holds escapes) goes to the decoder, which words the error.
  func statusFields(_ c: inout ByteCursor, _ e: inout Event) -> Bool {
    guard c.openObject() else { return false }
    if c.isNullObject { return true }
    var seen = false
    guard
      c.fields({ (c, key) in
        guard c.matches(key, "code") else { return c.skip(2) }
        guard !seen else { return false }
        seen = true
        switch c.peek() {
        case UInt8(ascii: "\""):
          var s = ByteCursor.StringSpan()
          guard c.string(&s), !s.escaped else { return false }
          switch ProtoJSON.enumValue(quoted: UnsafeBufferPointer(start: c.p + s.start, count: s.count)) {
          case .number(let code): e.statusCode = code
          case .name: e.statusName = c.text(s)
          case .invalid: return false
          }
          return true
        case UInt8(ascii: "n"):
          guard c.null() else { return false }
          e.statusCode = 0
          return true
        default:
          var v = 0.0
          guard c.number(&v), v == v.rounded(), abs(v) < 1e9 else { return false }
          e.statusCode = Int(v)
          return true
        }
      })
    else { return false }
    if !seen { e.statusCode = 0 }
    return true
  }

  func model(_ c: inout ByteCursor, _ e: inout Event, _ fields: inout UInt32) -> Bool {
    throughRecent(recentModels, &c) { m in
      e.modelID = m.id
      e.modelUser = m.user
      e.modelApp = m.app
      e.modelVersion = m.version
      fields |= m.fields
    } read: { c in
      var own: UInt32 = 0
      guard modelFields(&c, &e, &own) else { return nil }
      fields |= own
      return ModelFields(id: e.modelID, user: e.modelUser, app: e.modelApp, version: e.modelVersion, fields: own)
    }
  }

  func modelFields(_ c: inout ByteCursor, _ e: inout Event, _ fields: inout UInt32) -> Bool {
    guard c.openObject() else { return false }
    if c.isNullObject { return true }
    var seen: UInt32 = 0
    return c.fields { (c, key) in
      switch key.count {
      case 2 where c.matches(key, "id"):
        guard firstTime(&seen, 1) else { return false }
        return c.optionalText(&e.modelID, &fields, Seen.modelID.rawValue)
      case 7 where c.matches(key, "user_id"):
        guard firstTime(&seen, 2) else { return false }
        return c.optionalText(&e.modelUser, &fields, Seen.modelUser.rawValue)
      case 6 where c.matches(key, "app_id"):
        guard firstTime(&seen, 4) else { return false }
        return c.optionalText(&e.modelApp, &fields, Seen.modelApp.rawValue)
      case 13 where c.matches(key, "model_version"):
        guard firstTime(&seen, 8) else { return false }
        guard c.openObject() else { return false }
        if c.isNullObject { return true }
        var versionSeen = false
        return c.fields { (c, key) in
          guard c.matches(key, "id") else { return c.skip(3) }
          guard !versionSeen else { return false }
          versionSeen = true
          return c.optionalText(&e.modelVersion, &fields, Seen.modelVersion.rawValue)
        }
      case 5 where JSONBytes.isLowerCamel(of: "app_id", c.p, key), 6 where JSONBytes.isLowerCamel(of: "user_id", c.p, key),
        12 where JSONBytes.isLowerCamel(of: "model_version", c.p, key):
        // proto3 JSON's spelling (`MessageToJson`'s default): the decoder reads both.
        return false
      default:
        return c.skip(2)
      }
    }
  }

  func input(_ c: inout ByteCursor, _ e: inout Event, _ fields: inout UInt32) -> Bool {
    guard c.openObject() else { return false }
    if c.isNullObject { return true }
    var seen: UInt32 = 0
    return c.fields { (c, key) in
      if c.matches(key, "id") {
        guard firstTime(&seen, 1), c.optionalText(&e.inputID, &fields, Seen.inputID.rawValue) else { return false }
        // The rest of the line is read meanwhile (see `InputIDHint`).
        if let hint = inputIDHint, hint.isActive, var id = e.inputID { id.withUTF8 { hint.inputIDRead($0) } }
        return true
      }
      guard c.matches(key, "data") else { return c.skip(2) }
      guard firstTime(&seen, 2) else { return false }
      guard c.openObject() else { return false }
      if c.isNullObject { return true }
      var dataSeen: UInt32 = 0
      return c.fields { (c, key) in
        if c.matches(key, "metadata") {
          guard dataSeen & 1 == 0 else { return false }
          dataSeen |= 1
          c.ws()
          let start = c.i
          guard c.openObject() else { return false }
          if c.isNullObject { return true }
          guard metadataObject(&c, 0, &e, 0, top: true) else { return false }
          let root = tables.nodes[0].slot
          if root >= 0 { e.metadata[root] = .object }
          e.metadataRange = start..<c.i
          return true
        }
        let kind: InputKind
        let bit: Int
        // Spelled out rather than a walk over `InputKind.allCases`, a shared array whose reference
        // count every event (on every job) touched.
        if c.matches(key, "image") {
          (kind, bit) = (.image, 0)
        } else if c.matches(key, "video") {
          (kind, bit) = (.video, 1)
        } else if c.matches(key, "text") {
          (kind, bit) = (.text, 2)
        } else if c.matches(key, "audio") {
          (kind, bit) = (.audio, 3)
        } else {
          return c.skip(3)
        }
        do {
          guard dataSeen & (2 << UInt32(bit)) == 0 else { return false }
          dataSeen |= 2 << UInt32(bit)
          c.ws()
          let start = c.i
          guard c.openObject() else { return false }
          if c.isNullObject { return true }
          guard c.fields({ (c, key) in
            let isURL = c.matches(key, "url")
            guard isURL || (kind == .text && c.matches(key, "raw")) else { return c.skip(4) }
            guard decoder.needs.mediaText else { return c.optionalStringSkipped() }
            var unused: UInt32 = 0
            return isURL ? c.optionalText(&e.inputURL, &unused, 0) : c.optionalText(&e.inputText, &unused, 0)
          }) else { return false }
          if e.inputKind == nil { e.inputKind = kind }
          e.mediaRange = start..<c.i
          return true
        }
      }
    }
  }
}

/// Marks `bit` in `seen` and returns true the first time; false when it was already there (a key
/// met twice in one object: the line goes to the decoder, which reports the duplicate).
@inline(__always) func firstTime(_ seen: inout UInt32, _ bit: UInt32) -> Bool {
  guard seen & bit == 0 else { return false }
  seen |= bit
  return true
}
