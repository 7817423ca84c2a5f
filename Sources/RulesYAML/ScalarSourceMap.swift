import RulesSource
import RulesSyntax
import Yams

/// Where each byte of a YAML scalar's decoded text was written in the file, for a scalar that the
/// file does not hold byte for byte (escapes in a double-quoted scalar, `''` in a single-quoted one,
/// indentation and line folding in plain, literal and folded ones). Expressions inside such a
/// scalar are lexed and parsed from the decoded text; their ranges are then mapped through this, so
/// a caret lands on the character as written (an escape's caret on its backslash).
///
/// The map aligns the decoded text with the raw bytes from the scalar's start: equal bytes pair
/// up; an escape pairs with the bytes it decodes to; whitespace and line breaks that folding turned
/// into a space or a newline pair with that; raw whitespace the decoded text does not hold
/// (indentation, trimmed spaces, escaped line breaks) is passed over. Positions only move forward
/// and never leave the file, whatever the bytes.
struct ScalarSourceMap {
  /// For each decoded byte, the raw range it came from.
  private(set) var starts: [Int] = []
  private(set) var ends: [Int] = []
  /// Where the scalar's text starts in the file.
  let origin: Int
  /// Just after the last raw byte mapped (the origin for an empty scalar).
  private(set) var limit: Int

  init(decoded: [UInt8], file: [UInt8], from start: Int, style: Node.Scalar.Style) {
    origin = min(start, file.count)
    limit = origin
    starts.reserveCapacity(decoded.count)
    ends.reserveCapacity(decoded.count)
    var i = 0
    var p = origin
    func isSpace(_ b: UInt8) -> Bool { b == 32 || b == 9 || b == 10 || b == 13 }
    func pair(_ count: Int, _ from: Int, _ to: Int) {
      for _ in 0..<count {
        starts.append(from)
        ends.append(to)
      }
      i += count
      p = to
      limit = to
    }
    while i < decoded.count {
      guard p < file.count else {
        pair(decoded.count - i, file.count, file.count)
        break
      }
      let d = decoded[i]
      let r = file[p]
      if style == .doubleQuoted && r == UInt8(ascii: "\\"), let (bytes, length) = Self.escape(file, at: p) {
        if bytes.isEmpty {
          p += length  // an escaped line break: nothing in the text
        } else if i + bytes.count <= decoded.count && Array(decoded[i..<(i + bytes.count)]) == bytes {
          pair(bytes.count, p, p + length)
        } else {
          p += 1
        }
      } else if style == .singleQuoted && r == UInt8(ascii: "'") && p + 1 < file.count && file[p + 1] == UInt8(ascii: "'") && d == r {
        pair(1, p, p + 2)
      } else if d == r || (isSpace(d) && isSpace(r)) {
        pair(1, p, p + 1)
      } else {
        p += 1  // indentation, a trimmed space, a folded break, or a byte the alignment passes over
      }
    }
  }

  /// A range of the decoded text (offsets from 0), as written in the file.
  func map(_ start: Int, _ end: Int) -> SourceRange {
    func at(_ k: Int) -> Int { k < starts.count ? starts[k] : limit }
    let s = max(0, start)
    guard end > s, !starts.isEmpty else { return .at(at(s)) }
    let last = min(end, starts.count) - 1
    guard last >= s else { return .at(at(s)) }
    return SourceRange(starts[s], ends[last])
  }

