import Accounting
import Foundation

/// A named privacy budget: the total (ε, δ) that all charges to `scope` may spend together, and the
/// rule that adds them up.
public struct Budget: Sendable, Codable, Hashable {
    /// The budget's name (letters, digits, `_`, `-`, `.`; at most 64 characters), e.g. `health_panel`.
    public let scope: String
    /// The total ε.
    public let epsilon: Double
    /// The total δ (basic composition), or the δ at which RDP and zCDP totals are converted to ε.
    public let delta: Double
    /// How charges add up.
    public let composition: CompositionRule
    /// When the budget was created.
    public let created: Date

    /// A budget, validated.
    ///
    /// - Parameters:
    ///   - scope: the name of the budget.
    ///   - epsilon: total ε, finite, > 0 and at most ``FixedPointAmount/maximumEpsilon``.
    ///   - delta: total δ in [0, 1) for `basic`; in (0, 1) for `rdp` and `zcdp`, which convert at it.
    ///   - composition: the composition rule.
    ///   - created: the creation time.
    /// - Throws: `invalidParameter` naming the first value out of range.
    public init(scope: String, epsilon: Double, delta: Double, composition: CompositionRule, created: Date = Date()) throws {
        try Self.validate(scope: scope)
        try ParameterCheck.epsilon(epsilon)
        guard epsilon <= FixedPointAmount.maximumEpsilon else {
            throw VeilError.invalidParameter("epsilon", epsilon, allowed: "at most \(FixedPointAmount.maximumEpsilon)")
        }
        switch composition {
        case .basic: try ParameterCheck.deltaOrZero(delta)
        case .rdp, .zcdp: try ParameterCheck.delta(delta, name: "delta (the conversion δ of \(composition) composition)")
        }
        self.scope = scope
        self.epsilon = epsilon
        self.delta = delta == 0 ? 0 : delta   // −0 → +0: amounts are hashed in canonical form
        self.composition = composition
        self.created = created
    }

    /// Throws `invalidParameter` unless `scope` is a valid budget name.
    public static func validate(scope: String) throws {
        let allowed = scope.unicodeScalars.allSatisfy { s in
            (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || s == "_" || s == "-" || s == "."
        }
        guard !scope.isEmpty, scope.count <= 64, allowed else {
            throw VeilError.invalidParameter("scope", "\"\(scope)\"", allowed: "1 to 64 letters, digits, '_', '-' or '.'")
        }
    }
}
