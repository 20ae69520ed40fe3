import LinearAlgebra
import Mechanisms

/// A feed-forward stack of layers ending in class logits, trained with softmax cross-entropy.
public struct SequentialModel: Sendable {
    /// The shape of one input example.
    public let inputShape: ImageShape
    /// The layers, first to last.
    public var layers: [any Layer]
    /// The sizes of the architecture, checked when the model was built.
    public let footprint: ArchitectureFootprint

    /// Builds the layers of `architecture` for inputs of `inputShape`, drawing initial weights
    /// from `random` (initialisation does not depend on data).
    /// - Throws: `VeilError.invalidParameter` when a layer does not fit its input or the model exceeds
    ///   the sizes ``ArchitectureFootprint`` allows (checked before anything is allocated).
    public init<R: RandomSource>(architecture: [LayerSpecification], inputShape: ImageShape, random: inout R) throws {
        footprint = try ArchitectureFootprint(architecture: architecture, inputShape: inputShape)
        self.inputShape = inputShape
        var shape = inputShape
        var built: [any Layer] = []
        for specification in architecture {
            let layer = try specification.makeLayer(inputShape: shape, random: &random)
            shape = layer.outputShape
            built.append(layer)
        }
        layers = built
    }

    /// The architecture, layer by layer.
    public var architecture: [LayerSpecification] { layers.map(\.specification) }
    /// Number of output classes (the last layer's output size).
    public var classCount: Int { layers.last!.outputShape.count }
    /// Number of trainable values.
    public var parameterCount: Int { layers.reduce(0) { $0 + $1.parameters.reduce(0) { $0 + $1.count } } }

    /// All trainable tensors in layer order.
    public var parameters: [Matrix] {
        get { layers.flatMap(\.parameters) }
        set {
            var offset = 0
            for i in layers.indices {
                let k = layers[i].parameters.count
                if k > 0 {
                    layers[i].parameters = Array(newValue[offset..<(offset + k)])
                    offset += k
                }
            }
            precondition(offset == newValue.count, "parameter count mismatch")
        }
    }

    /// The logits of a batch (keeps activations for a backward pass).
    public mutating func forward(_ input: Matrix) -> Matrix {
        precondition(input.columns == inputShape.count, "input has \(input.columns) values, model expects \(inputShape.count)")
        var x = input
        for i in layers.indices { x = layers[i].forward(x) }
        return x
    }

    /// Back-propagates the gradient of the summed loss with respect to the logits down to the
    /// first layer with parameters. That layer's input gradient is not computed, nor anything
    /// below it: layers without parameters in front of it (a flatten before the first dense layer)
    /// need no gradient, and for a dense first layer that saves one `sgemm` as large as its forward one.
    public mutating func backward(_ logitGradient: Matrix) {
        let firstWithParameters = layers.firstIndex { !$0.parameters.isEmpty } ?? layers.count
        var g = logitGradient
        for i in layers.indices.reversed() where i >= firstWithParameters {
            guard let next = layers[i].backward(g, needsInputGradient: i > firstWithParameters) else { break }
            g = next
        }
    }

    /// Each example's squared gradient norm over all parameters (after ``backward(_:)``), for `batch` examples of
    /// `rowsPerExample` consecutive rows each.
    public func perExampleSquaredNorms(batch: Int, rowsPerExample: Int = 1) -> [Float] {
        var total = [Float](repeating: 0, count: batch)
        for layer in layers {
            let norms = layer.perExampleSquaredNorms(rowsPerExample: rowsPerExample)
            if norms.isEmpty { continue }
            for i in 0..<batch { total[i] += norms[i] }
        }
        return total
    }

    /// `Σᵢ cᵢ ∇ℓᵢ` for all parameters, in the order of ``parameters``, for examples of `rowsPerExample` rows each.
    public func parameterGradients(exampleScales: [Float]?, rowsPerExample: Int = 1) -> [Matrix] {
        layers.flatMap { $0.parameterGradients(exampleScales: exampleScales, rowsPerExample: rowsPerExample) }
    }

    /// Drops cached activations (keeps memory low between batches).
    public mutating func clearCaches() {
        for i in layers.indices { layers[i].clearCaches() }
    }

    /// The logits of a batch without keeping anything for a backward pass, evaluated in chunks
    /// of at most `chunk` rows (fewer when a chunk's buffers would exceed
    /// ``ArchitectureFootprint/maximumValuesPerBatch``).
    public func logits(_ input: Matrix, chunk: Int = 1000) -> Matrix {
        let chunk = max(1, min(chunk, footprint.largestBatch))
        var copy = self
        var out = Matrix(rows: input.rows, columns: classCount)
        var start = 0
        while start < input.rows {
            let end = min(input.rows, start + chunk)
            let y = copy.forward(input.rows(start..<end))
            out.storage.replaceSubrange((start * classCount)..<(end * classCount), with: y.storage)
            start = end
        }
        return out
    }
}

/// The model families of the training pipelines.
public enum ModelArchitecture {
    /// Multinomial logistic regression: one dense layer.
    public static func logisticRegression(classes: Int) -> [LayerSpecification] {
        [.flatten, .dense(units: classes)]
    }

    /// A multilayer perceptron with the given hidden widths.
    public static func multilayerPerceptron(hidden: [Int], classes: Int, activation: ActivationLayer.Kind) -> [LayerSpecification] {
        var layers: [LayerSpecification] = [.flatten]
        for width in hidden {
            layers.append(.dense(units: width))
            layers.append(activation == .relu ? .relu : .tanh)
        }
        layers.append(.dense(units: classes))
        return layers
    }

    /// The MNIST CNN of the DP-SGD examples of Opacus and TensorFlow Privacy: conv 16 8×8
    /// stride 2 padding 3, max-pool 2 stride 1, conv 32 4×4 stride 2, max-pool 2 stride 1,
    /// dense 32, dense `classes`, with `activation` after each convolution and the hidden dense layer.
    public static func mnistCNN(classes: Int, activation: ActivationLayer.Kind) -> [LayerSpecification] {
        let act: LayerSpecification = activation == .relu ? .relu : .tanh
        return [.convolution2D(filters: 16, kernel: 8, stride: 2, padding: 3), act,
                .maxPool2D(kernel: 2, stride: 1),
                .convolution2D(filters: 32, kernel: 4, stride: 2, padding: 0), act,
                .maxPool2D(kernel: 2, stride: 1),
                .flatten, .dense(units: 32), act, .dense(units: classes)]
    }

    /// A small CNN head for 7 × 7 scattering features (81 channels for MNIST): conv 16 3×3 padding 1,
    /// max-pool 2 stride 2 (to 3 × 3), conv 32 3×3 padding 1, dense 32, dense `classes`, with
    /// `activation` after each convolution and the hidden dense layer. Veil's own head in the spirit of
    /// Tramèr & Boneh 2021's ScatterNet+CNN (a few small convolutions on the features), not their exact one.
    public static func scatteringCNN(classes: Int, activation: ActivationLayer.Kind) -> [LayerSpecification] {
        let act: LayerSpecification = activation == .relu ? .relu : .tanh
        return [.convolution2D(filters: 16, kernel: 3, stride: 1, padding: 1), act,
                .maxPool2D(kernel: 2, stride: 2),
                .convolution2D(filters: 32, kernel: 3, stride: 1, padding: 1), act,
                .flatten, .dense(units: 32), act, .dense(units: classes)]
    }
}
