import RulesDiagnostics
import RulesSource
import RulesSyntax
import Yams

extension YAMLFrontEnd {
  static let collectorKeys = [
    "id", "description", "source", "collector_source", "destination", "key", "post_inputs_key_id", "map",
    "pre_queue", "post_queue", "pre_queue_random_sample", "collect_outputs",
  ]
  static let sourceKeys = [
    "user", "app", "model", "version", "caller", "model_user_id", "model_app_id", "model_id", "model_version_id",
    "caller_user_id", "post_inputs_key_id",
  ]
  static let comparators = ["GREATER_THAN", "GREATER_THAN_OR_EQUAL", "LESS_THAN", "LESS_THAN_OR_EQUAL", "EQUAL"]

  func collector(_ node: Node) -> Collector? {
    let errorsBefore = sink.errorCount
    guard let fields = fields(node, "a collector", known: YAMLFrontEnd.collectorKeys) else { return nil }
    let whole = range(node)
    guard let idField = fields.first(where: { $0.key == "id" }), let id = word(idField.value, "'id'") else {
      if !fields.contains(where: { $0.key == "id" }) { emit(YAMLMessage.missingKey("id", in: "a collector"), node) }
      return nil
    }
    var clauses: [Clause] = []
    var randomSample: (Node, Node)?
    for (key, keyNode, value) in fields {
      let keyword = keyWord(keyNode, key)
      let clauseRange = range(keyNode).union(range(value))
      switch key {
      case "id": break
      case "description":
        if let w = word(value, "'description'") {
          clauses.append(Clause(.description(Word(w.text, w.range, quoted: true)), keyword: keyword, range: clauseRange))
        }
      case "source", "collector_source":
        var sourceNode = value
        if key == "collector_source" {
          // Clarifai's own shape: {api_post_model_outputs_collector_source: {...}}.
          guard let inner = self.fields(value, "'collector_source'", known: ["api_post_model_outputs_collector_source"]),
            let first = inner.first
          else { continue }
          sourceNode = first.value
        }
        if let (source, key) = modelSource(sourceNode) {
          clauses.append(Clause(.source(source), keyword: keyword, range: clauseRange))
          if let key { clauses.append(key) }
        }
      case "destination":
        guard let d = self.fields(value, "'destination'", known: ["user", "app", "datasets"]) else { continue }
        let user = d.first { $0.key == "user" }.flatMap { word($0.value, "'user'") }
        let app = d.first { $0.key == "app" }.flatMap { word($0.value, "'app'") }
        if !d.contains(where: { $0.key == "user" }) { emit(YAMLMessage.missingKey("user", in: "'destination'"), value) }
        if !d.contains(where: { $0.key == "app" }) { emit(YAMLMessage.missingKey("app", in: "'destination'"), value) }
        if let user, let app {
          clauses.append(Clause(.destination(user: user, app: app), keyword: keyword, range: clauseRange))
        }
        if let datasets = d.first(where: { $0.key == "datasets" }), let list = sequence(datasets.value, "'datasets'") {
          clauses.append(
            Clause(
              .datasets(list.compactMap { word($0, "a dataset id") }), keyword: keyWord(datasets.keyNode, "datasets"),
              range: range(datasets.keyNode).union(range(datasets.value))))
        }
      case "key":
        if value.scalar != nil {
          // `key: <the key itself>`: an inline secret (RC3010), never echoed as a wrong type.
          if let w = word(value, "'key'") { clauses.append(Clause(.key(.inline(w)), keyword: keyword, range: clauseRange)) }
          continue
        }
        guard let k = self.fields(value, "'key'", known: ["env", "file"]), let first = k.first else {
          if value.mapping?.isEmpty == true { emit(YAMLMessage.missingKey("env", in: "'key'"), value) }
          continue
        }
        guard let w = word(first.value, "'\(first.key)'") else { continue }
        let reference: KeyReference = first.key == "env" ? .environment(w) : .file(Word(w.text, w.range, quoted: true))
        clauses.append(Clause(.key(reference), keyword: keyword, range: clauseRange))
      case "post_inputs_key_id":
        if let w = word(value, "'post_inputs_key_id'") {
          clauses.append(Clause(.key(.inline(w)), keyword: keyword, range: clauseRange))
        }
      case "map":
        if let map = conceptMap(value) {
          clauses.append(Clause(.map(map), keyword: keyword, range: clauseRange))
        }
      case "pre_queue", "post_queue":
        let kind = StageKind(rawValue: key)!
        var statements: [Statement] = []
        if let items = sequence(value, "'\(key)'") {
          statements = items.compactMap(stageItem)
        }
        clauses.append(Clause(.stage(Stage(kind: kind, statements: statements)), keyword: keyword, range: clauseRange))
      case "pre_queue_random_sample":
        randomSample = (keyNode, value)
      case "collect_outputs":
        // Clarifai's shape is a bool; a list names the kinds, as the DSL's clause does.
        if let list = value.sequence {
          let kinds = list.compactMap { word($0, "an output kind") }
          clauses.append(Clause(.collectOutputs(kinds), keyword: keyword, range: clauseRange))
        } else if let on = value.bool {
          if on { clauses.append(Clause(.collectOutputs([]), keyword: keyword, range: clauseRange)) }
        } else {
          emit(YAMLMessage.wrongType("'collect_outputs'", expected: "true, false or a list of kinds", found: describe(value)), value)
        }
      default: break
      }
    }
    if let (keyNode, value) = randomSample, let rate = numberLiteral(value, "'pre_queue_random_sample'") {
      // The collector-level shortcut is a `sample` before everything else in the pre-queue stage.
      let statement = Statement(
        .sample(rate: rate, by: nil, seed: nil), keyword: keyWord(keyNode, "sample"),
        range: range(keyNode).union(range(value)))
      if let index = clauses.firstIndex(where: { if case .stage(let s) = $0.kind { s.kind == .preQueue } else { false } }),
        case .stage(var stage) = clauses[index].kind
      {
        stage.statements.insert(statement, at: 0)
        clauses[index].kind = .stage(stage)
      } else {
        clauses.append(
          Clause(
            .stage(Stage(kind: .preQueue, statements: [statement])), keyword: keyWord(keyNode, "pre_queue"),
            range: statement.range))
      }
    }
    return Collector(
      id: id, clauses: clauses, range: whole.union(id.range), hadSyntaxErrors: sink.errorCount > errorsBefore)
  }

