import LinearAlgebra
import Mechanisms

/// A layer with an explicit forward and backward pass, able to report each example's share of
/// the parameter gradient's norm without forming that gradient when a cheaper identity exists.
///
/// The training loop calls, for one physical batch: ``forward(_:)`` on every layer; then
/// ``backward(_:needsInputGradient:)`` from the last layer to the first with the gradient of the
/// *summed* per-example losses, which caches what each layer needs; then
/// ``perExampleSquaredNorms(rowsPerExample:)`` (clipping) and finally
/// ``parameterGradients(exampleScales:rowsPerExample:)`` with each example's clipping factor, which gives the
/// sum of clipped per-example gradients (Bu et al. 2023, "book-keeping": scaling the cached output gradients of
/// example `i` by `cᵢ` is the second backward pass of Li et al. 2021 restricted to the weight-gradient products).
///
/// An example may span several consecutive rows of the batch (`rowsPerExample`, its augmented views): its
/// gradient is then the sum of its rows' gradients, and its norm is the norm of that sum.
public protocol Layer: Sendable {
    /// The architecture entry this layer was built from.
    var specification: LayerSpecification { get }
    /// The shape of one example's output.
    var outputShape: ImageShape { get }
    /// Trainable tensors (weights, then bias); empty for layers without parameters.
    var parameters: [Matrix] { get set }
    /// Runs the layer on a batch (one example per row) and keeps what the backward pass needs.
    mutating func forward(_ input: Matrix) -> Matrix
    /// Propagates `outputGradient` to the input; keeps the output gradient for the parameter
    /// gradients. Returns `nil` when `needsInputGradient` is false (first layer).
    mutating func backward(_ outputGradient: Matrix, needsInputGradient: Bool) -> Matrix?
    /// Each example's squared norm of its gradient with respect to this layer's parameters (empty for
    /// layers without parameters), example `i` being rows `i·rowsPerExample ..< (i+1)·rowsPerExample` of the
    /// batch. Valid after ``backward(_:needsInputGradient:)``.
    func perExampleSquaredNorms(rowsPerExample: Int) -> [Float]
    /// `Σᵢ cᵢ ∇ℓᵢ` for this layer's parameters, with `cᵢ = exampleScales[i]` (all 1 when nil) and examples of
    /// `rowsPerExample` rows each.
    func parameterGradients(exampleScales: [Float]?, rowsPerExample: Int) -> [Matrix]
    /// Drops cached activations and gradients.
    mutating func clearCaches()
}

extension Layer {
    public var parameters: [Matrix] {
        get { [] }
        set { precondition(newValue.isEmpty, "\(specification) has no parameters") }
    }
    // Defaults for layers without parameters only: a layer with parameters that reached them would be trained on
    // nothing, so it stops here instead.
    public func perExampleSquaredNorms(rowsPerExample: Int) -> [Float] {
        precondition(parameters.isEmpty, "\(specification) has parameters but reports no per-example norms")
        return []
    }
    public func parameterGradients(exampleScales: [Float]?, rowsPerExample: Int) -> [Matrix] {
        precondition(parameters.isEmpty, "\(specification) has parameters but reports no gradients")
        return []
    }
    /// ``perExampleSquaredNorms(rowsPerExample:)`` with one row per example.
    public func perExampleSquaredNorms() -> [Float] { perExampleSquaredNorms(rowsPerExample: 1) }
    /// ``parameterGradients(exampleScales:rowsPerExample:)`` with one row per example.
    public func parameterGradients(exampleScales: [Float]?) -> [Matrix] {
        parameterGradients(exampleScales: exampleScales, rowsPerExample: 1)
    }
}

