import CBLAS

/// A dense matrix of `Float` in row-major order, stored contiguously.
///
/// A batch of examples is a matrix with one example per row. Heavy operations (products,
/// norms, scaled additions) call OpenBLAS through `CBLAS`; the unsafe pointer code that this
/// needs stays inside this module.
public struct Matrix: Sendable, Equatable {
    /// Number of rows.
    public private(set) var rows: Int
    /// Number of columns.
    public private(set) var columns: Int
    /// The entries, row after row (`rows * columns` values).
    public var storage: [Float]

    /// A matrix filled with one value.
    /// - Parameters:
    ///   - rows: number of rows ≥ 0.
    ///   - columns: number of columns ≥ 0.
    ///   - value: the value of every entry.
    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must be non-negative")
        self.rows = rows
        self.columns = columns
        storage = [Float](repeating: value, count: rows * columns)
    }

    /// A matrix over existing row-major entries.
    /// - Parameters:
    ///   - rows: number of rows.
    ///   - columns: number of columns.
    ///   - storage: `rows * columns` entries, row after row.
    public init(rows: Int, columns: Int, storage: [Float]) {
        precondition(storage.count == rows * columns, "storage has \(storage.count) entries, expected \(rows * columns)")
        self.rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A matrix whose every entry the caller writes before reading any (no zero fill).
    init(uninitializedRows rows: Int, columns: Int) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must be non-negative")
        self.rows = rows
        self.columns = columns
        storage = [Float](unsafeUninitializedCapacity: rows * columns) { _, initialized in initialized = rows * columns }
    }

    /// Number of entries.
    @inlinable public var count: Int { storage.count }

    /// The entry at `row`, `column`.
    @inlinable
    public subscript(row: Int, column: Int) -> Float {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }

    /// The same entries viewed with another shape (`rows * columns` must not change).
    public func reshaped(rows newRows: Int, columns newColumns: Int) -> Matrix {
        Matrix(rows: newRows, columns: newColumns, storage: storage)
    }

    /// Rows `range` as a new matrix (one contiguous copy).
    public func rows(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows)
        return Matrix(rows: range.count, columns: columns,
                      storage: Array(storage[(range.lowerBound * columns)..<(range.upperBound * columns)]))
    }

    /// The rows at `indices`, gathered into a new matrix.
    public func gatherRows(_ indices: [Int]) -> Matrix {
        var result = Matrix(uninitializedRows: indices.count, columns: columns)
        let n = columns
        storage.withUnsafeBufferPointer { src in
            result.storage.withUnsafeMutableBufferPointer { dst in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i < rows, "row index out of range")
                    (dst.baseAddress! + k * n).update(from: src.baseAddress! + i * n, count: n)
                }
            }
        }
        return result
    }
}

// MARK: - Products (sgemm, sgemv)

extension Matrix {
    /// `c ← alpha · op(a) · op(b) + beta · c` (BLAS `sgemm`), where `op` transposes when asked.
    ///
    /// - Parameters:
    ///   - a: left factor; `op(a)` is `m × k`.
    ///   - transposeA: use `aᵀ`.
    ///   - b: right factor; `op(b)` is `k × n`.
    ///   - transposeB: use `bᵀ`.
    ///   - alpha: scale of the product.
    ///   - beta: scale of the existing `c` (0 overwrites it).
    ///   - c: the `m × n` result.
    public static func gemm(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
                            alpha: Float = 1, beta: Float = 0, into c: inout Matrix) {
        let m = transposeA ? a.columns : a.rows
        let k = transposeA ? a.rows : a.columns
        let kb = transposeB ? b.columns : b.rows
        let n = transposeB ? b.rows : b.columns
        precondition(k == kb, "gemm: inner dimensions \(k) and \(kb) differ")
        precondition(c.rows == m && c.columns == n, "gemm: result is \(c.rows)×\(c.columns), expected \(m)×\(n)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            c.scale(by: beta)
            return
        }
        a.storage.withUnsafeBufferPointer { pa in
            b.storage.withUnsafeBufferPointer { pb in
                c.storage.withUnsafeMutableBufferPointer { pc in
                    ParallelProduct.sgemm(
                        ParallelProduct.Operands(
                            transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                            a: pa.baseAddress!, lda: max(1, a.columns), b: pb.baseAddress!, ldb: max(1, b.columns),
                            c: pc.baseAddress!, ldc: max(1, n)),
                        alpha: alpha, beta: beta)
                }
            }
        }
    }

