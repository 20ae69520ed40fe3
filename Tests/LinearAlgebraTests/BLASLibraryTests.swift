import LinearAlgebra
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
