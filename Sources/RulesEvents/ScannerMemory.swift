import Foundation
import RulesSource

// What a scanner remembers from line to line: the objects that repeat (model, status), the heads of
// recent concepts, the last timestamp, and storage reused for metadata lists and concept columns.
// Raw storage in classes a scanner owns, used by one thread at a time.

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
