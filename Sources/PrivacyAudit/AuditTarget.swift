import Mechanisms

/// A mechanism run as a black box on two fixed neighbouring inputs, its output reduced to one number.
///
/// An audit only sees what ``statistic(on:using:)`` returns; conforming types fix the neighbouring inputs
/// (ideally the worst case for the mechanism) and the statistic (the released value, a selected index,
/// the position of a first positive answer). A statistic that throws away information can only make the
/// audited bound smaller, never larger than the truth.
public protocol AuditTarget: Sendable {
    /// A short name, e.g. `discrete-laplace`.
    var name: String { get }
    /// The guarantee the mechanism claims: (ε, δ)-DP for these neighbours.
    var claim: PrivacyClaim { get }
    /// The neighbouring inputs in words, e.g. `count 0 vs 1`.
    var neighbours: String { get }
    /// One run of the mechanism on `input`, reduced to its statistic.
    ///
    /// - Parameters:
    ///   - input: which of the two neighbouring inputs to run on.
    ///   - source: the mechanism's randomness (the operating system's CSPRNG outside tests).
    func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double
}

/// The (ε, δ) a mechanism claims.
public struct PrivacyClaim: Sendable, Hashable, Codable {
    /// ε > 0.
    public let epsilon: Double
    /// δ in [0, 1).
    public let delta: Double

    /// Creates a claim.
    ///
    /// - Throws: ``VeilError`` (`invalid_parameter`) if ε is not positive and finite or δ is outside [0, 1).
    public init(epsilon: Double, delta: Double = 0) throws {
        try ParameterCheck.epsilon(epsilon)
        try ParameterCheck.deltaOrZero(delta)
        self.epsilon = epsilon
        self.delta = delta
    }
}
