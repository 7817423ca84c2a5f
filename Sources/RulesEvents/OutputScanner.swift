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

  public init(projection: MetadataProjection, conceptKeys: [String], needs: DecodeNeeds = .everything, inputIDHint: (any InputIDHint)? = nil) {
    self.inputIDHint = inputIDHint
    decoder = OutputDecoder(projection: projection, needs: needs)
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
              guard output(&c, &events[count]) else { return nil }
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

  func statusFields(_ c: inout ByteCursor, _ e: inout Event) -> Bool {
    guard c.openObject() else { return false }
    if c.isNullObject { return true }
    var seen = false
    return c.fields { (c, key) in
      guard c.matches(key, "code") else { return c.skip(2) }
      guard !seen else { return false }
      seen = true
      if c.peek() == UInt8(ascii: "\"") {
        var s = ByteCursor.StringSpan()
        guard c.string(&s) else { return false }
        e.statusName = c.text(s)
        return true
      }
      var v = 0.0
      guard c.number(&v), v == v.rounded(), abs(v) < 1e9 else { return false }
      e.statusCode = Int(v)
      return true
    }
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

  /// Walks a metadata object (its `{` already read) along the projection trie.
  func metadataObject(_ c: inout ByteCursor, _ node: Int, _ e: inout Event, _ depth: Int, top: Bool = false) -> Bool {
    guard depth < ByteCursor.depthLimit else { return false }
    let edges = tables.nodes[node].edges
    // Keys read at this level, as bits of `edges` (a key read twice is left to the decoder's error).
    var read: UInt64 = 0
    guard edges.count <= 64 else { return false }
    return c.fields { (c, key) in
      if top && c.matches(key, "rulec") { e.metadataHasRulecKey = true }
      var edge = -1
      for (k, candidate) in edges.enumerated() where candidate.key.count == key.count {
        if candidate.key.withUnsafeBufferPointer({ memcmp($0.baseAddress!, c.p + key.lowerBound, key.count) == 0 }) {
          edge = k
          break
        }
      }
      guard edge >= 0 else { return c.skip(depth + 1) }
      guard read & (1 << UInt64(edge)) == 0 else { return false }
      read |= 1 << UInt64(edge)
      let child = edges[edge].node
      let slot = tables.nodes[child].slot
      if tables.nodes[child].edges.isEmpty {
        // The storage of the slot's last list is handed down, so a list is read into it (a new
        // array per line was an allocation or two per event for R5's tags).
        var v = MetadataValue.null
        if slot < metadataSpares.count, metadataSpares.lists[slot].capacity > 0 {
          v = .list(metadataSpares.lists[slot])
          metadataSpares.lists[slot] = []
        }
        guard metadataValue(&c, &v, depth + 1) else { return false }
        e.metadata[slot] = v
      } else if c.peek() == UInt8(ascii: "{") {
        c.i += 1
        guard metadataObject(&c, child, &e, depth + 1) else { return false }
        if slot >= 0 { e.metadata[slot] = .object }
      } else {
        var v = MetadataValue.null
        guard metadataValue(&c, &v, depth + 1) else { return false }
        if slot >= 0 { e.metadata[slot] = v }
      }
      return true
    }
  }

  func metadataValue(_ c: inout ByteCursor, _ v: inout MetadataValue, _ depth: Int) -> Bool {
    guard depth < ByteCursor.depthLimit else { return false }
    switch c.peek() {
    case UInt8(ascii: "\""):
      var s = ByteCursor.StringSpan()
      guard c.string(&s) else { return false }
      v = .string(c.text(s))
    case UInt8(ascii: "{"):
      guard c.skip(depth) else { return false }
      v = .object
    case UInt8(ascii: "["):
      c.i += 1
      var items: [MetadataValue] = []
      if case .list(let spare) = v {
        // An empty list whose storage is reused (see `metadataObject`).
        v = .null
        items = spare
      }
      if c.peek() == UInt8(ascii: "]") {
        c.i += 1
      } else {
        while true {
          var item = MetadataValue.null
          guard c.countListElement(), metadataValue(&c, &item, depth + 1) else { return false }
          items.append(item)
          guard c.peek() != 0 else { return false }
          let next = c.p[c.i]
          c.i += 1
          if next == UInt8(ascii: "]") { break }
          guard next == UInt8(ascii: ",") else { return false }
        }
      }
      v = .list(items)
    case UInt8(ascii: "t"):
      guard c.word("true") else { return false }
      v = .bool(true)
    case UInt8(ascii: "f"):
      guard c.word("false") else { return false }
      v = .bool(false)
    case UInt8(ascii: "n"):
      guard c.null() else { return false }
      v = .null
    default:
      var n = 0.0
      guard c.number(&n) else { return false }
      v = .number(n)
    }
    return true
  }

  /// The output's `data` (top level): concepts read, regions and frames read by the decoder when
  /// the rules use them, and skipped as JSON otherwise.
  func data(_ c: inout ByteCursor, _ e: inout Event) -> Bool {
    guard c.openObject() else { return false }
    if c.isNullObject { return true }
    var seen: UInt32 = 0
    return c.fields { (c, key) in
      switch key.count {
      case 8 where c.matches(key, "concepts"):
        guard firstTime(&seen, 1) else { return false }
        return concepts(&c, &e)
      case 7 where c.matches(key, "regions"), 6 where c.matches(key, "frames"):
        let bit: UInt32 = key.count == 7 ? 2 : 4
        guard !decoder.needs.regionsAndFrames, firstTime(&seen, bit) else { return false }
        return c.skip(2)
      default:
        return c.skip(2)
      }
    }
  }

  /// A top-level concept list: values, keys resolved from the bytes, text only when asked for.
  func concepts(_ c: inout ByteCursor, _ e: inout Event) -> Bool {
    guard c.peek() == UInt8(ascii: "[") else { return false }
    c.i += 1
    if c.peek() == UInt8(ascii: "]") {
      c.i += 1
      return true
    }
    let text = decoder.needs.conceptText
    // The columns are gathered in the scanner's own scratch and appended to the event once the list
    // ends: appending to the event's four arrays checked each one's uniqueness per concept (R4 over
    // 100k outputs, `perf stat -r 8`: 247 → 223 ms of CPU, 0.209 → 0.184 s).
    let columns = conceptColumns
    var count = 0
    while true {
      guard c.peek() == UInt8(ascii: "{") else { return false }
      c.i += 1
      var name = ByteCursor.StringSpan()
      var id = ByteCursor.StringSpan()
      var value = 0.0
      var seen: UInt32 = 0
      let objectStart = c.i
      // The usual layout is read without looking keys up; a head met recently comes with its keys.
      var known: RecentConcepts.Entry?
      var plain = false
      if let head = recentConcepts.find(c.p, objectStart, c.n) {
        c.i = head.spans(at: objectStart, &id, &name)
        known = head
        plain = c.plainConceptTail(&value)
      } else {
        plain = c.plainConceptHead(&id, &name) && c.plainConceptTail(&value)
      }
      if !plain {
        c.i = objectStart
        id = ByteCursor.StringSpan()
        name = ByteCursor.StringSpan()
        value = 0
        known = nil
      }
      if c.i > objectStart {
        // Read by `plainConcept`.
      } else if c.peek() == UInt8(ascii: "}") {
        c.i += 1
      } else {
        while true {
          guard c.peek() == UInt8(ascii: "\"") else { return false }
          var key = 0..<0
          guard c.key(&key) else { return false }
          var which: UInt32 = 0
          let k = c.p + key.lowerBound
          switch key.count {
          case 2 where k[0] == UInt8(ascii: "i") && k[1] == UInt8(ascii: "d"): which = 1
          case 4 where memcmp(k, "name", 4) == 0: which = 2
          case 5 where memcmp(k, "value", 5) == 0: which = 4
          default: break
          }
          if which == 0 {
            guard c.skip(3) else { return false }
          } else {
            guard firstTime(&seen, which) else { return false }
            let b = c.peek()
            if b == UInt8(ascii: "n") {
              guard c.null() else { return false }
            } else if which == 4 {
              guard c.number(&value) else { return false }
            } else {
              guard b == UInt8(ascii: "\"") else { return false }
              var s = ByteCursor.StringSpan()
              guard c.string(&s), !s.escaped else { return false }
              if which == 1 { id = s } else { name = s }
            }
          }
          guard c.peek() != 0 else { return false }
          let next = c.p[c.i]
          c.i += 1
          if next == UInt8(ascii: "}") { break }
          guard next == UInt8(ascii: ",") else { return false }
        }
      }
      // Past the line's limit the decoder words the error.
      guard c.countListElement() else { return false }
      let index = count
      columns.reserve(count + 1)
      if text {
        let concept = ConceptValue(id: c.text(id), name: c.text(name), value: value)
        if index < e.concepts.count { e.concepts[index] = concept } else { e.concepts.append(concept) }
      } else {
        if index < e.concepts.count {
          e.concepts[index].value = value
          if !e.concepts[index].id.isEmpty || !e.concepts[index].name.isEmpty {
            e.concepts[index].id = ""
            e.concepts[index].name = ""
          }
        } else {
          e.concepts.append(ConceptValue(id: "", name: "", value: value))
        }
        columns.ranges[index] = ConceptTextRange(
          nameStart: Int32(name.start), nameCount: Int32(name.count), idStart: Int32(id.start), idCount: Int32(id.count))
      }
      if let known {
        columns.nameKeys[index] = known.nameKey
        columns.idKeys[index] = known.idKey
      } else {
        let nameKey = keys.key(c.p + name.start, name.count, ascii: name.ascii)
        let idKey = keys.key(c.p + id.start, id.count, ascii: id.ascii)
        columns.nameKeys[index] = nameKey
        columns.idKeys[index] = idKey
        if plain {
          recentConcepts.remember(
            c.p, objectStart, c.n,
            RecentConcepts.Entry(at: objectStart, id: id, name: name, nameKey: nameKey, idKey: idKey))
        }
      }
      columns.values[index] = value
      count += 1
      guard c.peek() != 0 else { return false }
      let next = c.p[c.i]
      c.i += 1
      if next == UInt8(ascii: "]") {
        e.conceptNameKeys.append(contentsOf: UnsafeBufferPointer(start: columns.nameKeys, count: count))
        e.conceptIDKeys.append(contentsOf: UnsafeBufferPointer(start: columns.idKeys, count: count))
        e.conceptValues.append(contentsOf: UnsafeBufferPointer(start: columns.values, count: count))
        if !text { e.conceptTextRanges.append(contentsOf: UnsafeBufferPointer(start: columns.ranges, count: count)) }
        return true
      }
      guard next == UInt8(ascii: ",") else { return false }
    }
  }
}

/// The last few objects of one field (the model, the status) a scanner read, with what they
/// decoded to (a scanner is used by one thread at a time).
final class RecentObjects<Decoded>: @unchecked Sendable {
  struct Entry {
    var bytes: [UInt8] = []
    var decoded: Decoded
  }

  private(set) var entries: [Entry] = []
  private var next = 0
  /// A recording has few models (the benchmark's has 4), and their outputs interleave.
  static var capacity: Int { 8 }
  /// Longer objects are read each time (they are not the usual model or status object).
  static var longest: Int { 2048 }

  /// The entry whose bytes start `p`, if any. A miss costs little: objects that differ differ
  /// early (in the model's id, the status code), where `memcmp` stops.
  func find(_ p: UnsafePointer<UInt8>, _ available: Int) -> Int? {
    for k in entries.indices {
      let found = entries[k].bytes.withUnsafeBufferPointer { b in b.count <= available && memcmp(p, b.baseAddress!, b.count) == 0 }
      if found { return k }
    }
    return nil
  }

  /// Keeps an object read in full, in place of the oldest (reusing its storage: a recording whose
  /// objects never repeat costs a copy of each, not an allocation).
  func remember(_ bytes: UnsafeBufferPointer<UInt8>, _ decoded: Decoded) {
    guard bytes.count <= Self.longest else { return }
    let k: Int
    if entries.count < Self.capacity {
      entries.append(Entry(decoded: decoded))
      k = entries.count - 1
    } else {
      k = next
      next = (next + 1) % Self.capacity
      entries[k].decoded = decoded
    }
    entries[k].bytes.removeAll(keepingCapacity: true)
    entries[k].bytes.append(contentsOf: bytes)
  }
}

/// The date of the last timestamp a scanner read (see `Timestamp.RecentDate`), kept in raw memory:
/// as a property of the scanner, each use was checked for exclusive access at run time.
final class RecentTimestamp: @unchecked Sendable {
  let date: UnsafeMutablePointer<Timestamp.RecentDate>

  init() {
    date = .allocate(capacity: 1)
    date.initialize(to: Timestamp.RecentDate())
  }

  deinit {
    date.deinitialize(count: 1)
    date.deallocate()
  }
}

/// Emptied lists of each metadata slot, kept for the slot's next list, in raw memory (as a
/// property of the scanner, each use was checked for exclusive access at run time).
final class MetadataSpares: @unchecked Sendable {
  let lists: UnsafeMutablePointer<[MetadataValue]>
  let count: Int

  init(slots: Int) {
    count = slots
    lists = .allocate(capacity: max(1, slots))
    lists.initialize(repeating: [], count: max(1, slots))
  }

  deinit {
    lists.deinitialize(count: max(1, count))
    lists.deallocate()
  }
}

/// What a model object decodes to.
struct ModelFields {
  var id: String?
  var user: String?
  var app: String?
  var version: String?
  /// The `OutputScanner.Seen` bits of the fields the object set.
  var fields: UInt32 = 0
}

/// What a status object decodes to.
struct StatusFields {
  var code: Int?
  var name: String?
}

/// The heads of concept objects a scanner read recently (`"id":"…","name":"…","value":`), with the
/// keys their name and id resolved to. A model names the same few concepts line after line, so most
/// heads come again byte for byte, and comparing one is cheaper than scanning its two strings and
/// looking both up (300k outputs: R4 0.57 → 0.51 s, R2 0.62 → 0.60 s). Equal bytes read the same:
/// the head was read as plain ASCII.
/// A scanner is used by one thread at a time.
final class RecentConcepts: @unchecked Sendable {
  struct Entry {
    /// The head's length in bytes (0: an empty slot).
    var length: Int32 = 0
    var idCount: Int32 = 0
    var nameCount: Int32 = 0
    var nameKey: Int32 = -1
    var idKey: Int32 = -1

    init() {}

    // The head's layout, as `ByteCursor.plainConceptHead` reads it: `"id":"` (6 bytes), the id,
    // `","name":"` (10 with the id's closing quote), the name, `","value":` (10 with the name's).
    static let idOffset = 6
    static let gap = 10

    /// The entry of a head read at `start` with these spans.
    init(at start: Int, id: ByteCursor.StringSpan, name: ByteCursor.StringSpan, nameKey: Int32, idKey: Int32) {
      length = Int32(name.start + name.count + Self.gap - start)
      idCount = Int32(id.count)
      nameCount = Int32(name.count)
      self.nameKey = nameKey
      self.idKey = idKey
    }

    /// Sets the spans of this head met again at `start`; returns where its value starts.
    @inline(__always) func spans(at start: Int, _ id: inout ByteCursor.StringSpan, _ name: inout ByteCursor.StringSpan) -> Int {
      id.start = start + Self.idOffset
      id.count = Int(idCount)
      name.start = id.start + id.count + Self.gap
      name.count = Int(nameCount)
      return start + Int(length)
    }
  }

  /// Slots by a hash of the id's first bytes; a slot holds the last head that hashed to it.
  static let slotCount = 512
  /// Longer heads are read each time.
  static let longest = 96
  private let entries: UnsafeMutablePointer<Entry>
  private let heads: UnsafeMutablePointer<UInt8>

  init() {
    entries = .allocate(capacity: Self.slotCount)
    entries.initialize(repeating: Entry(), count: Self.slotCount)
    heads = .allocate(capacity: Self.slotCount * Self.longest)
  }

  deinit {
    entries.deallocate()
    heads.deallocate()
  }

  /// The slot of the head at `start`: the 8 bytes after `"id":"` (the caller checked they exist).
  @inline(__always) private static func slot(_ p: UnsafePointer<UInt8>, _ start: Int) -> Int {
    let w = UnsafeRawPointer(p + start + 6).loadUnaligned(as: UInt64.self)
    return Int(truncatingIfNeeded: (w &* 0x9E37_79B9_7F4A_7C15) >> 55)
  }

  /// The entry whose head starts at `start`, if it was read recently.
  @inline(__always) func find(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int) -> Entry? {
    guard start + 14 <= n else { return nil }
    let s = Self.slot(p, start)
    let e = entries[s]
    guard e.length > 0, start + Int(e.length) <= n, memcmp(p + start, heads + s * Self.longest, Int(e.length)) == 0 else { return nil }
    return e
  }

  func remember(_ p: UnsafePointer<UInt8>, _ start: Int, _ n: Int, _ entry: Entry) {
    guard start + 14 <= n, entry.length <= Self.longest else { return }
    let s = Self.slot(p, start)
    memcpy(heads + s * Self.longest, p + start, Int(entry.length))
    entries[s] = entry
  }
}

/// A scanner's scratch columns for one concept list, in raw memory that grows as lists do (a
/// scanner is used by one thread at a time).
final class ConceptColumns: @unchecked Sendable {
  private(set) var capacity = 0
  private(set) var nameKeys = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
  private(set) var idKeys = UnsafeMutablePointer<Int32>.allocate(capacity: 0)
  private(set) var values = UnsafeMutablePointer<Double>.allocate(capacity: 0)
  private(set) var ranges = UnsafeMutablePointer<ConceptTextRange>.allocate(capacity: 0)

  /// Room for `count` concepts (what was written is kept).
  @inline(__always) func reserve(_ count: Int) {
    if count > capacity { grow(count) }
  }

  private func grow(_ count: Int) {
    let size = max(64, count, capacity * 2)
    func moved<T>(_ old: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<T> {
      let new = UnsafeMutablePointer<T>.allocate(capacity: size)
      new.moveInitialize(from: old, count: capacity)
      old.deallocate()
      return new
    }
    nameKeys = moved(nameKeys)
    idKeys = moved(idKeys)
    values = moved(values)
    ranges = moved(ranges)
    capacity = size
  }

  deinit {
    nameKeys.deallocate()
    idKeys.deallocate()
    values.deallocate()
    ranges.deallocate()
  }
}

/// Marks `bit` in `seen` and returns true the first time; false when it was already there (a key
/// met twice in one object: the line goes to the decoder, which reports the duplicate).
@inline(__always) func firstTime(_ seen: inout UInt32, _ bit: UInt32) -> Bool {
  guard seen & bit == 0 else { return false }
  seen |= bit
  return true
}

/// A forward-only reader over one line for `OutputScanner`: every method returns false on anything
/// it does not handle or that is not valid JSON (the caller then hands the line to `OutputDecoder`).
/// The line is at least one byte long and bounds are checked against `n`.
struct ByteCursor {
  let p: UnsafePointer<UInt8>
  let n: Int
  var i = 0
  /// Deeper nesting is left to the decoder (which allows 256 levels).
  static let depthLimit = 64

  /// Set by `openObject` when the value was `null` (consumed).
  var isNullObject = false

  /// List elements read so far in this line (see `OutputDecoder.maxListElementsPerLine`).
  var listElements = 0

  /// Counts one more list element; false past the line's limit (the decoder then words the error).
  @inline(__always) mutating func countListElement() -> Bool {
    listElements += 1
    return listElements <= OutputDecoder.maxListElementsPerLine
  }

  /// `JSONCursor.powersOfTenTable`, read once a line: reading the global itself called
  /// `swift_once` for every number (1% of R4).
  let powersOfTen: UnsafePointer<Double>

  init(p: UnsafePointer<UInt8>, n: Int) {
    self.p = p
    self.n = n
    powersOfTen = JSONCursor.powersOfTenTable
  }

  /// A string's contents: `start..<start+count` between the quotes.
  struct StringSpan {
    var start = 0
    var count = 0
    var escaped = false
    var ascii = true
  }

  @inline(__always) mutating func ws() {
    while i < n {
      let b = p[i]
      guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
      i += 1
    }
  }

  /// The next byte after whitespace, or 0 at the end (0 is never valid there).
  @inline(__always) mutating func peek() -> UInt8 {
    if i < n, p[i] > 0x20 { return p[i] }
    ws()
    return i < n ? p[i] : 0
  }

  @inline(__always) func matches(_ key: Range<Int>, _ word: StaticString) -> Bool {
    key.count == word.utf8CodeUnitCount && memcmp(p + key.lowerBound, word.utf8Start, key.count) == 0
  }

  func text(_ s: StringSpan) -> String {
    if s.escaped { return JSONCursor.unescape(UnsafeBufferPointer(start: p, count: n), s.start..<(s.start + s.count)) }
    return String(decoding: UnsafeBufferPointer(start: p + s.start, count: s.count), as: UTF8.self)
  }

  /// Reads a key and its `:`; the key's raw range (compared raw, as the decoder does).
  @inline(__always) mutating func key(_ range: inout Range<Int>) -> Bool {
    var s = StringSpan()
    guard string(&s) else { return false }
    range = s.start..<(s.start + s.count)
    guard peek() == UInt8(ascii: ":") else { return false }
    i += 1
    return true
  }

  /// Reads a string (at its opening quote), validating escapes and UTF-8.
  mutating func string(_ s: inout StringSpan) -> Bool {
    i += 1
    s.start = i
    while true {
      // Plain ASCII eight bytes at a time: stop at a quote, backslash, control byte or high bit.
      while i + 8 <= n {
        let stop = JSONCursor.specialBytes(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
        if stop != 0 {
          i += stop.trailingZeroBitCount >> 3
          break
        }
        i += 8
      }
      guard i < n else { return false }
      let c = p[i]
      if c == UInt8(ascii: "\"") {
        s.count = i - s.start
        i += 1
        return true
      }
      if c == UInt8(ascii: "\\") {
        s.escaped = true
        guard i + 1 < n else { return false }
        switch p[i + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
          UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
          i += 2
        case UInt8(ascii: "u"):
          guard i + 5 < n else { return false }
          for k in 2...5 where Bytes.hexValue(p[i + k]) == nil { return false }
          i += 6
        default:
          return false
        }
      } else if c < 0x20 {
        return false
      } else if c >= 0x80 {
        s.ascii = false
        let length = Bytes.utf8Length(p, at: i, end: n)
        guard length > 0 else { return false }
        i += length
      } else {
        i += 1
      }
    }
  }

  /// Reads a number exactly as `JSONCursor.number` does (the short decimals here, the rest there).
  mutating func number(_ v: inout Double) -> Bool {
    let start = i
    var k = i
    let negative = k < n && p[k] == UInt8(ascii: "-")
    if negative { k += 1 }
    guard k < n, p[k] &- 48 < 10 else { return false }
    var mantissa: Int64 = 0
    var digits = 0
    if p[k] == UInt8(ascii: "0") {
      k += 1
      digits = 1
    } else {
      while k < n, p[k] &- 48 < 10 {
        mantissa = mantissa &* 10 &+ Int64(p[k] &- 48)
        digits += 1
        k += 1
      }
    }
    var fraction = -1
    if k < n && p[k] == UInt8(ascii: ".") {
      k += 1
      fraction = 0
      while k < n, p[k] &- 48 < 10 {
        mantissa = mantissa &* 10 &+ Int64(p[k] &- 48)
        digits += 1
        fraction += 1
        k += 1
      }
      guard fraction > 0 else { return false }
    }
    let exponent = k < n && (p[k] == UInt8(ascii: "e") || p[k] == UInt8(ascii: "E"))
    if exponent || digits > 15 { return longNumber(from: start, &v) }
    i = k
    if fraction < 0 {
      v = Double(negative ? -mantissa : mantissa)
    } else {
      let d = Double(mantissa) / powersOfTen[fraction]
      v = negative ? -d : d
    }
    return true
  }

  /// Exponents and long numbers: the decoder's own reader, which rounds and range-checks them.
  @inline(never) mutating func longNumber(from start: Int, _ v: inout Double) -> Bool {
    var cursor = JSONCursor(UnsafeBufferPointer(start: p, count: n))
    cursor.i = start
    do throws(DecodeError) {
      v = try cursor.number()
    } catch {
      return false
    }
    i = cursor.i
    return true
  }

  /// Reads the usual concept after its `{`: `"id":"…","name":"…","value":N` in that order without
  /// spaces, then `}` or `,"app_id":"…"}`, its strings plain ASCII. Anything else returns false (the
  /// caller goes back and reads the object key by key). Not looking keys up made the concept list
  /// about a third cheaper; comparing the keys a word at a time and scanning the strings here, in
  /// line, took another 6–8% off R2 and R4 end to end (300k outputs: 0.77 → 0.73 s, 0.81 → 0.75 s).
  @inline(__always) mutating func plainConcept(_ id: inout StringSpan, _ name: inout StringSpan, _ value: inout Double) -> Bool {
    plainConceptHead(&id, &name) && plainConceptTail(&value)
  }

  /// The head of the usual concept, `"id":"…","name":"…","value":`, leaving the cursor at the value
  /// (which starts like a number).
  @inline(__always) mutating func plainConceptHead(_ id: inout StringSpan, _ name: inout StringSpan) -> Bool {
    var k = i
    guard k + 8 <= n, word(at: k) & 0xFFFF_FFFF_FFFF == Self.pattern("\"id\":\"", 0, 6) else { return false }
    k += 6
    guard plainText(&k, &id) else { return false }
    guard k + 9 <= n, word(at: k) == Self.pattern(",\"name\":\"", 0, 8), p[k + 8] == UInt8(ascii: "\"") else { return false }
    k += 9
    guard plainText(&k, &name) else { return false }
    guard k + 10 <= n, word(at: k) == Self.pattern(",\"value\":", 0, 8), p[k + 8] == UInt8(ascii: ":"),
      p[k + 9] == UInt8(ascii: "-") || p[k + 9] &- 48 < 10
    else { return false }
    i = k + 9
    return true
  }

  /// The rest of the usual concept: its value, then `}` or `,"app_id":"…"}`.
  @inline(__always) mutating func plainConceptTail(_ value: inout Double) -> Bool {
    guard number(&value), i < n else { return false }
    let k = i
    if p[k] == UInt8(ascii: "}") {
      i = k + 1
      return true
    }
    guard k + 12 <= n, word(at: k) == Self.pattern(",\"app_id\":\"", 0, 8), word(at: k + 3) == Self.pattern(",\"app_id\":\"", 3, 8)
    else { return false }
    let appEnd = plainStringEnd(k + 11)
    guard appEnd >= 0, appEnd + 1 < n, p[appEnd + 1] == UInt8(ascii: "}") else { return false }
    i = appEnd + 2
    return true
  }

  /// The 8 bytes at `k` as a little-endian word (the caller checked `k + 8 <= n`).
  @inline(__always) func word(at k: Int) -> UInt64 { UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self) }

  /// `count` bytes of `s` from `from`, as `word(at:)` reads them (folded to a constant where inlined).
  @inline(__always) static func pattern(_ s: StaticString, _ from: Int, _ count: Int) -> UInt64 {
    var w: UInt64 = 0
    for k in 0..<count { w |= UInt64(s.utf8Start[from + k]) << UInt64(8 * k) }
    return w
  }

  /// The closing quote of plain ASCII text that starts at `s` (no escape, control or non-ASCII
  /// byte before it), or −1.
  @inline(__always) func plainStringEnd(_ s: Int) -> Int {
    var k = s
    while k + 8 <= n {
      let stop = JSONCursor.specialBytes(word(at: k))
      if stop != 0 {
        k += stop.trailingZeroBitCount >> 3
        return p[k] == UInt8(ascii: "\"") ? k : -1
      }
      k += 8
    }
    return JSONCursor.plainStringEnd(p, k, n)
  }

  /// Reads plain ASCII text that starts at `k` into `span`, leaving `k` after its closing quote.
  @inline(__always) func plainText(_ k: inout Int, _ span: inout StringSpan) -> Bool {
    let end = plainStringEnd(k)
    guard end >= 0 else { return false }
    span.start = k
    span.count = end - k
    k = end + 1
    return true
  }

  @inline(__always) mutating func word(_ w: StaticString) -> Bool {
    let count = w.utf8CodeUnitCount
    guard i + count <= n, memcmp(p + i, w.utf8Start, count) == 0 else { return false }
    i += count
    return true
  }

  @inline(__always) mutating func null() -> Bool { word("null") }

  /// Reads `{` or `null` (then `isNullObject` is set).
  @inline(__always) mutating func openObject() -> Bool {
    let b = peek()
    if b == UInt8(ascii: "n") {
      isNullObject = true
      return null()
    }
    isNullObject = false
    guard b == UInt8(ascii: "{") else { return false }
    i += 1
    return true
  }

  /// Reads an object's fields after its `{`, calling `field` with each key (its value not read).
  @inline(__always) mutating func fields(_ field: (inout ByteCursor, Range<Int>) -> Bool) -> Bool {
    if peek() == UInt8(ascii: "}") {
      i += 1
      return true
    }
    while true {
      guard peek() == UInt8(ascii: "\"") else { return false }
      var key = 0..<0
      guard self.key(&key) else { return false }
      guard field(&self, key) else { return false }
      guard peek() != 0 else { return false }
      let next = p[i]
      i += 1
      if next == UInt8(ascii: "}") { return true }
      guard next == UInt8(ascii: ",") else { return false }
    }
  }

  /// Reads a string or `null`: false for anything else; else `isNull`, or the string's span in `s`.
  @inline(__always) mutating func stringOrNull(_ s: inout StringSpan, _ isNull: inout Bool) -> Bool {
    let b = peek()
    isNull = b == UInt8(ascii: "n")
    if isNull { return null() }
    return b == UInt8(ascii: "\"") && string(&s)
  }

  /// A string or null, kept in `field` (reused when it already holds the same text).
  @inline(__always) mutating func optionalText(_ field: inout String?, _ fields: inout UInt32, _ bit: UInt32) -> Bool {
    var s = StringSpan()
    var isNull = false
    guard stringOrNull(&s, &isNull) else { return false }
    fields |= bit
    if isNull {
      field = nil
      return true
    }
    if !s.escaped, var old = field {
      let same = old.withUTF8 { o in o.count == s.count && (s.count == 0 || memcmp(o.baseAddress!, p + s.start, s.count) == 0) }
      if same { return true }
    }
    field = text(s)
    return true
  }

  /// A string or null kept in place when it is short (see `ShortText`).
  @inline(__always) mutating func optionalShortText(_ field: inout ShortText, _ fields: inout UInt32, _ bit: UInt32) -> Bool {
    var s = StringSpan()
    var isNull = false
    guard stringOrNull(&s, &isNull) else { return false }
    fields |= bit
    if isNull {
      field = ShortText()
    } else if s.escaped {
      field = ShortText(text(s))
    } else {
      field.set(utf8: UnsafeBufferPointer(start: p + s.start, count: s.count))
    }
    return true
  }

  /// A string or null whose text no rule reads.
  @inline(__always) mutating func optionalStringSkipped() -> Bool {
    var s = StringSpan()
    var isNull = false
    return stringOrNull(&s, &isNull)
  }

  /// Skips any value, checking that it is JSON.
  mutating func skip(_ depth: Int) -> Bool {
    guard depth < ByteCursor.depthLimit else { return false }
    switch peek() {
    case UInt8(ascii: "\""):
      var s = StringSpan()
      return string(&s)
    case UInt8(ascii: "{"):
      i += 1
      if peek() == UInt8(ascii: "}") {
        i += 1
        return true
      }
      while true {
        guard peek() == UInt8(ascii: "\"") else { return false }
        var s = StringSpan()
        guard string(&s), peek() == UInt8(ascii: ":") else { return false }
        i += 1
        guard skip(depth + 1), peek() != 0 else { return false }
        let next = p[i]
        i += 1
        if next == UInt8(ascii: "}") { return true }
        guard next == UInt8(ascii: ",") else { return false }
      }
    case UInt8(ascii: "["):
      i += 1
      if peek() == UInt8(ascii: "]") {
        i += 1
        return true
      }
      while true {
        guard skip(depth + 1), peek() != 0 else { return false }
        let next = p[i]
        i += 1
        if next == UInt8(ascii: "]") { return true }
        guard next == UInt8(ascii: ",") else { return false }
      }
    case UInt8(ascii: "t"): return word("true")
    case UInt8(ascii: "f"): return word("false")
    case UInt8(ascii: "n"): return null()
    default:
      var v = 0.0
      return number(&v)
    }
  }
}
