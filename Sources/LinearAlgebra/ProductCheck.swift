extension BLASLibrary {
    /// How the process's single-precision products compared with their definition (``checkProducts()``).
    public struct ProductCheck: Sendable {
        /// Products compared.
        public let products: Int
        /// The largest `|computed − exact| / bound` over every entry of every product, where the bound is the
        /// worst-case rounding error of a `k`-term float sum, `γ_k · Σ |a_il · b_lj|` with `γ_k = k·u / (1 − k·u)`
        /// and `u = 2⁻²⁴` (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.5). A correct
        /// kernel stays below 1 whatever order it sums in; a wrong one lands far above.
        public let worstErrorOverBound: Double
        /// The shape (`m × k` by `k × n`, transpositions) of the product with that worst entry.
        public let worstProduct: String

        public var passed: Bool { worstErrorOverBound <= 1 }
    }

    /// The `(m, n, k)` of the products ``checkProducts()`` runs in each transposition: the MLP's first layer
    /// on a batch of 64 (an inner cut), a row cut, a column cut, a long inner dimension, and a small product run
    /// whole (OpenBLAS has separate kernels for small products).
    static let checkedShapes = [(64, 256, 784), (800, 32, 100), (100, 800, 64), (16, 32, 4000), (7, 13, 5)]

    /// Runs the products Veil's layers use (``ParallelProduct``'s cuts, each transposition, the
    /// matrix–vector product of a single example) on fixed pseudo-random operands through the BLAS this
    /// process loaded, and compares every entry with the product computed in `Double`.
    ///
    /// For benchmarks that let OpenBLAS choose its kernel for the processor: some OpenBLAS builds compute
    /// wrong results with some kernels on newer processors, which is why an environment may pin an older
    /// kernel (`OPENBLAS_CORETYPE`). Takes about a second.
    public static func checkProducts() -> ProductCheck {
        var worst = (ratio: 0.0, product: "none")
        var products = 0
        var seed: UInt64 = 0x5EED
        for (m, n, k) in checkedShapes {
            for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = pseudoRandom(m * k, seed: &seed), b = pseudoRandom(k * n, seed: &seed)
                // β = 0 never reads C: NaN in every entry makes an entry the kernel does not write fail.
                var c = [Float](repeating: .nan, count: m * n)
                let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            ParallelProduct.sgemm(
                                ParallelProduct.Operands(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                                         a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                                                         c: pc.baseAddress!, ldc: n),
                                alpha: 1, beta: 0)
                        }
                    }
                }
                // op(A) by rows and op(B) by columns, so the reference reads both contiguously.
                let rowsA = (0..<m).map { i in (0..<k).map { l in Double(transposeA ? a[l * lda + i] : a[i * lda + l]) } }
                let columnsB = (0..<n).map { j in (0..<k).map { l in Double(transposeB ? b[j * ldb + l] : b[l * ldb + j]) } }
                let ratio = worstRatio(c, rowsA: rowsA, columnsB: columnsB, k: k)
                products += 1
                if ratio > worst.ratio {
                    worst = (ratio, "\(m)×\(k) by \(k)×\(n)\(transposeA ? ", A transposed" : "")\(transposeB ? ", B transposed" : "")")
                }
            }
        }
        // One example through a dense layer: `sgemv` on the calling thread.
        for (n, k) in [(256, 784), (10, 256)] {
            let x = pseudoRandom(k, seed: &seed), w = pseudoRandom(n * k, seed: &seed)
            var y = [Float](repeating: 0, count: n)
            x.withUnsafeBufferPointer { px in
                w.withUnsafeBufferPointer { pw in
                    y.withUnsafeMutableBufferPointer { py in
                        ParallelProduct.matrixVector(
                            ParallelProduct.Operands(transposeA: false, transposeB: true, m: 1, n: n, k: k,
                                                     a: px.baseAddress!, lda: k, b: pw.baseAddress!, ldb: k,
                                                     c: py.baseAddress!, ldc: n))
                    }
                }
            }
            let ratio = worstRatio(y, rowsA: [x.map(Double.init)],
                                   columnsB: (0..<n).map { j in (0..<k).map { Double(w[j * k + $0]) } }, k: k)
            products += 1
            if ratio > worst.ratio {
                worst = (ratio, "1×\(k) by \(k)×\(n) (matrix–vector)")
            }
        }
        return ProductCheck(products: products, worstErrorOverBound: worst.ratio, worstProduct: worst.product)
    }

    /// The largest `|c_ij − Σ_l a_il b_lj| / (γ_k Σ_l |a_il b_lj|)` of a computed `c` (row-major `m × n`);
    /// infinite when an entry is NaN.
    static func worstRatio(_ c: [Float], rowsA: [[Double]], columnsB: [[Double]], k: Int) -> Double {
        let u = 0x1p-24, gamma = Double(k) * u / (1 - Double(k) * u)
        var worst = 0.0
        for (i, row) in rowsA.enumerated() {
            for (j, column) in columnsB.enumerated() {
                var exact = 0.0, magnitude = 0.0
                for l in 0..<k {
                    exact += row[l] * column[l]
                    magnitude += abs(row[l] * column[l])
                }
                let error = abs(Double(c[i * columnsB.count + j]) - exact)
                // A zero bound (all terms zero) allows no error at all.
                let ratio = magnitude == 0 ? (error == 0 ? 0 : .infinity) : error / (gamma * magnitude)
                if ratio.isNaN { return .infinity }
                worst = max(worst, ratio)
            }
        }
        return worst
    }

    /// `count` values in [−1, 1) from a 64-bit linear congruential generator (Knuth's MMIX constants):
    /// fixed operands, so a failure repeats.
    private static func pseudoRandom(_ count: Int, seed: inout UInt64) -> [Float] {
        (0..<count).map { _ in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: seed) >> 40) * 0x1p-23
        }
    }
}
