// swift-tools-version:6.0
import PackageDescription

/// Settings every Steadfast target shares: Swift 6 language mode (strict concurrency)
/// plus the upcoming features we want enforced everywhere.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "Steadfast",
    products: [
        .library(name: "SteadfastCore", targets: ["SteadfastCore"]),
        .library(name: "SteadfastStore", targets: ["SteadfastStore"]),
        .library(name: "SteadfastSQLite", targets: ["SteadfastSQLite"]),
        .library(name: "SteadfastPostgres", targets: ["SteadfastPostgres"]),
        .library(name: "InstanceStoreContract", targets: ["InstanceStoreContract"]),
        .library(name: "SteadfastHost", targets: ["SteadfastHost"]),
        .library(name: "SteadfastApplication", targets: ["SteadfastApplication"]),
        .library(name: "SteadfastHTTP", targets: ["SteadfastHTTP"]),
        .library(name: "SteadfastTesting", targets: ["SteadfastTesting"]),
        .executable(name: "wf", targets: ["wf"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // The pure core: activity model, expressions, interpreter, instance state. No I/O.
        .target(name: "SteadfastCore", swiftSettings: swiftSettings),
        .executableTarget(
            name: "wf",
            dependencies: [
                "SteadfastCore", "SteadfastStore", "SteadfastHost", "SteadfastApplication", "SteadfastHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SteadfastCoreTests", dependencies: ["SteadfastCore"], swiftSettings: swiftSettings),
        // The instance store: C libraries behind system-library targets, the store contract and
        // shared SQL logic, the SQLite backend, and the contract test suite every store runs.
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "SteadfastStore",
            dependencies: [
                "SteadfastCore", "CZlib", .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings),
        .target(
            name: "SteadfastSQLite",
            dependencies: ["SteadfastStore", "CSQLite"],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(
            name: "SteadfastPostgres",
            dependencies: ["SteadfastStore", "SteadfastCore", "CLibPQ"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SteadfastPostgresTests",
            dependencies: ["SteadfastPostgres", "SteadfastStore", "SteadfastCore", "InstanceStoreContract"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "InstanceStoreContract", dependencies: ["SteadfastStore", "SteadfastCore", "SteadfastPostgres"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "SteadfastSQLiteTests",
            dependencies: ["SteadfastSQLite", "SteadfastStore", "SteadfastCore", "InstanceStoreContract"],
            swiftSettings: swiftSettings
        ),
        // The host: loaded instances, idle policy, lock renewal, runnable-instance detection.
        .target(
            name: "SteadfastHost",
            dependencies: [
                "SteadfastCore", "SteadfastStore",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SteadfastHostTests",
            dependencies: [
                "SteadfastHost", "SteadfastSQLite", "SteadfastCore", "SteadfastStore", "InstanceStoreContract",
            ],
            swiftSettings: swiftSettings
        ),
        // The application layer: opening a store from its URL, the operations every front end
        // calls, the instance view, and the one error vocabulary.
        .target(
            name: "SteadfastApplication",
            dependencies: [
                "SteadfastCore", "SteadfastStore", "SteadfastSQLite", "SteadfastPostgres", "SteadfastHost",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SteadfastApplicationTests",
            dependencies: [
                "SteadfastApplication", "SteadfastCore", "SteadfastStore", "SteadfastHost", "InstanceStoreContract",
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP API of a running host (`wf serve --http`): routes that parse, call the
        // application layer, and render; Hummingbird stays out of every other module.
        .target(
            name: "SteadfastHTTP",
            dependencies: [
                "SteadfastApplication", "SteadfastCore", "SteadfastStore", "SteadfastHost",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        // The time-skipping test kit for people who write workflows: a host and a private
        // SQLite store on a virtual clock. The samples' tests use it.
        .target(
            name: "SteadfastTesting",
            dependencies: ["SteadfastApplication", "SteadfastCore", "SteadfastStore", "SteadfastHost"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SampleTests",
            dependencies: [
                "SteadfastTesting", "SteadfastApplication", "SteadfastCore", "SteadfastStore", "InstanceStoreContract",
            ],
            swiftSettings: swiftSettings
        ),
        // `wf` end to end: runs the built binary against temporary SQLite stores.
        .testTarget(
            name: "WFCommandTests",
            dependencies: [
                "SteadfastCore", "SteadfastStore", "SteadfastSQLite", "SteadfastPostgres", "InstanceStoreContract",
                "SteadfastHTTP",
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