/// One entry of a model architecture, as stored in a model file's metadata.
public enum LayerSpecification: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A fully connected layer with `units` outputs.
    case dense(units: Int)
    /// A 2-D convolution with `filters` output channels, a square `kernel`, `stride` and zero `padding`.
    case convolution2D(filters: Int, kernel: Int, stride: Int, padding: Int)
    /// Max pooling over square windows.
    case maxPool2D(kernel: Int, stride: Int)
    /// Average pooling over square windows.
    case averagePool2D(kernel: Int, stride: Int)
    /// `max(0, x)`.
    case relu
    /// `tanh(x)`.
    case tanh
    /// Reshapes an image to a vector (the storage is unchanged: images are already flat rows).
    case flatten
    /// The order-2 scattering transform with `scales` (J) and `orientations` (L) of single-channel images
    /// (``ScatteringLayer``); a fixed feature layer, only at the start of a model.
    case scattering2D(scales: Int, orientations: Int)
    /// Group normalisation without learned parameters (``GroupNormalizationLayer``); a fixed feature
    /// layer, only at the start of a model (after a scattering layer, if any).
    case groupNormalization(groups: Int)
    /// `(x − shift_c) · scale_c` per channel (``ChannelNormalizationLayer``), with statistics released under
    /// DP (``DPChannelNormalization``); a fixed feature layer, only at the start of a model.
    case channelNormalization(shift: [Float], scale: [Float])

    /// Whether this entry is one of the fixed, data-independent feature layers that may only open a
    /// model (``FixedFeatureLayers``).
    public var isFixedFeatureLayer: Bool {
        switch self {
        case .scattering2D, .groupNormalization, .channelNormalization: true
        default: false
        }
    }

    public var description: String {
        switch self {
        case .dense(let u): "dense(\(u))"
        case .convolution2D(let f, let k, let s, let p): "conv2d(\(f), \(k)x\(k), stride \(s), padding \(p))"
        case .maxPool2D(let k, let s): "maxpool(\(k), stride \(s))"
        case .averagePool2D(let k, let s): "avgpool(\(k), stride \(s))"
        case .relu: "relu"
        case .tanh: "tanh"
        case .flatten: "flatten"
        case .scattering2D(let j, let l): "scattering(J \(j), L \(l))"
        case .groupNormalization(let g): "groupnorm(\(g) groups)"
        case .channelNormalization(let shift, _): "channelnorm(\(shift.count) channels)"
        }
    }

    /// Builds the layer for inputs of `inputShape`, drawing initial weights from `random`.
    /// - Throws: `VeilError.invalidParameter` when the layer does not fit the input.
    public func makeLayer<R: RandomSource>(inputShape: ImageShape, random: inout R) throws -> any Layer {
        switch self {
        case .dense(let units):
            guard units >= 1 else { throw VeilError.invalidParameter("dense units", units, allowed: "≥ 1") }
            return DenseLayer(inputs: inputShape.count, outputs: units, random: &random)
        case .convolution2D(let filters, let kernel, let stride, let padding):
            guard filters >= 1, kernel >= 1, stride >= 1, padding >= 0,
                  inputShape.height + 2 * padding >= kernel, inputShape.width + 2 * padding >= kernel else {
                throw VeilError(.invalidParameter, "convolution \(self) does not fit input \(inputShape)")
            }
            return Convolution2DLayer(
                geometry: WindowGeometry(input: inputShape, kernel: kernel, stride: stride, padding: padding),
                filters: filters, random: &random)
        case .maxPool2D(let kernel, let stride), .averagePool2D(let kernel, let stride):
            guard kernel >= 1, stride >= 1, inputShape.height >= kernel, inputShape.width >= kernel else {
                throw VeilError(.invalidParameter, "pooling \(self) does not fit input \(inputShape)")
            }
            let geometry = WindowGeometry(input: inputShape, kernel: kernel, stride: stride, padding: 0)
            if case .maxPool2D = self { return MaxPool2DLayer(geometry: geometry) }
            return AveragePool2DLayer(geometry: geometry)
        case .relu: return ActivationLayer(kind: .relu, shape: inputShape)
        case .tanh: return ActivationLayer(kind: .tanh, shape: inputShape)
        case .flatten: return FlattenLayer(inputShape: inputShape)
        case .scattering2D(let scales, let orientations):
            return ScatteringLayer(transform: try ScatteringTransform2D(inputShape: inputShape, scales: scales,
                                                                        orientations: orientations))
        case .groupNormalization(let groups):
            guard groups >= 1, inputShape.channels % groups == 0 else {
                throw VeilError(.invalidParameter, "group normalisation into \(groups) groups does not divide the "
                                + "\(inputShape.channels) channels of \(inputShape)")
            }
            return GroupNormalizationLayer(shape: inputShape, groups: groups)
        case .channelNormalization(let shift, let scale):
            return try ChannelNormalizationLayer(shape: inputShape, shift: shift, scale: scale)
        }
    }
}

/// Uniform initial weights in `[-1/√fanIn, 1/√fanIn]` (the usual default for dense and
/// convolution layers), from 24 random bits per value. Initialisation does not touch data.
func uniformInitialWeights<R: RandomSource>(rows: Int, columns: Int, fanIn: Int, random: inout R) -> Matrix {
    let bound = 1 / Float(fanIn).squareRoot()
    var m = Matrix(rows: rows, columns: columns)
    for i in 0..<m.count {
        let u = Float(random.next() >> 40) * 0x1p-24
        m.storage[i] = (2 * u - 1) * bound
    }
    return m
}
