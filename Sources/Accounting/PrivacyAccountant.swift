/// An accountant turns a ``DPEvent`` (possibly a long composition) into an (ε, δ) guarantee.
///
/// Implementations must be conservative: the ε they report for a δ is never below the true
/// smallest ε of the event (they may be above it).
public protocol PrivacyAccountant: Sendable {
    /// A short name for reports and model cards (`"rdp"`, `"pld"`).
    var name: String { get }
    /// The smallest ε this accountant can certify for `event` at `delta` (δ ∈ (0, 1)).
    func epsilon(for event: DPEvent, delta: Double) throws -> Double
    /// The smallest δ this accountant can certify for `event` at `epsilon` (ε ≥ 0).
    func delta(for event: DPEvent, epsilon: Double) throws -> Double
}
