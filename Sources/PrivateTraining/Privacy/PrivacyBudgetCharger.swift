import Mechanisms
import Accounting

/// The seam between a training run and a privacy-budget ledger.
///
/// DESIGN.md §2 rule 3: the run calls ``reserve(event:epsilon:delta:)`` with the cost of the
/// whole planned run before it draws any noise; if that throws, training does not start. After
/// the last step it calls ``commit(event:epsilon:delta:)`` with what was actually spent (never
/// more than reserved). If the run fails before any noise was drawn it calls ``cancel()``, and
/// the reservation may be refunded; once noise exists the reservation stands even on failure.
public protocol PrivacyBudgetCharger {
    /// Durably reserves the planned cost; throws to refuse the run.
    func reserve(event: DPEvent, epsilon: Double, delta: Double) throws
    /// Records the cost actually spent (≤ the reservation).
    func commit(event: DPEvent, epsilon: Double, delta: Double) throws
    /// The run failed before drawing noise: the reservation may be refunded.
    func cancel()
}

/// Which accountant computes ε.
public enum AccountantKind: String, Sendable, Codable, CaseIterable {
    /// Rényi DP (Mironov 2017; subsampled Gaussian: Mironov, Talwar & Zhang 2019). The default.
    case rdp
    /// Privacy loss distributions (Koskela et al. 2020; Doroshenko et al. 2022): tighter, slower.
    case pld

    /// The accountant.
    public func makeAccountant() throws -> any PrivacyAccountant {
        switch self {
        case .rdp: RDPAccountant()
        case .pld: try PLDAccountant()
        }
    }
}
