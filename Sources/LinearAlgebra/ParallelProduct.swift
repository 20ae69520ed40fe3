import CBLAS

/// Matrix products split across the cores by Veil, on an OpenBLAS that runs single-threaded.
///
/// OpenBLAS's own threads wait for their next product by spinning (`sched_yield`) for a while after
/// each one. Between the products of a training step the per-example kernels (``ParallelSlices``) keep
/// both cores busy, and the spinning threads took a quarter of the CPU time of a CNN step on two cores
/// (`perf record`; docs/training.md). So the first product of the process sets OpenBLAS to one thread
/// (`openblas_set_num_threads(1)`), and a product large enough to share is cut into one block per
/// ``ParallelSlices`` worker, each an OpenBLAS call on its own thread:
///
/// - by the inner dimension when it is longer than both and `C` is small (the weight gradient `Gᵀ A` of a
///   convolution sums over every position of the batch), each block into its own partial `C`, added in
///   block order;
/// - otherwise by rows of `C` or columns of `C`, whichever is longer: each entry of `C` is then computed
///   by one call over the whole inner dimension.
///
/// The blocks depend only on the shapes and ``ParallelSlices/workerCount``, so a product gives the same
/// bits on every run with the same number of threads (`VEIL_TRAINING_THREADS`). With another number of
/// threads, an inner cut adds its partial sums in other places, which can change the last bits.
enum ParallelProduct {
    /// The operands of `C ← α · op(A) · op(B) + β · C`, all row-major: `op(A)` is `m × k`, `op(B)` is
    /// `k × n`, `C` is `m × n`, with leading dimensions `lda`, `ldb`, `ldc`.
    struct Operands {
        var transposeA: Bool
        var transposeB: Bool
        var m: Int
        var n: Int
        var k: Int
        var a: UnsafePointer<Float>
        var lda: Int
        var b: UnsafePointer<Float>
        var ldb: Int
        var c: UnsafeMutablePointer<Float>
        var ldc: Int

        /// Rows `rows` of `op(A)` and of `C`.
        func rows(_ rows: Range<Int>) -> Operands {
            var o = self
            o.m = rows.count
            o.a = transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda
            o.c = c + rows.lowerBound * ldc
            return o
        }

        /// Columns `columns` of `op(B)` and of `C`.
        func columns(_ columns: Range<Int>) -> Operands {
            var o = self
            o.n = columns.count
            o.b = transposeB ? b + columns.lowerBound * ldb : b + columns.lowerBound
            o.c = c + columns.lowerBound
            return o
        }

        /// Inner indices `inner` (columns of `op(A)`, rows of `op(B)`), into `destination` (`m × n`, leading
        /// dimension `ldc`).
        func inner(_ inner: Range<Int>, into destination: UnsafeMutablePointer<Float>, ldc: Int) -> Operands {
            var o = self
            o.k = inner.count
            o.a = transposeA ? a + inner.lowerBound * lda : a + inner.lowerBound
            o.b = transposeB ? b + inner.lowerBound : b + inner.lowerBound * ldb
            o.c = destination
            o.ldc = ldc
            return o
        }
    }

    /// Multiply–adds per block below which a product is not split. Handing a block to another thread
    /// wakes it (a futex), which on a busy 2-core virtual machine takes tens of microseconds; with the
    /// AVX-512 kernels a block of 2²⁰ multiply–adds takes about that long. At 2¹⁸, logistic regression's
    /// 2-million multiply–add products were split and its plain training ran 25% slower (docs/training.md).
    static let multiplyAddsPerBlock = 1 << 20

    /// The largest result (`m · n` values) cut along the inner dimension: a partial result of that size per
    /// extra block, 4 MiB each, added on the calling thread after the blocks.
    static let innerSplitResultLimit = 1 << 20

    /// Sets OpenBLAS to one thread, once per process, before its first product.
    private static let singleThreadedBLAS: Void = openblas_set_num_threads(1)

