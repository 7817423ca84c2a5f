/// Did-you-mean suggestions: the closest candidate by Levenshtein distance.
public enum Spelling {
  /// Edit distance between two strings over Unicode scalars, where swapping two neighbours counts
  /// as one edit (optimal string alignment), so `dgo` is one edit from `dog`.
  public static func distance(_ a: String, _ b: String) -> Int {
    let x = Array(a.unicodeScalars)
    let y = Array(b.unicodeScalars)
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var beforePrevious = [Int](repeating: 0, count: y.count + 1)
    var previous = Array(0...y.count)
    var current = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
      current[0] = i
      for j in 1...y.count {
        let cost = x[i - 1] == y[j - 1] ? 0 : 1
        current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        if i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] {
          current[j] = Swift.min(current[j], beforePrevious[j - 2] + 1)
        }
      }
      (beforePrevious, previous, current) = (previous, current, beforePrevious)
    }
    return previous[y.count]
  }

  /// The candidate closest to `word`, if it is close enough to be a likely misspelling.
  public static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
    let limit = Swift.max(1, word.unicodeScalars.count / 3)
    let lowered = word.lowercased()
    let length = lowered.unicodeScalars.count
    var best: (String, Int)?
    for candidate in candidates where candidate != word {
      // The distance is at least the difference in length: most candidates are ruled out without
      // computing it (a file of unknown names spent most of its check here).
      let other = candidate.lowercased()
      if abs(other.unicodeScalars.count - length) > Swift.min(limit, best.map { $0.1 - 1 } ?? limit) { continue }
      let d = distance(lowered, other)
      if d <= limit, best == nil || d < best!.1 { best = (candidate, d) }
    }
    return best?.0
  }
}
