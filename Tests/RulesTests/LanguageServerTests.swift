import Foundation
import RulesEditor
import Testing

/// `rulec lsp` in-process: positions in UTF-16 units, incremental edits, and the JSON-RPC framing
/// (a real client drives the binary in `tools/lsp/test_lsp.py`, run by `.ci/run`).
@Suite struct LanguageServerTests {
  @Test func positionsAreUTF16UnitsAndEditsApplyInPlace() {
    var document = TextDocument(uri: "file:///tmp/a%20b.rule", version: 1, text: "ab🐶c\né x\n")
    #expect(document.path == "/tmp/a b.rule")
    // 🐶 is 4 bytes and 2 UTF-16 units.
    #expect(document.offset(line: 0, character: 2) == 2)
    #expect(document.offset(line: 0, character: 4) == 6)
    #expect(document.position(of: 6) == (0, 4))
    #expect(document.offset(line: 1, character: 1) == 10)  // é is 2 bytes, 1 unit
    #expect(document.offset(line: 0, character: 99) == 7)  // past the end of a line: its end (before the newline)
    #expect(document.offset(line: 9, character: 0) == document.bytes.count)
    document.apply(range: ((0, 4), (0, 5)), text: "d!")
    #expect(String(decoding: document.bytes, as: UTF8.self) == "ab🐶d!\né x\n")
    document.apply(range: nil, text: "new")
    #expect(document.bytes == Array("new".utf8))
  }

  @Test func framedMessagesInAnswersOut() throws {
    final class Sent: @unchecked Sendable { var bytes: [UInt8] = [] }
    let sent = Sent()
    let server = LanguageServer { sent.bytes += $0 }
    func frame(_ object: [String: Any]) throws -> Data {
      let body = try JSONSerialization.data(withJSONObject: object)
      return Data("Content-Length: \(body.count)\r\n\r\n".utf8) + body
    }
    let pipe = Pipe()
    var input = Data()
    input += try frame(["jsonrpc": "2.0", "id": 1, "method": "initialize", "params": [:]])
    input += try frame([
      "jsonrpc": "2.0", "method": "textDocument/didOpen",
      "params": ["textDocument": ["uri": "file:///x.rule", "languageId": "rulec", "version": 1, "text": "collector {"]],
    ])
    input += try frame(["jsonrpc": "2.0", "id": 2, "method": "no/such"])
    input += Data("Content-Length: 5\r\n\r\n{bad}".utf8)
    input += try frame(["jsonrpc": "2.0", "id": 3, "method": "shutdown"])
    input += try frame(["jsonrpc": "2.0", "method": "exit"])
    pipe.fileHandleForWriting.write(input)
    try pipe.fileHandleForWriting.close()
    #expect(server.run(input: pipe.fileHandleForReading) == 0)
    let text = String(decoding: sent.bytes, as: UTF8.self)
    #expect(text.contains(#""documentFormattingProvider":true"#))
    #expect(text.contains("publishDiagnostics") && text.contains(#""code":"RC1006""#))
    #expect(text.contains(#""code":-32601"#))  // an unknown request
    #expect(text.contains(#""code":-32700"#))  // a body that is not JSON
    #expect(text.contains(#""id":3,"jsonrpc":"2.0","result":null"#))
  }
}