    /// The product `op(a) · op(b)` as a new matrix (BLAS `sgemm`).
    public static func product(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false) -> Matrix {
        let (m, n) = (transposeA ? a.columns : a.rows, transposeB ? b.rows : b.columns)
        // sgemm with beta = 0 stores every entry of c (OpenBLAS writes zeros first, never reads c),
        // so c needs no zero fill unless the inner dimension is empty.
        let inner = transposeA ? a.rows : a.columns
        var c = inner > 0 ? Matrix(uninitializedRows: m, columns: n) : Matrix(rows: m, columns: n)
        gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
        return c
    }

    /// `op(self) · x` for a vector `x` (BLAS `sgemv`).
    /// - Parameters:
    ///   - x: a vector of length `columns` (or `rows` when transposed).
    ///   - transpose: use `selfᵀ`.
    public func multiply(vector x: [Float], transpose: Bool = false) -> [Float] {
        let outCount = transpose ? columns : rows
        precondition(x.count == (transpose ? rows : columns), "gemv: vector length mismatch")
        var y = [Float](repeating: 0, count: outCount)
        if outCount == 0 || x.isEmpty { return y }
        storage.withUnsafeBufferPointer { pa in
            x.withUnsafeBufferPointer { px in
                y.withUnsafeMutableBufferPointer { py in
                    cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans,
                                Int32(rows), Int32(columns), 1, pa.baseAddress, Int32(max(1, columns)),
                                px.baseAddress, 1, 0, py.baseAddress, 1)
                }
            }
        }
        return y
    }

    /// Sum of each column (`selfᵀ · 1`, BLAS `sgemv`).
    public func columnSums() -> [Float] {
        multiply(vector: [Float](repeating: 1, count: rows), transpose: true)
    }

    /// Adds `vector` to every row (rank-one update `self += 1 · vectorᵀ`, BLAS `sger`).
    public mutating func addToEachRow(_ vector: [Float]) {
        precondition(vector.count == columns, "row vector length mismatch")
        if rows == 0 || columns == 0 { return }
        let ones = [Float](repeating: 1, count: rows)
        let (m, n) = (rows, columns)
        ones.withUnsafeBufferPointer { po in
            vector.withUnsafeBufferPointer { pv in
                storage.withUnsafeMutableBufferPointer { pa in
                    cblas_sger(CblasRowMajor, Int32(m), Int32(n), 1, po.baseAddress, 1,
                               pv.baseAddress, 1, pa.baseAddress, Int32(n))
                }
            }
        }
    }
}

// MARK: - Level-1 operations (saxpy, sscal, snrm2, sdot)

extension Matrix {
    /// `self ← self + alpha · x` (BLAS `saxpy`).
    public mutating func add(_ x: Matrix, scaledBy alpha: Float = 1) {
        precondition(x.rows == rows && x.columns == columns, "axpy: shape mismatch")
        Vector.axpy(alpha, x.storage, &storage)
    }

    /// `self ← alpha · self` (BLAS `sscal`).
    public mutating func scale(by alpha: Float) {
        Vector.scale(&storage, by: alpha)
    }

    /// The Frobenius norm (BLAS `snrm2`).
    public var frobeniusNorm: Float { Vector.norm(storage) }

    /// The squared Euclidean norm of each row (one BLAS `sdot` per row).
    public func rowSquaredNorms() -> [Float] {
        var result = [Float](repeating: 0, count: rows)
        let n = Int32(columns)
        storage.withUnsafeBufferPointer { p in
            for i in 0..<rows {
                let row = p.baseAddress! + i * columns
                result[i] = cblas_sdot(n, row, 1, row, 1)
            }
        }
        return result
    }

    /// Multiplies row `i` by `factors[i]` (one BLAS `sscal` per row); a row whose factor is 0 is set
    /// to zero by assignment (see ``scaleRowGroups(rowsPerGroup:by:)``).
    public mutating func scaleRows(by factors: [Float]) {
        scaleRowGroups(rowsPerGroup: 1, by: factors)
    }

    /// Multiplies each block of `rowsPerGroup` consecutive rows by its factor (group `g` by
    /// `factors[g]`): used to scale every position of example `g` in a convolution batch.
    ///
    /// A group whose factor is 0 is set to zero by assignment rather than multiplied, so that it is
    /// exactly zero even when it holds NaN or ±Inf (`0 · Inf` is NaN): a per-example clipping factor
    /// of 0 removes that example from a clipped sum whatever its values (docs/design.md §2 rule 8).
    public mutating func scaleRowGroups(rowsPerGroup: Int, by factors: [Float]) {
        precondition(factors.count * rowsPerGroup == rows, "one factor per row group")
        let n = Int32(rowsPerGroup * columns)
        let stride = rowsPerGroup * columns
        storage.withUnsafeMutableBufferPointer { p in
            for g in 0..<factors.count where factors[g] != 1 {
                if factors[g] == 0 {
                    (p.baseAddress! + g * stride).update(repeating: 0, count: stride)
                } else {
                    cblas_sscal(n, factors[g], p.baseAddress! + g * stride, 1)
                }
            }
        }
    }

