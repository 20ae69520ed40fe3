import LinearAlgebra
import Mechanisms

/// The sizes a model architecture implies — every layer's output, its parameter tensors, the largest
/// buffer one example needs — computed with overflow-checked arithmetic before anything is allocated.
///
/// A pipeline (`hidden: [100000000]`) or a model file's header (`units: 1e8`, a huge input shape) can
/// name an architecture whose tensors do not fit in memory or whose sizes overflow `Int`. Building it
/// would abort the process; checking it first turns that into one `invalidParameter` error.
/// ``SequentialModel/init(architecture:inputShape:random:)`` checks every architecture this way.
public struct ArchitectureFootprint: Sendable, Equatable {
    /// Most trainable values a model may have (256 MiB of `Float` per copy of the parameters).
    public static let maximumParameters = 1 << 26
    /// Most values one example may occupy in any layer's input, output or unrolled patches.
    public static let maximumValuesPerExample = 1 << 24
    /// Most values one physical batch may occupy in its largest buffer (1 GiB of `Float`).
    public static let maximumValuesPerBatch = 1 << 28

    /// For each layer, the shapes of its parameter tensors in file order (weight, then bias); empty
    /// for layers without parameters. Dense weights are `[units, inputs]`, convolution weights
    /// `[filters, kernel, kernel, channels]`, biases `[outputs]`.
    public let parameterShapes: [[[Int]]]
    /// Total number of trainable values.
    public let parameterCount: Int
    /// The largest number of values one example occupies in any buffer of a forward or backward pass.
    public let largestValuesPerExample: Int
    /// Values of the last layer's output (the number of classes).
    public let outputCount: Int
    /// The multiply-adds of one example's forward pass through the layers with parameters and the
    /// element-wise layers (a dense layer: inputs × units; a convolution: output positions × patch ×
    /// filters; pooling: output values × window; others: one per value), or nil when the model opens with
    /// a fixed feature layer (the scattering transform), whose cost this count does not model.
    public let forwardMultiplyAdds: Int?

