import Foundation
import RulesCompiler
import RulesEngine
import RulesEvents
import RulesSema

/// Runs checked collectors over a recording of model outputs (`rulec run`): reads the file in blocks,
/// decodes each line (on one thread, or on `jobs` threads), and offers the outputs to the collector
/// engine in file order; the engine's accepted items go to `emit`. The stage logic is the engine's:
/// this type only reads, decodes and orders.
public final class Runner {
  /// The engine between runs; a run takes it out and offers events to it as a local (passed down
  /// `inout`: as a property of this class every event paid dynamic exclusivity checks on it).
  var engine: CollectorEngine?
  /// The funnel so far.
  public var report: RunReport { engine?.report ?? RunReport(collectors: []) }
  /// Stop at the first bad line (`--strict`).
  public var stopAtBadLine = false
  /// Called for each event of this input id, with a trace of every statement (`--explain`).
  public var explainInput: String?
  public var explanation: [String] { engine?.explanation ?? [] }
  /// Told of every accepted input, in file order: its collector, destination id and item (`--forward`).
  public var onAccept: ((CheckedCollector, String, ArraySlice<UInt8>) -> Void)?
  /// `emit` receives `AcceptedInputRecords` instead of items (`rulec diff`).
  public var recordsAcceptedInputs = false
  /// Threads that decode lines (`--jobs`); evaluation stays in file order, so the output and the
  /// report do not depend on it.
  public var jobs = 1

  /// Which evaluator runs the conditions.
  public typealias Engine = CollectorEngine.Evaluator

  public init(program: CheckedProgram, engine: Engine = .vm, compilerOptions: CompilerOptions = CompilerOptions()) throws {
    self.engine = try CollectorEngine(program: program, evaluator: engine, compilerOptions: compilerOptions)
  }

  /// Moves the engine out for a run, with this runner's settings; `putBack` returns it.
  func takeEngine() -> CollectorEngine {
    var e = engine!
    engine = nil
    e.explainInput = explainInput
    e.onAccept = onAccept
    e.recordsAcceptedInputs = recordsAcceptedInputs
    return e
  }

  func putBack(_ e: CollectorEngine) { engine = e }

  /// Why a run stopped early.
  public struct StoppedAtBadLine: Error {
    public var line: Int
    public var reason: String
  }

  /// Accepted items are handed to `emit` about this many bytes at a time.
  static let outputBlock = 1 << 20

  /// How one line decoded: its outputs (held in the decoding job's reused events), or why it failed.
  enum LineOutcome {
    case events(Int)
    case failed(DecodeError)
    case blank
  }

  /// Runs over every line of `reader`; `emit` receives the accepted items, one JSON line each, in
  /// blocks of about 1 MiB (and the rest at the end). `progress` is told the bytes read and the
  /// events seen so far.
  public func run(_ reader: ChunkReader, emit: ([UInt8]) -> Void, progress: ((Int, Int) -> Void)? = nil) throws {
    var e = takeEngine()
    defer {
      if !e.output.isEmpty {
        emit(e.output)
        e.output.removeAll(keepingCapacity: true)
      }
      putBack(e)
    }
    if jobs > 1 {
      try runJobs(reader, emit: emit, progress: progress, &e)
      return
    }
    // One job: each line is decoded into the same reused events and offered at once, while its
    // bytes are still in cache. The scanner starts loading the accepted-input slots of a line's
    // input as soon as it reads the input's id.
    let scanner = e.makeScanner(hinting: true)
    var events: [Event] = []
    try reader.forEachBlock { block, lines, offset in
      defer {
        // Bytes of the file read so far: the block's place in it plus the lines done in it (the
        // place in the block alone kept the bar near 0%).
        if let progress, case .bytes(_, let r)? = lines.last { progress(offset + r.upperBound + 1, e.report.events) }
      }
      for line in lines {
        guard let (number, bytes) = try readable(line, in: block, &e) else { continue }
        try handle(Self.decode(scanner, bytes, number, into: &events), events, bytes, number, precomputed: nil, &e)
        flushIfFull(emit, &e)
      }
    }
  }

