// libFuzzer's driver entry point (compiler-rt, lib/fuzzer/FuzzerDriver.cpp). It is linked by
// `-sanitize=fuzzer`; declaring it here lets the harness keep its own `main` (SwiftPM renames an
// executable's entry point, so libFuzzer's own `main` cannot be used from a package).
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
