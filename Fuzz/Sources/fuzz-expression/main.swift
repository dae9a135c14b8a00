import FuzzSupport

// SwiftPM links `main` to this file's code, so libFuzzer's own `main` is not used: run its
// driver on the `LLVMFuzzerTestOneInput` of this target.
FuzzSupport.runLibFuzzer { data, size in fuzz(data ?? FuzzSupport.empty, size) }
