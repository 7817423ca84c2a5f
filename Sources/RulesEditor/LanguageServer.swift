import Foundation
import RulesDiagnostics
import RulesLoader
import RulesMath
import RulesSema
import RulesSource
import RulesSyntax

/// `rulec lsp`: the Language Server Protocol over standard input and output, for editors. Documents
/// are synced incrementally; each change is parsed and checked at once (the same front ends and
/// checker as `rulec check`) and its diagnostics published, with codes that `rulec explain` knows.
/// Also: formatting (the formatter), document symbols (collectors and their stages), hover (a
/// diagnostic's explanation, a function's or a keyword's meaning) and completion (keywords and
/// functions). JSON-RPC is framed by hand: no Swift package for it is among the project's
/// dependencies, and it is not on a hot path.
public final class LanguageServer {
  var documents: [String: TextDocument] = [:]
  /// The last diagnostics of each document, for hover.
  var published: [String: [Diagnostic]] = [:]
  let write: ([UInt8]) -> Void
  var shutdownRequested = false
  /// The check options (`--concepts`), as given to `rulec lsp`.
  let options: CheckOptions

  /// `write` sends one framed message to the editor.
  public init(options: CheckOptions = CheckOptions(), write: @escaping ([UInt8]) -> Void) {
    self.options = options
    self.write = write
  }

  // MARK: Framing

  /// Reads messages from `input` until `exit` or the end of input; returns the exit status the
  /// protocol asks for (0 after `shutdown`, 1 otherwise).
  public func run(input: FileHandle) -> Int32 {
    var buffer: [UInt8] = []
    while true {
      // Headers end at an empty line; Content-Length gives the body's size.
      while let headerEnd = Self.find([13, 10, 13, 10], in: buffer) {
        let header = String(decoding: buffer[..<headerEnd], as: UTF8.self)
        guard let length = header.split(separator: "\r\n").compactMap({ line -> Int? in
          let parts = line.split(separator: ":", maxSplits: 1)
          guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
          return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }).first
        else {
          buffer.removeSubrange(..<(headerEnd + 4))  // a message without a length cannot be read: skipped
          continue
        }
        guard buffer.count >= headerEnd + 4 + length else { break }
        let body = Array(buffer[(headerEnd + 4)..<(headerEnd + 4 + length)])
        buffer.removeSubrange(..<(headerEnd + 4 + length))
        if let exit = handle(body) { return exit }
      }
      let chunk = input.availableData
      if chunk.isEmpty { return shutdownRequested ? 0 : 1 }
      buffer += chunk
    }
  }

