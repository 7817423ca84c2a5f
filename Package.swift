// swift-tools-version: 6.1
import PackageDescription

// The pipeline reads top to bottom: source → tokens → syntax tree → checked program → bytecode →
// the engine (events meet collectors) → the drivers (run, serve) → forwarded inputs.
// Each stage is its own module so a reader sees the flow in `Sources/`.
let package = Package(
  name: "rulec",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "rulec", targets: ["rulec"]),
    // The stages without the servers (no HTTP, no TLS): what the fuzz targets in `Fuzz/` build,
    // with sanitizers, in minutes rather than a quarter of an hour.
    .library(
      name: "RulesCore",
      targets: ["RulesSource", "RulesDiagnostics", "RulesSyntax", "RulesYAML", "RulesSema", "RulesLoader", "RulesEvents"]),
    .library(
      name: "Rules",
      targets: [
        "RulesSource", "RulesDiagnostics", "RulesSyntax", "RulesYAML", "RulesSema", "RulesLoader", "RulesMath", "RulesEvents",
        "RulesRuntime", "RulesVM", "RulesCompiler", "RulesEngine", "RulesRunner", "RulesTesting", "RulesEditor", "RulesSQL", "RulecCommands",
      ]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
  ],
  targets: [
    .target(name: "RulesSource"),
    // Cache hints the engine gives the processor (a prefetch); C, because Swift has none.
    .target(name: "CacheHints"),
    .target(name: "RulesDiagnostics", dependencies: ["RulesSource"]),
    .target(name: "RulesSyntax", dependencies: ["RulesSource", "RulesDiagnostics"]),
    .target(
      name: "RulesYAML",
      dependencies: ["RulesSource", "RulesDiagnostics", "RulesSyntax", .product(name: "Yams", package: "Yams")]),
    // What the checker, both evaluators and the compiler share of the aggregates and the sampling
    // hash, so that the evaluators compute the same bits.
    .target(name: "RulesMath", dependencies: ["RulesSource"]),
    .target(
      name: "RulesSema",
      dependencies: ["RulesSource", "RulesDiagnostics", "RulesSyntax", "RulesMath", .product(name: "Yams", package: "Yams")]),
    // Finds rule files and runs the front end (DSL or YAML) and the checker on them.
    .target(name: "RulesLoader", dependencies: ["RulesSource", "RulesDiagnostics", "RulesSyntax", "RulesYAML", "RulesSema"]),
    // Recordings in, as events: gzip through CompressNIO's zlib streams.
    .target(
      name: "RulesEvents",
      dependencies: ["RulesSource", .product(name: "CompressNIO", package: "compress-nio"), .product(name: "NIOCore", package: "swift-nio")]),
    .target(name: "RulesRuntime", dependencies: ["RulesSyntax", "RulesSema", "RulesEvents", "RulesMath"]),
    .target(name: "RulesVM", dependencies: ["RulesEvents", "RulesMath"]),
    .target(name: "RulesCompiler", dependencies: ["RulesSource", "RulesSyntax", "RulesSema", "RulesEvents", "RulesMath", "RulesVM"]),
    // Events meet collectors here, for every driver.
    .target(
      name: "RulesEngine",
      dependencies: [
        "RulesSource", "RulesDiagnostics", "RulesSyntax", "RulesSema", "RulesMath", "RulesEvents", "RulesRuntime", "RulesVM",
        "RulesCompiler", "CacheHints",
      ]),
    .target(name: "RulesRunner", dependencies: ["RulesSema", "RulesEvents", "RulesCompiler", "RulesEngine", "RulesSyntax", "RulesDiagnostics", "RulesSource"]),
    // Rule tests (`rulec test`): test files read, then run on the engine.
    .target(
      name: "RulesTesting",
      dependencies: [
        "RulesSource", "RulesDiagnostics", "RulesSyntax", "RulesYAML", "RulesSema", "RulesLoader", "RulesEvents", "RulesEngine",
        .product(name: "Yams", package: "Yams"),
      ]),
    // Past one machine: the checked program as one SQL query (`rulec compile --target sql`).
    .target(name: "RulesSQL", dependencies: ["RulesSource", "RulesDiagnostics", "RulesSyntax", "RulesSema", "RulesMath"]),
    // Editors: `rulec lsp` (the Language Server Protocol over stdio).
    .target(name: "RulesEditor", dependencies: ["RulesSource", "RulesDiagnostics", "RulesSyntax", "RulesSema", "RulesLoader", "RulesMath", "RulesTesting"]),
    // The durable queue: SQLite in the state folder (GRDB), or PostgreSQL shared by several processes.
    .target(
      name: "RulesQueue",
      dependencies: [
        "RulesSource", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "Logging", package: "swift-log"), .product(name: "NIOCore", package: "swift-nio"),
      ]),
    .target(
      name: "RulesForward",
      dependencies: [
        "RulesQueue", "RulesSema", "RulesSyntax", "RulesSource", "RulesDiagnostics", "RulesLoader",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
      ]),
    .target(
      name: "RulesServe",
      dependencies: [
        "RulesSource", "RulesDiagnostics", "RulesSema", "RulesLoader", "RulesEvents", "RulesEngine", "RulesQueue", "RulesForward",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "CompressNIO", package: "compress-nio"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
      ]),
    .target(
      name: "RulecCommands",
      dependencies: [
        "RulesSource", "RulesDiagnostics", "RulesSyntax", "RulesYAML", "RulesSema", "RulesLoader", "RulesMath", "RulesEvents",
        "RulesRuntime", "RulesVM", "RulesCompiler", "RulesEngine", "RulesRunner", "RulesTesting", "RulesEditor", "RulesSQL", "RulesQueue", "RulesForward",
        "RulesServe",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
      ]),
    .executableTarget(name: "rulec", dependencies: ["RulecCommands"]),
    .testTarget(
      name: "RulesTests",
      dependencies: [
        "RulesSource", "RulesDiagnostics", "RulesSyntax", "RulesYAML", "RulesSema", "RulesLoader", "RulesMath", "RulecCommands",
        "RulesEvents", "RulesRuntime", "RulesEngine", "RulesRunner", "RulesVM", "RulesCompiler", "RulesQueue", "RulesForward",
        "RulesServe", "RulesTesting", "RulesEditor",
        .product(name: "PropertyBased", package: "swift-property-based"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
      ],
      exclude: ["Golden"]),
  ],
  swiftLanguageModes: [.v6]
)
