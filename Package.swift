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
        .executable(name: "wf", targets: ["wf"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // The pure core: activity model, expressions, interpreter, instance state. No I/O.
        .target(name: "SteadfastCore", swiftSettings: swiftSettings),
        .executableTarget(
            name: "wf",
            dependencies: [
                "SteadfastCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SteadfastCoreTests", dependencies: ["SteadfastCore"], swiftSettings: swiftSettings),
    ]
)
