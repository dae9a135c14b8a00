// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for the definition reader, the expression parser and the state decoder.
// They live in their own package so the main build and tests never compile them, and they only
// link when built with the fuzzer sanitizer (libFuzzer supplies `main`). Use `scripts/fuzz`:
//   scripts/fuzz fuzz-definition 600     (or fuzz-expression, fuzz-state, all)
// which runs, from the repository root:
//   swift build -c release --package-path Fuzz --scratch-path Fuzz/.build-fuzz \
//     -Xswiftc -sanitize=fuzzer,address --product fuzz-definition
//
// No `-parse-as-library`: on Linux SwiftPM compiles an executable's entry point as
// `<module>_main` and links `main` to it, so libFuzzer's own `main` cannot be used (the link
// fails on an undefined `fuzz_definition_main`). Each target's main.swift calls libFuzzer's
// driver, `LLVMFuzzerRunDriver`, instead.

// A path dependency's identity is its folder's name, which depends on where the repository
// was cloned; read it rather than hard-coding it.
let steadfast = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "steadfast"

let package = Package(
    name: "SteadfastFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        // Declares libFuzzer's driver.
        .target(name: "CLibFuzzer"),
        // The driver call, the Samples definitions and the run loop the harnesses share.
        .target(
            name: "FuzzSupport",
            dependencies: ["CLibFuzzer", .product(name: "SteadfastCore", package: steadfast)]
        ),
        .executableTarget(
            name: "fuzz-definition",
            dependencies: ["FuzzSupport", .product(name: "SteadfastCore", package: steadfast)]
        ),
        .executableTarget(
            name: "fuzz-expression",
            dependencies: ["FuzzSupport", .product(name: "SteadfastCore", package: steadfast)]
        ),
        .executableTarget(
            name: "fuzz-state",
            dependencies: [
                "FuzzSupport",
                .product(name: "SteadfastCore", package: steadfast),
                .product(name: "SteadfastStore", package: steadfast),
            ]
        ),
    ]
)