  func modelSource(_ node: Node) -> (ModelSource, Clause?)? {
    guard let f = fields(node, "'source'", known: YAMLFrontEnd.sourceKeys) else { return nil }
    func part(_ names: [String]) -> Word? {
      f.first { names.contains($0.key) }.flatMap { word($0.value, "'\($0.key)'") }
    }
    var missing = false
    for (names, label) in [(["user", "model_user_id"], "user"), (["app", "model_app_id"], "app"), (["model", "model_id"], "model")]
    where !f.contains(where: { names.contains($0.key) }) {
      emit(YAMLMessage.missingKey(label, in: "'source'"), node)
      missing = true
    }
    guard !missing, let user = part(["user", "model_user_id"]), let app = part(["app", "model_app_id"]),
      let model = part(["model", "model_id"])
    else { return nil }
    var source = ModelSource(user: user, app: app, model: model)
    source.version = part(["version", "model_version_id"]).flatMap { $0.text.isEmpty ? nil : $0 }
    source.caller = part(["caller", "caller_user_id"]).flatMap { $0.text.isEmpty ? nil : $0 }
    var keyClause: Clause?
    if let k = f.first(where: { $0.key == "post_inputs_key_id" }), let w = word(k.value, "'post_inputs_key_id'") {
      keyClause = Clause(.key(.inline(w)), keyword: keyWord(k.keyNode, "key"), range: range(k.keyNode).union(range(k.value)))
    }
    return (source, keyClause)
  }