    /// Checks `architecture` on inputs of `inputShape`.
    /// - Throws: `VeilError.invalidParameter` when a dimension is out of range, a layer does not fit its
    ///   input, or a size exceeds ``maximumParameters`` or ``maximumValuesPerExample``.
    public init(architecture: [LayerSpecification], inputShape: ImageShape) throws {
        guard !architecture.isEmpty else { throw VeilError(.invalidParameter, "a model needs at least one layer") }
        let limit = Self.maximumValuesPerExample
        func bounded(_ value: Int, _ range: ClosedRange<Int>, _ what: String) throws -> Int {
            guard range.contains(value) else {
                throw VeilError.invalidParameter(what, value, allowed: "an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return value
        }
        func product(_ factors: [Int], _ what: String, limit: Int = limit, unit: String = "values per example") throws -> Int {
            var result = 1
            for f in factors {
                let (p, overflow) = result.multipliedReportingOverflow(by: f)
                guard !overflow, p <= limit else {
                    throw VeilError(.invalidParameter, "\(what) (\(factors.map(String.init).joined(separator: " × "))) "
                                    + "exceeds \(limit) \(unit)")
                }
                result = p
            }
            return result
        }
        var (h, w, c) = (try bounded(inputShape.height, 1...limit, "input height"),
                         try bounded(inputShape.width, 1...limit, "input width"),
                         try bounded(inputShape.channels, 1...limit, "input channels"))
        var largest = try product([h, w, c], "the input shape")
        var shapes: [[[Int]]] = []
        var parameters = 0
        // The product of `factors`, added to the total; both saturate at Int.max rather than overflow.
        var multiplyAdds: Int? = 0
        func addMultiplyAdds(_ factors: Int...) {
            let count = factors.reduce(1) { p, f in let (q, overflow) = p.multipliedReportingOverflow(by: f); return overflow ? .max : q }
            multiplyAdds = multiplyAdds.map { total in
                let (sum, overflow) = total.addingReportingOverflow(count)
                return overflow ? .max : sum
            }
        }
        func addParameters(_ tensors: [[Int]]) throws {
            for shape in tensors {
                let (sum, overflow) = parameters.addingReportingOverflow(
                    try product(shape, "a parameter tensor", limit: Self.maximumParameters, unit: "parameters"))
                guard !overflow, sum <= Self.maximumParameters else {
                    throw VeilError(.invalidParameter, "the model has more than \(Self.maximumParameters) parameters")
                }
                parameters = sum
            }
            shapes.append(tensors)
        }
        if let misplaced = architecture.drop(while: \.isFixedFeatureLayer).first(where: \.isFixedFeatureLayer) {
            throw VeilError(.invalidParameter, "\(misplaced) must come before every other layer: fixed feature layers "
                            + "open a model and have no backward pass")
        }
        for specification in architecture {
            switch specification {
            case .dense(let units):
                let units = try bounded(units, 1...limit, "dense units")
                let inputs = h * w * c
                try addParameters([[units, inputs], [units]])
                addMultiplyAdds(units, inputs)
                (h, w, c) = (1, 1, units)
            case .convolution2D(let filters, let kernel, let stride, let padding):
                let filters = try bounded(filters, 1...65_536, "convolution filters")
                let kernel = try bounded(kernel, 1...4_096, "convolution kernel")
                let stride = try bounded(stride, 1...4_096, "convolution stride")
                let padding = try bounded(padding, 0...4_096, "convolution padding")
                guard h + 2 * padding >= kernel, w + 2 * padding >= kernel else {
                    throw VeilError(.invalidParameter, "convolution \(specification) does not fit input \(h)x\(w)x\(c)")
                }
                let (oh, ow) = ((h + 2 * padding - kernel) / stride + 1, (w + 2 * padding - kernel) / stride + 1)
                let patch = try product([kernel, kernel, c], "a convolution patch")
                largest = max(largest, try product([oh, ow, patch], "the unrolled patches of \(specification)"))
                try addParameters([[filters, kernel, kernel, c], [filters]])
                addMultiplyAdds(oh, ow, patch, filters)
                (h, w, c) = (oh, ow, filters)
            case .maxPool2D(let kernel, let stride), .averagePool2D(let kernel, let stride):
                let kernel = try bounded(kernel, 1...4_096, "pooling kernel")
                let stride = try bounded(stride, 1...4_096, "pooling stride")
                guard h >= kernel, w >= kernel else {
                    throw VeilError(.invalidParameter, "pooling \(specification) does not fit input \(h)x\(w)x\(c)")
                }
                (h, w) = ((h - kernel) / stride + 1, (w - kernel) / stride + 1)
                addMultiplyAdds(h, w, c, kernel, kernel)
                shapes.append([])
            case .relu, .tanh:
                shapes.append([])
            case .flatten:
                (h, w, c) = (1, 1, h * w * c)
                shapes.append([])
            case .scattering2D(let scales, let orientations):
                let output = try ScatteringTransform2D.outputShape(inputShape: ImageShape(height: h, width: w, channels: c),
                                                                   scales: scales, orientations: orientations)
                (h, w, c) = (output.height, output.width, output.channels)
                multiplyAdds = nil
                shapes.append([])
            case .groupNormalization(let groups):
                guard groups >= 1, c % groups == 0 else {
                    throw VeilError(.invalidParameter, "group normalisation into \(groups) groups does not divide the "
                                    + "\(c) channels of \(h)x\(w)x\(c)")
                }
                shapes.append([])
            case .channelNormalization(let shift, let scale):
                guard shift.count == c, scale.count == c else {
                    throw VeilError(.invalidParameter, "channel normalisation of \(shift.count) channels does not fit "
                                    + "the \(c) channels of \(h)x\(w)x\(c)")
                }
                shapes.append([])
            }
            largest = max(largest, try product([h, w, c], "the output of \(specification)"))
            switch specification {
            case .relu, .tanh, .flatten, .groupNormalization, .channelNormalization: addMultiplyAdds(h, w, c)
            default: break
            }
        }
        forwardMultiplyAdds = multiplyAdds
        parameterShapes = shapes
        parameterCount = parameters
        largestValuesPerExample = largest
        outputCount = h * w * c
    }

    /// The largest physical batch whose buffers stay within ``maximumValuesPerBatch`` (at least 1).
    public var largestBatch: Int { max(1, Self.maximumValuesPerBatch / largestValuesPerExample) }

    /// Checks that batches of `batch` examples fit in ``maximumValuesPerBatch`` values per buffer.
    /// - Throws: `VeilError.invalidParameter` naming the largest batch that fits.
    public func checkBatch(_ batch: Int, name: String = "max physical batch size") throws {
        guard batch <= largestBatch else {
            throw VeilError(.invalidParameter, "\(name) \(batch) is too large for this model: one example needs "
                            + "\(largestValuesPerExample) values in its largest layer, so at most \(largestBatch) fit in memory")
        }
    }
}
