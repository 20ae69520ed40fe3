import LinearAlgebra

/// The 2-D scattering transform as the first layer of a model (``ScatteringTransform2D``): fixed,
/// without parameters, so a model file that starts with it describes its own features and inference
/// applies them exactly as training did. Training computes it once per data set (``FixedFeatureLayers``),
/// not once per step; it has no backward pass and may only open a model.
public struct ScatteringLayer: Layer {
    /// The transform.
    public let transform: ScatteringTransform2D

    /// A scattering layer.
    public init(transform: ScatteringTransform2D) { self.transform = transform }

    public var specification: LayerSpecification {
        .scattering2D(scales: transform.scales, orientations: transform.orientations)
    }
    public var outputShape: ImageShape { transform.outputShape }
    public mutating func forward(_ x: Matrix) -> Matrix { transform.apply(x) }
    public mutating func backward(_ g: Matrix, needsInputGradient: Bool) -> Matrix? {
        precondition(!needsInputGradient, "a scattering layer opens the model and has no input gradient")
        return nil
    }
    public mutating func clearCaches() {}
}

/// Group normalisation without learned scale or shift (Wu & He, "Group Normalization", ECCV 2018,
/// eq. 1–3, with `γ = 1`, `β = 0`): the channels of one example are cut into `groups` consecutive groups,
/// and each group's values (its channels at every position) are shifted by their mean and divided by
/// `√(variance + 10⁻⁵)` (the biased variance, as PyTorch's `GroupNorm`). Each example is normalised
/// with its own statistics, so the layer costs no privacy (Tramèr & Boneh 2021, §3, use it on
/// scattering features with 27 groups for MNIST). Like ``ScatteringLayer`` it belongs to the fixed
/// feature layers that open a model.
public struct GroupNormalizationLayer: Layer {
    /// Input and output shape.
    public let shape: ImageShape
    /// Number of groups (divides the number of channels).
    public let groups: Int
    /// The `ε` added to the variance.
    public static let varianceEpsilon = 1e-5

    /// A group normalisation of `shape` images into `groups` groups.
    public init(shape: ImageShape, groups: Int) {
        precondition(groups >= 1 && shape.channels % groups == 0, "groups must divide the channels")
        self.shape = shape
        self.groups = groups
    }

    public var specification: LayerSpecification { .groupNormalization(groups: groups) }
    public var outputShape: ImageShape { shape }

    public mutating func forward(_ x: Matrix) -> Matrix {
        var y = x
        let (positions, channels) = (shape.height * shape.width, shape.channels)
        let perGroup = channels / groups
        let count = Double(positions * perGroup)
        y.storage.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            // Example r reads and writes row r only.
            ParallelSlices.run(x.rows, minimumItems: 64) { examples in
                for r in examples {
                    let row = base + r * shape.count
                    for g in 0..<groups {
                        let first = g * perGroup
                        var sum = 0.0
                        for p in 0..<positions {
                            for c in first..<(first + perGroup) { sum += Double(row[p * channels + c]) }
                        }
                        let mean = sum / count
                        var squares = 0.0
                        for p in 0..<positions {
                            for c in first..<(first + perGroup) {
                                let d = Double(row[p * channels + c]) - mean
                                squares += d * d
                            }
                        }
                        let scale = 1 / (squares / count + Self.varianceEpsilon).squareRoot()
                        for p in 0..<positions {
                            for c in first..<(first + perGroup) {
                                row[p * channels + c] = Float((Double(row[p * channels + c]) - mean) * scale)
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    public mutating func backward(_ g: Matrix, needsInputGradient: Bool) -> Matrix? {
        precondition(!needsInputGradient, "group normalisation belongs to the fixed feature layers and has no input gradient")
        return nil
    }
    public mutating func clearCaches() {}
}