    /// Sets to zero (by assignment) every block of `rowsPerGroup` consecutive rows whose factor is 0,
    /// and leaves the others unchanged; copies the storage only when some factor is 0.
    ///
    /// With ``scaleRowGroups(rowsPerGroup:by:)`` on the other factor, this makes a product `Gᵀ A`
    /// ignore the examples whose factor is 0 even when their rows of `A` hold ±Inf or NaN.
    public mutating func zeroRowGroups(rowsPerGroup: Int, whereFactorIsZero factors: [Float]) {
        precondition(factors.count * rowsPerGroup == rows, "one factor per row group")
        guard factors.contains(0) else { return }
        let stride = rowsPerGroup * columns
        storage.withUnsafeMutableBufferPointer { p in
            for g in 0..<factors.count where factors[g] == 0 {
                (p.baseAddress! + g * stride).update(repeating: 0, count: stride)
            }
        }
    }

    /// Squared Frobenius norm of each block of `rowsPerGroup` consecutive rows.
    public func rowGroupSquaredNorms(rowsPerGroup: Int) -> [Float] {
        precondition(rowsPerGroup > 0 && rows % rowsPerGroup == 0, "rows must split into whole groups")
        let groups = rows / rowsPerGroup
        let stride = rowsPerGroup * columns
        var result = [Float](repeating: 0, count: groups)
        storage.withUnsafeBufferPointer { p in
            for g in 0..<groups {
                let base = p.baseAddress! + g * stride
                result[g] = cblas_sdot(Int32(stride), base, 1, base, 1)
            }
        }
        return result
    }
}

// MARK: - Vectors

/// BLAS level-1 operations on `[Float]` vectors.
public enum Vector {
    /// `y ← y + alpha · x` (BLAS `saxpy`).
    public static func axpy(_ alpha: Float, _ x: [Float], _ y: inout [Float]) {
        precondition(x.count == y.count, "axpy: length mismatch")
        if x.isEmpty { return }
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                cblas_saxpy(Int32(px.count), alpha, px.baseAddress, 1, py.baseAddress, 1)
            }
        }
    }

    /// `x ← alpha · x` (BLAS `sscal`).
    public static func scale(_ x: inout [Float], by alpha: Float) {
        if x.isEmpty { return }
        x.withUnsafeMutableBufferPointer { p in
            cblas_sscal(Int32(p.count), alpha, p.baseAddress, 1)
        }
    }

    /// Euclidean norm (BLAS `snrm2`).
    public static func norm(_ x: [Float]) -> Float {
        if x.isEmpty { return 0 }
        return x.withUnsafeBufferPointer { cblas_snrm2(Int32($0.count), $0.baseAddress, 1) }
    }

    /// Inner product (BLAS `sdot`).
    public static func dot(_ x: [Float], _ y: [Float]) -> Float {
        precondition(x.count == y.count, "dot: length mismatch")
        if x.isEmpty { return 0 }
        return x.withUnsafeBufferPointer { px in
            y.withUnsafeBufferPointer { py in cblas_sdot(Int32(px.count), px.baseAddress, 1, py.baseAddress, 1) }
        }
    }
}

// MARK: - Per-block gradient norms

/// How to compute the squared norm of a per-example weight gradient `Gᵢᵀ Aᵢ` of a layer
/// applied at several positions (Bu et al. 2022, "mixed ghost clipping").
public enum BlockNormMethod: String, Sendable, Codable {
    /// `‖Gᵢᵀ Aᵢ‖² = ⟨Aᵢ Aᵢᵀ, Gᵢ Gᵢᵀ⟩` from the two `P × P` Gram matrices: cost `P²(K + D)`.
    case gram
    /// Form `Gᵢᵀ Aᵢ` (`D × K`) and take its norm: cost `P · K · D`.
    case materialized

    /// The cheaper method for `positions` rows per example, `inputWidth` = K, `outputWidth` = D.
    public static func cheaper(positions: Int, inputWidth: Int, outputWidth: Int) -> BlockNormMethod {
        positions * (inputWidth + outputWidth) < inputWidth * outputWidth ? .gram : .materialized
    }
}

