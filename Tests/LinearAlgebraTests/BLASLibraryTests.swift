@testable import LinearAlgebra
import Testing

@Suite("BLAS library of the process")
struct BLASLibraryTests {
    /// `libgsl` depends on GSL's reference CBLAS, which exports the same `cblas_*` symbols as
    /// OpenBLAS; when it comes first in the link order every product runs as an unoptimised
    /// single-threaded triple loop.
    @Test("cblas_sgemm resolves to OpenBLAS, not GSL's reference CBLAS")
    func sgemmComesFromOpenBLAS() throws {
        let path = try #require(BLASLibrary.sgemmLibraryPath)
        #expect(path.contains("openblas"), "cblas_sgemm comes from \(path)")
        #expect(!path.contains("gslcblas"))
    }

    @Test("OpenBLAS names its kernel and thread count")
    func coreNameAndThreads() {
        #expect(!BLASLibrary.coreName.isEmpty && BLASLibrary.coreName != "unknown")
        #expect(BLASLibrary.threadCount >= 1)
    }
}

@Suite("Products checked against their definition")
struct ProductCheckTests {
    @Test("the process's OpenBLAS passes: every product within the worst-case rounding bound")
    func processBLASPasses() {
        let check = BLASLibrary.checkProducts()
        #expect(check.products == 22)
        #expect(check.passed, "worst: \(check.worstProduct), \(check.worstErrorOverBound) × the bound")
        #expect(check.worstErrorOverBound > 0, "float products of these operands cannot all be exact")
    }

    @Test("the checked shapes take every cut of a product split across threads, and one runs whole")
    func shapesCoverEveryCut() {
        let cuts = BLASLibrary.checkedShapes.map { ParallelProduct.split(m: $0.0, n: $0.1, k: $0.2) }
        #expect(cuts.contains { $0.blocks == 1 })
        if ParallelSlices.workerCount > 1 {
            for dimension in [ParallelProduct.Split.rows, .columns, .inner] {
                #expect(cuts.contains { $0.dimension == dimension && $0.blocks > 1 })
            }
        }
    }

    /// The bound of a 3-term sum: γ₃ = 3u / (1 − 3u), u = 2⁻²⁴, times Σ|a_l b_l| = 6.
    @Test("an entry off by more than γ_k Σ|a b|, or NaN, fails; an exact entry gives 0")
    func wrongEntriesFail() {
        let rows: [[Double]] = [[1, 2, 3]], columns: [[Double]] = [[1, 1, 1]]
        let u = 0x1p-24, bound = 3 * u / (1 - 3 * u) * 6
        #expect(BLASLibrary.worstRatio([6], rowsA: rows, columnsB: columns, k: 3) == 0)
        let justInside = BLASLibrary.worstRatio([Float(6 + 0.9 * bound)], rowsA: rows, columnsB: columns, k: 3)
        #expect(justInside > 0 && justInside <= 1)
        #expect(BLASLibrary.worstRatio([6.001], rowsA: rows, columnsB: columns, k: 3) > 1)
        #expect(BLASLibrary.worstRatio([.nan], rowsA: rows, columnsB: columns, k: 3) == .infinity)
        #expect(BLASLibrary.worstRatio([1e-30], rowsA: [[0, 0, 0]], columnsB: columns, k: 3) == .infinity)
    }
}
