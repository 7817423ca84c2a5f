import RulesMath
import Foundation
import RulesDiagnostics
import RulesEvents
import RulesSema

/// The PostInputs item an accepted input becomes, exactly as it would be sent to the destination.
public enum ForwardItem {
  /// A deterministic destination input id in `[a-z0-9_-]{1,48}`, derived from the collector id and the
  /// source input id, so replays and retries are idempotent: up to 15 characters of each, for people,
  /// then 16 hex digits of FNV-1a 64 over both, for uniqueness.
  public static func destinationID(collector: String, input: String) -> String {
    // Written straight into the string's storage (building it from pieces was 2.5% of a run that
    // accepts most inputs).
    let prefix = DestinationIDPrefix(collector: collector)
    return String(unsafeUninitializedCapacity: maxIDLength) { writeDestinationID(prefix: prefix, input: input, to: $0.baseAddress!) }
  }

  /// The longest destination id.
  static let maxIDLength = 48

  /// What a destination id takes from the collector, worked out once per collector: its cleaned
  /// characters with the `-` after them, and the hash of its id with the separating 0 byte. Plain
  /// words, so it is copied without reference counting.
  struct DestinationIDPrefix: Sendable {
    /// Up to 16 bytes: at most 15 of the collector id, then `-`.
    var bytes: (UInt64, UInt64) = (0, 0)
    var count = 0
    var hash: UInt64 = 0

    init(collector: String) {
      var collector = collector
      collector.withUTF8 { id in
        hash = Sampling.fnv1a64(CollectionOfOne(0), continuing: Sampling.fnv1a64(id))
        withUnsafeMutableBytes(of: &bytes) { raw in
          let out = raw.bindMemory(to: UInt8.self).baseAddress!
          count = ForwardItem.clean(id, to: out)
          out[count] = UInt8(ascii: "-")
          count += 1
        }
      }
    }
  }

