import Foundation
import RulesEngine
import RulesEvents

/// `rulec run --jobs N`: N threads decode the lines of a block in rounds, and decide there the
/// collectors whose outcome depends on the event alone; the lines are then offered to the engine
/// in file order, so the output and the report do not depend on N.
extension Runner {
  /// What a decoding share reads, made for it alone: its own scanner and job evaluator (objects
  /// shared by the jobs had their reference counts bumped from both cores on every event, and the
  /// cache line bounced between them).
  struct JobContext {
    let scanner: OutputScanner
    var evaluator: JobEvaluator
    /// The event a line is decoded into, kept from round to round (made anew for each share, its
    /// arrays were allocated again: half an allocation a line with two jobs).
    var scratch: [Event] = []
  }

  /// Several jobs: each share of a round's lines is decoded into its own reused events (and the
  /// collectors whose outcome depends on the event alone are decided there); then the lines are
  /// replayed in file order. Rounds overlap: round k is replayed as one more task beside the
  /// decoding of round k + 1 (replaying after the jobs had finished left a core idle meanwhile),
  /// and each round has two shares per job, so the tasks even out over the threads.
  func runJobs(
    _ reader: ChunkReader, emit: ([UInt8]) -> Void, progress: ((Int, Int) -> Void)?, _ e: inout CollectorEngine
  ) throws {
    let precompute = e.decidesOnJobs
    let summarize = precompute && e.allPure
    let shares = 2 * jobs
    // Two sets of share outputs: the one being filled and the one being replayed.
    let outputSets = (0..<2).map { _ in (0..<shares).map { _ in JobOutput() } }
    let made = try (0..<shares).map { _ throws in JobContext(scanner: e.makeScanner(), evaluator: try e.makeJobEvaluator()) }
    // In raw storage: each share's task works on its own context in place (invariant: share k's
    // task alone touches `contexts[k]`, and the round waits for every task before the next).
    let contexts = UnsafeMutableBufferPointer<JobContext>.allocate(capacity: shares)
    _ = contexts.initialize(from: made)
    defer {
      contexts.deinitialize()
      contexts.deallocate()
    }
    let jobContexts = SharedShares(contexts)
    let pool = JobPool(threads: jobs)
    defer { pool.stop() }
    // The bytes of the next round: smaller after a round of many small outputs (see below).
    // The first round is small (a run that starts with dense lines would fill a whole round before
    // the limit could adapt) and grows by doubling.
    var roundLimit = Self.firstRound
    try reader.forEachBlock { block, blockLines, offset in
      // Progress counts bytes of the whole file: a round's lines lie in this block, at `offset`.
      let progress = progress.map { told in { (bytes: Int, events: Int) in told(offset + bytes, events) } }
      // A block goes through in rounds of at most 256 KiB: what the jobs hand over is held until it
      // is replayed, and 8 MiB of empty outputs (`{}` is 3 bytes) held 2.8 million of them (1 GB).
      // With two rounds alive at once (one decoded, one replayed), lines of 10,000 empty outputs
      // peaked at 136 MB in rounds of 256 KiB, 196 MB in rounds of 512 KiB, 104 MB in rounds of
      // 128 KiB; on ordinary outputs 256 KiB is as fast as 512 KiB and 128 KiB 10% slower (R4, two
      // jobs, 300k outputs: 0.56, 0.55 and 0.62 s). Rounds dense in outputs are made smaller
      // (`roundOutputs`): that input now peaks at 101 MB, as fast as in fixed rounds.
      var replaying: Round?
      var roundStart = 0
      var parity = 0
      while roundStart < blockLines.count {
        var roundEnd = roundStart
        var roundBytes = 0
        while roundEnd < blockLines.count && (roundEnd == roundStart || roundBytes < roundLimit) {
          if case .bytes(_, let r) = blockLines[roundEnd] { roundBytes += r.count + 1 }
          roundEnd += 1
        }
        let round = Round(lines: Array(blockLines[roundStart..<roundEnd]), shares: shares, outputs: outputSets[parity])
        roundStart = roundEnd
        parity ^= 1
        // The replay runs as one of the tasks (on whichever thread takes it; never two at once).
        var stopped: Error?
        let previous = replaying
        pool.perform(shares + 1) { index in
          if index < shares {
            Self.decode(
              share: index, of: round, block: block, context: jobContexts.base.baseAddress! + index, precompute: precompute,
              summarize: summarize)
          } else if let previous {
            do { try self.replay(previous, block: block, progress: progress, emit: emit, &e) } catch { stopped = error }
          }
        }
        if let stopped { throw stopped }
        // What a round holds grows with its outputs, not its bytes: a round of lines of empty
        // outputs held 87,000 of them. A round with more than `roundOutputs` makes the next one
        // smaller in proportion; the limit then grows back by doubling. Lines of 10,000 empty
        // outputs peaked at 101 MB with two jobs; with a small first round and growth only well
        // below the limit, at 78 MB.
        var decoded = 0
        for outcome in round.outcomes { if case .events(let count) = outcome { decoded += count } }
        if decoded > Self.roundOutputs {
          roundLimit = max(Self.smallestRound, roundBytes / decoded * Self.roundOutputs)
        } else {
          // Only well below the limit: doubling after a round at the limit made dense input
          // alternate between one and two limits' worth of outputs.
          if decoded * 2 <= Self.roundOutputs { roundLimit = min(Self.roundBytes, roundLimit * 2) }
        }
        replaying = round
      }
      if let replaying { try replay(replaying, block: block, progress: progress, emit: emit, &e) }
    }
  }

