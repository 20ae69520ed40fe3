import LinearAlgebra
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The kernels that split a batch across threads (``ParallelSlices``) compute every example from
/// that example alone: a batch gives, bit for bit, the results of its examples one at a time
/// (a one-example batch always runs on one thread), whatever the number of threads.
@Suite("Kernels split across threads")
struct ParallelKernelTests {
    private func sample(_ rows: Int, _ columns: Int, seed: Int) -> Matrix {
        Matrix(rows: rows, columns: columns,
               storage: (0..<(rows * columns)).map { Float((($0 + seed) * 7 + 3) % 13) / 6 - 1 + Float(seed) * 0.01 })
    }

    /// Rows `k·n ..< (k+1)·n` of each matrix, concatenated in order: a batch rebuilt from per-example results.
    private func concatenated(_ parts: [Matrix]) -> Matrix {
        Matrix(rows: parts.reduce(0) { $0 + $1.rows }, columns: parts[0].columns, storage: parts.flatMap(\.storage))
    }

    @Test("every index of 0..<count is visited exactly once, for any count and minimum slice size",
          arguments: [(0, 1), (1, 1), (2, 1), (7, 1), (1000, 16), (33, 32), (100_003, 1 << 15)])
    func slicesCoverOnce(count: Int, minimumItems: Int) {
        var visits = [Int32](repeating: 0, count: count)
        visits.withUnsafeMutableBufferPointer { v in
            ParallelSlices.run(count, minimumItems: minimumItems) { range in
                for i in range { v[i] += 1 }
            }
        }
        #expect(visits.allSatisfy { $0 == 1 })
    }

    @Test("im2col, col2im, max pooling and its backward pass of a batch of 7 equal those of its examples one by one")
    func imageKernelsPerExample() {
        let batch = 7
        let shape = ImageShape(height: 9, width: 8, channels: 3)
        let conv = WindowGeometry(input: shape, kernel: 4, stride: 2, padding: 1)
        let pool = WindowGeometry(input: shape, kernel: 2, stride: 1, padding: 0)
        let x = sample(batch, shape.count, seed: 1)
        let examples = (0..<batch).map { x.rows($0..<($0 + 1)) }

        #expect(x.imageToColumns(conv) == concatenated(examples.map { $0.imageToColumns(conv) }))

        let cols = sample(batch * conv.outputPositions, conv.patchLength, seed: 2)
        let perExampleImages = (0..<batch).map {
            cols.rows(($0 * conv.outputPositions)..<(($0 + 1) * conv.outputPositions)).columnsToImage(conv, batch: 1)
        }
        #expect(cols.columnsToImage(conv, batch: batch) == concatenated(perExampleImages))

        let (pooled, argmax) = x.maxPool(pool)
        let single = examples.map { $0.maxPool(pool) }
        #expect(pooled == concatenated(single.map(\.output)))
        #expect(argmax == single.flatMap(\.argmax))

        let g = sample(batch, pooled.columns, seed: 3)
        let back = g.maxPoolBackward(pool, argmax: argmax)
        let singleBack = (0..<batch).map { g.rows($0..<($0 + 1)).maxPoolBackward(pool, argmax: single[$0].argmax) }
        #expect(back == concatenated(singleBack))
    }

    @Test("block norms of 9 blocks equal each block's norm computed alone, for both methods")
    func blockNormsPerBlock() {
        let (blocks, p) = (9, 4)
        let g = sample(blocks * p, 3, seed: 4), a = sample(blocks * p, 5, seed: 5)
        for method in [BlockNormMethod.gram, .materialized] {
            let all = Matrix.blockProductSquaredNorms(outputGradients: g, inputs: a, rowsPerBlock: p, method: method)
            let alone = (0..<blocks).flatMap { i in
                Matrix.blockProductSquaredNorms(outputGradients: g.rows((i * p)..<((i + 1) * p)),
                                                inputs: a.rows((i * p)..<((i + 1) * p)), rowsPerBlock: p, method: method)
            }
            #expect(all == alone)
        }
        let sums = g.blockRowSums(rowsPerBlock: p)
        for i in 0..<blocks {
            for j in 0..<3 {
                #expect(abs(sums[i, j] - (0..<p).reduce(Float(0)) { $0 + g[i * p + $1, j] }) < 1e-5)
            }
        }
    }

