import Foundation
import LinearAlgebra
import LocalInference

/// Named figures of one benchmark area, printed as one JSON object:
/// `{"area": "...", "figures": {"name": {"value": 1.5, "unit": "samples/s"}, ...}}`.
struct BenchmarkReport {
    let area: String
    /// Each figure's value already written as JSON (a number, `null` or a string).
    private var figures: [(name: String, json: String, unit: String)] = []

    init(area: String) { self.area = area }

    mutating func add(_ name: String, _ value: Double, unit: String) {
        figures.append((name, Self.format(value), unit))
        FileHandle.standardError.write(Data("  \(name): \(Self.format(value)) \(unit)\n".utf8))
    }

    /// A figure that is a name, not a number (the BLAS kernel that ran, a library's path).
    mutating func add(_ name: String, text: String, unit: String) {
        figures.append((name, PredictionWriter.quoted(text), unit))
        FileHandle.standardError.write(Data("  \(name): \(text)\n".utf8))
    }

    func json() -> String {
        let entries = figures.map { f in
            "    \"\(f.name)\": {\"value\": \(f.json), \"unit\": \"\(f.unit)\"}"
        }
        return "{\n  \"area\": \"\(area)\",\n  \"figures\": {\n" + entries.joined(separator: ",\n") + "\n  }\n}"
    }

    private static func format(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(format: "%.6g", v)
    }
}

/// Wall-clock seconds of `body`, the best of `repeats` runs (the least disturbed by other load).
func bestTime(repeats: Int = 3, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}

/// Keeps the optimiser from discarding a computed value.
@inline(never) func blackHole<T>(_ value: T) { _ = value }

extension BenchmarkReport {
    /// Records which BLAS kernel the products of this run use and where `cblas_sgemm` comes from, after
    /// checking that kernel's products against their definition (``BLASLibrary/checkProducts()``): a
    /// benchmark may run on the kernel OpenBLAS picks for the processor rather than one the environment
    /// pins (`OPENBLAS_CORETYPE`; scripts/bench.sh), and a fast wrong product must not be reported.
    mutating func addCheckedBLASKernel() throws {
        add("blas_kernel", text: BLASLibrary.coreName, unit: "openblas_get_corename")
        add("blas_library", text: BLASLibrary.sgemmLibraryPath ?? "unknown", unit: "path")
        let check = BLASLibrary.checkProducts()
        add("blas_product_worst_error_over_rounding_bound", check.worstErrorOverBound, unit: "ratio")
        guard check.passed else {
            throw BenchmarkFailure("""
                OpenBLAS's \(BLASLibrary.coreName) kernel computes wrong products: the \(check.worstProduct) product is \
                off by \(check.worstErrorOverBound) times the rounding bound; pin an older kernel with OPENBLAS_CORETYPE \
                (e.g. Haswell) and run again
                """)
        }
    }
}