  func conceptMap(_ node: Node) -> ConceptMapSyntax? {
    if let list = node.sequence {
      return ConceptMapSyntax(entries: list.compactMap(mapEntry))
    }
    guard let f = fields(node, "'map'", known: ["entries", "file", "unmapped"]) else { return nil }
    var map = ConceptMapSyntax(entries: [])
    for (key, _, value) in f {
      switch key {
      case "entries":
        if let mapping = value.mapping {
          // `target: [sources]`
          for (k, v) in mapping {
            guard let target = word(k, "a target concept") else { continue }
            let sources = (v.sequence.map(Array.init) ?? [v]).compactMap { word($0, "a source concept") }
            map.entries.append(MapEntry(sources: sources, target: target, range: range(k).union(range(v))))
          }
        } else if let list = sequence(value, "'entries'") {
          map.entries += list.compactMap(mapEntry)
        }
      case "file":
        map.file = word(value, "'file'").map { Word($0.text, $0.range, quoted: true) }
      case "unmapped":
        guard let w = word(value, "'unmapped'") else { continue }
        if w.text != "keep" && w.text != "drop" {
          emit(YAMLMessage.wrongType("'unmapped'", expected: "keep or drop", found: describe(value)), value)
        } else {
          map.unmapped = w
        }
      default: break
      }
    }
    return map
  }

  // MARK: Stage items

  static let itemKeys = ["require", "drop_if", "sample", "limit", "random_sample", "concept_thresholder"]

  func stageItem(_ node: Node) -> Statement? {
    if node.scalar != nil { return statement(node) }
    guard let f = fields(node, "a stage item", known: YAMLFrontEnd.itemKeys) else { return nil }
    guard f.count == 1, let (key, keyNode, value) = f.first else {
      if f.count > 1 {
        emit(YAMLMessage.wrongType("a stage item", expected: "a mapping with one key", found: "\(f.count) keys"), node)
      }
      return nil
    }
    let keyword = keyWord(keyNode, key == "drop_if" ? "drop if" : key)
    let whole = range(keyNode).union(range(value))
    switch key {
    case "require", "drop_if":
      guard let e = expression(value) else { return nil }
      return Statement(key == "require" ? .require(e) : .dropIf(e), keyword: keyword, range: whole)
    case "sample":
      if value.scalar != nil {
        guard let rate = numberLiteral(value, "'sample'") else { return nil }
        return Statement(.sample(rate: rate, by: nil, seed: nil), keyword: keyword, range: whole)
      }
      guard let g = fields(value, "'sample'", known: ["rate", "by", "seed"]) else { return nil }
      guard let rateNode = g.first(where: { $0.key == "rate" })?.value else {
        emit(YAMLMessage.missingKey("rate", in: "'sample'"), value)
        return nil
      }
      guard let rate = numberLiteral(rateNode, "'rate'") else { return nil }
      let by = g.first { $0.key == "by" }.flatMap { expression($0.value) }
      let seed = g.first { $0.key == "seed" }.flatMap { word($0.value, "'seed'") }
      return Statement(.sample(rate: rate, by: by, seed: seed), keyword: keyword, range: whole)
    case "random_sample":
      guard let g = fields(value, "'random_sample'", known: ["keep_fraction"]) else { return nil }
      guard let fraction = g.first(where: { $0.key == "keep_fraction" })?.value else {
        emit(YAMLMessage.missingKey("keep_fraction", in: "'random_sample'"), value)
        return nil
      }
      guard let rate = numberLiteral(fraction, "'keep_fraction'") else { return nil }
      return Statement(.sample(rate: rate, by: nil, seed: nil), keyword: keyWord(keyNode, "sample"), range: whole)
    case "limit":
      guard let g = fields(value, "'limit'", known: ["count", "per"]) else { return nil }
      guard let countNode = g.first(where: { $0.key == "count" })?.value, let perNode = g.first(where: { $0.key == "per" })?.value
      else {
        emit(YAMLMessage.missingKey(g.contains { $0.key == "count" } ? "per" : "count", in: "'limit'"), value)
        return nil
      }
      guard let count = numberLiteral(countNode, "'count'"), let per = word(perNode, "'per'") else { return nil }
      // `per: day` or `per: 10 minutes`.
      let parts = per.text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
      var window: Expr?
      var unitText = parts.last ?? ""
      if parts.count == 2, let n = Double(parts[0]) {
        window = Expr(.number(n, percent: false, text: parts[0]), per.range)
        unitText = parts[1]
      } else if parts.count != 1 {
        emit(YAMLMessage.wrongType("'per'", expected: "a time unit such as 'day' or '10 minutes'", found: describe(perNode)), perNode)
        return nil
      }
      if TimeUnit(word: unitText) == nil {
        let all = TimeUnit.allCases.flatMap { [$0.rawValue, $0.rawValue + "s"] }
        sink.emit(SyntaxMessage.unknownTimeUnit(unitText, suggestion: Spelling.suggestion(for: unitText, among: all)), file: file, range: per.range)
        return nil
      }
      return Statement(.limit(count: count, window: window, unit: Word(unitText, per.range)), keyword: keyword, range: whole)
    case "concept_thresholder":
      return thresholder(value, keyNode: keyNode, whole: whole)
    default:
      return nil
    }
  }

