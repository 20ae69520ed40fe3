// veil-fuzz: libFuzzer harnesses for Veil's parsers of untrusted input. Built only by `scripts/fuzz.sh`
// (SwiftPM with VEIL_FUZZ=1); see docs/fuzzing.md.
//
//     VEIL_FUZZ_TARGET=sql .build/fuzz/debug/veil-fuzz [libFuzzer flags] [corpus folders or inputs]
//
// The target comes from the environment, not from the arguments, so that every argument is libFuzzer's.
import CLibFuzzer
import Foundation

/// libFuzzer's per-input callback: runs the selected target on `size` bytes at `data`.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? Data() : Data(bytes: data!, count: size)
    FuzzTarget.selected.run(bytes)
    return 0
}

_ = FuzzTarget.selected   // refuses a missing or unknown VEIL_FUZZ_TARGET before libFuzzer starts
var argumentCount = CommandLine.argc
var argumentValues: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argumentCount, &argumentValues, fuzzOneInput))
