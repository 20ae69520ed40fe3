import Foundation
import LinearAlgebra
import Mechanisms

/// Per-feature standardisation `(x − mean) / std`, fitted on one split and applied to others.
///
/// Fitting reads the training data, so the means and deviations are themselves a function of
/// private data that this training run does not account for. In production they must be public
/// (domain knowledge, a public sample) or computed with a DP mechanism and charged to the budget.
public struct Standardization: Sendable, Codable, Equatable {
    /// The metadata key of a model file that holds the statistics its inputs were standardised with.
    public static let metadataKey = "veil.standardization"

    /// Per-feature means.
    public let means: [Float]
    /// Per-feature standard deviations (1 where a feature is constant).
    public let deviations: [Float]

    /// Fits means and deviations on `features`.
    public init(fittedOn features: Matrix) {
        let n = Float(max(1, features.rows))
        let means = features.columnSums().map { $0 / n }
        var centred = features
        centred.addToEachRow(means.map { -$0 })
        var squared = centred
        for i in squared.storage.indices { squared.storage[i] *= squared.storage[i] }
        self.means = means
        deviations = squared.columnSums().map { let d = ($0 / n).squareRoot(); return d > 0 ? d : 1 }
    }

    /// Standardises `features` in place.
    public func apply(to features: inout Matrix) {
        features.addToEachRow(means.map { -$0 })
        for r in 0..<features.rows {
            for j in 0..<features.columns { features[r, j] /= deviations[j] }
        }
    }

    // MARK: Model file metadata

    /// The statistics stored in a model file's metadata, or `nil` when it has none.
    /// - Throws: `VeilError.invalidInput` when the entry exists but is not valid.
    public init?(metadata: [String: String]) throws {
        guard let json = metadata[Self.metadataKey] else { return nil }
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(json.utf8))
        } catch {
            throw VeilError(.invalidInput, "the model's \(Self.metadataKey) metadata is not valid: \(error)")
        }
        guard means.count == deviations.count else {
            throw VeilError(.invalidInput, "the model's \(Self.metadataKey) metadata has \(means.count) means "
                            + "but \(deviations.count) deviations")
        }
    }

    /// The statistics as JSON, for a model file's metadata.
    /// - Throws: `VeilError.invalidInput` when a statistic is not finite (features near `Float`'s range).
    public func json() throws -> String {
        guard (means + deviations).allSatisfy(\.isFinite) else {
            throw VeilError(.invalidInput, "standardisation statistics are not finite; the features exceed Float's range")
        }
        return String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }
}
