/// The SQL engines rules compile to (`rulec compile --target sql --dialect NAME`). Each spelling
/// that differs between them is a function here; the compiler writes everything else once.
public enum SQLDialect: String, Sendable, CaseIterable {
  case duckdb
  case spark

  /// A lambda over list elements: `lambda x: BODY` in DuckDB (2.0 refuses the arrow form), `x -> BODY`
  /// in Spark.
  func lambda(_ parameters: [String], _ body: String) -> String {
    switch self {
    case .duckdb: "lambda \(parameters.joined(separator: ", ")): \(body)"
    case .spark: parameters.count == 1 ? "\(parameters[0]) -> \(body)" : "(\(parameters.joined(separator: ", "))) -> \(body)"
    }
  }

  func filter(_ list: String, _ parameter: String, _ body: String) -> String {
    switch self {
    case .duckdb: "list_filter(\(list), \(lambda([parameter], body)))"
    case .spark: "filter(\(list), \(lambda([parameter], body)))"
    }
  }

  func transform(_ list: String, _ parameter: String, _ body: String) -> String {
    switch self {
    case .duckdb: "list_transform(\(list), \(lambda([parameter], body)))"
    case .spark: "transform(\(list), \(lambda([parameter], body)))"
    }
  }

  func length(_ list: String) -> String {
    switch self {
    case .duckdb: "len(\(list))"
    case .spark: "size(\(list))"
    }
  }

  func listMax(_ list: String) -> String {
    switch self {
    case .duckdb: "list_max(\(list))"
    case .spark: "array_max(\(list))"
    }
  }

  func listMin(_ list: String) -> String {
    switch self {
    case .duckdb: "list_min(\(list))"
    case .spark: "array_min(\(list))"
    }
  }

  /// The list sorted from the largest value down.
  func sortedDescending(_ list: String) -> String {
    switch self {
    case .duckdb: "list_sort(\(list), 'DESC')"
    case .spark: "sort_array(\(list), false)"
    }
  }

  /// Element `index` (1-based) of a list; NULL past its end.
  func element(_ list: String, _ index: String) -> String {
    switch self {
    case .duckdb: "(\(list))[\(index)]"
    case .spark: "try_element_at(\(list), \(index))"
    }
  }

  /// The first `count` elements of a list.
  func slice(_ list: String, _ count: Int) -> String {
    switch self {
    case .duckdb: "(\(list))[1:\(count)]"
    case .spark: "slice(\(list), 1, \(count))"
    }
  }

  /// A left fold over a list, from `start`.
  func fold(_ list: String, _ start: String, _ accumulator: String, _ element: String, _ body: String) -> String {
    switch self {
    case .duckdb: "list_reduce(\(list), \(lambda([accumulator, element], body)), \(start))"
    case .spark: "aggregate(\(list), \(start), \(lambda([accumulator, element], body)))"
    }
  }

  /// A struct value with named fields.
  func record(_ fields: [(String, String)]) -> String {
    switch self {
    case .duckdb: "{" + fields.map { "'\($0.0)': \($0.1)" }.joined(separator: ", ") + "}"
    case .spark: "named_struct(" + fields.map { "'\($0.0)', \($0.1)" }.joined(separator: ", ") + ")"
    }
  }

  /// A string literal.
  func string(_ s: String) -> String {
    switch self {
    case .duckdb: "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
    case .spark:
      "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
  }

  /// A binary64 literal that reads back as exactly `value`.
  func double(_ value: Double) -> String {
    switch self {
    case .duckdb: "CAST('\(value)' AS DOUBLE)"
    case .spark: "CAST('\(value)' AS DOUBLE)"
    }
  }
}
