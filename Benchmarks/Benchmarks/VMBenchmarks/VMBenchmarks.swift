import RulesLoader
import Benchmark
import Foundation
import RulecCommands
import RulesCompiler
import RulesDiagnostics
import RulesEvents
import RulesEngine
import RulesRunner
import RulesRuntime
import RulesSema
import RulesSource
import RulesSyntax
import RulesVM

/// Loads a rule file and the shipped recording (run from the Benchmarks folder).
func load(_ rules: String, extraCollectors: Int = 0) -> (CheckedProgram, [Event], [[UInt8]], [CompiledCollector], [ReferenceEvaluator]) {
  let sink = DiagnosticSink()
  var program = try! RuleLoader.load(["../rules/bench/\(rules).rule"], options: CheckOptions(), sink: sink).program
  for i in 0..<extraCollectors {
    // Collectors that watch other models: the source index must keep them off these events.
    var other = program.collectors[0]
    other.id = "other-\(i)"
    other.source = SourcePattern(user: "someone", app: "app", model: "model-\(i)", version: nil, caller: nil)
    program.collectors.append(other)
  }
  var projection = MetadataProjection()
  let evaluators = program.collectors.map { ReferenceEvaluator(collector: $0, projection: &projection) }
  var compiled = program.collectors.map { Compiler().compile($0, projection: &projection) }
  // As `rulec run` does: one concept key table, and events read by the scanner with keys resolved.
  var keys: [String] = []
  for i in compiled.indices { compiled[i].program.relocateConceptKeys(into: &keys) }
  for i in compiled.indices { compiled[i].program.conceptKeys = keys }
  let scanner = OutputScanner(projection: projection, conceptKeys: keys, needs: CollectorEngine.needs(of: compiled))
  var events: [Event] = []
  var lines: [[UInt8]] = []
  let text = try! String(contentsOfFile: "../samples/recording.jsonl", encoding: .utf8)
  for (n, line) in text.split(separator: "\n").enumerated() {
    let bytes = Array(line.utf8)
    var decoded: [Event] = []
    let count = bytes.withUnsafeBufferPointer { (try? scanner.decode(line: $0, lineNumber: n + 1, into: &decoded)) ?? 0 }
    for e in decoded.prefix(count) where e.isSuccess {
      events.append(e)
      lines.append(bytes)
    }
  }
  return (program, events, lines, compiled, evaluators)
}

/// The VM's loop as the runner has it, with its state in locals: in the benchmark's closure the
/// engine and counters were captured variables, checked for exclusive access on every use.
@inline(never) func runVM(_ engine: inout VMEngine, _ events: [Event], iterations: Int) -> Int {
  var state = CollectorState()
  var accepted = 0
  // Events lent by pointer, as the runner lends them.
  events.withUnsafeBufferPointer { events in
    for i in 0..<iterations {
      let event = events.baseAddress! + (i & 63)
      engine.begin(event)
      if engine.run(.preQueue, event: event, eventTime: 0, state: &state).passed { accepted += 1 }
    }
  }
  return accepted
}

/// The reference evaluator's loop, in the same shape as `runVM`.
@inline(never) func runReference(_ evaluator: ReferenceEvaluator, _ events: [Event], iterations: Int) -> Int {
  var state = CollectorState()
  var accepted = 0
  for i in 0..<iterations where evaluator.run(.preQueue, event: events[i & 63], eventTime: 0, state: &state).passed { accepted += 1 }
  return accepted
}

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration.maxDuration = .seconds(5)
  let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .mallocCountTotal, .throughput]

  // The VM alone on decoded events, and the reference evaluator on the same events. The events cycle
  // through 64 decoded outputs that stay in cache: walking 2,000 events' scattered strings and arrays
  // costs about 1.5 µs an event in cache misses alone, which would hide what is measured.
  for rule in ["R2", "R4", "R6"] {
    // A million iterations a sample: with a thousand, the first pass over events that `load` had
    // pushed out of cache weighed on every sample (R4: 46 ns a collector-event against 32).
    Benchmark("vm \(rule) per collector-event", configuration: .init(metrics: metrics, scalingFactor: .mega)) { benchmark in
      let (_, all, _, compiled, _) = load(rule)
      let events = Array(all.prefix(64))
      var engine = try! VMEngine(compiled[0])
      benchmark.startMeasurement()
      let accepted = runVM(&engine, events, iterations: benchmark.scaledIterations.count)
      benchmark.stopMeasurement()
      blackHole(accepted)
    }

    Benchmark("reference \(rule) per collector-event", configuration: .init(metrics: metrics, scalingFactor: .kilo)) { benchmark in
      let (_, all, _, _, evaluators) = load(rule)
      let events = Array(all.prefix(64))
      benchmark.startMeasurement()
      let accepted = runReference(evaluators[0], events, iterations: benchmark.scaledIterations.count)
      benchmark.stopMeasurement()
      blackHole(accepted)
    }
  }

  // Reading a line: the general decoder against the projecting scanner, on the same 2,000 lines, for
  // R4's projection (one metadata path, one concept key); one iteration is one line.
  for fast in [false, true] {
    Benchmark(fast ? "scanner R4 per line" : "decoder R4 per line", configuration: .init(metrics: metrics, scalingFactor: .kilo)) {
      benchmark in
      let sink = DiagnosticSink()
      let program = try! RuleLoader.load(["../rules/bench/R4.rule"], options: CheckOptions(), sink: sink).program
      var projection = MetadataProjection()
      var compiled = program.collectors.map { Compiler().compile($0, projection: &projection) }
      var keys: [String] = []
      for i in compiled.indices { compiled[i].program.relocateConceptKeys(into: &keys) }
      let scanner = OutputScanner(projection: projection, conceptKeys: keys, needs: CollectorEngine.needs(of: compiled))
      let decoder = OutputDecoder(projection: projection)
      let text = try! String(contentsOfFile: "../samples/recording.jsonl", encoding: .utf8)
      let lines = text.split(separator: "\n").map { Array($0.utf8) }
      var events: [Event] = []
      var outputs = 0
      benchmark.startMeasurement()
      for i in benchmark.scaledIterations {
        lines[i % lines.count].withUnsafeBufferPointer { bytes in
          if fast {
            outputs += (try? scanner.decode(line: bytes, lineNumber: i, into: &events)) ?? 0
          } else {
            outputs += (try? decoder.decode(line: bytes, lineNumber: i))?.count ?? 0
          }
        }
      }
      benchmark.stopMeasurement()
      blackHole(outputs)
    }
  }

  // 1,000 collectors watching other models must cost an event nothing measurable.
  for extra in [0, 1000] {
    Benchmark("runner R4 with \(extra) other-model collectors", configuration: .init(metrics: metrics, scalingFactor: .kilo)) { benchmark in
      let (program, events, lines, _, _) = load("R4", extraCollectors: extra)
      let runner = try! Runner(program: program)
      benchmark.startMeasurement()
      for i in benchmark.scaledIterations {
        lines[i & 63].withUnsafeBufferPointer { runner.process(events[i & 63], line: $0) }
      }
      benchmark.stopMeasurement()
      blackHole(runner.report.events)
    }
  }
}
