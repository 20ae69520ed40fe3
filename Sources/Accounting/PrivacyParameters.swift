/// A validated (ε, δ) pair: the one value type Veil uses for privacy parameters — a query's budget, a training
/// target, the cost a release declares to the ledger, the guarantee of a mechanism.
///
/// (ε, δ)-differential privacy (Dwork, McSherry, Nissim & Smith 2006; Dwork et al. 2006, "Our data, ourselves"):
/// for neighbouring inputs `x`, `x'` and every set of outcomes `S`, `P[M(x) ∈ S] ≤ e^ε · P[M(x') ∈ S] + δ`.
///
/// Two constructors, one range each:
/// - ``init(epsilon:delta:)``: ε finite and > 0 — what a query's budget, a target or a budget's total must be
///   (no finite noise achieves ε = 0);
/// - ``cost(epsilon:delta:)``: ε finite and ≥ 0 — what a release may cost (partition selection alone costs only δ).
///
/// Both take δ in [0, 1) and ε at most ``maximumEpsilon``; −0 is stored as +0, so that one amount has one canonical
/// form wherever it is hashed (the ledger's chain) or written.
public struct PrivacyParameters: Sendable, Hashable, CustomStringConvertible {
    /// The largest ε any parameter may declare: no meaningful guarantee is weaker, and ε · 10¹² (the ledger's
    /// fixed-point units) stays far inside `Int64`.
    public static let maximumEpsilon = 1_000_000.0

    /// ε, finite, in [0, ``maximumEpsilon``].
    public let epsilon: Double
    /// δ, in [0, 1).
    public let delta: Double

    /// Privacy parameters with ε > 0, e.g. a query's budget or a training run's target.
    /// - Parameters:
    ///   - epsilon: finite, > 0 and at most ``maximumEpsilon``.
    ///   - delta: in [0, 1) (0 by default).
    /// - Throws: ``VeilError`` `invalid_parameter` naming the first value out of range.
    public init(epsilon: Double, delta: Double = 0) throws {
        try ParameterCheck.epsilon(epsilon)
        try self.init(checkedEpsilon: epsilon, delta: delta)
    }

    /// The declared cost of a release: ε may be 0 (a release that costs only δ).
    /// - Parameters:
    ///   - epsilon: finite, ≥ 0 and at most ``maximumEpsilon``.
    ///   - delta: in [0, 1).
    /// - Throws: ``VeilError`` `invalid_parameter` for a negative or non-finite ε, or δ outside [0, 1).
    public static func cost(epsilon: Double, delta: Double) throws -> PrivacyParameters {
        guard epsilon.isFinite, epsilon >= 0 else {
            throw VeilError.invalidParameter("epsilon", epsilon, allowed: "a finite number ≥ 0")
        }
        return try PrivacyParameters(checkedEpsilon: epsilon, delta: delta)
    }

    /// Checks the range both constructors share.
    private init(checkedEpsilon epsilon: Double, delta: Double) throws {
        guard epsilon <= Self.maximumEpsilon else {
            throw VeilError.invalidParameter("epsilon", epsilon, allowed: "at most \(Self.maximumEpsilon)")
        }
        try ParameterCheck.deltaOrZero(delta)
        self.epsilon = epsilon == 0 ? 0 : epsilon
        self.delta = delta == 0 ? 0 : delta
    }

    /// `ε = …, δ = …`.
    public var description: String { "ε = \(epsilon), δ = \(delta)" }
}

extension PrivacyParameters: Codable {
    private enum CodingKeys: String, CodingKey { case epsilon, delta }

    /// Decodes `{"epsilon": …, "delta": …}` with the range of ``cost(epsilon:delta:)``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self = try Self.cost(epsilon: try container.decode(Double.self, forKey: .epsilon),
                             delta: try container.decode(Double.self, forKey: .delta))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(epsilon, forKey: .epsilon)
        try container.encode(delta, forKey: .delta)
    }
}
