// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets, built and run by `Fuzz/run.sh` (Swift's `-sanitize=fuzzer,address`), never by
// `swift test`. Each target reads one input and checks an oracle; a crash, a sanitizer report or a
// failed oracle stops the campaign with the input saved.
let package = Package(
  name: "rulec-fuzz",
  platforms: [.macOS(.v13)],
  dependencies: [.package(name: "rulec", path: "..")],
  targets: [
    .target(name: "FuzzSupport", dependencies: [.product(name: "RulesCore", package: "rulec")]),
    .executableTarget(name: "FuzzRules", dependencies: ["FuzzSupport", .product(name: "RulesCore", package: "rulec")]),
    .executableTarget(name: "FuzzYAML", dependencies: ["FuzzSupport", .product(name: "RulesCore", package: "rulec")]),
    .executableTarget(name: "FuzzEvents", dependencies: ["FuzzSupport", .product(name: "RulesCore", package: "rulec")]),
    .executableTarget(name: "FuzzIngest", dependencies: ["FuzzSupport", .product(name: "RulesCore", package: "rulec")]),
  ],
  swiftLanguageModes: [.v6]
)
