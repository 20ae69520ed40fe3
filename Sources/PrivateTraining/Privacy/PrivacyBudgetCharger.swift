import Mechanisms
import Accounting

/// The seam between a training run and a privacy-budget ledger.
///
/// DESIGN.md §2 rule 3: ``DPSGDTrainer`` validates everything that can fail without drawing
/// noise first, then calls ``reserve(event:epsilon:delta:)`` with the cost of the whole planned
/// run; if that throws, training does not start. The first step after it draws noise, so from
/// then on the reservation stands even if the run fails. After the last step it calls
/// ``commit(event:epsilon:delta:)`` with what was actually spent (never more than reserved).
public protocol PrivacyBudgetCharger {
    /// Durably reserves the planned cost; throws to refuse the run.
    func reserve(event: DPEvent, epsilon: Double, delta: Double) throws
    /// Records the cost actually spent (≤ the reservation).
    func commit(event: DPEvent, epsilon: Double, delta: Double) throws
    /// Notes the privacy card carries about how the cost was recorded (none by default).
    var cardNotes: [String] { get }
}

extension PrivacyBudgetCharger {
    public var cardNotes: [String] { [] }
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
