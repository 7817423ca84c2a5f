import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `rulec serve` against clients that misbehave, over plain sockets: a head trickled in a byte at a
/// time (slowloris), a body that stalls and an idle connection are cut off; a malformed chunk size
/// gets 400 (it got 413); bodies beyond the memory budget wait their turn with 503 and Retry-After.
@Suite(.serialized) struct HostileClientTests {
  /// A blocking TCP connection to 127.0.0.1.
  final class Connection {
    let fd: Int32

    init(port: Int) throws {
      fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_port = in_port_t(UInt16(port).bigEndian)
      address.sin_addr.s_addr = inet_addr("127.0.0.1")
      let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
      }
      try #require(connected == 0)
    }

    deinit { close(fd) }

    /// Sends text; false once the server has closed the connection.
    @discardableResult func send(_ text: String) -> Bool {
      Array(text.utf8).withUnsafeBytes { rawSend(fd, $0.baseAddress, $0.count) } > 0
    }

    /// What arrives within `seconds`; `closed` when the server closed the connection.
    func receive(seconds: Double) -> (text: String, closed: Bool) {
      var timeout = timeval()
      timeout.tv_sec = .init(Int(seconds))
      timeout.tv_usec = .init(Int((seconds - Double(Int(seconds))) * 1e6))
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
      var got: [UInt8] = []
      var buffer = [UInt8](repeating: 0, count: 4096)
      while true {
        let n = recv(fd, &buffer, buffer.count, 0)
        if n > 0 {
          got += buffer[0..<n]
          continue
        }
        return (String(decoding: got, as: UTF8.self), n == 0)
      }
    }
  }

  @Test func misbehavingClientsAreCutOffAndAnswered() async throws {
    try await ServeHarness.with("hostile", keys: ["good": true]) { harness in
      let (process, port, _) = try await harness.start(extra: [
        "--header-timeout", "1", "--idle-timeout", "2", "--body-timeout", "2", "--max-body", "1000", "--max-body-memory", "1500",
      ])
      defer {
        process.terminate()
        process.waitUntilExit()
      }
      // A head trickled in, a byte every 0.3 s: cut off about a second after connecting.
      let slow = try Connection(port: port)
      let started = Date()
      var cutOff = false
      for byte in "POST /v1/events HTTP/1.1\r\nHost: x\r\nX-Slow: ".map(String.init) {
        if !slow.send(byte) || slow.receive(seconds: 0.3).closed {
          cutOff = true
          break
        }
      }
      #expect(cutOff)
      #expect(Date().timeIntervalSince(started) < 4)
      // An idle connection after a complete request is closed after the idle timeout.
      let idle = try Connection(port: port)
      idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
      let answer = idle.receive(seconds: 4)
      #expect(answer.text.hasPrefix("HTTP/1.1 200"))
      #expect(answer.closed)
      // A malformed chunk size is a bad request, not a body too large.
      let chunked = try Connection(port: port)
      chunked.send("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sesame\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\nab\r\n0\r\n\r\n")
      #expect(chunked.receive(seconds: 2).text.hasPrefix("HTTP/1.1 400"))
      // Two bodies of 1,000 bytes do not fit 1,500 bytes of body memory: whichever the server reads
      // second is told to come back (503, Retry-After); the first, stalled mid-body, is cut off once
      // the body timeout has passed, and gives its memory back.
      let first = try Connection(port: port)
      first.send("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sesame\r\nContent-Length: 1000\r\n\r\n{")
      let second = try Connection(port: port)
      second.send("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sesame\r\nContent-Length: 1000\r\n\r\n{")
      let answers = [first.receive(seconds: 5), second.receive(seconds: 5)]
      #expect(answers.filter { $0.text.hasPrefix("HTTP/1.1 503") && $0.text.lowercased().contains("retry-after: 1") }.count == 1, "\(answers)")
      #expect(answers.filter { $0.text.isEmpty && $0.closed }.count == 1, "\(answers)")
      // The memory is free again: a whole body is read.
      let whole = try Connection(port: port)
      let line = #"{"model":{"id":"m"},"input":{"id":"i"},"data":{"concepts":[{"id":"a","value":0.2}]}}"#
      whole.send("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sesame\r\nContent-Length: \(line.utf8.count)\r\n\r\n\(line)")
      #expect(whole.receive(seconds: 3).text.hasPrefix("HTTP/1.1 202"))
      // Declaring more than --max-body is refused before the body is read.
      let large = try Connection(port: port)
      large.send("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sesame\r\nContent-Length: 5000\r\n\r\n")
      #expect(large.receive(seconds: 2).text.hasPrefix("HTTP/1.1 413"))
      // Others are still served throughout.
      let healthy = try Connection(port: port)
      healthy.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
      #expect(healthy.receive(seconds: 2).text.hasPrefix("HTTP/1.1 200"))
    }
  }
}

/// `send(2)` without SIGPIPE on a connection the server closed.
private func rawSend(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
  #if canImport(Glibc)
    Glibc.send(fd, bytes, count, Int32(MSG_NOSIGNAL))
  #else
    Darwin.send(fd, bytes, count, 0)
  #endif
}