  /// Clarifai's Concept Thresholder as an input filter: the input is kept when at least one
  /// configured concept passes its threshold (and, unless `filter_other_concepts` is true, when
  /// some concept without a threshold is present, since that concept would survive the filter).
  func thresholder(_ node: Node, keyNode: Node, whole: SourceRange) -> Statement? {
    guard let g = fields(node, "'concept_thresholder'", known: ["concepts", "concept_threshold_type", "filter_other_concepts"])
    else { return nil }
    guard let conceptsNode = g.first(where: { $0.key == "concepts" })?.value else {
      emit(YAMLMessage.missingKey("concepts", in: "'concept_thresholder'"), node)
      return nil
    }
    var op = BinaryOperator.greater
    if let typeNode = g.first(where: { $0.key == "concept_threshold_type" })?.value {
      guard let text = typeNode.scalar?.string else {
        emit(YAMLMessage.wrongType("'concept_threshold_type'", expected: "a comparator name or number", found: describe(typeNode)), typeNode)
        return nil
      }
      let ops: [BinaryOperator] = [.greater, .greaterEqual, .less, .lessEqual, .equal]
      if let index = YAMLFrontEnd.comparators.firstIndex(of: text) {
        op = ops[index]
      } else if let n = Int(text), (1...5).contains(n) {
        op = ops[n - 1]
      } else {
        emit(YAMLMessage.invalidComparator(text, suggestion: Spelling.suggestion(for: text, among: YAMLFrontEnd.comparators)), typeNode)
        return nil
      }
    }
    var filterOthers = true
    if let f = g.first(where: { $0.key == "filter_other_concepts" })?.value {
      guard let b = f.bool else {
        emit(YAMLMessage.wrongType("'filter_other_concepts'", expected: "true or false", found: describe(f)), f)
        return nil
      }
      filterOthers = b
    }
    guard let items = sequence(conceptsNode, "'concepts'") else { return nil }
    var tests: [Expr] = []
    var names: [Expr] = []
    for item in items {
      guard let c = fields(item, "a thresholder concept", known: ["id", "name", "value"]) else { continue }
      guard let nameField = c.first(where: { $0.key == "name" }) ?? c.first(where: { $0.key == "id" }) else {
        emit(YAMLMessage.missingKey("id", in: "a thresholder concept"), item)
        continue
      }
      guard let name = word(nameField.value, "'\(nameField.key)'") else { continue }
      guard let valueNode = c.first(where: { $0.key == "value" })?.value else {
        emit(YAMLMessage.missingKey("value", in: "a thresholder concept"), item)
        continue
      }
      guard let threshold = numberLiteral(valueNode, "'value'") else { continue }
      let call = Expr(.call(Word("concept", name.range), [Expr(.name(name.text), name.range)]), name.range)
      tests.append(Expr(.binary(op, call, threshold), range(item)))
      names.append(Expr(.name(name.text), name.range))
    }
    guard var condition = tests.first else {
      if items.isEmpty { emit(YAMLMessage.wrongType("'concepts'", expected: "a non-empty list", found: "an empty list"), conceptsNode) }
      return nil
    }
    for t in tests.dropFirst() { condition = Expr(.binary(.or, condition, t), condition.range.union(t.range)) }
    if !filterOthers {
      let r = range(node)
      let list = Expr(.list(names), r)
      let isConfigured = Expr(
        .paren(Expr(.binary(.or, Expr(.binary(.in, Expr(.name("name"), r), list), r), Expr(.binary(.in, Expr(.name("id"), r), list), r)), r)), r)
      let others = CollectionExpr(kind: .concepts, keyword: Word("concept", r), filter: .where(Expr(.not(isConfigured), r)))
      condition = Expr(.binary(.or, condition, Expr(.quantifier(.any, others), r)), r)
    }
    return Statement(.require(condition), keyword: keyWord(keyNode, "require"), range: whole)
  }
}
