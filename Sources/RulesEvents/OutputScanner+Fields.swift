import Foundation
import RulesSource

/// The scanner's readers of an output's nested parts: metadata (only the projected paths), data,
/// concepts, regions and frames.
extension OutputScanner {
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
