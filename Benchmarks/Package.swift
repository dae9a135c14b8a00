// swift-tools-version:6.0
import PackageDescription

// Benchmarks live in their own package so the main build and tests never compile them.
// Run from the repository root:
//   swift run -c release --package-path Benchmarks steadfast-bench   (the interpreter)
//   swift run -c release --package-path Benchmarks host-bench        (host + SQLite store)

// A path dependency's identity is its folder's name, which depends on where the repository
// was cloned; read it rather than hard-coding it.
let steadfast = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "steadfast"

let package = Package(
    name: "SteadfastBenchmarks",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "steadfast-bench",
            dependencies: [.product(name: "SteadfastCore", package: steadfast)]
        ),
        .executableTarget(
            name: "host-bench",
            dependencies: [
                .product(name: "SteadfastCore", package: steadfast),
                .product(name: "SteadfastStore", package: steadfast),
                .product(name: "SteadfastSQLite", package: steadfast),
                .product(name: "SteadfastPostgres", package: steadfast),
                .product(name: "SteadfastHost", package: steadfast),
                .product(name: "SteadfastApplication", package: steadfast),
            ]
        ),
    ]
)