    @Test("block norms, hand-computed: A = [[1, 2], [3, 4]], G = [[1], [2]] gives ‖GᵀA‖² = 7² + 10² = 149 per block")
    func blockNormsKnownAnswer() {
        // Three blocks: the second is the first times 2 (norm × 16), the third the first with its rows swapped
        // in both A and G (the same product).
        let a = Matrix(rows: 6, columns: 2, storage: [1, 2, 3, 4, 2, 4, 6, 8, 3, 4, 1, 2])
        let g = Matrix(rows: 6, columns: 1, storage: [1, 2, 2, 4, 2, 1])
        for method in [BlockNormMethod.gram, .materialized] {
            let norms = Matrix.blockProductSquaredNorms(outputGradients: g, inputs: a, rowsPerBlock: 2, method: method)
            // Gram: exact in Float; materialised: through snrm2 and its square, to rounding.
            for (norm, expected) in zip(norms, [Float(149), 2384, 149]) {
                #expect(abs(norm - expected) <= 1e-5 * expected, "\(method): \(norm), expected \(expected)")
            }
        }
    }

    @Test("element-wise maps of a large matrix equal the same maps entry by entry")
    func elementwiseLarge() {
        let n = 100_003  // several slices and a tail
        let x = Matrix(rows: 1, columns: n, storage: (0..<n).map { Float(($0 * 37) % 2001) / 100 - 10 })
        let y = x.tanh()
        let g = Matrix(rows: 1, columns: n, storage: (0..<n).map { Float($0 % 17) - 8 })
        let relu = x.relu(), reluBack = g.reluBackward(input: x), tanhBack = g.tanhBackward(output: y)
        var oneThread = x.storage
        oneThread.withUnsafeMutableBufferPointer { TanhKernel.apply($0) }
        #expect(y.storage == oneThread)
        #expect(relu.storage == x.storage.map { max(0, $0) })
        #expect(reluBack.storage == (0..<n).map { x.storage[$0] > 0 ? g.storage[$0] : 0 })
        #expect(tanhBack.storage == (0..<n).map { g.storage[$0] * (1 - y.storage[$0] * y.storage[$0]) })
    }

    @Test("ReLU and its gradient by lanes: NaN, signed zeros and infinities in the lanes and the tail, as the scalar rule")
    func reluSpecialValues() {
        // 19 entries: two lanes of eight and a tail of three, each with a NaN.
        let values: [Float] = [.nan, -0.0, 0, -1, 2, -.infinity, .infinity, 0.5, -3, 5, .nan, -0.0, 1e-30, -1e-30, 7, -7,
                               -2, .nan, -0.0]
        let x = Matrix(rows: 1, columns: values.count, storage: values)
        let g = Matrix(rows: 1, columns: values.count, storage: (0..<values.count).map { Float($0) + 1 })
        var inPlace = x
        inPlace.applyReLU()
        let expected = values.map { $0 < 0 ? 0 : $0 }  // NaN < 0 is false: NaN and −0 stay
        #expect(x.relu().storage.map(\.bitPattern) == expected.map(\.bitPattern))
        #expect(inPlace.storage.map(\.bitPattern) == expected.map(\.bitPattern))
        let gradient = g.reluBackward(input: x).storage
        #expect(gradient == (0..<values.count).map { values[$0] <= 0 ? 0 : g.storage[$0] })  // a NaN input keeps it
        #expect(gradient[0] == 1 && gradient[10] == 11 && gradient[17] == 18 && gradient[1] == 0 && gradient[18] == 0)
    }

    @Test("gathered rows equal the rows at those indices, repeats and order kept")
    func gatherRowsLarge() {
        let (rows, columns) = (1_000, 200)
        let m = Matrix(rows: rows, columns: columns, storage: (0..<(rows * columns)).map { Float($0) })
        let indices = (0..<700).map { ($0 * 389) % rows } + [3, 3, 999, 0]
        let gathered = m.gatherRows(indices)
        #expect(gathered.rows == indices.count && gathered.columns == columns)
        #expect(gathered.storage == indices.flatMap { i in (0..<columns).map { Float(i * columns + $0) } })
        #expect(m.gatherRows([]).rows == 0)
    }
}
