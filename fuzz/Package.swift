// swift-tools-version: 6.0
// libFuzzer targets, built apart from the main package: `make fuzz` (scripts/fuzz.sh) builds them with
// `-sanitize=fuzzer,address` into .build-fuzz and runs each for a bounded time over fuzz/corpus/<target>/.
import PackageDescription

let fuzzer: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "nurture-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "nurture", path: "..")],
    targets: [.target(name: "FuzzDriver")] + ["FuzzTemplate", "FuzzYAML", "FuzzMIME", "FuzzCSV", "FuzzJSON", "FuzzInbound"].map { name in
        .executableTarget(name: name, dependencies: ["FuzzDriver", .product(name: "NurtureFuzzable", package: "nurture")],
                          swiftSettings: fuzzer)
    },
    swiftLanguageModes: [.v6]
)
