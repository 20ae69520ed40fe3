import LinearAlgebra
import Mechanisms
import PrivateTraining

/// A client's local training in FedAvg (McMahan et al. 2017, Algorithm 1, ClientUpdate): starting from the
/// server's model, `epochs` passes of mini-batch SGD (or the pipeline's optimiser) over the client's own
/// examples in shuffled batches of `batchSize` (the last batch of a pass may be smaller), each step on the
/// batch's mean gradient. The client's update is `Δ = θ_local − θ_server`.
///
/// The local steps are not private by themselves: the client-level guarantee comes from clipping the whole
/// update Δ and the server's noise (``UpdateClipping``, DP-FedAvg).
public struct LocalTraining: Sendable, Codable, Equatable {
    /// Local passes E.
    public let epochs: Int
    /// Local batch size b.
    public let batchSize: Int
    /// The local update rule.
    public let optimizer: OptimizerKind
    /// The local learning rate.
    public let learningRate: Double
    /// The largest number of examples processed at once.
    public let maxPhysicalBatchSize: Int

    /// Local training settings.
    /// - Throws: `VeilError.invalidParameter` on epochs or a batch size < 1, or an invalid optimiser.
    public init(epochs: Int, batchSize: Int, optimizer: OptimizerKind = .sgd(momentum: 0), learningRate: Double,
                maxPhysicalBatchSize: Int = 256) throws {
        try ParameterCheck.count(epochs, name: "local epochs", minimum: 1)
        try ParameterCheck.count(batchSize, name: "local batch size", minimum: 1)
        try ParameterCheck.count(maxPhysicalBatchSize, name: "max physical batch size", minimum: 1)
        _ = try Optimizer(kind: optimizer, learningRate: learningRate)
        self.epochs = epochs
        self.batchSize = batchSize
        self.optimizer = optimizer
        self.learningRate = learningRate
        self.maxPhysicalBatchSize = maxPhysicalBatchSize
    }

    /// The settings of a pipeline's `training:` section (E = epochs, b = expected_batch_size).
    /// - Throws: `VeilError.invalidInput` for `training.average_decay`, which clients do not apply.
    public init(_ settings: TrainingSettings) throws {
        guard settings.averageDecay == nil else {
            throw VeilError(.invalidInput, "training.average_decay is not available in federated training: clients "
                            + "release their last local step")
        }
        try self.init(epochs: settings.epochs, batchSize: settings.expectedBatchSize, optimizer: settings.optimizer,
                      learningRate: settings.learningRate, maxPhysicalBatchSize: settings.maxPhysicalBatchSize)
    }

    /// The update `θ_local − θ_server` of one client, flattened (``ParameterVector``).
    /// - Parameters:
    ///   - model: the server's model (not changed).
    ///   - data: the examples.
    ///   - examples: the indices of this client's examples (none: a zero update).
    ///   - order: shuffles the client's batches.
    public func update<R: RandomSource>(from model: SequentialModel, data: Dataset, examples: [Int],
                                        order: inout R) -> [Float] {
        let start = model.parameters
        guard !examples.isEmpty else { return [Float](repeating: 0, count: model.parameterCount) }
        var local = model
        // `init` validated the optimiser and its learning rate.
        var optimizer = try! Optimizer(kind: self.optimizer, learningRate: learningRate)
        var shuffled = examples
        for _ in 0..<epochs {
            shuffled.shuffle(using: &order)
            var position = 0
            while position < shuffled.count {
                let end = min(shuffled.count, position + batchSize)
                let batch = Array(shuffled[position..<end])
                var gradients = DPSGDTrainer.accumulate(model: &local, data: data, indices: batch,
                                                        chunk: maxPhysicalBatchSize, clipNorm: nil)
                for i in gradients.indices { gradients[i].scale(by: 1 / Float(batch.count)) }
                var parameters = local.parameters
                optimizer.update(&parameters, gradients: gradients)
                local.parameters = parameters
                position = end
            }
        }
        var delta = ParameterVector.flatten(local.parameters)
        Vector.axpy(-1, ParameterVector.flatten(start), &delta)
        return delta
    }
}