extension Matrix {
    /// For each block `i` of `rowsPerBlock` consecutive rows, `‖Gᵢᵀ Aᵢ‖²_F` where `Gᵢ` and `Aᵢ`
    /// are the blocks of `outputGradients` and `inputs`: the squared norm of example `i`'s
    /// weight gradient without summing over the batch.
    ///
    /// - Parameters:
    ///   - outputGradients: `B·P × D`.
    ///   - inputs: `B·P × K`.
    ///   - rowsPerBlock: `P`.
    ///   - method: Gram-matrix form or materialisation (see ``BlockNormMethod``).
    public static func blockProductSquaredNorms(outputGradients g: Matrix, inputs a: Matrix, rowsPerBlock p: Int,
                                                method: BlockNormMethod) -> [Float] {
        precondition(g.rows == a.rows && p > 0 && g.rows % p == 0, "blockProductSquaredNorms: shape mismatch")
        let blocks = g.rows / p
        let (d, k) = (g.columns, a.columns)
        var result = [Float](repeating: 0, count: blocks)
        result.withUnsafeMutableBufferPointer { out in
            a.storage.withUnsafeBufferPointer { pa in
                g.storage.withUnsafeBufferPointer { pg in
                    // Each block's norm reads that block only, so the blocks split across threads
                    // give the same values as one thread; each thread has its own workspace.
                    ParallelSlices.run(blocks) { slice in
                        switch method {
                        case .gram:
                            gramNorms(pa.baseAddress!, pg.baseAddress!, p: p, k: k, d: d, blocks: slice, into: out)
                        case .materialized:
                            materializedNorms(pa.baseAddress!, pg.baseAddress!, p: p, k: k, d: d, blocks: slice, into: out)
                        }
                    }
                }
            }
        }
        return result
    }

    /// ``blockProductSquaredNorms(outputGradients:inputs:rowsPerBlock:method:)`` by Gram matrices
    /// for the blocks `blocks` (`a` is `B·P × K`, `g` is `B·P × D`).
    private static func gramNorms(_ a: UnsafePointer<Float>, _ g: UnsafePointer<Float>, p: Int, k: Int, d: Int,
                                  blocks: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) {
        var gramA = [Float](repeating: 0, count: p * p)
        var gramG = [Float](repeating: 0, count: p * p)
        gramA.withUnsafeMutableBufferPointer { ga in
            gramG.withUnsafeMutableBufferPointer { gg in
                for i in blocks {
                    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(p), Int32(k), 1,
                                a + i * p * k, Int32(k), 0, ga.baseAddress, Int32(p))
                    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, Int32(p), Int32(d), 1,
                                g + i * p * d, Int32(d), 0, gg.baseAddress, Int32(p))
                    // ⟨S, T⟩ for symmetric S, T from their upper triangles: 2·(all) − diagonal.
                    var total: Float = 0
                    for r in 0..<p {
                        let rowA = ga.baseAddress! + r * p + r
                        let rowG = gg.baseAddress! + r * p + r
                        let upper = cblas_sdot(Int32(p - r), rowA, 1, rowG, 1)
                        total += 2 * upper - rowA[0] * rowG[0]
                    }
                    out[i] = total
                }
            }
        }
    }

    /// ``blockProductSquaredNorms(outputGradients:inputs:rowsPerBlock:method:)`` by forming each
    /// block's `Gᵢᵀ Aᵢ`, for the blocks `blocks`.
    private static func materializedNorms(_ a: UnsafePointer<Float>, _ g: UnsafePointer<Float>, p: Int, k: Int, d: Int,
                                          blocks: Range<Int>, into out: UnsafeMutableBufferPointer<Float>) {
        var product = [Float](repeating: 0, count: d * k)
        product.withUnsafeMutableBufferPointer { pw in
            for i in blocks {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(d), Int32(k), Int32(p), 1,
                            g + i * p * d, Int32(d), a + i * p * k, Int32(k), 0, pw.baseAddress, Int32(k))
                let n = cblas_snrm2(Int32(d * k), pw.baseAddress, 1)
                out[i] = n * n
            }
        }
    }

    /// Sums each block of `rowsPerBlock` consecutive rows: a `B × columns` matrix (one `sgemv` per block).
    public func blockRowSums(rowsPerBlock p: Int) -> Matrix {
        precondition(p > 0 && rows % p == 0, "blockRowSums: rows must split into whole blocks")
        let blocks = rows / p
        var result = Matrix(rows: blocks, columns: columns)
        let ones = [Float](repeating: 1, count: p)
        let n = columns
        storage.withUnsafeBufferPointer { src in
            ones.withUnsafeBufferPointer { po in
                result.storage.withUnsafeMutableBufferPointer { dst in
                    ParallelSlices.run(blocks, minimumItems: 16) { slice in
                        for i in slice {
                            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(p), Int32(n), 1,
                                        src.baseAddress! + i * p * n, Int32(n), po.baseAddress, 1,
                                        0, dst.baseAddress! + i * n, 1)
                        }
                    }
                }
            }
        }
        return result
    }
}