  /// How many lines ahead the replay prefetches (it spends about a fifth of a microsecond a line).
  static let prefetchDistance = 4

  /// The bytes of lines the jobs take in one round (see `runJobs`).
  static let roundBytes = 256 << 10
  /// The outputs a round may hold before the next round is made smaller, and the smallest round.
  static let roundOutputs = 16_384
  static let smallestRound = 4 << 10
  static let firstRound = 32 << 10

  /// The lines of one round of `--jobs`, the jobs' shares of them, and what the jobs made of them.
  final class Round: @unchecked Sendable {
    let lines: [ChunkReader.Line]
    /// Each line's outcome, written by the job whose share holds it.
    let outcomes: UnsafeMutableBufferPointer<LineOutcome>
    /// Share j is lines `bounds[j]..<bounds[j + 1]`: shares of about equal bytes (equal numbers of
    /// lines left one job waiting for the other when one share held the long lines).
    let bounds: [Int]
    let outputs: [JobOutput]

    init(lines: [ChunkReader.Line], shares: Int, outputs: [JobOutput]) {
      self.lines = lines
      self.outputs = outputs
      outcomes = .allocate(capacity: max(1, lines.count))
      outcomes.initialize(repeating: .blank)
      var total = 0
      for line in lines { if case .bytes(_, let r) = line { total += r.count + 1 } }
      var bounds = [0]
      var bytes = 0
      for (k, line) in lines.enumerated() {
        if case .bytes(_, let r) = line { bytes += r.count + 1 }
        while bounds.count < shares && bytes * shares >= total * bounds.count { bounds.append(k + 1) }
      }
      while bounds.count <= shares { bounds.append(lines.count) }
      self.bounds = bounds
    }

    deinit {
      outcomes.deinitialize()
      outcomes.deallocate()
    }
  }