    /// The dimension a product is cut along.
    enum Split: Equatable {
        case rows, columns, inner
    }

    /// How ``sgemm(_:alpha:beta:split:)`` cuts an `m × k` by `k × n` product (see the type's description),
    /// into as many blocks as ``ParallelSlices`` has workers, none with fewer than ``multiplyAddsPerBlock``
    /// multiply–adds.
    static func split(m: Int, n: Int, k: Int) -> (dimension: Split, blocks: Int) {
        // The inner cut needs a partial result per extra block: only for results of at most
        // `innerSplitResultLimit` values, else the longer of rows and columns.
        let dimension: Split = k > max(m, n) && m * n <= innerSplitResultLimit ? .inner : m >= n ? .rows : .columns
        let longest = dimension == .inner ? k : dimension == .rows ? m : n
        let minimumItems = max(1, multiplyAddsPerBlock / max(1, m * n * k / max(1, longest)))
        return (dimension, ParallelSlices.sliceCount(longest, minimumItems: minimumItems))
    }

    /// `C ← α · op(A) · op(B) + β · C`, cut as ``split(m:n:k:)`` says unless `split` is given.
    static func sgemm(_ o: Operands, alpha: Float, beta: Float, split given: (dimension: Split, blocks: Int)? = nil) {
        _ = singleThreadedBLAS
        let (dimension, blocks) = given ?? split(m: o.m, n: o.n, k: o.k)
        guard blocks > 1 else {
            call(o, alpha: alpha, beta: beta)
            return
        }
        guard dimension != .inner else {
            splitInner(o, blocks: blocks, alpha: alpha, beta: beta)
            return
        }
        let (count, part) = dimension == .rows ? (o.m, o.rows) : (o.n, o.columns)
        ParallelSlices.run(blocks) { range in
            for block in range { call(part(ParallelSlices.slice(block, of: count, into: blocks)), alpha: alpha, beta: beta) }
        }
    }

    /// `c ← W a + c` for one row `a` (`o.m == 1`, `op(B) = Wᵀ` with `W` row-major `n × k`): one `sgemv` on the
    /// calling thread.
    static func matrixVector(_ o: Operands) {
        precondition(o.m == 1 && o.transposeB, "matrixVector: one row times a transposed matrix")
        _ = singleThreadedBLAS
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(o.n), Int32(o.k), 1, o.b, Int32(o.ldb), o.a, 1, 1, o.c, 1)
    }

    /// The inner dimension cut into `blocks`: block 0 goes into `C` with `β`, the others into partial
    /// products that are then added to `C` in block order.
    private static func splitInner(_ o: Operands, blocks: Int, alpha: Float, beta: Float) {
        let size = o.m * o.n
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: size * (blocks - 1))
        defer { partials.deallocate() }
        ParallelSlices.run(blocks) { range in
            for block in range {
                let inner = ParallelSlices.slice(block, of: o.k, into: blocks)
                if block == 0 {
                    call(o.inner(inner, into: o.c, ldc: o.ldc), alpha: alpha, beta: beta)
                } else {
                    call(o.inner(inner, into: partials + (block - 1) * size, ldc: o.n), alpha: alpha, beta: 0)
                }
            }
        }
        for block in 1..<blocks {
            let partial = partials + (block - 1) * size
            for row in 0..<o.m {
                cblas_saxpy(Int32(o.n), 1, partial + row * o.n, 1, o.c + row * o.ldc, 1)
            }
        }
    }

    /// One OpenBLAS call.
    private static func call(_ o: Operands, alpha: Float, beta: Float) {
        cblas_sgemm(CblasRowMajor, o.transposeA ? CblasTrans : CblasNoTrans, o.transposeB ? CblasTrans : CblasNoTrans,
                    Int32(o.m), Int32(o.n), Int32(o.k), alpha, o.a, Int32(o.lda), o.b, Int32(o.ldb),
                    beta, o.c, Int32(o.ldc))
    }
}
