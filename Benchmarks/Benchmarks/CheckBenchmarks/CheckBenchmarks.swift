import Benchmark
import RulecCommands
import RulesDiagnostics
import RulesSema
import RulesSource
import RulesSyntax

/// A generated rule file of `count` realistic collectors (about 590 bytes each).
func generatedFile(collectors count: Int) -> SourceFile {
  var text = ""
  text.reserveCapacity(count * 600)
  for i in 0..<count {
    text += """
      collector c\(i) {
        description "generated collector \(i)"
        source clarifai/main/general-image-recognition version 0000000000000000000000000000000\(i % 7)
        destination acme/app-\(i % 13)
        datasets [ds-\(i % 5)]
        key env KEY_\(i % 3)
        map {
          dog, puppy -> canine
          cat, kitten -> feline
        }
        pre_queue {
          require any concept in [canine, feline] > 0.\(i % 9 + 1)
          require max(concepts) < 0.6 or margin(concepts) < 0.1
          drop if metadata.source == "test-harness" and metadata.country in [US, CA]
          sample \(i % 50 + 1)% by metadata.user_id
          limit \(i + 1) per day
        }
        post_queue {
          require input.kind == image and length(input.text) < 500
        }
      }


      """
  }
  return SourceFile(path: "generated.rule", text: text)
}

let benchmarks: @Sendable () -> Void = {
  Benchmark.defaultConfiguration.maxDuration = .seconds(10)
  Benchmark.defaultConfiguration.maxIterations = 20
  let metrics: [BenchmarkMetric] = [.wallClock, .cpuTotal, .peakMemoryResident, .mallocCountTotal]

  // The target: check a file of 10,000 collectors well under a second.
  Benchmark("check 10k collectors (lex+parse+check)", configuration: .init(metrics: metrics)) { benchmark in
    let file = generatedFile(collectors: 10_000)
    benchmark.startMeasurement()
    let sink = DiagnosticSink()
    let parsed = Parser.parse(file, sink: sink)
    let program = Checker(sink: sink).check([parsed])
    benchmark.stopMeasurement()
    precondition(sink.diagnostics.isEmpty && program.collectors.count == 10_000)
    blackHole(program)
  }

  Benchmark("lex 10k collectors", configuration: .init(metrics: metrics)) { benchmark in
    let file = generatedFile(collectors: 10_000)
    benchmark.startMeasurement()
    blackHole(Lexer.lex(file, sink: DiagnosticSink()).tokens.count)
  }

  Benchmark("parse 10k collectors", configuration: .init(metrics: metrics)) { benchmark in
    let file = generatedFile(collectors: 10_000)
    benchmark.startMeasurement()
    blackHole(Parser.parse(file, sink: DiagnosticSink()).collectors.count)
  }

  Benchmark("format 10k collectors", configuration: .init(metrics: metrics)) { benchmark in
    let parsed = Parser.parse(generatedFile(collectors: 10_000), sink: DiagnosticSink())
    benchmark.startMeasurement()
    blackHole(Printer.format(parsed).utf8.count)
  }
}
