import Testing
@testable import LinearAlgebra

/// Products cut into blocks (``ParallelProduct``) against the definition, computed in `Double`.
@Suite("Products split across threads")
struct ParallelProductTests {
    /// Values in [−1, 1] with a pattern that differs between entries.
    private func sample(_ rows: Int, _ columns: Int, seed: Int) -> Matrix {
        Matrix(rows: rows, columns: columns,
               storage: (0..<(rows * columns)).map { Float((($0 &* 7919 &+ seed &* 104_729) % 2001) - 1000) / 1000 })
    }

    /// `alpha · op(a) · op(b) + beta · c` from the definition, in `Double`.
    private func reference(_ a: Matrix, transposeA: Bool, _ b: Matrix, transposeB: Bool,
                           alpha: Float, beta: Float, c: Matrix) -> [Double] {
        let m = transposeA ? a.columns : a.rows, k = transposeA ? a.rows : a.columns
        let n = transposeB ? b.rows : b.columns
        var result = [Double](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0
                for l in 0..<k {
                    let x = transposeA ? a[l, i] : a[i, l], y = transposeB ? b[j, l] : b[l, j]
                    sum += Double(x) * Double(y)
                }
                result[i * n + j] = Double(alpha) * sum + Double(beta) * Double(c[i, j])
            }
        }
        return result
    }

    /// The product of `op(a) · op(b)` onto `c`, cut as `split` says; with `firstColumn`, onto the block of `c`'s
    /// columns from `firstColumn` on (`c` wider than the product, `ldc` its full width).
    private func product(_ a: Matrix, transposeA: Bool, _ b: Matrix, transposeB: Bool, alpha: Float, beta: Float,
                         c: Matrix, firstColumn: Int = 0,
                         split: (dimension: ParallelProduct.Split, blocks: Int)?) -> Matrix {
        let m = transposeA ? a.columns : a.rows, k = transposeA ? a.rows : a.columns
        let n = transposeB ? b.rows : b.columns
        var c = c
        let ldc = c.columns
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                c.storage.withUnsafeMutableBufferPointer { pc in
                    ParallelProduct.sgemm(
                        ParallelProduct.Operands(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                                 a: pa.baseAddress!, lda: a.columns, b: pb.baseAddress!, ldb: b.columns,
                                                 c: pc.baseAddress! + firstColumn, ldc: ldc),
                        alpha: alpha, beta: beta, split: split)
                }
            }
        }
        return c
    }

    @Test("every cut (rows, columns, inner; 1, 2, 3 and 5 blocks) of every transposition equals the definition within 1e-5 relative, and repeats bit for bit",
          arguments: [ParallelProduct.Split.rows, .columns, .inner], [(false, false), (true, false), (false, true), (true, true)])
    func cutsEqualTheDefinition(dimension: ParallelProduct.Split, transposes: (Bool, Bool)) {
        let (m, n, k) = (37, 23, 41)
        let (transposeA, transposeB) = transposes
        let a = transposeA ? sample(k, m, seed: 1) : sample(m, k, seed: 1)
        let b = transposeB ? sample(n, k, seed: 2) : sample(k, n, seed: 2)
        let c = sample(m, n, seed: 3)
        let expected = reference(a, transposeA: transposeA, b, transposeB: transposeB, alpha: 1.5, beta: -0.5, c: c)
        for blocks in [1, 2, 3, 5] {
            let result = product(a, transposeA: transposeA, b, transposeB: transposeB, alpha: 1.5, beta: -0.5, c: c,
                                 split: (dimension, blocks))
            let worst = zip(result.storage, expected).map { abs(Double($0) - $1) / max(1, abs($1)) }.max()!
            #expect(worst < 1e-5, "\(dimension), \(blocks) blocks: relative error \(worst)")
            let again = product(a, transposeA: transposeA, b, transposeB: transposeB, alpha: 1.5, beta: -0.5, c: c,
                                split: (dimension, blocks))
            #expect(again.storage.map(\.bitPattern) == result.storage.map(\.bitPattern))
        }
    }

    @Test("a product into a block of a wider C (ldc > n) writes that block on every cut and leaves the rest as it was")
    func blockOfAWiderResult() {
        let (m, n, k, ldc) = (19, 11, 29, 15)
        let a = sample(m, k, seed: 8), b = sample(k, n, seed: 9)
        let wide = sample(m, ldc, seed: 10)
        let block = Matrix(rows: m, columns: n, storage: (0..<m).flatMap { r in (0..<n).map { wide[r, 2 + $0] } })
        let expected = reference(a, transposeA: false, b, transposeB: false, alpha: 1, beta: 0.25, c: block)
        for dimension in [ParallelProduct.Split.rows, .columns, .inner] {
            let c = product(a, transposeA: false, b, transposeB: false, alpha: 1, beta: 0.25, c: wide, firstColumn: 2,
                            split: (dimension, 3))
            for r in 0..<m {
                for j in 0..<ldc {
                    if (2..<(2 + n)).contains(j) {
                        #expect(abs(Double(c[r, j]) - expected[r * n + j - 2]) < 1e-5, "\(dimension) [\(r), \(j)]")
                    } else {
                        #expect(c[r, j] == wide[r, j], "\(dimension) [\(r), \(j)] outside the block changed")
                    }
                }
            }
        }
    }

    @Test("beta = 0 ignores what C held (NaN included) on every cut")
    func betaZeroOverwrites() {
        let a = sample(30, 20, seed: 4), b = sample(20, 10, seed: 5)
        let c = Matrix(rows: 30, columns: 10, repeating: .nan)
        let expected = reference(a, transposeA: false, b, transposeB: false, alpha: 1, beta: 0,
                                 c: Matrix(rows: 30, columns: 10))
        for dimension in [ParallelProduct.Split.rows, .columns, .inner] {
            let result = product(a, transposeA: false, b, transposeB: false, alpha: 1, beta: 0, c: c,
                                 split: (dimension, 3))
            #expect(zip(result.storage, expected).allSatisfy { abs(Double($0) - $1) < 1e-5 }, "\(dimension)")
        }
    }

    @Test("the cut follows the longest dimension, and small products are not cut")
    func cutFollowsTheShape() {
        let workers = ParallelSlices.workerCount
        #expect(ParallelProduct.split(m: 8, n: 8, k: 8).blocks == 1)
        #expect(ParallelProduct.split(m: 50_176, n: 16, k: 64) == (ParallelProduct.Split.rows, workers))
        #expect(ParallelProduct.split(m: 256, n: 784, k: 256) == (ParallelProduct.Split.columns, workers))
        #expect(ParallelProduct.split(m: 16, n: 64, k: 50_176) == (ParallelProduct.Split.inner, workers))
        // A large result is never cut along the inner dimension (one partial result per extra block).
        #expect(ParallelProduct.split(m: 4_000, n: 3_000, k: 4_001).dimension == .rows)
        #expect(ParallelProduct.split(m: 3_000, n: 4_000, k: 4_001).dimension == .columns)
    }

    @Test("once Veil has run a product, OpenBLAS runs each call on one thread")
    func blasRunsSingleThreaded() {
        _ = Matrix.product(sample(4, 4, seed: 6), sample(4, 4, seed: 7))
        #expect(BLASLibrary.threadCount == 1)
    }
}
