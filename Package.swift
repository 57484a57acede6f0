// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "nurture",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "nurture", targets: ["nurture"]),
        // For the fuzz targets (fuzz/Package.swift), which build against these modules with libFuzzer.
        .library(name: "NurtureFuzzable", targets: ["NurtureCore", "NurtureAuthoring", "NurtureMail"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Domain core: pure types and decisions; time is always an input, no I/O.
        .target(name: "NurtureCore"),
        // Authoring: YAML loading and validation with source locations, template rendering.
        .target(
            name: "NurtureAuthoring",
            dependencies: [
                "NurtureCore",
                // DKIM keys are read and checked with the config, so `validate` and the daemon agree on them.
                "NurtureSigning",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Mustache", package: "swift-mustache"),
                "CCMark",
            ]
        ),
        // cmark (CommonMark reference implementation) for template bodies: linear time, bounded depth.
        .systemLibrary(name: "CCMark", pkgConfig: "libcmark", providers: [.apt(["libcmark-dev"])]),
        // Store: SQLite through GRDB, implementing the protocols its consumers (engine, HTTP) own; only domain
        // types cross its boundary. The engine does not depend on it: the composition root (CLI) wires it in.
        .target(
            name: "NurtureStore",
            dependencies: [
                "NurtureCore", "NurtureEngine", "NurtureHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API under GRDB, for binding the import's rows directly (LeadRowBinder).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                // The PostgreSQL store (PostgresStore): async on NIO's event loops, a pool sized in the config.
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Signed, compact tokens for tracking and unsubscribe links (HMAC-SHA256, key rotation), and DKIM keys
        // (RSA from _CryptoExtras, Ed25519 from Crypto).
        .target(name: "NurtureSigning", dependencies: [.product(name: "Crypto", package: "swift-crypto"),
                                                       .product(name: "_CryptoExtras", package: "swift-crypto")]),
        // libcurl, reached only through a typed shim (curl_easy_setopt is variadic).
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Mail: MIME builder, DKIM signing and transports (file outbox; SMTP through libcurl).
        .target(name: "NurtureMail", dependencies: ["NurtureCore", "NurtureSigning", "CCurl", .product(name: "Crypto", package: "swift-crypto")]),
        // The engine: enrollment, dispatch and delivery loops over the store and a transport; time is injected.
        .target(
            name: "NurtureEngine",
            dependencies: [
                "NurtureCore", "NurtureAuthoring", "NurtureMail", "NurtureSigning", "NurtureHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // HTTP (Hummingbird): open and click tracking, one-click unsubscribe, health and metrics.
        .target(
            name: "NurtureHTTP",
            dependencies: [
                "NurtureCore", "NurtureSigning",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // The command-line interface: every subcommand of `nurture`.
        .target(
            name: "NurtureCLI",
            dependencies: [
                "NurtureCore",
                "NurtureAuthoring",
                "NurtureStore",
                "NurtureEngine",
                "NurtureHTTP",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "nurture", dependencies: ["NurtureCLI"]),
        .testTarget(name: "NurtureCoreTests", dependencies: ["NurtureCore"]),
        .testTarget(name: "NurtureAuthoringTests", dependencies: ["NurtureAuthoring", .product(name: "Mustache", package: "swift-mustache")],
                    exclude: ["Fixtures"]),
        .testTarget(name: "NurtureStoreTests", dependencies: ["NurtureStore", .product(name: "GRDB", package: "GRDB.swift"),
                                                             .product(name: "PostgresNIO", package: "postgres-nio")]),
        .testTarget(name: "NurtureCLITests", dependencies: ["NurtureCore", "NurtureStore", "NurtureSigning",
                                                           .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "NurtureMailTests", dependencies: ["NurtureMail", "NurtureSigning"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "NurtureEngineTests", dependencies: ["NurtureEngine", "NurtureStore", "NurtureAuthoring", "NurtureMail", "NurtureSigning", "NurtureCore",
                                                              "NurtureHTTP", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                                              .product(name: "NIOEmbedded", package: "swift-nio"),
                                                              .product(name: "NIOHTTP1", package: "swift-nio"),
                                                              .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v6]
)