  /// Appends the destination id as a JSON string; it needs no escapes. The runner writes it so
  /// instead of making a `String` of it per accepted input (a heap allocation each: 48 bytes).
  static func appendDestinationID(prefix: DestinationIDPrefix, input: String, into out: inout [UInt8]) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxIDLength + 2) { buffer in
      let p = buffer.baseAddress!
      p[0] = UInt8(ascii: "\"")
      let n = writeDestinationID(prefix: prefix, input: input, to: p + 1)
      p[n + 1] = UInt8(ascii: "\"")
      out.append(contentsOf: UnsafeBufferPointer(start: p, count: n + 2))
    }
  }

  /// Writes the id (at most `maxIDLength` bytes) and returns its length.
  static func writeDestinationID(prefix: DestinationIDPrefix, input: String, to out: UnsafeMutablePointer<UInt8>) -> Int {
    // Over the input's bytes as a buffer (`withUTF8` lends small strings' bytes too): iterating
    // `String.UTF8View` was 2% of a run that accepts most inputs.
    var input = input
    return input.withUTF8 { input in
      // The collector's part, all 16 bytes at once (the id's buffer has room; what is past its
      // count is written over next).
      withUnsafeBytes(of: prefix.bytes) { UnsafeMutableRawPointer(out).copyMemory(from: $0.baseAddress!, byteCount: 16) }
      var n = prefix.count
      n += clean(input, to: out + n)
      out[n] = UInt8(ascii: "-")
      n += 1
      let hash = Sampling.fnv1a64(input, continuing: prefix.hash)
      for shift in stride(from: 60, through: 0, by: -4) {
        let digit = UInt8(truncatingIfNeeded: (hash >> UInt64(shift)) & 0xF)
        out[n] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
        n += 1
      }
      return n
    }
  }

  /// Writes up to 15 bytes of `s` as id characters (`[a-z0-9_-]`, upper case lowered, anything
  /// else `-`) and returns how many.
  static func clean(_ s: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Int {
    var n = 0
    for b in s.prefix(15) {
      switch b {
      case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
        out[n] = b
      case UInt8(ascii: "A")...UInt8(ascii: "Z"): out[n] = b + 32
      default: out[n] = UInt8(ascii: "-")
      }
      n += 1
    }
    return n
  }

  /// Appends one JSON line to `out`:
  /// `{"id", "data": {<media>, "metadata": {..., "rulec": provenance}}, "dataset_ids"}`.
  /// The media and metadata are copied from the line as they were written.
  public static func write(
    into out: inout [UInt8], collector: CheckedCollector, event: Event, line: UnsafeBufferPointer<UInt8>, id: String,
    inclusionProbability: Double
  ) {
    withUnsafePointer(to: event) {
      write(into: &out, collector: collector, event: $0, line: line, id: id, inclusionProbability: inclusionProbability)
    }
  }

  /// `write` for an event lent by pointer; `outputs` is what `collect_outputs` copies, from the
  /// event as the collector saw it (after its concept map).
  static func write(
    into out: inout [UInt8], collector: CheckedCollector, event lent: UnsafePointer<Event>, line: UnsafeBufferPointer<UInt8>,
    id: String, inclusionProbability: Double, outputs: CollectedPrediction? = nil
  ) {
    write(
      into: &out, collectorID: collector.id, datasetIDs: collector.datasetIDs, event: lent, line: line, id: .given(id),
      inclusionProbability: inclusionProbability, outputs: outputs)
  }

  /// What `collect_outputs` copies onto an item: which parts, from the event after the collector's
  /// concept map.
  struct CollectedPrediction {
    var parts: CollectedOutputs
    var event: UnsafePointer<Event>
  }

  /// Where the item's id comes from.
  enum IDSource {
    case given(String)
    /// Derived from the collector (its id's part worked out once) and this source input key,
    /// written without a `String`.
    case derived(input: String, prefix: DestinationIDPrefix)
  }

  /// `write` with only the collector's fields it needs (the runner's path: copying the whole
  /// collector retained every one of its fields per accepted input).
  static func write(
    into out: inout [UInt8], collectorID: String, datasetIDs: [String], event lent: UnsafePointer<Event>,
    line: UnsafeBufferPointer<UInt8>, id: IDSource, inclusionProbability: Double, outputs: CollectedPrediction? = nil
  ) {
    if let outputs, !outputs.parts.isEmpty {
      // Collected predictions are written with escapes as needed (not the usual item's fast path).
      writeGeneral(
        into: &out, collectorID: collectorID, datasetIDs: datasetIDs, event: lent, line: line, id: id,
        inclusionProbability: inclusionProbability, outputs: outputs)
      return
    }
    if writePlain(
      into: &out, collectorID: collectorID, datasetIDs: datasetIDs, event: lent, line: line, id: id,
      inclusionProbability: inclusionProbability)
    {
      return
    }
    writeGeneral(
      into: &out, collectorID: collectorID, datasetIDs: datasetIDs, event: lent, line: line, id: id,
      inclusionProbability: inclusionProbability)
  }

  /// The usual item, written by `layout` straight into capacity reserved once: every string plain
  /// (no escape needed) and no `rulec` key in the metadata. Returns false, having written nothing,
  /// otherwise. Appending piece by piece checked the array's uniqueness and capacity some 25 times
  /// an item (R3: 13% of the profile was writing).
  static func writePlain(
    into out: inout [UInt8], collectorID: String, datasetIDs: [String], event lent: UnsafePointer<Event>,
    line: UnsafeBufferPointer<UInt8>, id: IDSource, inclusionProbability: Double
  ) -> Bool {
    guard !lent.pointee.metadataHasRulecKey else { return false }
    let metadata = lent.pointee.metadataRange.map { UnsafeBufferPointer(rebasing: line[$0]) }
    let body = membersOf(metadata)
    let media = lent.pointee.mediaRange.map { $0.count } ?? 0
    var bound = 260 + media + (body?.count ?? 0) + collectorID.utf8.count + 32
    // Each string read out of the event once: every read of a long one retained and released it.
    // The output id is lent as bytes: as a `String` it would be made (and allocated) per item.
    let (inputID, outputID, modelID, modelVersion) =
      (lent.pointee.inputID, lent.pointee.outputIDText, lent.pointee.modelID, lent.pointee.modelVersion)
    bound += (inputID?.utf8.count ?? 0) + outputID.withUTF8 { $0?.count ?? 0 } + (modelID?.utf8.count ?? 0)
    bound += (modelVersion?.utf8.count ?? 0) + (lent.pointee.inputKind?.rawValue.utf8.count ?? 0)
    switch id {
    case .given(let given): bound += given.utf8.count
    case .derived: bound += maxIDLength
    }
    for d in datasetIDs { bound += d.utf8.count + 3 }
    let before = out.count
    out.append(addingCapacity: bound) { span in
      span.withUnsafeMutableBufferPointer { buffer, written in
        var w = RawWriter(buffer.baseAddress!)
        layout(
          &w, collectorID: collectorID, datasetIDs: datasetIDs, event: lent, ids: (inputID, outputID, modelID, modelVersion),
          line: line, id: id, inclusionProbability: inclusionProbability, metadataMembers: body)
        precondition(w.p - buffer.baseAddress! <= buffer.count, "an item outgrew the bytes reserved for it")
        written = w.plain ? w.p - buffer.baseAddress! : 0
      }
    }
    return out.count > before
  }

  /// Any item: strings are escaped as needed, and a top-level `rulec` key already in the metadata
  /// is replaced (which needs a real parse).
  static func writeGeneral(
    into out: inout [UInt8], collectorID: String, datasetIDs: [String], event lent: UnsafePointer<Event>,
    line: UnsafeBufferPointer<UInt8>, id: IDSource, inclusionProbability: Double, outputs: CollectedPrediction? = nil
  ) {
    var metadata = lent.pointee.metadataRange.map { Array(UnsafeBufferPointer(rebasing: line[$0])) }
    if lent.pointee.metadataHasRulecKey, let bytes = metadata,
      var object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
    {
      object.removeValue(forKey: "rulec")
      let rest = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
      metadata = [UInt8](rest)
    }
    var w = ArrayWriter(out: out)
    out = []
    defer { out = w.out }
    let ids = (lent.pointee.inputID, lent.pointee.outputIDText, lent.pointee.modelID, lent.pointee.modelVersion)
    if let metadata {
      metadata.withUnsafeBufferPointer { metadata in
        layout(
          &w, collectorID: collectorID, datasetIDs: datasetIDs, event: lent, ids: ids, line: line, id: id,
          inclusionProbability: inclusionProbability, metadataMembers: membersOf(metadata), outputs: outputs)
      }
    } else {
      layout(
        &w, collectorID: collectorID, datasetIDs: datasetIDs, event: lent, ids: ids, line: line, id: id,
        inclusionProbability: inclusionProbability, metadataMembers: nil, outputs: outputs)
    }
  }

  /// The one definition of an item's bytes:
  /// `{"id", "data": {<media>, "metadata": {..., "rulec": provenance}}, "dataset_ids"}`. The media
  /// and the metadata's members are copied as they were written; `ids` are the event's input,
  /// output, model and model version ids.
  static func layout<Sink: ItemSink>(
    _ w: inout Sink, collectorID: String, datasetIDs: [String], event lent: UnsafePointer<Event>,
    ids: (input: String?, output: ShortText, model: String?, modelVersion: String?), line: UnsafeBufferPointer<UInt8>,
    id: IDSource, inclusionProbability: Double, metadataMembers: UnsafeBufferPointer<UInt8>?, outputs: CollectedPrediction? = nil
  ) {
    w.put("{\"id\":")
    switch id {
    case .given(let given): w.quoted(given)
    case .derived(let input, let prefix):
      // Destination ids need no escapes.
      withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxIDLength) { buffer in
        let n = writeDestinationID(prefix: prefix, input: input, to: buffer.baseAddress!)
        w.put(UInt8(ascii: "\""))
        w.put(UnsafeBufferPointer(rebasing: buffer[..<n]))
        w.put(UInt8(ascii: "\""))
      }
    }
    w.put(",\"data\":{")
    if let kind = lent.pointee.inputKind, let media = lent.pointee.mediaRange {
      w.quoted(kind.rawValue)
      w.put(UInt8(ascii: ":"))
      w.put(UnsafeBufferPointer(rebasing: line[media]))
      w.put(UInt8(ascii: ","))
    }
    if let outputs, outputs.parts.contains(.concepts) {
      w.put("\"concepts\":")
      writeConcepts(&w, outputs.event.pointee.concepts)
      w.put(UInt8(ascii: ","))
    }
    // The provenance goes after the original members (a separate buffer for it was an allocation
    // per accepted input).
    w.put("\"metadata\":{")
    if let metadataMembers {
      w.put(metadataMembers)
      w.put(UInt8(ascii: ","))
    }
    w.put("\"rulec\":{\"collector\":")
    w.quoted(collectorID)
    w.put(",\"source_input_id\":")
    w.quoted(ids.input)
    w.put(",\"source_output_id\":")
    ids.output.withUTF8 { w.quoted($0) }
    w.put(",\"model_id\":")
    w.quoted(ids.model)
    w.put(",\"model_version_id\":")
    w.quoted(ids.modelVersion)
    w.put(",\"inclusion_probability\":")
    if inclusionProbability == 1 {
      w.put(UInt8(ascii: "1"))
    } else {
      var text = number(inclusionProbability)
      text.withUTF8 { w.put($0) }
    }
    w.put("}}")
    // Regions go last in `data`, where `CollectedRegions.split` finds them: the forwarder posts
    // them as an annotation once the input exists.
    if let outputs, outputs.parts.contains(.regions), outputs.event.pointee.regions.contains(where: isCollectable) {
      w.put(",\"regions\":[")
      var first = true
      for region in outputs.event.pointee.regions where isCollectable(region) {
        if !first { w.put(UInt8(ascii: ",")) }
        first = false
        writeRegion(&w, region)
      }
      w.put(UInt8(ascii: "]"))
    }
    w.put("},\"dataset_ids\":[")
    for (i, d) in datasetIDs.enumerated() {
      if i > 0 { w.put(UInt8(ascii: ",")) }
      w.quoted(d)
    }
    w.put("]}\n")
  }

  /// Concepts as Clarifai writes them: `[{"id", "name", "value"}]`, the name left out when it is
  /// empty; a concept whose value is not a finite number is left out (JSON has no NaN).
  static func writeConcepts<Sink: ItemSink>(_ w: inout Sink, _ concepts: [ConceptValue]) {
    w.put(UInt8(ascii: "["))
    var first = true
    for c in concepts where c.value.isFinite {
      if !first { w.put(UInt8(ascii: ",")) }
      first = false
      w.put("{\"id\":")
      w.quoted(c.id)
      if !c.name.isEmpty {
        w.put(",\"name\":")
        w.quoted(c.name)
      }
      w.put(",\"value\":")
      var text = number(c.value)
      text.withUTF8 { w.put($0) }
      w.put(UInt8(ascii: "}"))
    }
    w.put(UInt8(ascii: "]"))
  }

  /// A region can be written as an annotation when it has a bounding box of finite numbers.
  static func isCollectable(_ region: RegionValue) -> Bool {
    guard let b = region.box else { return false }
    return b.top.isFinite && b.left.isFinite && b.bottom.isFinite && b.right.isFinite
  }

  /// A region in Clarifai's proto field names:
  /// `{"id", "region_info": {"bounding_box": {...}}, "value", "data": {"concepts": [...]}}`.
  static func writeRegion<Sink: ItemSink>(_ w: inout Sink, _ region: RegionValue) {
    w.put(UInt8(ascii: "{"))
    if !region.id.isEmpty {
      w.put("\"id\":")
      w.quoted(region.id)
      w.put(UInt8(ascii: ","))
    }
    let box = region.box!
    w.put("\"region_info\":{\"bounding_box\":{")
    for (k, (name, value)) in [("top_row", box.top), ("left_col", box.left), ("bottom_row", box.bottom), ("right_col", box.right)]
      .enumerated()
    {
      if k > 0 { w.put(UInt8(ascii: ",")) }
      w.quoted(name)
      w.put(UInt8(ascii: ":"))
      var text = number(value)
      text.withUTF8 { w.put($0) }
    }
    w.put("}}")
    if let value = region.value, value.isFinite {
      w.put(",\"value\":")
      var text = number(value)
      text.withUTF8 { w.put($0) }
    }
    w.put(",\"data\":{\"concepts\":")
    writeConcepts(&w, region.concepts)
    w.put("}}")
  }

  /// The members of a metadata object, between its braces; nil for `{}`, for only whitespace, or
  /// for no object.
  static func membersOf(_ metadata: UnsafeBufferPointer<UInt8>?) -> UnsafeBufferPointer<UInt8>? {
    guard let metadata, let open = metadata.firstIndex(of: UInt8(ascii: "{")),
      let close = metadata.lastIndex(of: UInt8(ascii: "}")), open < close
    else { return nil }
    let inside = UnsafeBufferPointer(rebasing: metadata[(open + 1)..<close])
    return inside.allSatisfy { $0 == 32 || $0 == 10 || $0 == 9 || $0 == 13 } ? nil : inside
  }

  /// Where `layout` writes an item's bytes.
  protocol ItemSink {
    mutating func put(_ b: UInt8)
    mutating func put(_ s: StaticString)
    mutating func put(_ b: UnsafeBufferPointer<UInt8>)
    /// A JSON string of this UTF-8 text (nil: `null`).
    mutating func quoted(_ bytes: UnsafeBufferPointer<UInt8>?)
  }

  /// Writes at a raw pointer, into capacity the caller reserved for everything it will write. Text
  /// that would need an escape is not written and clears `plain`: the caller then drops it all.
  struct RawWriter: ItemSink {
    var p: UnsafeMutablePointer<UInt8>
    var plain = true
    init(_ p: UnsafeMutablePointer<UInt8>) { self.p = p }

    @inline(__always) mutating func quoted(_ bytes: UnsafeBufferPointer<UInt8>?) {
      guard let bytes else { return put("null") }
      guard ForwardItem.plain(bytes) else {
        plain = false
        return
      }
      p.pointee = UInt8(ascii: "\"")
      if let base = bytes.baseAddress { (p + 1).update(from: base, count: bytes.count) }
      p[bytes.count + 1] = UInt8(ascii: "\"")
      p += bytes.count + 2
    }

    @inline(__always) mutating func put(_ b: UInt8) {
      p.pointee = b
      p += 1
    }
    @inline(__always) mutating func put(_ s: StaticString) {
      p.update(from: s.utf8Start, count: s.utf8CodeUnitCount)
      p += s.utf8CodeUnitCount
    }
    @inline(__always) mutating func put(_ b: UnsafeBufferPointer<UInt8>) {
      if let base = b.baseAddress { p.update(from: base, count: b.count) }
      p += b.count
    }
  }

  /// Appends to an array, escaping text as JSON needs.
  struct ArrayWriter: ItemSink {
    var out: [UInt8]

    mutating func quoted(_ bytes: UnsafeBufferPointer<UInt8>?) {
      guard let bytes else { return put("null") }
      if ForwardItem.plain(bytes) {
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: bytes)
        out.append(UInt8(ascii: "\""))
      } else {
        var quoted = ""
        JSONValue.quote(String(decoding: bytes, as: UTF8.self), into: &quoted)
        out.append(contentsOf: quoted.utf8)
      }
    }

    mutating func put(_ b: UInt8) { out.append(b) }
    mutating func put(_ s: StaticString) { out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }
    mutating func put(_ b: UnsafeBufferPointer<UInt8>) { out.append(contentsOf: b) }
  }

  /// Whether text needs no escape in JSON: no quote, backslash or control character. Eight bytes
  /// at a time (the test per byte was 1.9% of R3's profile; end to end the change is within the
  /// noise); each test below is exact for whether such a byte is among the eight.
  static func plain(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let p = bytes.baseAddress else { return true }
    var k = 0
    while k + 8 <= bytes.count {
      let w = UnsafeRawPointer(p + k).loadUnaligned(as: UInt64.self)
      let quote = w ^ 0x2222_2222_2222_2222
      let backslash = w ^ 0x5C5C_5C5C_5C5C_5C5C
      let ones: UInt64 = 0x0101_0101_0101_0101
      let found = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- 0x2020_2020_2020_2020) & ~w)
      if found & 0x8080_8080_8080_8080 != 0 { return false }
      k += 8
    }
    while k < bytes.count {
      let b = p[k]
      if b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return false }
      k += 1
    }
    return true
  }

  static func number(_ d: Double) -> String {
    d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
  }
}

extension ForwardItem.ItemSink {
  /// A JSON string of `s` (nil: `null`).
  @inline(__always) mutating func quoted(_ s: String?) {
    guard var s else { return put("null") }
    // `withUTF8` lends the bytes of small strings too (`utf8.withContiguousStorageIfAvailable`
    // refused them, which sent ids such as `in-0000001` through a byte-by-byte copy).
    s.withUTF8 { quoted($0) }
  }
}
