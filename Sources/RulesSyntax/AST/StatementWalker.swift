
/// Walks the expressions of statements (for the metadata projection and the compilers).
public enum StatementWalker {
  /// Calls `visit` on every expression node of a statement, parents first.
  public static func visit(_ s: Statement, _ visit: (Expr) -> Void) {
    switch s.kind {
    case .require(let e), .dropIf(let e): walk(e, visit)
    case .sample(_, let by, _): if let by { walk(by, visit) }
    case .limit: break
    }
  }

  /// Pre-order, with a stack of its own rather than recursion: a chain of 1,000 operands is a tree
  /// 1,000 deep, and a thread's stack is not the place for it.
  public static func walk(_ root: Expr, _ visit: (Expr) -> Void) {
    var pending = [root]
    while let e = pending.popLast() {
      visit(e)
      var children: [Expr] = []
      switch e.kind {
      case .list(let items): children = items
      case .call(_, let args): children = args
      case .collection(let c), .quantifier(_, let c):
        if let list = c.list { children.append(list) }
        switch c.filter {
        case .where(let p): children.append(p)
        case .compare(_, let rhs): children.append(rhs)
        case nil: break
        }
      case .not(let x), .negate(let x), .paren(let x): children = [x]
      case .binary(_, let l, let r): children = [l, r]
      default: break
      }
      pending += children.reversed()  // the first child is visited next
    }
  }

  /// The segments below `metadata` if the expression is a metadata path.
  public static func metadataPath(_ e: Expr) -> [String]? {
    guard case .path(let words) = e.kind else { return nil }
    return metadataPath(words)
  }

  public static func metadataPath(_ words: [Word]) -> [String]? {
    if words.first?.text == "metadata" { return words.dropFirst().map(\.text) }
    if words.count >= 2 && words[0].text == "input" && words[1].text == "metadata" {
      return words.dropFirst(2).map(\.text)
    }
    return nil
  }
}
