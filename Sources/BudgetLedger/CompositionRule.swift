/// How a budget adds up the privacy cost of its charges.
///
/// - `basic`: the declared (ε, δ) of the charges are summed (basic composition theorem,
///   Dwork & Roth 2014, Theorem 3.16). Sums are exact (see ``FixedPointAmount``).
/// - `rdp`: the stored ``DPEvent``s are composed with Rényi DP (Mironov 2017, Proposition 1) by
///   ``RDPAccountant`` and converted to ε at the budget's δ.
/// - `zcdp`: the zero-concentrated DP parameters ρ of the events are summed (Bun & Steinke 2016,
///   Lemma 1.7) and converted to ε at the budget's δ.
///
/// Under `rdp` and `zcdp`, δ is the fixed conversion parameter: the releases so far are
/// (ε_spent, δ)-DP, and δ is not divided between charges.
public enum CompositionRule: String, Codable, Sendable, CaseIterable, Hashable, CustomStringConvertible {
    /// Sum of the declared (ε, δ).
    case basic
    /// Rényi DP of the events, converted at the budget's δ.
    case rdp
    /// Sum of the events' zCDP ρ, converted at the budget's δ.
    case zcdp

    /// The rule's name as written on the command line and in the ledger.
    public var description: String { rawValue }
}
