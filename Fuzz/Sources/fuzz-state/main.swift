import Foundation
import FuzzSupport

// `STEADFAST_FUZZ_WRITE_SEEDS=DIR fuzz-state` writes seed states to DIR instead of fuzzing.
if let directory = ProcessInfo.processInfo.environment["STEADFAST_FUZZ_WRITE_SEEDS"] {
    print("fuzz-state: wrote \(writeSeeds(to: directory)) seed states to \(directory)")
    exit(0)
}

// SwiftPM links `main` to this file's code, so libFuzzer's own `main` is not used: run its
// driver on the `LLVMFuzzerTestOneInput` of this target.
FuzzSupport.runLibFuzzer { data, size in fuzz(data ?? FuzzSupport.empty, size) }
