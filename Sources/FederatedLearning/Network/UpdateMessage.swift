import Foundation
import LinearAlgebra
import Mechanisms
import PrivateTraining

/// Model weights and client updates on the wire: safetensors bodies (the model file format), so that a
/// server's model and a client's update `Δ = θ_local − θ_server` have the same layout, dtype and checks.
public enum UpdateMessage {
    /// The card an update carries: it is no release, the server clips and noises it.
    static let updateCard = PrivacyCard(
        differentiallyPrivate: false, epsilon: nil, delta: nil, accountant: nil, noiseMultiplier: nil, clipNorm: nil,
        samplingRate: nil, steps: 0, expectedBatchSize: nil, targetEpsilon: nil, privacyUnit: "one client",
        sampling: "a client's update to a federated round (not a release)", noise: nil, declaredDatasetSize: nil,
        ledgerScope: nil)

    /// The safetensors body of `update` (flattened, in the order of `model`'s tensors) for `model`'s architecture.
    public static func encode(update: [Float], like model: SequentialModel) throws -> Data {
        var carrier = model
        carrier.parameters = ParameterVector.unflatten(update, like: model.parameters)
        return try SafetensorsFile.encode(model: carrier, card: updateCard)
    }

    /// The update in `body`, checked against the server's `model`.
    /// - Throws: `VeilError.invalidInput` with the reason: not a safetensors body (malformed), another architecture
    ///   or input shape (wrong shape), or a NaN or infinite value.
    public static func decode(_ body: Data, expecting model: SequentialModel) throws -> [Float] {
        let contents = try SafetensorsFile.decode(body, name: "the update")
        guard contents.model.inputShape == model.inputShape, contents.model.architecture == model.architecture else {
            throw VeilError(.invalidInput, "the update has the wrong shape: its architecture is not the round's model's")
        }
        let update = ParameterVector.flatten(contents.model.parameters)
        guard update.allSatisfy(\.isFinite) else {
            throw VeilError(.invalidInput, "the update has a NaN or infinite value")
        }
        return update
    }
}
