#ifndef STEADFAST_CLIBFUZZER_H
#define STEADFAST_CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, linked by `-sanitize=fuzzer`): parses the libFuzzer flags
/// in argv and fuzzes `callback`. Our `main` calls it because SwiftPM renames an executable's
/// entry point and links `main` to the renamed one, so libFuzzer's own `main` cannot be used.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
