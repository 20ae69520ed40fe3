import CheckedYAML
import Foundation
import Mechanisms
import PrivateTraining
import Yams

/// A federated pipeline file: a training pipeline (`data`, `model`, `privacy`, `training`, `output`, see
/// docs/training.md) with a `federated:` section. In a federated pipeline `training:` is each client's local
/// training (E = `epochs` local passes of SGD over the client's own examples in batches of b =
/// `expected_batch_size`), and `privacy:` sets the client-level target: `clip_norm` bounds the L2 norm of
/// one client's whole update. See docs/federated.md for every key.
public struct FederatedPipeline: Sendable {
    /// Data, model, privacy and local training, read by the training pipeline's own parser.
    public var base: TrainingPipeline
    /// Clients, rounds, sampling and the server.
    public var federated: FederatedSettings

    /// Both parts as given.
    public init(base: TrainingPipeline, federated: FederatedSettings) {
        self.base = base
        self.federated = federated
    }

    /// Parses a pipeline file; relative paths are resolved against the file's folder.
    /// - Throws: `VeilError.invalidInput` on unreadable YAML, unknown keys, missing or mistyped values.
    public static func load(path: String) throws -> FederatedPipeline {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw VeilError(.invalidInput, "pipeline file not found: \(path)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        return try parse(yaml: text, baseDirectory: base.path, name: path)
    }

    /// Parses federated pipeline YAML text; `baseDirectory` resolves relative paths.
    public static func parse(yaml: String, baseDirectory: String, name: String = "pipeline") throws -> FederatedPipeline {
        let root: Any?
        do { root = try CheckedYAML.load(yaml) } catch {
            throw VeilError(.invalidInput, "\(name) is not valid YAML: \(error)")
        }
        var mapping: [String: Any] = [:]
        if let d = root as? [String: Any] {
            mapping = d
        } else if let d = root as? [AnyHashable: Any] {
            for (k, v) in d { mapping["\(k)"] = v }
        } else {
            throw VeilError(.invalidInput, "\(name) must be a mapping of keys to values")
        }
        guard let federatedNode = mapping.removeValue(forKey: "federated") else {
            throw VeilError(.invalidInput, "\(name) lacks the federated section (clients, rounds, clients_per_round); "
                            + "a pipeline without one is trained centrally with `veil train`")
        }
        // The rest is a training pipeline: the same parser reads it, with the same checks and unknown-key refusals.
        let rest: String
        do { rest = try Yams.dump(object: mapping) } catch {
            throw VeilError(.invalidInput, "\(name) cannot be read: \(error)")
        }
        let base = try TrainingPipeline.parse(yaml: rest, baseDirectory: baseDirectory, name: name)
        var section = try Section(federatedNode, path: "\(name): federated")
        let federated = try FederatedSettings(reading: &section)
        try section.finish()
        if case .column(let column) = federated.clients {
            guard case .sqlite(_, _, _, let columns) = base.data else {
                throw VeilError(.invalidInput, "\(name): federated.clients.column needs data.format sqlite; "
                                + "split IDX or CSV data with federated.clients.split instead")
            }
            if column == columns.labelColumn || (columns.featureColumns ?? []).contains(column) {
                throw VeilError(.invalidInput, "\(name): the client column \(column) cannot also be the label or a feature")
            }
            if columns.featureColumns == nil {
                throw VeilError(.invalidInput, "\(name): with federated.clients.column, list data.feature_columns "
                                + "(the client column must not become a feature)")
            }
        }
        return FederatedPipeline(base: base, federated: federated)
    }
}
