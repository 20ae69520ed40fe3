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
    ///
    /// A model with a convolution runs a batch example by example, the examples split across the cores
    /// (``ParallelSlices``): one example's products are small enough for OpenBLAS to run each on the
    /// calling thread, and its unrolled patches stay in cache, where a whole batch's unrolled patches
    /// (196 rows of 64 values per MNIST image for the first layer) stream through memory. Memory beyond
    /// the input and the logits is then one example's activations per core. Other models run the batch
    /// as a whole, one product per layer.
    /// - Parameter input: one example per row, `inputShape.count` values each.
    public func inferenceLogits(_ input: Matrix) -> Matrix {
        precondition(input.columns == inputShape.count, "input has \(input.columns) values, model expects \(inputShape.count)")
        guard input.rows > 1, layers.contains(where: { $0 is Convolution2DLayer }) else { return batchLogits(input) }
        let (width, classes) = (input.columns, classCount)
        var logits = Matrix(rows: input.rows, columns: classes)
        input.storage.withUnsafeBufferPointer { source in
            logits.storage.withUnsafeMutableBufferPointer { destination in
                // Example r reads row r of the input and writes row r of the logits only.
                ParallelSlices.run(input.rows) { examples in
                    for r in examples {
                        var example = Matrix(rows: 1, columns: width,
                                             storage: Array(source[(r * width)..<((r + 1) * width)]))
                        var y = batchLogits(example)
                        (destination.baseAddress! + r * classes).update(from: y.storage, count: classes)
                        Self.overwrite(&example)
                        Self.overwrite(&y)
                    }
                }
            }
        }
        return logits
    }

    /// The logits of `input` computed layer by layer over the whole batch.
    private func batchLogits(_ input: Matrix) -> Matrix {
        var x = input
        var ownsX = false
        for layer in layers where !(layer is FlattenLayer) {
            if ownsX, let activation = layer as? ActivationLayer {
                // Element-wise: in place on an activation this pass owns (nothing to copy or overwrite).
                if activation.kind == .relu { x.applyReLU() } else { x.applyTanh() }
                continue
            }
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
            return Matrix.affineProduct(x, weights: dense.parameters[0], bias: dense.parameters[1].storage)
        case let convolution as Convolution2DLayer:
            var columns = x.imageToColumns(convolution.geometry)
            let y = Matrix.affineProduct(columns, weights: convolution.parameters[0], bias: convolution.parameters[1].storage)
            overwrite(&columns)
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
