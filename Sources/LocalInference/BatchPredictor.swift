import LinearAlgebra
import PrivateTraining

/// Batched forward passes of an ``InferenceModel`` through OpenBLAS, keeping nothing for training:
/// memory is bounded by one batch (its input rows, activations and probabilities), and every
/// intermediate buffer is overwritten once used.
public struct BatchPredictor: Sendable {
    /// The batch size used when none is given.
    public static let defaultBatchSize = 256

    /// The model.
    public let model: InferenceModel
    /// Rows per forward pass: the requested size, capped so that one batch's largest buffer stays
    /// within ``ArchitectureFootprint/maximumValuesPerBatch``.
    public let batchSize: Int

    /// A predictor running at most `batchSize` examples per forward pass.
    public init(model: InferenceModel, batchSize: Int = defaultBatchSize) {
        self.model = model
        self.batchSize = max(1, min(batchSize, model.model.footprint.largestBatch))
    }

    /// Class probabilities (softmax of the logits) of prepared inputs, one row per example, computed
    /// in one forward pass: the caller bounds the rows (see ``forEachBatch(_:body:)``).
    public func probabilities(_ prepared: Matrix) -> Matrix {
        var logits = model.model.inferenceLogits(prepared)
        let probabilities = logits.softmaxRows()
        SequentialModel.overwrite(&logits)
        return probabilities
    }

    /// Runs prepared inputs batch by batch and hands each batch's row range and probabilities to
    /// `body`; each batch's input copy and probabilities are overwritten after `body` returns.
    public func forEachBatch(_ prepared: Matrix, body: (Range<Int>, Matrix) throws -> Void) rethrows {
        var start = 0
        while start < prepared.rows {
            let end = min(prepared.rows, start + batchSize)
            var batch = prepared.rows(start..<end)
            var result = probabilities(batch)
            defer {
                SequentialModel.overwrite(&batch)
                SequentialModel.overwrite(&result)
            }
            try body(start..<end, result)
            start = end
        }
    }

    /// The most probable class of each row of `probabilities` (the first on ties): the argmax evaluation uses.
    public static func predictedClasses(_ probabilities: Matrix) -> [Int] {
        SoftmaxCrossEntropy.predictions(logits: probabilities).map(Int.init)
    }
}
