import Accounting

/// A ``PrivacyBudgetCharger`` that records nothing: for tests, benchmarks and throw-away
/// experiments on synthetic or public data only.
///
/// ``DPSGDTrainer`` refuses to run a DP plan without a charger, so that no model is ever trained
/// with DP-SGD and left uncharged by accident (DESIGN.md §2 rule 3). Passing this type is the
/// explicit, visible way to do exactly that; the name says so at every call site, like
/// `InsecureSeededRandomSource`. The model's privacy card then carries a note that its cost was
/// recorded in no ledger. Production code charges a ledger with ``LedgerBudgetCharger``.
public struct InsecureUnrecordedBudgetCharger: PrivacyBudgetCharger, Sendable {
    /// The note added to the privacy card of a model trained with this charger.
    public static let cardNote = "privacy cost recorded in no ledger (InsecureUnrecordedBudgetCharger: tests and experiments only)"

    /// A charger that records nothing.
    public init() {}

    /// Accepts any reservation and records nothing.
    public func reserve(event: DPEvent, epsilon: Double, delta: Double) throws {}

    /// Records nothing.
    public func commit(event: DPEvent, epsilon: Double, delta: Double) throws {}

    /// ``cardNote``.
    public var cardNotes: [String] { [Self.cardNote] }
}
