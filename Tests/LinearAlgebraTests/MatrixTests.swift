import LinearAlgebra
import Testing

@Suite("Matrix over BLAS")
struct MatrixTests {
    private func naiveProduct(_ a: Matrix, _ b: Matrix) -> Matrix {
        var c = Matrix(rows: a.rows, columns: b.columns)
        for i in 0..<a.rows { for j in 0..<b.columns { for k in 0..<a.columns { c[i, j] += a[i, k] * b[k, j] } } }
        return c
    }

    private func transposed(_ a: Matrix) -> Matrix {
        var t = Matrix(rows: a.columns, columns: a.rows)
        for i in 0..<a.rows { for j in 0..<a.columns { t[j, i] = a[i, j] } }
        return t
    }

    private func sample(_ rows: Int, _ columns: Int, offset: Float) -> Matrix {
        Matrix(rows: rows, columns: columns, storage: (0..<(rows * columns)).map { Float(($0 * 7 + 3) % 11) / 5 - 1 + offset })
    }

    @Test("gemm agrees with the definition for every transpose combination")
    func gemm() {
        let a = sample(3, 4, offset: 0.1), b = sample(4, 5, offset: -0.2)
        let expected = naiveProduct(a, b)
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let c = Matrix.product(ta ? transposed(a) : a, transposeA: ta, tb ? transposed(b) : b, transposeB: tb)
            for i in 0..<c.count { #expect(abs(c.storage[i] - expected.storage[i]) < 1e-5) }
        }
    }

    @Test("gemv, column sums, row broadcast, axpy, norms")
    func levelOneAndTwo() {
        let a = sample(3, 4, offset: 0)
        let x: [Float] = [1, 2, 3, 4]
        let y = a.multiply(vector: x)
        for i in 0..<3 { #expect(abs(y[i] - (0..<4).reduce(0) { $0 + a[i, $1] * x[$1] }) < 1e-5) }
        let sums = a.columnSums()
        for j in 0..<4 { #expect(abs(sums[j] - (0..<3).reduce(0) { $0 + a[$1, j] }) < 1e-5) }
        var b = a
        b.addToEachRow(x)
        #expect(abs(b[2, 3] - (a[2, 3] + 4)) < 1e-6)
        b.add(a, scaledBy: -1)
        #expect(abs(b[1, 2] - 3) < 1e-6)
        let norms = a.rowSquaredNorms()
        #expect(abs(norms[1] - (0..<4).reduce(0) { $0 + a[1, $1] * a[1, $1] }) < 1e-5)
        #expect(abs(a.frobeniusNorm * a.frobeniusNorm - norms.reduce(0, +)) < 1e-4)
    }

    @Test("block product norms: Gram form and materialisation equal the explicit per-block product")
    func blockNorms() {
        let p = 3
        let g = sample(2 * p, 4, offset: 0.3), a = sample(2 * p, 5, offset: -0.1)
        for method in [BlockNormMethod.gram, .materialized] {
            let norms = Matrix.blockProductSquaredNorms(outputGradients: g, inputs: a, rowsPerBlock: p, method: method)
            for block in 0..<2 {
                let w = Matrix.product(g.rows((block * p)..<((block + 1) * p)), transposeA: true,
                                       a.rows((block * p)..<((block + 1) * p)))
                let expected = w.frobeniusNorm * w.frobeniusNorm
                #expect(abs(norms[block] - expected) < 1e-4 * max(1, expected))
            }
        }
    }

    @Test("im2col then col2im is the adjoint: ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩")
    func im2colAdjoint() {
        let shape = ImageShape(height: 5, width: 4, channels: 2)
        let geometry = WindowGeometry(input: shape, kernel: 3, stride: 2, padding: 1)
        let x = sample(2, shape.count, offset: 0.05)
        let cols = x.imageToColumns(geometry)
        #expect(cols.rows == 2 * geometry.outputPositions && cols.columns == geometry.patchLength)
        let y = sample(cols.rows, cols.columns, offset: -0.15)
        let back = y.columnsToImage(geometry, batch: 2)
        let lhs = Vector.dot(cols.storage, y.storage), rhs = Vector.dot(x.storage, back.storage)
        #expect(abs(lhs - rhs) < 1e-3)
    }

    @Test("a row factor of 0 zeroes the row by assignment, also when it holds NaN or Inf; other rows are scaled")
    func zeroFactorRows() {
        var g = Matrix(rows: 3, columns: 2, storage: [1, 2, .nan, .infinity, 3, 4])
        g.scaleRows(by: [2, 0, 1])
        #expect(g.storage == [2, 4, 0, 0, 3, 4])
        var a = Matrix(rows: 4, columns: 1, storage: [1, -.infinity, .nan, 5])
        a.zeroRowGroups(rowsPerGroup: 2, whereFactorIsZero: [0, 0.5])
        #expect(a.storage[0...1] == [0, 0] && a.storage[2].isNaN && a.storage[3] == 5)
        var groups = Matrix(rows: 4, columns: 1, storage: [1, 2, .nan, 4])
        groups.scaleRowGroups(rowsPerGroup: 2, by: [3, 0])
        #expect(groups.storage == [3, 6, 0, 0])
    }
}
