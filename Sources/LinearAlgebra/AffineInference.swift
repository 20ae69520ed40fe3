import CBLAS

// Forward-only products for inference: `x · Wᵀ + b` with the bias written first and the product added
// onto it (no rank-one update, no vector of ones), and a single example computed as a matrix–vector
// product on the calling thread.

extension Matrix {
    /// `x · Wᵀ + b` for a batch `x` (one example per row), weights `W` of shape `outputs × inputs` and a
    /// bias of `outputs` values: a dense layer's (or an unrolled convolution's) forward pass.
    ///
    /// One row is computed by one `sgemv` on the calling thread (`sgemm` packs the whole weight matrix on
    /// every call, several times the cost of the product itself for one row). More rows take one product
    /// onto the bias (β = 1), split across the cores by ``ParallelProduct``.
    public static func affineProduct(_ x: Matrix, weights w: Matrix, bias: [Float]) -> Matrix {
        let (m, k, n) = (x.rows, x.columns, w.rows)
        precondition(w.columns == k, "affineProduct: weights take \(w.columns) inputs, x has \(k)")
        precondition(bias.count == n, "affineProduct: \(bias.count) bias values for \(n) outputs")
        var y = Matrix(uninitializedRows: m, columns: n)
        if m == 0 || n == 0 { return y }
        y.storage.withUnsafeMutableBufferPointer { py in
            bias.withUnsafeBufferPointer { pb in
                for r in 0..<m { (py.baseAddress! + r * n).update(from: pb.baseAddress!, count: n) }
            }
        }
        if k == 0 { return y }
        x.storage.withUnsafeBufferPointer { px in
            w.storage.withUnsafeBufferPointer { pw in
                y.storage.withUnsafeMutableBufferPointer { py in
                    let operands = ParallelProduct.Operands(
                        transposeA: false, transposeB: true, m: m, n: n, k: k,
                        a: px.baseAddress!, lda: k, b: pw.baseAddress!, ldb: k, c: py.baseAddress!, ldc: n)
                    if m == 1 {
                        ParallelProduct.matrixVector(operands)
                    } else {
                        ParallelProduct.sgemm(operands, alpha: 1, beta: 1)
                    }
                }
            }
        }
        return y
    }
}

extension Matrix {
    /// Entries per thread below which an in-place activation runs on one thread (as the copying maps).
    static let activationEntriesPerSlice = 1 << 15

    /// `max(0, x)` for every entry, in place (a NaN entry stays NaN): ``relu()`` without the copy.
    public mutating func applyReLU() {
        storage.withUnsafeMutableBufferPointer { p in
            ParallelSlices.run(p.count, minimumItems: Self.activationEntriesPerSlice) { range in
                Self.zeroLanes(of: UnsafeMutableBufferPointer(rebasing: p[range]), where: UnsafeBufferPointer(rebasing: p[range]),
                               .lessThanZero)
            }
        }
    }

    /// `tanh(x)` for every entry by ``TanhKernel``, in place: ``tanh()`` without the copy.
    public mutating func applyTanh() {
        storage.withUnsafeMutableBufferPointer { p in
            ParallelSlices.run(p.count, minimumItems: Self.activationEntriesPerSlice) { range in
                TanhKernel.apply(UnsafeMutableBufferPointer(rebasing: p[range]))
            }
        }
    }
}
