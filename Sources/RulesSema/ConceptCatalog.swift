import Foundation

/// The source model's concepts (`--concepts FILE`): names and ids that rules may name.
public struct ConceptCatalog: Sendable {
  public var names: Set<String>

  public init(names: Set<String>) { self.names = names }

  /// Reads one name or id per line (`#` starts a comment), or a JSON array of strings or of
  /// concept objects with `id` and/or `name`.
  public static func parse(_ text: String) throws -> ConceptCatalog {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.hasPrefix("[") {
      guard let data = trimmed.data(using: .utf8),
        let array = try? JSONSerialization.jsonObject(with: data) as? [Any]
      else { throw CatalogError("the concepts file looks like JSON but is not a valid JSON array") }
      var names = Set<String>()
      for item in array {
        if let s = item as? String {
          names.insert(s)
        } else if let object = item as? [String: Any] {
          if let id = object["id"] as? String { names.insert(id) }
          if let name = object["name"] as? String { names.insert(name) }
        } else {
          throw CatalogError("each item of the concepts array must be a string or an object with id and name")
        }
      }
      return ConceptCatalog(names: names)
    }
    var names = Set<String>()
    for line in text.split(whereSeparator: \.isNewline) {
      let entry = line.trimmingCharacters(in: .whitespaces)
      if entry.isEmpty || entry.hasPrefix("#") { continue }
      names.insert(entry)
    }
    return ConceptCatalog(names: names)
  }

  /// Why a concepts file could not be read.
  public struct CatalogError: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
  }
}
