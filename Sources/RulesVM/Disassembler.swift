/// Prints a program as text: one line per instruction with its offset, source line and column (or
/// `|` when on the line above), mnemonic, operands with names and constants resolved, and targets.
public enum Disassembler {
  public static func blocks(_ p: Program) -> String {
    var out = ""
    for (b, block) in p.blocks.enumerated() {
      let role: String
      switch block.role {
      case .condition: role = "condition"
      case .filter(let kind): role = "filter of \(kind)"
      }
      out += "block \(b)  \(role)  registers \(block.registers)\n"
      var lastLine = -1
      for pc in 0..<block.count {
        let i = p.code[block.start + pc]
        let loc = p.locations.indices.contains(block.start + pc) ? p.locations[block.start + pc] : (line: 0, column: 0)
        let where_ = loc.line == lastLine ? "     |" : pad("\(loc.line):\(loc.column)", 6, left: true)
        lastLine = loc.line
        var line = "  " + pad(String(pc), 4, zeros: true) + " " + where_ + "  " + pad(i.mnemonic, 14) + operands(i, p)
        let targets = i.targets
        if !targets.isEmpty {
          line = pad(line, 78) + " -> " + targets.map { pad(String($0), 4, zeros: true) }.joined(separator: " ")
        }
        out += line.trailingSpacesRemoved + "\n"
      }
    }
    return out
  }

  static func pad(_ s: String, _ width: Int, left: Bool = false, zeros: Bool = false) -> String {
    guard s.count < width else { return s }
    let fill = String(repeating: zeros ? "0" : " ", count: width - s.count)
    return left || zeros ? fill + s : s + fill
  }

  public static func number(_ d: Double) -> String {
    if d.isNaN { return "missing" }
    return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
  }

  static func quote(_ s: String) -> String {
    "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }

  public static func source(_ s: StringSource, _ p: Program) -> String {
    if case .metadata(let slot) = s, p.metadataPaths.indices.contains(Int(slot)) {
      return "metadata." + p.metadataPaths[Int(slot)].joined(separator: ".")
    }
    return s.name
  }

  static func collection(_ c: Int32, _ p: Program) -> String {
    let spec = p.collections[Int(c)]
    var text = "\(spec.kind)"
    if spec.keyList >= 0 {
      text += " in {" + p.keyLists[Int(spec.keyList)].map { p.conceptKeys[Int($0)] }.joined(separator: ", ") + "}"
    }
    if spec.filter >= 0 { text += " where block \(spec.filter)" }
    return text
  }

  static func set(_ s: ConstantSet) -> String {
    let items = s.strings.sorted().map(quote) + s.numbers.sorted().map(number) + s.bools.sorted { !$0 && $1 }.map { "\($0)" }
    return "{" + items.joined(separator: ", ") + "}"
  }

  static func operands(_ i: Instruction, _ p: Program) -> String {
    func f(_ r: Register) -> String { "f\(r)" }
    func cache(_ slot: Int32) -> String { slot >= 0 ? ", cache \(slot)" : "" }
    switch i {
    case .ret(let b): return b ? "true" : "false"
    case .jump: return ""
    case .loadConst(let r, let k): return "\(f(r)), \(number(p.numbers[Int(k)]))"
    case .loadConcept(let r, let key): return "\(f(r)), concept(\(p.conceptKeys[Int(key)]))"
    case .loadAggregate(let r, let kind, let c, let rank, let slot):
      return "\(f(r)), \(collection(c, p))" + (kind == .top ? ", rank \(rank)" : "") + cache(slot)
    case .loadCount(let r, let c, let slot): return "\(f(r)), \(collection(c, p))" + cache(slot)
    case .loadField(let r, let field): return "\(f(r)), \(field.name)"
    case .loadMetadataNumber(let r, let slot): return "\(f(r)), metadata." + p.metadataPaths[Int(slot)].joined(separator: ".")
    case .loadLength(let r, let s): return "\(f(r)), \(source(s, p))"
    case .arithmetic(_, let d, let a, let b): return "\(f(d)), \(f(a)), \(f(b))"
    case .negate(let d, let a): return "\(f(d)), \(f(a))"
    case .compare(let op, let a, let b, _, _): return "\(f(a)) \(op.symbol) \(f(b))"
    case .compareConst(let op, let a, let k, _, _): return "\(f(a)) \(op.symbol) \(number(p.numbers[Int(k)]))"
    case .string(let test, let s, let k, _, _):
      let operand: String
      switch test {
      case .inSet, .notInSet: operand = set(p.sets[Int(k)])
      case .matches: operand = "/" + p.regexSources[Int(k)] + "/"
      default: operand = quote(p.strings[Int(k)])
      }
      return "\(source(s, p)), \(operand)"
    case .kindIn(let bits, _, _):
      let names = ["image", "video", "text", "audio"].enumerated().filter { bits & (1 << UInt8($0.offset)) != 0 }.map(\.element)
      return "input.kind in {" + names.joined(separator: ", ") + "}"
    case .metadataBool(let slot, let v, _, _): return "metadata." + p.metadataPaths[Int(slot)].joined(separator: ".") + " is \(v)"
    case .metadataContains(let slot, let k, _, _):
      return "metadata." + p.metadataPaths[Int(slot)].joined(separator: ".") + ", " + set(p.sets[Int(k)])
    case .valuesEqual(_, let a, let b, _, _): return "\(source(a, p)), \(source(b, p))"
    case .exists(let slot, _, _): return "metadata." + p.metadataPaths[Int(slot)].joined(separator: ".")
    case .typeIn(let s, let bits, _, _):
      return "type(\(source(s, p))) in {" + JSONType.allCases.filter { bits & $0.bit != 0 }.map { "\($0)" }.joined(separator: ", ") + "}"
    case .quantifier(_, let c, _, _): return collection(c, p)
    case .anyConceptWith(let id, let list, let op, let k, _, _):
      return "concepts where " + (id ? "id" : "name") + " in {" + p.keyLists[Int(list)].map { p.conceptKeys[Int($0)] }.joined(separator: ", ")
        + "} and value \(op.symbol) \(number(p.numbers[Int(k)]))"
    case .conceptKeyIn(let id, let list, _, _):
      return (id ? "id" : "name") + " in {" + p.keyLists[Int(list)].map { p.conceptKeys[Int($0)] }.joined(separator: ", ") + "}"
    }
  }
}

extension String {
  var trailingSpacesRemoved: String {
    var s = self
    while s.last == " " { s.removeLast() }
    return s
  }
}