  /// One job's share of a round: decodes its lines into the job's reused events and, when
  /// `precompute`, decides the pure collectors on them. Touches nothing of the runner.
  static func decode(
    share job: Int, of round: Round, block: UnsafeBufferPointer<UInt8>, context: UnsafeMutablePointer<JobContext>,
    precompute: Bool, summarize: Bool
  ) {
    let lo = round.bounds[job]
    let hi = round.bounds[job + 1]
    let out = round.outputs[job]
    out.verdicts.removeAll(keepingCapacity: true)
    out.lineVerdicts.removeAll(keepingCapacity: true)
    out.items.removeAll(keepingCapacity: true)
    guard lo < hi else { return }
    // The job's events are a local while it works: reached through the class they were checked
    // for exclusive access and uniqueness (and copied) on every use.
    var events = out.events
    out.events = []
    defer { out.events = events }
    while events.count < hi - lo { events.append([]) }
    var scratch = context.pointee.scratch
    context.pointee.scratch = []
    defer { context.pointee.scratch = scratch }
    for k in lo..<hi {
      let first = out.verdicts.count
      defer { out.lineVerdicts.append(first..<out.verdicts.count) }
      guard case .bytes(let number, let range) = round.lines[k] else { continue }
      let bytes = UnsafeBufferPointer(rebasing: block[range])
      // The line is decoded into `scratch`. When every collector is decided here it stays the
      // one event in cache and the main thread gets only what it reads (status, time, model,
      // ids): keeping each line's full events until then walked megabytes of concept arrays per
      // block, and two jobs cost 1.5 times the CPU of one. Otherwise the line's own events are
      // swapped in and back out (an O(1) swap of array buffers).
      if !summarize { swap(&scratch, &events[k - lo]) }
      let outcome = decode(context.pointee.scanner, bytes, number, into: &scratch)
      round.outcomes[k] = outcome
      if precompute, case .events(let count) = outcome {
        scratch.withUnsafeBufferPointer { decoded in
          for e in 0..<count {
            context.pointee.evaluator.verdicts(for: decoded.baseAddress! + e, output: Int32(e), line: bytes, into: out)
          }
        }
      }
      if !summarize {
        swap(&scratch, &events[k - lo])
      } else if case .events(let count) = outcome {
        while events[k - lo].count < count { events[k - lo].append(Event()) }
        // Lent by pointer: `scratch[e]` as an argument copied the event, retaining and releasing
        // its every field (R4, two jobs: retain and release 5.1% → 4.1% of the profile).
        scratch.withUnsafeBufferPointer { decoded in
          for e in 0..<count { JobEvaluator.summarize(decoded.baseAddress! + e, into: &events[k - lo][e]) }
        }
      }
    }
  }

  /// Goes through a decoded round's lines in file order: counts, accepted items and the report,
  /// exactly as one job would.
  func replay(
    _ round: Round, block: UnsafeBufferPointer<UInt8>, progress: ((Int, Int) -> Void)?, emit: ([UInt8]) -> Void,
    _ e: inout CollectorEngine
  ) throws {
    defer {
      if let progress, case .bytes(_, let r)? = round.lines.last { progress(r.upperBound + 1, e.report.events) }
    }
    let decided = e.decidesOnJobs
    // As with one job: the accepted-input slots of a line a few lines ahead are loaded meanwhile.
    let prefetching = e.prefetchesAccepted
    for job in 0..<(round.bounds.count - 1) {
      let out = round.outputs[job]
      let lo = round.bounds[job]
      let hi = round.bounds[job + 1]
      for k in lo..<hi {
        if prefetching && k + Self.prefetchDistance < hi, case .events(let count) = round.outcomes[k + Self.prefetchDistance] {
          e.prefetchAccepted(out.events[k + Self.prefetchDistance - lo], count: count)
        }
        guard let (number, bytes) = try readable(round.lines[k], in: block, &e) else { continue }
        if decided {
          try out.items.withUnsafeBufferPointer { items in
            let verdicts = out.verdicts[out.lineVerdicts[k - lo]]
            try handle(round.outcomes[k], out.events[k - lo], bytes, number, precomputed: (verdicts, items), &e)
          }
        } else {
          try handle(round.outcomes[k], out.events[k - lo], bytes, number, precomputed: nil, &e)
        }
        flushIfFull(emit, &e)
      }
    }
  }
}

/// The shares' contexts as the pool's threads see them; each task uses only its own index.
struct SharedShares: @unchecked Sendable {
  let base: UnsafeMutableBufferPointer<Runner.JobContext>
  init(_ base: UnsafeMutableBufferPointer<Runner.JobContext>) { self.base = base }
}
