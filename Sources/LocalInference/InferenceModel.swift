import Foundation
import LinearAlgebra
import Mechanisms
import PrivateTraining

/// A model file loaded for inference: the trained model, its privacy card, the layout of the data it
/// was trained on, and the declared feature scaling that tabular inputs go through before the forward
/// pass (the same ``DeclaredFeatureScaling`` that `veil evaluate` applies).
public struct InferenceModel: Sendable {
    /// The model's name (in a store: its file name without `.safetensors`).
    public let name: String
    /// The trained layers.
    public let model: SequentialModel
    /// What training spent.
    public let card: PrivacyCard
    /// The training data's layout (`veil.data`), when the file has one.
    public let data: TrainingDataDescription?
    /// Tabular models: the clamping and scaling of each feature column by its declared bounds.
    public let scaling: DeclaredFeatureScaling?

    /// A model from a decoded model file.
    /// - Throws: `VeilError.invalidInput` when the file's data description is invalid (or describes
    ///   fitted standardisation, which earlier versions wrote), or its bounds name unknown columns.
    public init(contents: SafetensorsFile.Contents, name: String) throws {
        self.name = name
        model = contents.model
        card = contents.card
        data = try TrainingDataDescription(metadata: contents.metadata)
        if let data, data.format != .idx, let names = data.featureColumns {
            guard names.count == contents.model.inputShape.count else {
                throw VeilError(.invalidInput, "the model's \(TrainingDataDescription.metadataKey) names \(names.count) "
                                + "feature columns for \(contents.model.inputShape.count) inputs")
            }
            do {
                scaling = try DeclaredFeatureScaling(bounds: data.featureBounds ?? [:], featureNames: names)
            } catch let error as VeilError {
                throw VeilError(.invalidInput, "the model's \(TrainingDataDescription.metadataKey) metadata: \(error.message)")
            }
        } else {
            scaling = nil
        }
    }

    /// Reads and checks a model file.
    /// - Throws: `VeilError.invalidInput` on a missing or invalid file.
    public init(path: String, name: String) throws {
        try self.init(contents: SafetensorsFile.read(path: path), name: name)
    }

    /// The shape of one input example.
    public var inputShape: ImageShape { model.inputShape }
    /// Number of values in one input example.
    public var inputCount: Int { model.inputShape.count }
    /// Number of output classes.
    public var classCount: Int { model.classCount }
    /// Tabular models: the feature columns in input order; `nil` for image models.
    public var featureNames: [String]? { data?.format == .idx ? nil : data?.featureColumns }

    /// The architecture family: `cnn` (any convolution), `logistic` (one dense layer) or `mlp`.
    public var architectureName: String { Self.architectureName(model.architecture) }

    /// The family name of an architecture (see ``architectureName``).
    public static func architectureName(_ layers: [LayerSpecification]) -> String {
        if layers.contains(where: { if case .convolution2D = $0 { true } else { false } }) { return "cnn" }
        let dense = layers.filter { if case .dense = $0 { true } else { false } }.count
        return dense == 1 ? "logistic" : "mlp"
    }

    /// Checks raw inputs and brings them into the form the model was trained on, in place: every value
    /// must be finite; tabular columns without declared bounds must lie within
    /// ±``FeatureBounds/largestMagnitude`` (the loaders' rule); columns with bounds are clamped and scaled.
    /// - Throws: `VeilError.invalidInput` naming the example and the value's position.
    public func prepare(_ features: inout Matrix) throws {
        precondition(features.columns == inputCount, "one row per example, \(inputCount) values each")
        let width = inputCount
        let bounded = scaling?.columns.map { $0 != nil }
        let names = featureNames
        try features.storage.withUnsafeBufferPointer { values in
            for (i, v) in values.enumerated() {
                // Image models, and tabular models without declared bounds, take any finite value (no `scaling`).
                try FeatureBounds.checkRaw(v, bounded: bounded?[i % width] ?? true,
                                           at: names.map { "example \(i / width), feature \"\($0[i % width])\"" }
                                               ?? "example \(i / width), value \(i % width)")
            }
        }
        scaling?.apply(to: &features)
    }
}