  /// Runs over a recording that is one JSON document (`JSONDocument`): an output or response spread
  /// over lines, or an array of them. Each value is decoded and offered as a line would be; a value
  /// that cannot be read is a bad line, numbered by the line it starts on. Returns false, having
  /// done nothing, when the bytes are not one JSON document (a JSON Lines file whose first line is
  /// cut short looks like one at first): read them as JSON Lines then.
  public func run(document bytes: [UInt8], emit: ([UInt8]) -> Void) throws -> Bool {
    let values: [Range<Int>]
    do throws(DecodeError) {
      values = try bytes.withUnsafeBufferPointer { all throws(DecodeError) in try JSONDocument.values(of: all) }
    } catch {
      return false
    }
    var e = takeEngine()
    defer {
      if !e.output.isEmpty { emit(e.output) }
      e.output.removeAll(keepingCapacity: true)
      putBack(e)
    }
    let decoder = e.decoder
    try bytes.withUnsafeBufferPointer { all in
      let lines = all.reduce(into: 1) { count, b in if b == 10 { count += 1 } }
      var line = 1
      var scanned = 0
      for range in values {
        // The line the value starts on, counted on from the last one.
        for k in scanned..<range.lowerBound where all[k] == 10 { line += 1 }
        scanned = range.lowerBound
        // Read as one line would be, its indentation gone (items copy media and metadata as written).
        let compacted = JSONDocument.compact(UnsafeBufferPointer(rebasing: all[range]))
        try compacted.withUnsafeBufferPointer { value in
          do throws(DecodeError) {
            let events = try decoder.decode(line: value, lineNumber: line)
            e.countLine(line)
            e.offer(line: events, count: events.count, bytes: value)
          } catch {
            try bad(line, error.description, &e)
          }
        }
        flushIfFull(emit, &e)
      }
      e.countLine(lines)
    }
    return true
  }

  /// Offers one output to the collectors; `line` holds the bytes it was read from.
  public func process(_ event: Event, line: UnsafeBufferPointer<UInt8>) {
    var e = takeEngine()
    e.offer(event, line: line)
    putBack(e)
  }

  /// Decodes one line (a blank line holds no output).
  static func decode(_ scanner: OutputScanner, _ bytes: UnsafeBufferPointer<UInt8>, _ number: Int, into events: inout [Event]) -> LineOutcome {
    if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { return .blank }
    do throws(DecodeError) {
      return .events(try scanner.decode(line: bytes, lineNumber: number, into: &events))
    } catch {
      return .failed(error)
    }
  }

  /// Counts a bad line, or offers a line's outputs.
  func handle(
    _ outcome: LineOutcome, _ events: [Event], _ bytes: UnsafeBufferPointer<UInt8>, _ number: Int,
    precomputed: (verdicts: ArraySlice<Verdict>, items: UnsafeBufferPointer<UInt8>)?, _ e: inout CollectorEngine
  ) throws {
    switch outcome {
    case .blank: e.countLine(number)
    case .failed(let error): try bad(number, error.description, &e)
    case .events(let count):
      e.countLine(number)
      e.offer(line: events, count: count, bytes: bytes, precomputed: precomputed)
    }
  }

  func bad(_ line: Int, _ reason: String, _ e: inout CollectorEngine) throws {
    e.countLine(line, badReason: reason)
    if stopAtBadLine { throw StoppedAtBadLine(line: line, reason: reason) }
  }

  /// A line's number and bytes; nil for a line too long to read, which is counted as bad.
  func readable(
    _ line: ChunkReader.Line, in block: UnsafeBufferPointer<UInt8>, _ e: inout CollectorEngine
  ) throws -> (Int, UnsafeBufferPointer<UInt8>)? {
    switch line {
    case .tooLong(let number, let length):
      try bad(number, "line is \(length) bytes, longer than the limit of \(LineReader.defaultMaxLineLength)", &e)
      return nil
    case .bytes(let number, let range):
      // Counted by `handle`.
      return (number, UnsafeBufferPointer(rebasing: block[range]))
    }
  }

  /// Hands the accepted items over once about 1 MiB has gathered.
  @inline(__always) func flushIfFull(_ emit: ([UInt8]) -> Void, _ e: inout CollectorEngine) {
    guard e.output.count >= Self.outputBlock else { return }
    emit(e.output)
    e.output.removeAll(keepingCapacity: true)
  }
}
