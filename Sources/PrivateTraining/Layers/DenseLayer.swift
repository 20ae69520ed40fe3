import LinearAlgebra
import Mechanisms

/// A fully connected layer `y = W x + b` with `W` of shape `outputs × inputs`.
///
/// Per-example gradient norm by the ghost-norm identity for a layer applied at one position:
/// `‖∇_W ℓᵢ‖² = ‖aᵢ‖² · ‖gᵢ‖²` and `‖∇_b ℓᵢ‖² = ‖gᵢ‖²`, where `aᵢ` is the input and `gᵢ` the
/// output gradient of example `i` (Goodfellow 2015; Li et al. 2021, §4). An example of several rows (its
/// augmented views) has the weight gradient `Gᵢᵀ Aᵢ` of its rows, whose norm is taken as a convolution's is
/// (``Matrix/blockProductSquaredNorms(outputGradients:inputs:rowsPerBlock:method:)``).
public struct DenseLayer: Layer {
    /// Number of inputs per example.
    public let inputs: Int
    /// Number of outputs per example.
    public let outputs: Int
    /// `[W (outputs × inputs), b (1 × outputs)]`.
    public var parameters: [Matrix]
    private var input = Matrix(rows: 0, columns: 0)
    private var outputGradient = Matrix(rows: 0, columns: 0)

    /// A dense layer with uniform initial weights and zero bias.
    public init<R: RandomSource>(inputs: Int, outputs: Int, random: inout R) {
        self.inputs = inputs
        self.outputs = outputs
        parameters = [uniformInitialWeights(rows: outputs, columns: inputs, fanIn: inputs, random: &random),
                      Matrix(rows: 1, columns: outputs)]
    }

    public var specification: LayerSpecification { .dense(units: outputs) }
    public var outputShape: ImageShape { ImageShape(height: 1, width: 1, channels: outputs) }

    public mutating func forward(_ x: Matrix) -> Matrix {
        precondition(x.columns == inputs, "dense layer expects \(inputs) inputs, got \(x.columns)")
        input = x
        var y = Matrix.product(x, parameters[0], transposeB: true)
        y.addToEachRow(parameters[1].storage)
        return y
    }

    public mutating func backward(_ g: Matrix, needsInputGradient: Bool) -> Matrix? {
        outputGradient = g
        guard needsInputGradient else { return nil }
        return Matrix.product(g, parameters[0])
    }

    public func perExampleSquaredNorms(rowsPerExample: Int) -> [Float] {
        guard rowsPerExample > 1 else {
            let a = input.rowSquaredNorms()
            let g = outputGradient.rowSquaredNorms()
            return (0..<a.count).map { g[$0] * (a[$0] + 1) }
        }
        var norms = Matrix.blockProductSquaredNorms(
            outputGradients: outputGradient, inputs: input, rowsPerBlock: rowsPerExample,
            method: BlockNormMethod.cheaper(positions: rowsPerExample, inputWidth: inputs, outputWidth: outputs))
        let biasNorms = outputGradient.blockRowSums(rowsPerBlock: rowsPerExample).rowSquaredNorms()
        for i in norms.indices { norms[i] += biasNorms[i] }
        return norms
    }

    public func parameterGradients(exampleScales: [Float]?, rowsPerExample: Int) -> [Matrix] {
        var g = outputGradient
        var a = input
        if let exampleScales {
            // A factor of 0 removes the example exactly, also when its input holds ±Inf (0 · Inf = NaN).
            g.scaleRowGroups(rowsPerGroup: rowsPerExample, by: exampleScales)
            a.zeroRowGroups(rowsPerGroup: rowsPerExample, whereFactorIsZero: exampleScales)
        }
        let weight = Matrix.product(g, transposeA: true, a)
        let bias = Matrix(rows: 1, columns: outputs, storage: g.columnSums())
        return [weight, bias]
    }

    public mutating func clearCaches() {
        input = Matrix(rows: 0, columns: 0)
        outputGradient = Matrix(rows: 0, columns: 0)
    }
}
