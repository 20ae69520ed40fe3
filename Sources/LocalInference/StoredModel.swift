import Foundation
import Mechanisms
import PrivateTraining

/// One model of a ``ModelStore``: its name, file, size, creation time and the model with its card.
public struct StoredModel: Sendable {
    /// The model's name.
    public let name: String
    /// Its file.
    public let path: String
    /// The file's size in bytes.
    public let fileSize: Int
    /// When the file was written (its modification time).
    public let created: Date?
    /// The model, loaded and checked.
    public let model: InferenceModel

    /// Reads and checks a stored model file.
    init(path: String, name: String) throws {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw VeilError(.invalidInput, "cannot read the model file \(path)")
        }
        try self.init(bytes: bytes, name: name, path: path, source: path)
    }

    /// Checks a model file's bytes: tensors and architecture (``SafetensorsFile``), data description
    /// (``InferenceModel``) and privacy card (``PrivacyCardCheck``).
    init(bytes: Data, name: String, path: String, source: String) throws {
        let contents = try SafetensorsFile.decode(bytes, name: source)
        try PrivacyCardCheck.verify(contents.card, file: source)
        self.name = name
        self.path = path
        fileSize = bytes.count
        created = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        model = try InferenceModel(contents: contents, name: name)
    }
}

/// The checks a privacy card passes before a model enters a store: a differentially private card names
/// a finite ε ≥ 0, a δ in [0, 1), its accountant, noise multiplier and clip norm; a card without DP
/// carries no ε or δ (so it cannot be mistaken for a private model).
public enum PrivacyCardCheck {
    /// - Throws: `VeilError.invalidInput` naming the field that fails.
    public static func verify(_ card: PrivacyCard, file: String) throws {
        func bad(_ why: String) -> VeilError { VeilError(.invalidInput, "\(file): the privacy card \(why)") }
        guard card.steps >= 0 else { throw bad("has a negative step count") }
        if card.differentiallyPrivate {
            guard let e = card.epsilon, e.isFinite, e >= 0 else { throw bad("of a DP model has no finite ε ≥ 0") }
            guard let d = card.delta, d.isFinite, d >= 0, d < 1 else { throw bad("of a DP model has no δ in [0, 1)") }
            guard let a = card.accountant, !a.isEmpty else { throw bad("of a DP model names no accountant") }
            guard let s = card.noiseMultiplier, s.isFinite, s > 0 else { throw bad("of a DP model has no noise multiplier > 0") }
            guard let c = card.clipNorm, c.isFinite, c > 0 else { throw bad("of a DP model has no clip norm > 0") }
        } else {
            guard card.epsilon == nil, card.delta == nil else {
                throw bad("says the model was trained without DP but states an ε or δ")
            }
        }
    }
}
