import LinearAlgebra

/// Max pooling over square windows without padding.
public struct MaxPool2DLayer: Layer {
    /// Input shape, window and stride.
    public let geometry: WindowGeometry
    private var argmax: [Int32] = []

    /// A max-pooling layer.
    public init(geometry: WindowGeometry) { self.geometry = geometry }

    public var specification: LayerSpecification { .maxPool2D(kernel: geometry.kernel, stride: geometry.stride) }
    public var outputShape: ImageShape {
        ImageShape(height: geometry.outputHeight, width: geometry.outputWidth, channels: geometry.input.channels)
    }
    public mutating func forward(_ x: Matrix) -> Matrix {
        let (y, arg) = x.maxPool(geometry)
        argmax = arg
        return y
    }
    public mutating func backward(_ g: Matrix, needsInputGradient: Bool) -> Matrix? {
        needsInputGradient ? g.maxPoolBackward(geometry, argmax: argmax) : nil
    }
    public mutating func clearCaches() { argmax = [] }
}

/// Average pooling over square windows without padding.
public struct AveragePool2DLayer: Layer {
    /// Input shape, window and stride.
    public let geometry: WindowGeometry

    /// An average-pooling layer.
    public init(geometry: WindowGeometry) { self.geometry = geometry }

    public var specification: LayerSpecification { .averagePool2D(kernel: geometry.kernel, stride: geometry.stride) }
    public var outputShape: ImageShape {
        ImageShape(height: geometry.outputHeight, width: geometry.outputWidth, channels: geometry.input.channels)
    }
    public mutating func forward(_ x: Matrix) -> Matrix { x.averagePool(geometry) }
    public mutating func backward(_ g: Matrix, needsInputGradient: Bool) -> Matrix? {
        needsInputGradient ? g.averagePoolBackward(geometry) : nil
    }
    public mutating func clearCaches() {}
}

/// An element-wise activation (ReLU or tanh).
public struct ActivationLayer: Layer {
    /// The activation function.
    public enum Kind: String, Sendable, Codable { case relu, tanh }
    /// The activation function.
    public let kind: Kind
    /// Input and output shape.
    public let shape: ImageShape
    private var cached = Matrix(rows: 0, columns: 0)

    /// An activation layer for inputs of `shape`.
    public init(kind: Kind, shape: ImageShape) {
        self.kind = kind
        self.shape = shape
    }

    public var specification: LayerSpecification { kind == .relu ? .relu : .tanh }
    public var outputShape: ImageShape { shape }
    public mutating func forward(_ x: Matrix) -> Matrix {
        switch kind {
        case .relu:
            cached = x
            return x.relu()
        case .tanh:
            cached = x.tanh()
            return cached
        }
    }
    public mutating func backward(_ g: Matrix, needsInputGradient: Bool) -> Matrix? {
        guard needsInputGradient else { return nil }
        return kind == .relu ? g.reluBackward(input: cached) : g.tanhBackward(output: cached)
    }
    public mutating func clearCaches() { cached = Matrix(rows: 0, columns: 0) }
}

/// Reshapes an image into a vector. Images are already stored as flat rows, so the storage is
/// unchanged; the layer only changes the shape the next layer sees.
public struct FlattenLayer: Layer {
    /// The image shape before flattening.
    public let inputShape: ImageShape

    /// A flatten layer for inputs of `inputShape`.
    public init(inputShape: ImageShape) { self.inputShape = inputShape }

    public var specification: LayerSpecification { .flatten }
    public var outputShape: ImageShape { ImageShape(height: 1, width: 1, channels: inputShape.count) }
    public mutating func forward(_ x: Matrix) -> Matrix { x }
    public mutating func backward(_ g: Matrix, needsInputGradient: Bool) -> Matrix? { needsInputGradient ? g : nil }
    public mutating func clearCaches() {}
}
