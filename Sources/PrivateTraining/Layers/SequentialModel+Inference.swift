#if canImport(Glibc)
import Glibc
#endif
import LinearAlgebra

extension SequentialModel {
    /// The logits of a batch by a forward pass that keeps nothing for a backward pass (no layer's
    /// training cache is written, so the model can be shared between threads), for inference.
    ///
    /// Every intermediate activation (and a convolution's unrolled patches) is overwritten with zeros
    /// as soon as the next layer has consumed it, so a batch's values do not linger in freed memory.
    /// The returned logits and `input` are the caller's to overwrite.
    /// - Parameter input: one example per row, `inputShape.count` values each.
    public func inferenceLogits(_ input: Matrix) -> Matrix {
        precondition(input.columns == inputShape.count, "input has \(input.columns) values, model expects \(inputShape.count)")
        var x = input
        var ownsX = false
        for layer in layers where !(layer is FlattenLayer) {
            var next = Self.inferenceForward(layer, x)
            if ownsX { Self.overwrite(&x) }
            swap(&x, &next)
            ownsX = true
        }
        return x
    }

    /// One layer's output without caches; layer types this file does not know run their training
    /// forward pass on a copy.
    private static func inferenceForward(_ layer: any Layer, _ x: Matrix) -> Matrix {
        switch layer {
        case let dense as DenseLayer:
            var y = Matrix(rows: x.rows, columns: dense.outputs)
            Matrix.gemm(x, dense.parameters[0], transposeB: true, into: &y)
            y.addToEachRow(dense.parameters[1].storage)
            return y
        case let convolution as Convolution2DLayer:
            var columns = x.imageToColumns(convolution.geometry)
            var y = Matrix(rows: columns.rows, columns: convolution.filters)
            Matrix.gemm(columns, convolution.parameters[0], transposeB: true, into: &y)
            overwrite(&columns)
            y.addToEachRow(convolution.parameters[1].storage)
            return y.reshaped(rows: x.rows, columns: convolution.geometry.outputPositions * convolution.filters)
        case let pool as MaxPool2DLayer:
            let y: Matrix
            var argmax: [Int32]
            (y, argmax) = x.maxPool(pool.geometry)
            argmax.withUnsafeMutableBytes { zeroBytes($0) }
            return y
        case let pool as AveragePool2DLayer:
            return x.averagePool(pool.geometry)
        case let activation as ActivationLayer:
            return activation.kind == .relu ? x.relu() : x.tanh()
        case is FlattenLayer:
            return x
        default:
            var copy = layer
            return copy.forward(x)
        }
    }

    /// Overwrites a matrix's values with zeros in place (a store the optimiser may not remove).
    public static func overwrite(_ m: inout Matrix) {
        m.storage.withUnsafeMutableBytes { zeroBytes($0) }
    }
}

/// Zeros `bytes` with `explicit_bzero` where the C library has it, so that the store is not optimised away.
public func zeroBytes(_ bytes: UnsafeMutableRawBufferPointer) {
    guard let base = bytes.baseAddress, bytes.count > 0 else { return }
    #if canImport(Glibc)
    explicit_bzero(base, bytes.count)
    #else
    memset(base, 0, bytes.count)
    #endif
}
