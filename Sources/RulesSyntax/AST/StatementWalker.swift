
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

  public static func walk(_ e: Expr, _ visit: (Expr) -> Void) {
    visit(e)
    switch e.kind {
    case .list(let items): for item in items { walk(item, visit) }
    case .call(_, let args): for arg in args { walk(arg, visit) }
    case .collection(let c), .quantifier(_, let c):
      if let list = c.list { walk(list, visit) }
      switch c.filter {
      case .where(let p): walk(p, visit)
      case .compare(_, let rhs): walk(rhs, visit)
      case nil: break
      }
    case .not(let x), .negate(let x), .paren(let x): walk(x, visit)
    case .binary(_, let l, let r):
      walk(l, visit)
      walk(r, visit)
    default: break
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
