import RulesEvents
import RulesSema

extension ConceptMap {
  /// Applies the map to one concept list (Grammar.md section 5): rename each concept whose name, or
  /// failing that id, is a source; drop unmapped ones if asked; merge concepts that now share a name,
  /// keeping the largest value, in the order of their first occurrence.
  public func apply(_ concepts: [ConceptValue]) -> [ConceptValue] {
    var out: [ConceptValue] = []
    out.reserveCapacity(concepts.count)
    var index: [String: Int] = [:]
    for c in concepts {
      var mapped = c
      if let target = targetOf[c.name] ?? targetOf[c.id] {
        mapped = ConceptValue(id: target, name: target, value: c.value)
      } else if dropUnmapped {
        continue
      }
      if let at = index[mapped.name] {
        if mapped.value > out[at].value { out[at].value = mapped.value }
      } else {
        index[mapped.name] = out.count
        out.append(mapped)
      }
    }
    return out
  }

  /// Applies the map to every concept list of an event: the output's, each region's and each frame's.
  public func apply(to event: inout Event) {
    event.concepts = apply(event.concepts)
    // Keys the scanner resolved belong to the names before the map.
    event.forgetResolvedConcepts()
    for i in event.regions.indices { event.regions[i].concepts = apply(event.regions[i].concepts) }
    for i in event.frames.indices {
      event.frames[i].concepts = apply(event.frames[i].concepts)
      for j in event.frames[i].regions.indices {
        event.frames[i].regions[j].concepts = apply(event.frames[i].regions[j].concepts)
      }
    }
  }
}