  /// The bytes a double-quoted scalar's escape at `p` stands for and its length in the file, per
  /// YAML 1.1/1.2 (the escapes libyaml reads); an escaped line break stands for nothing. Nil for an
  /// escape libyaml would have refused.
  static func escape(_ file: [UInt8], at p: Int) -> (bytes: [UInt8], length: Int)? {
    guard p + 1 < file.count else { return nil }
    func scalar(_ value: UInt32, _ length: Int) -> ([UInt8], Int)? {
      guard let s = Unicode.Scalar(value) else { return nil }
      return (Array(String(Character(s)).utf8), length)
    }
    func hex(_ digits: Int) -> ([UInt8], Int)? {
      guard p + 2 + digits <= file.count else { return nil }
      var value: UInt32 = 0
      for b in file[(p + 2)..<(p + 2 + digits)] {
        guard let v = Self.hexValue(b) else { return nil }
        value = value << 4 | UInt32(v)
      }
      return scalar(value, 2 + digits)
    }
    switch file[p + 1] {
    case UInt8(ascii: "0"): return ([0], 2)
    case UInt8(ascii: "a"): return ([7], 2)
    case UInt8(ascii: "b"): return ([8], 2)
    case UInt8(ascii: "t"), 9: return ([9], 2)
    case UInt8(ascii: "n"): return ([10], 2)
    case UInt8(ascii: "v"): return ([11], 2)
    case UInt8(ascii: "f"): return ([12], 2)
    case UInt8(ascii: "r"): return ([13], 2)
    case UInt8(ascii: "e"): return ([27], 2)
    case UInt8(ascii: " "), UInt8(ascii: "\""), UInt8(ascii: "/"), UInt8(ascii: "\\"): return ([file[p + 1]], 2)
    case UInt8(ascii: "N"): return scalar(0x85, 2)
    case UInt8(ascii: "_"): return scalar(0xA0, 2)
    case UInt8(ascii: "L"): return scalar(0x2028, 2)
    case UInt8(ascii: "P"): return scalar(0x2029, 2)
    case UInt8(ascii: "x"): return hex(2)
    case UInt8(ascii: "u"): return hex(4)
    case UInt8(ascii: "U"): return hex(8)
    case 10: return ([], 2)
    case 13: return ([], p + 2 < file.count && file[p + 2] == 10 ? 3 : 2)
    default: return nil
    }
  }

  static func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case 48...57: b - 48
    case 65...70: b - 55
    case 97...102: b - 87
    default: nil
    }
  }
}

/// Syntax trees parsed from a scalar's decoded text, their ranges moved to the file. Chains of
/// binary operators are walked down their left spine in a loop (a chain may hold 1,000 operands).
struct RangeMover {
  let move: (SourceRange) -> SourceRange

  func callAsFunction(_ r: SourceRange) -> SourceRange { move(r) }

  func word(_ w: Word) -> Word { Word(w.text, move(w.range), quoted: w.quoted) }

  func expr(_ e: Expr) -> Expr {
    if case .binary = e.kind {
      var spine: [(BinaryOperator, Expr, SourceRange)] = []
      var current = e
      while case .binary(let op, let left, let right) = current.kind {
        spine.append((op, right, current.range))
        current = left
      }
      var result = expr(current)
      for (op, right, range) in spine.reversed() { result = Expr(.binary(op, result, expr(right)), move(range)) }
      return result
    }
    let kind: ExprKind
    switch e.kind {
    case .number, .string, .bool, .name, .missing: kind = e.kind
    case .list(let items): kind = .list(items.map(expr))
    case .path(let words): kind = .path(words.map(word))
    case .call(let name, let arguments): kind = .call(word(name), arguments.map(expr))
    case .collection(let c): kind = .collection(collection(c))
    case .quantifier(let q, let c): kind = .quantifier(q, collection(c))
    case .not(let inner): kind = .not(expr(inner))
    case .negate(let inner): kind = .negate(expr(inner))
    case .paren(let inner): kind = .paren(expr(inner))
    case .binary: kind = e.kind  // handled above
    }
    return Expr(kind, move(e.range))
  }

  func collection(_ c: CollectionExpr) -> CollectionExpr {
    var moved = CollectionExpr(kind: c.kind, keyword: word(c.keyword), list: c.list.map(expr))
    switch c.filter {
    case .where(let predicate): moved.filter = .where(expr(predicate))
    case .compare(let op, let value): moved.filter = .compare(op, expr(value))
    case nil: break
    }
    return moved
  }

  func statement(_ s: Statement) -> Statement {
    let kind: StatementKind
    switch s.kind {
    case .require(let e): kind = .require(expr(e))
    case .dropIf(let e): kind = .dropIf(expr(e))
    case .sample(let rate, let by, let seed): kind = .sample(rate: expr(rate), by: by.map(expr), seed: seed.map(word))
    case .limit(let count, let window, let unit): kind = .limit(count: expr(count), window: window.map(expr), unit: word(unit))
    }
    return Statement(kind, keyword: word(s.keyword), range: move(s.range))
  }

  func mapEntry(_ m: MapEntry) -> MapEntry {
    MapEntry(sources: m.sources.map(word), target: word(m.target), range: move(m.range))
  }
}
