import LinearAlgebra
import Mechanisms

/// A 2-D convolution computed as im2col followed by one `sgemm`: `Y = cols(X) · Wᵀ + b`, with
/// `W` of shape `filters × (kernel · kernel · channels)`.
///
/// Per-example gradient norms: example `i`'s weight gradient is `Gᵢᵀ Aᵢ` with `Aᵢ` its `P × K`
/// unrolled patches and `Gᵢ` its `P × D` output gradients. Its squared norm is computed either
/// from Gram matrices, `⟨Aᵢ Aᵢᵀ, Gᵢ Gᵢᵀ⟩` (Li et al. 2021, ghost norm), or by forming `Gᵢᵀ Aᵢ`,
/// whichever costs fewer operations for this layer's `P`, `K`, `D` (Bu et al. 2022, mixed ghost
/// clipping). The bias gradient is `Gᵢᵀ 1`.
public struct Convolution2DLayer: Layer {
    /// Input shape, kernel, stride and padding.
    public let geometry: WindowGeometry
    /// Output channels.
    public let filters: Int
    /// The norm method used for clipping, chosen by cost when the layer is built.
    public var normMethod: BlockNormMethod
    /// `[W (filters × kernel²·channels), b (1 × filters)]`.
    public var parameters: [Matrix]
    private var columns = Matrix(rows: 0, columns: 0)
    private var outputGradient = Matrix(rows: 0, columns: 0)
    private var batch = 0

    /// A convolution with uniform initial weights and zero bias.
    public init<R: RandomSource>(geometry: WindowGeometry, filters: Int, random: inout R) {
        self.geometry = geometry
        self.filters = filters
        normMethod = BlockNormMethod.cheaper(positions: geometry.outputPositions, inputWidth: geometry.patchLength,
                                             outputWidth: filters)
        parameters = [uniformInitialWeights(rows: filters, columns: geometry.patchLength,
                                            fanIn: geometry.patchLength, random: &random),
                      Matrix(rows: 1, columns: filters)]
    }

    public var specification: LayerSpecification {
        .convolution2D(filters: filters, kernel: geometry.kernel, stride: geometry.stride, padding: geometry.padding)
    }
    public var outputShape: ImageShape {
        ImageShape(height: geometry.outputHeight, width: geometry.outputWidth, channels: filters)
    }

    public mutating func forward(_ x: Matrix) -> Matrix {
        batch = x.rows
        columns = x.imageToColumns(geometry)
        var y = Matrix.product(columns, parameters[0], transposeB: true)
        y.addToEachRow(parameters[1].storage)
        return y.reshaped(rows: batch, columns: geometry.outputPositions * filters)
    }

    public mutating func backward(_ g: Matrix, needsInputGradient: Bool) -> Matrix? {
        outputGradient = g.reshaped(rows: batch * geometry.outputPositions, columns: filters)
        guard needsInputGradient else { return nil }
        let columnGradient = Matrix.product(outputGradient, parameters[0])
        return columnGradient.columnsToImage(geometry, batch: batch)
    }

    public func perExampleSquaredNorms(rowsPerExample: Int) -> [Float] {
        // An example of several views has their positions together.
        let p = geometry.outputPositions * rowsPerExample
        let method = rowsPerExample == 1 ? normMethod
            : BlockNormMethod.cheaper(positions: p, inputWidth: geometry.patchLength, outputWidth: filters)
        var norms = Matrix.blockProductSquaredNorms(outputGradients: outputGradient, inputs: columns,
                                                    rowsPerBlock: p, method: method)
        let biasNorms = outputGradient.blockRowSums(rowsPerBlock: p).rowSquaredNorms()
        for i in norms.indices { norms[i] += biasNorms[i] }
        return norms
    }

    public func parameterGradients(exampleScales: [Float]?, rowsPerExample: Int) -> [Matrix] {
        var g = outputGradient
        var a = columns
        if let exampleScales {
            // A factor of 0 removes the example exactly, also when its patches hold ±Inf (0 · Inf = NaN).
            let rows = geometry.outputPositions * rowsPerExample
            g.scaleRowGroups(rowsPerGroup: rows, by: exampleScales)
            a.zeroRowGroups(rowsPerGroup: rows, whereFactorIsZero: exampleScales)
        }
        let weight = Matrix.product(g, transposeA: true, a)
        let bias = Matrix(rows: 1, columns: filters, storage: g.columnSums())
        return [weight, bias]
    }

    public mutating func clearCaches() {
        columns = Matrix(rows: 0, columns: 0)
        outputGradient = Matrix(rows: 0, columns: 0)
    }
}
