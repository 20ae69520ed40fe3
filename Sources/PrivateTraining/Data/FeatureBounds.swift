import Foundation
import LinearAlgebra
import Mechanisms

/// The declared range `[lower, upper]` of one tabular feature column: public knowledge about the
/// column (its unit, a documented range), never computed from the data.
public struct FeatureBounds: Sendable, Codable, Equatable {
    /// The largest magnitude a bound (or a raw feature value of a column without bounds) may have.
    public static let largestMagnitude: Double = 1e12

    /// Checks one raw feature value (as read, before scaling), the rule of every tabular reader: it must be
    /// finite and, in a column without declared bounds, lie within ±``largestMagnitude`` (a larger value
    /// could overflow `Float` in a gradient norm or an activation). Columns with bounds accept any finite
    /// value: it is clamped.
    /// - Parameters:
    ///   - value: the value as read.
    ///   - bounded: whether its column has declared bounds.
    ///   - location: where the value is (`FILE line 3, column "a"`), for the error message.
    /// - Throws: `VeilError.invalidInput` naming `location` otherwise.
    public static func checkRaw(_ value: Float, bounded: Bool, at location: @autoclosure () -> String) throws {
        guard value.isFinite else {
            throw VeilError(.invalidInput, "\(location()): the value is not a finite number")
        }
        guard bounded || Double(abs(value)) <= largestMagnitude else {
            throw VeilError(.invalidInput, "\(location()): the value exceeds ±\(largestMagnitude), the largest raw feature "
                            + "value accepted; declare data.feature_bounds for this column to clamp its values")
        }
    }

    /// The smallest value; smaller values are clamped to it.
    public var lower: Double
    /// The largest value; larger values are clamped to it.
    public var upper: Double

    /// Bounds `lower < upper`, both finite and within ±``largestMagnitude``.
    /// - Throws: `VeilError.invalidParameter` naming `column` otherwise.
    public init(lower: Double, upper: Double, column: String) throws {
        guard lower.isFinite, upper.isFinite, lower < upper,
              abs(lower) <= Self.largestMagnitude, abs(upper) <= Self.largestMagnitude else {
            throw VeilError(.invalidParameter, "the bounds of feature column \"\(column)\" must be finite numbers "
                            + "lower < upper within ±\(Self.largestMagnitude), got [\(lower), \(upper)]")
        }
        self.lower = lower
        self.upper = upper
    }

    /// `x` clamped into `[lower, upper]` and mapped linearly onto `[-1, 1]`:
    /// `(2·clamp(x) − lower − upper) / (upper − lower)`; NaN (which the loaders refuse) maps to 0.
    public func scaled(_ x: Float) -> Float {
        // Written out: Swift's `max(NaN, lower)` is NaN, and a clamp must bound every input.
        guard !x.isNaN else { return 0 }
        let clamped = Double(x) < lower ? lower : (Double(x) > upper ? upper : Double(x))
        return Float((2 * clamped - lower - upper) / (upper - lower))
    }
}

/// The data-independent preprocessing of tabular features: each column with declared
/// ``FeatureBounds`` is clamped into them and mapped onto `[-1, 1]`; other columns are used as read.
///
/// This replaces standardisation fitted on the training data, whose means and deviations were exact
/// functions of the private data published in the model file (docs/design.md §2 rule 7). Declared bounds
/// read nothing from the data, so storing them in the model file (``TrainingDataDescription``) releases
/// nothing; clamping also bounds every input the model sees.
public struct DeclaredFeatureScaling: Sendable, Equatable {
    /// Per feature column, in the data's column order: its bounds, or `nil` when it is used as read.
    public let columns: [FeatureBounds?]

    /// The scaling of the columns `featureNames` under `bounds` (by column name).
    /// - Throws: `VeilError.invalidParameter` when `bounds` names a column that is not a feature column.
    public init(bounds: [String: FeatureBounds], featureNames: [String]) throws {
        if let unknown = bounds.keys.sorted().first(where: { !featureNames.contains($0) }) {
            throw VeilError(.invalidParameter, "feature_bounds names \"\(unknown)\", which is not a feature column "
                            + "(feature columns: \(featureNames.joined(separator: ", ")))")
        }
        // Bounds read from a model file are checked again like those of a pipeline.
        for (name, b) in bounds { _ = try FeatureBounds(lower: b.lower, upper: b.upper, column: name) }
        columns = featureNames.map { bounds[$0] }
    }

    /// Whether any column is scaled.
    public var isIdentity: Bool { columns.allSatisfy { $0 == nil } }

    /// Clamps and scales `features` (one example per row) in place.
    public func apply(to features: inout Matrix) {
        precondition(features.columns == columns.count, "one bound per feature column")
        guard !isIdentity else { return }
        let width = columns.count
        for i in 0..<features.count {
            if let bounds = columns[i % width] { features.storage[i] = bounds.scaled(features.storage[i]) }
        }
    }
}
