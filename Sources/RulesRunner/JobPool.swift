import Foundation

/// The threads of `--jobs N`: the calling thread and N − 1 threads of the pool's own, named
/// `rulec-job-2` … `rulec-job-N`, made once per run. Each takes the next task of a round until none
/// is left. (`DispatchQueue.concurrentPerform`, used before, sizes its width by the machine's cores,
/// not by N.) Tasks are coarse (a share of about 256 KiB of lines), so one condition serves for
/// handing them out and for waiting. A round lasts about a millisecond, so a thread that runs out of
/// work polls for a while before it sleeps: sleeping at once made every round wait for wake-ups, and
/// two jobs 1.3–1.5× slower than with `concurrentPerform` (R2, R3, R6 over 300k outputs).
final class JobPool: @unchecked Sendable {
  private let condition = NSCondition()
  /// The round's tasks: `task(k)` for k in 0..<count, handed out in order.
  private var task: ((Int) -> Void)?
  private var count = 0
  private var next = 0
  private var unfinished = 0
  private var running = 0
  private var stopping = false
  /// How many times a thread out of work yields and looks again before it sleeps.
  static let polls = 256

  init(threads: Int) {
    running = max(0, threads - 1)
    for k in stride(from: 2, through: threads, by: 1) {
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

  /// Runs `body(k)` for every k in 0..<count on the calling thread and the pool's, and returns when
  /// all are done.
  func perform(_ count: Int, _ body: (Int) -> Void) {
    // `body` is held only until every task has returned, before this function does.
    withoutActuallyEscaping(body) { body in
      condition.lock()
      task = body
      self.count = count
      next = 0
      unfinished = count
      condition.broadcast()
      condition.unlock()
      runTasks()
      condition.lock()
      waitUntil { unfinished == 0 }
      task = nil
      condition.unlock()
    }
  }

  /// Ends the pool's threads and waits for them (between rounds).
  func stop() {
    condition.lock()
    stopping = true
    condition.broadcast()
    while running > 0 { condition.wait() }
    condition.unlock()
  }

  /// Takes and runs tasks of the current round until none is left.
  private func runTasks() {
    condition.lock()
    while let body = task, next < count {
      let index = next
      next += 1
      condition.unlock()
      body(index)
      condition.lock()
      unfinished -= 1
      if unfinished == 0 { condition.broadcast() }
    }
    condition.unlock()
  }

  /// With the lock held: returns once `ready()` holds, polling `polls` times, then sleeping.
  private func waitUntil(_ ready: () -> Bool) {
    var polls = 0
    while !ready() {
      if polls < Self.polls {
        polls += 1
        condition.unlock()
        sched_yield()
        condition.lock()
      } else {
        condition.wait()
      }
    }
  }

  private func work() {
    condition.lock()
    while true {
      waitUntil { stopping || (task != nil && next < count) }
      if stopping { break }
      condition.unlock()
      runTasks()
      condition.lock()
    }
    running -= 1
    condition.broadcast()
    condition.unlock()
  }
}
