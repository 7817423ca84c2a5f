// swift-tools-version: 6.1
import PackageDescription

// Benchmarks run by hand (`swift package benchmark` in this folder), never in CI.
let package = Package(
  name: "rulec-benchmarks",
  platforms: [.macOS(.v13)],
  dependencies: [
    .package(name: "rulec", path: ".."),
    .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
  ],
  targets: [
    .executableTarget(
      name: "CheckBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "Rules", package: "rulec"),
      ],
      path: "Benchmarks/CheckBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    .executableTarget(
      name: "VMBenchmarks",
      dependencies: [
        .product(name: "Benchmark", package: "benchmark"),
        .product(name: "Rules", package: "rulec"),
      ],
      path: "Benchmarks/VMBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
  ],
  swiftLanguageModes: [.v6]
)