  static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] && Array(haystack[i..<(i + needle.count)]) == needle {
      return i
    }
    return nil
  }

  func send(_ message: [String: Any]) {
    var full = message
    full["jsonrpc"] = "2.0"
    guard let body = try? JSONSerialization.data(withJSONObject: full, options: [.sortedKeys]) else { return }
    write(Array("Content-Length: \(body.count)\r\n\r\n".utf8) + [UInt8](body))
  }

  func reply(_ id: Any, result: Any) { send(["id": id, "result": result]) }

  func replyError(_ id: Any, code: Int, message: String) { send(["id": id, "error": ["code": code, "message": message]]) }

  // MARK: Dispatch

  /// Handles one message; returns an exit status for `exit`.
  func handle(_ body: [UInt8]) -> Int32? {
    guard let message = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let method = message["method"] as? String
    else {
      send(["id": NSNull(), "error": ["code": -32700, "message": "parse error"]])
      return nil
    }
    let id = message["id"]
    let params = message["params"] as? [String: Any] ?? [:]
    switch method {
    case "initialize":
      reply(
        id ?? NSNull(),
        result: [
          "capabilities": [
            "textDocumentSync": ["openClose": true, "change": 2],
            "documentFormattingProvider": true, "documentSymbolProvider": true, "hoverProvider": true, "definitionProvider": true,
            "completionProvider": ["triggerCharacters": ["."]],
          ],
          "serverInfo": ["name": "rulec", "version": "0.1.0"],
        ])
    case "initialized", "$/cancelRequest", "$/setTrace", "workspace/didChangeConfiguration": break
    case "shutdown":
      shutdownRequested = true
      reply(id ?? NSNull(), result: NSNull())
    case "exit":
      return shutdownRequested ? 0 : 1
    case "textDocument/didOpen":
      guard let item = params["textDocument"] as? [String: Any], let uri = item["uri"] as? String else { break }
      documents[uri] = TextDocument(uri: uri, version: item["version"] as? Int ?? 0, text: item["text"] as? String ?? "")
      publishDiagnostics(uri)
    case "textDocument/didChange":
      guard let doc = params["textDocument"] as? [String: Any], let uri = doc["uri"] as? String, var document = documents[uri] else { break }
      for change in params["contentChanges"] as? [[String: Any]] ?? [] {
        document.apply(range: Self.range(change["range"]), text: change["text"] as? String ?? "")
      }
      document.version = doc["version"] as? Int ?? document.version
      documents[uri] = document
      publishDiagnostics(uri)
    case "textDocument/didClose":
      guard let doc = params["textDocument"] as? [String: Any], let uri = doc["uri"] as? String else { break }
      documents[uri] = nil
      published[uri] = nil
      send(["method": "textDocument/publishDiagnostics", "params": ["uri": uri, "diagnostics": [Any]()]])
    case "textDocument/formatting":
      reply(id ?? NSNull(), result: formatting(params) ?? NSNull())
    case "textDocument/documentSymbol":
      reply(id ?? NSNull(), result: symbols(params))
    case "textDocument/hover":
      reply(id ?? NSNull(), result: hover(params) ?? NSNull())
    case "textDocument/completion":
      reply(id ?? NSNull(), result: completion())
    case "textDocument/definition":
      reply(id ?? NSNull(), result: definition(params) ?? NSNull())
    default:
      // Requests the server does not know get an error; notifications are ignored.
      if let id { replyError(id, code: -32601, message: "method not found: \(method)") }
    }
    return nil
  }

  static func range(_ value: Any?) -> (start: (line: Int, character: Int), end: (line: Int, character: Int))? {
    guard let r = value as? [String: Any], let s = r["start"] as? [String: Any], let e = r["end"] as? [String: Any] else { return nil }
    return ((s["line"] as? Int ?? 0, s["character"] as? Int ?? 0), (e["line"] as? Int ?? 0, e["character"] as? Int ?? 0))
  }

  func lspRange(_ document: TextDocument, _ r: SourceRange) -> [String: Any] {
    let start = document.position(of: r.start)
    let end = document.position(of: r.end)
    return ["start": ["line": start.line, "character": start.character], "end": ["line": end.line, "character": end.character]]
  }

  // MARK: Features

  /// Parses and checks a document alone, as `rulec check FILE` does.
  func analyse(_ document: TextDocument) -> (RuleFile, [Diagnostic]) {
    let sink = DiagnosticSink()
    let file = RuleLoader.parse(SourceFile(path: document.path, bytes: document.bytes), sink: sink)
    _ = Checker(options: options, sink: sink).check([file])
    return (file, sink.sorted)
  }

  func publishDiagnostics(_ uri: String) {
    guard let document = documents[uri] else { return }
    let (_, diagnostics) = analyse(document)
    published[uri] = diagnostics
    let items: [[String: Any]] = diagnostics.filter { $0.file.path == document.path }.map { d in
      var item: [String: Any] = [
        "range": lspRange(document, d.range), "severity": d.severity == .error ? 1 : d.severity == .warning ? 2 : 3,
        "code": d.code.id, "source": "rulec", "message": d.message.text + (d.message.help.map { "\nhelp: \($0)" } ?? ""),
      ]
      if !d.notes.isEmpty {
        item["relatedInformation"] = d.notes.compactMap { note -> [String: Any]? in
          guard let range = note.range, note.file?.path == document.path else { return nil }
          return ["location": ["uri": uri, "range": lspRange(document, range)], "message": note.message]
        }
      }
      return item
    }
    send(["method": "textDocument/publishDiagnostics", "params": ["uri": uri, "version": document.version, "diagnostics": items]])
  }

  /// The whole document formatted, as one edit; nil for a YAML file or one with syntax errors.
  func formatting(_ params: [String: Any]) -> [[String: Any]]? {
    guard let uri = (params["textDocument"] as? [String: Any])?["uri"] as? String, let document = documents[uri],
      !RuleLoader.isYAML(document.path)
    else { return nil }
    let sink = DiagnosticSink()
    let file = Parser.parse(SourceFile(path: document.path, bytes: document.bytes), sink: sink)
    guard !sink.hasErrors else { return nil }
    let formatted = Printer.format(file)
    guard Array(formatted.utf8) != document.bytes else { return [] }
    return [["range": lspRange(document, SourceRange(0, document.bytes.count)), "newText": formatted]]
  }

  /// Collectors (with their id's range) and, inside each, its stages.
  func symbols(_ params: [String: Any]) -> [[String: Any]] {
    guard let uri = (params["textDocument"] as? [String: Any])?["uri"] as? String, let document = documents[uri] else { return [] }
    let (file, _) = analyse(document)
    return file.collectors.map { c in
      let stages: [[String: Any]] = c.clauses.compactMap { clause in
        guard case .stage(let stage) = clause.kind else { return nil }
        return [
          "name": clause.keyword.text, "detail": "\(stage.statements.count) statement\(stage.statements.count == 1 ? "" : "s")",
          "kind": 3, "range": lspRange(document, clause.range), "selectionRange": lspRange(document, clause.keyword.range),
        ]
      }
      return [
        "name": c.id.text, "detail": "collector", "kind": 5, "range": lspRange(document, c.range),
        "selectionRange": lspRange(document, c.id.range), "children": stages,
      ]
    }
  }

  static let keywordHelp: [String: String] = [
    "collector": "`collector ID { ... }`: watches one model's predictions and copies a chosen subset of its inputs into another app.",
    "source": "`source USER/APP/MODEL [version ID]`: the model whose predictions the collector watches (`*` for any).",
    "destination": "`destination USER/APP`: the app the collected inputs are posted to.",
    "key": "`key env NAME` or `key file PATH`: where the destination key (PostInputs scope) is read; never the key itself.",
    "pre_queue": "`pre_queue { ... }`: statements over the model's output (concepts, regions, frames), run first.",
    "post_queue": "`post_queue { ... }`: statements over the original input (media, text, metadata), run last.",
    "require": "`require EXPR`: keeps only inputs for which EXPR holds.",
    "drop": "`drop if EXPR`: drops the inputs for which EXPR holds.",
    "sample": "`sample RATE [by PATH] [seed SEED]`: keeps a deterministic fraction of the inputs (a hash of the key).",
    "limit": "`limit N per [M] UNIT`: keeps at most N inputs per window of event time.",
    "map": "`map { a, b -> c }` or `map file PATH`: renames the model's concepts before the rules see them.",
    "collect_outputs": "`collect_outputs [concepts, regions]`: copies the prediction onto the collected input.",
    "datasets": "`datasets [ID, ...]`: the destination datasets the inputs are added to.",
  ]

  /// A diagnostic's explanation under the cursor, else a keyword's or a function's meaning.
  func hover(_ params: [String: Any]) -> [String: Any]? {
    guard let uri = (params["textDocument"] as? [String: Any])?["uri"] as? String, let document = documents[uri],
      let p = params["position"] as? [String: Any]
    else { return nil }
    let offset = document.offset(line: p["line"] as? Int ?? 0, character: p["character"] as? Int ?? 0)
    if let d = published[uri]?.first(where: { $0.range.start <= offset && offset <= $0.range.end }) {
      return ["contents": ["kind": "markdown", "value": "**\(d.code.id) \(d.code.name)** (\(d.code.severity.rawValue)): \(d.code.summary)\n\n\(d.code.explanation)"]]
    }
    // The word under the cursor.
    var start = offset
    var end = offset
    func isWord(_ b: UInt8) -> Bool { Lexer.isNameContinue(b) }
    while start > 0 && isWord(document.bytes[start - 1]) { start -= 1 }
    while end < document.bytes.count && isWord(document.bytes[end]) { end += 1 }
    guard start < end else { return nil }
    let word = String(decoding: document.bytes[start..<end], as: UTF8.self)
    let text: String
    if let help = Self.keywordHelp[word] {
      text = help
    } else if let aggregate = AggregateKind(name: word) {
      text = "`\(word)(concepts)`: \(aggregate.isProbability ? "a probability" : "a number") computed over the output's concepts (Grammar.md §6.1)."
    } else {
      return nil
    }
    return ["contents": ["kind": "markdown", "value": text], "range": lspRange(document, SourceRange(start, end))]
  }

  /// On a `map file "PATH"`: the map file, relative to the document's folder.
  func definition(_ params: [String: Any]) -> [String: Any]? {
    guard let uri = (params["textDocument"] as? [String: Any])?["uri"] as? String, let document = documents[uri],
      let p = params["position"] as? [String: Any]
    else { return nil }
    let offset = document.offset(line: p["line"] as? Int ?? 0, character: p["character"] as? Int ?? 0)
    let (file, _) = analyse(document)
    for c in file.collectors {
      for clause in c.clauses {
        guard case .map(let map) = clause.kind, let target = map.file, target.range.start <= offset && offset <= target.range.end else { continue }
        let folder = (document.path as NSString).deletingLastPathComponent
        let path = target.text.hasPrefix("/") ? target.text : (folder as NSString).appendingPathComponent(target.text)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return ["uri": URL(fileURLWithPath: path).absoluteString, "range": ["start": ["line": 0, "character": 0], "end": ["line": 0, "character": 0]]]
      }
    }
    return nil
  }

  func completion() -> [String: Any] {
    var items: [[String: Any]] = []
    for k in Parser.clauseKeywords + Parser.statementKeywords { items.append(["label": k, "kind": 14]) }
    for f in ["concept"] + AggregateKind.allCases.map(\.name) + ["count", "exists", "length", "type"] {
      items.append(["label": f, "kind": 3, "insertText": f + "("])
    }
    for w in ["concepts", "regions", "frames", "metadata", "input", "model", "any", "all", "where", "and", "or", "not", "in"] {
      items.append(["label": w, "kind": 14])
    }
    return ["isIncomplete": false, "items": items]
  }
}
