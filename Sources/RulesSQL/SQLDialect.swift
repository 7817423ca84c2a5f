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
  // MARK: Lists

  /// A list of the given items.
  func array(_ items: [String]) -> String {
    switch self {
    case .duckdb: "[" + items.joined(separator: ", ") + "]"
    case .spark: "array(" + items.joined(separator: ", ") + ")"
    }
  }

  /// The integers from `lower` up to `upper` (not included); empty when `upper <= lower`. Spark's
  /// `sequence` counts down when its end is below its start, so the extra element is filtered out.
  func range(_ lower: String, _ upper: String) -> String {
    switch self {
    case .duckdb: lower == "0" ? "range(\(upper))" : "range(\(lower), \(upper))"
    case .spark: "filter(sequence(\(lower), greatest(\(upper) - 1, \(lower))), n_ -> n_ < \(upper))"
    }
  }

  /// The 1-based position of `value` in `list` (none: DuckDB NULL, Spark 0; compared with a
  /// position, both are "not there").
  func position(_ list: String, _ value: String) -> String {
    switch self {
    case .duckdb: "list_position(\(list), \(value))"
    case .spark: "array_position(\(list), \(value))"
    }
  }

  /// The strings of a list joined without a separator.
  func joined(_ list: String) -> String {
    switch self {
    case .duckdb: "array_to_string(\(list), '')"
    case .spark: "array_join(\(list), '')"
    }
  }

  /// A map from string literals to string literals, and a lookup in it (NULL when absent).
  func map(_ pairs: [(String, String)]) -> String {
    switch self {
    case .duckdb: "MAP {" + pairs.map { "\(string($0.0)): \(string($0.1))" }.joined(separator: ", ") + "}"
    case .spark: "map(" + pairs.map { "\(string($0.0)), \(string($0.1))" }.joined(separator: ", ") + ")"
    }
  }

  func lookup(_ map: String, _ key: String) -> String {
    switch self {
    case .duckdb: "map_extract_value(\(map), \(key))"
    case .spark: "try_element_at(\(map), \(key))"
    }
  }

  // MARK: Scalars

  /// The name of the string type in a cast.
  var text: String {
    switch self {
    case .duckdb: "VARCHAR"
    case .spark: "STRING"
    }
  }

  /// An exact integer type wide enough for FNV-1a 64's product (below 2^104).
  var wideInteger: String {
    switch self {
    case .duckdb: "HUGEINT"
    case .spark: "DECIMAL(38,0)"
    }
  }

  /// `a / b`; NULL or not finite when `b` is 0 (the language's missing, through `finite`). Spark
  /// in ANSI mode, its default since 4.0, raises an error on a zero divisor, even a double one.
  func divide(_ a: String, _ b: String) -> String {
    switch self {
    case .duckdb: "\(a) / \(b)"
    case .spark: "try_divide(\(a), \(b))"
    }
  }

  /// A double that is neither NaN nor infinite.
  func isFinite(_ x: String) -> String {
    switch self {
    case .duckdb: "isfinite(\(x))"
    case .spark: "(NOT isnan(\(x)) AND abs(\(x)) <> CAST('Infinity' AS DOUBLE))"
    }
  }

  /// Stops the query with a message.
  func error(_ message: String) -> String {
    switch self {
    case .duckdb: "error(\(string(message)))"
    case .spark: "raise_error(\(string(message)))"
    }
  }

  /// Every column but `columns`.
  func allBut(_ columns: [String]) -> String {
    switch self {
    case .duckdb: "* EXCLUDE (\(columns.joined(separator: ", ")))"
    case .spark: "* EXCEPT (\(columns.joined(separator: ", ")))"
    }
  }

  /// A name quoted as an identifier (a field of a parsed output).
  func quote(_ name: String) -> String {
    switch self {
    case .duckdb: "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    case .spark: "`" + name.replacingOccurrences(of: "`", with: "``") + "`"
    }
  }

  /// How the text of the query names the engine.
  var displayName: String {
    switch self {
    case .duckdb: "DuckDB"
    case .spark: "Spark"
    }
  }

  /// The regular expressions `matches` becomes, as diagnostics name them.
  var regexFlavour: String {
    switch self {
    case .duckdb: "DuckDB's RE2"
    case .spark: "Spark's java.util.regex"
    }
  }

  // MARK: Strings and bytes

  func startsWith(_ s: String, _ prefix: String) -> String {
    switch self {
    case .duckdb: "starts_with(\(s), \(prefix))"
    case .spark: "startswith(\(s), \(prefix))"
    }
  }

  func endsWith(_ s: String, _ suffix: String) -> String {
    switch self {
    case .duckdb: "suffix(\(s), \(suffix))"
    case .spark: "endswith(\(s), \(suffix))"
    }
  }

  /// Whether `pattern` matches somewhere in `s`.
  func matches(_ s: String, _ pattern: String) -> String {
    switch self {
    case .duckdb: "regexp_matches(\(s), \(pattern))"
    case .spark: "regexp_like(\(s), \(pattern))"
    }
  }

  /// How many UTF-8 bytes a string has.
  func byteCount(_ s: String) -> String {
    switch self {
    case .duckdb: "octet_length(encode(\(s)))"
    case .spark: "octet_length(\(s))"
    }
  }

  /// Byte `i` (from 0) of a string's UTF-8 bytes, as an integer of type `type` (`INTEGER` or the
  /// wide integer).
  func byte(_ s: String, _ i: String, as type: String) -> String {
    switch self {
    case .duckdb: "CAST('0x' || substr(hex(encode(\(s))), 2 * \(i) + 1, 2) AS \(type))"
    case .spark: "CAST(conv(substr(hex(\(s)), 2 * \(i) + 1, 2), 16, 10) AS \(type == wideInteger ? "INT" : type))"
    }
  }

  /// One step of FNV-1a 64: `(h xor b) * prime mod 2^64`, in the wide integer type. Spark's `^`
  /// takes only machine integers, so the xor is done on the low byte (a byte changes no other).
  func fnvStep(_ h: String, _ b: String) -> String {
    switch self {
    case .duckdb: "(xor(\(h), \(b)) * 1099511628211) % 18446744073709551616"
    case .spark:
      "CAST(((\(h) - pmod(\(h), 256) + (CAST(pmod(\(h), 256) AS INT) ^ \(b))) * 1099511628211) % 18446744073709551616 AS DECIMAL(38,0))"
    }
  }

  /// An unsigned 64-bit value (in the wide type) as 16 lowercase hex digits.
  func hex64(_ x: String) -> String {
    switch self {
    case .duckdb: "lpad(lower(hex(CAST(\(x) AS UBIGINT))), 16, '0')"
    case .spark: "lpad(lower(conv(CAST(\(x) AS STRING), 10, 16)), 16, '0')"
    }
  }

  // MARK: JSON values (metadata)

  /// The value at a path of object keys in a JSON value (DuckDB `JSON`, Spark `VARIANT`); NULL
  /// when absent. Spark's paths cannot spell a key holding a quote or a backslash: nil then.
  func jsonPath(_ value: String, _ keys: [String]) -> String? {
    switch self {
    case .duckdb:
      let path = "$" + keys.map { ".\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined()
      return "json_extract(\(value), \(string(path)))"
    case .spark:
      guard !keys.contains(where: { $0.contains("\"") || $0.contains("'") || $0.contains("\\") }) else { return nil }
      return "variant_get(\(value), \(string("$" + keys.map { "[\"\($0)\"]" }.joined())))"
    }
  }

  /// The JSON types a value may have at run time.
  enum JSONKind {
    case string, number, bool, array, object
    /// A string, number or bool.
    case scalar
    /// Anything but JSON `null`.
    case present
  }

  /// Whether a JSON value (not NULL) has a kind; NULL when the value is NULL.
  func json(_ v: String, is kind: JSONKind) -> String {
    switch self {
    case .duckdb:
      let numbers = "'BIGINT', 'UBIGINT', 'DOUBLE', 'HUGEINT', 'UHUGEINT'"
      switch kind {
      case .string: return "json_type(\(v)) = 'VARCHAR'"
      case .number: return "json_type(\(v)) IN (\(numbers))"
      case .bool: return "json_type(\(v)) = 'BOOLEAN'"
      case .array: return "json_type(\(v)) = 'ARRAY'"
      case .object: return "json_type(\(v)) = 'OBJECT'"
      case .scalar: return "json_type(\(v)) IN ('VARCHAR', 'BOOLEAN', \(numbers))"
      case .present: return "json_type(\(v)) <> 'NULL'"
      }
    case .spark:
      let type = "schema_of_variant(\(v))"
      switch kind {
      case .string: return "\(type) = 'STRING'"
      case .number: return "(\(type) IN ('BIGINT', 'INT', 'SMALLINT', 'TINYINT', 'DOUBLE', 'FLOAT') OR startswith(\(type), 'DECIMAL'))"
      case .bool: return "\(type) = 'BOOLEAN'"
      case .array: return "startswith(\(type), 'ARRAY')"
      case .object: return "startswith(\(type), 'OBJECT')"
      case .scalar:
        return "(\(type) IN ('STRING', 'BOOLEAN', 'BIGINT', 'INT', 'SMALLINT', 'TINYINT', 'DOUBLE', 'FLOAT') OR startswith(\(type), 'DECIMAL'))"
      case .present: return "(\(v) IS NOT NULL AND NOT is_variant_null(\(v)))"
      }
    }
  }

  /// A JSON value as a double, string or bool (when it is one: callers test its kind first).
  func jsonDouble(_ v: String) -> String {
    switch self {
    case .duckdb: "CAST(\(v) AS DOUBLE)"
    case .spark: "try_variant_get(\(v), '$', 'double')"
    }
  }

  func jsonString(_ v: String) -> String {
    switch self {
    case .duckdb: "json_extract_string(\(v), '$')"
    case .spark: "try_variant_get(\(v), '$', 'string')"
    }
  }

  func jsonBool(_ v: String) -> String {
    switch self {
    case .duckdb: "CAST(\(v) AS BOOLEAN)"
    case .spark: "try_variant_get(\(v), '$', 'boolean')"
    }
  }

  /// A JSON array's elements, as a list of JSON values.
  func jsonElements(_ v: String) -> String {
    switch self {
    case .duckdb: "CAST(\(v) AS JSON[])"
    case .spark: "try_variant_get(\(v), '$', 'array<variant>')"
    }
  }

  func jsonArrayLength(_ v: String) -> String {
    switch self {
    case .duckdb: "json_array_length(\(v))"
    case .spark: "size(\(jsonElements(v)))"
    }
  }
}
