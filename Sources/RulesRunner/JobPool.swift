import Foundation

/// The threads of `--jobs N`: exactly N of them, named `rulec-job-K`, made once per run, each taking
/// the next task of a round until none is left. (`DispatchQueue.concurrentPerform`, used before,
/// sizes its width by the machine's cores, not by N.) Tasks are coarse (a share of about 256 KiB of
/// lines), so one lock and one condition serve for handing them out and for waiting.
final class JobPool: @unchecked Sendable {
  private let condition = NSCondition()
  /// The round's tasks: `task(k)` for k in 0..<count, handed out in order.
  private var task: ((Int) -> Void)?
  private var count = 0
  private var next = 0
  private var unfinished = 0
  private var running = 0
  private var stopping = false

  init(threads: Int) {
    running = threads
    for k in 1...max(1, threads) {
      let name = "rulec-job-\(k)"
      let thread = Thread { [self] in
        Self.nameThisThread(name)
        work()
      }
      // As deep as the main thread's: a line's JSON is read recursively.
      thread.stackSize = 8 << 20
      thread.start()
    }
  }

  /// Gives the calling thread a name `ps -L` and `top -H` show. On Linux, Foundation's `Thread.name`
  /// does not reach the kernel, and Swift does not import `pthread_setname_np`; a thread may write
  /// its own name to `/proc/thread-self/comm` (at most 15 bytes). Elsewhere the name is only Foundation's.
  static func nameThisThread(_ name: String) {
    Thread.current.name = name
    #if os(Linux)
    if let comm = FileHandle(forWritingAtPath: "/proc/thread-self/comm") {
      comm.write(Data(name.utf8.prefix(15)))
      try? comm.close()
    }
    #endif
  }

  /// Runs `body(k)` for every k in 0..<count on the pool's threads and returns when all are done.
  func perform(_ count: Int, _ body: (Int) -> Void) {
    // `body` is held only until every task has returned, before this function does.
    withoutActuallyEscaping(body) { body in
      condition.lock()
      task = body
      self.count = count
      next = 0
      unfinished = count
      condition.broadcast()
      while unfinished > 0 { condition.wait() }
      task = nil
      condition.unlock()
    }
  }

  /// Ends the threads (after the round in progress, if any) and waits for them.
  func stop() {
    condition.lock()
    stopping = true
    condition.broadcast()
    while running > 0 { condition.wait() }
    condition.unlock()
  }

  private func work() {
    condition.lock()
    while true {
      while !stopping && (task == nil || next >= count) { condition.wait() }
      if stopping { break }
      let index = next
      next += 1
      let body = task!
      condition.unlock()
      body(index)
      condition.lock()
      unfinished -= 1
      if unfinished == 0 { condition.broadcast() }
    }
    running -= 1
    condition.broadcast()
    condition.unlock()
  }
}
