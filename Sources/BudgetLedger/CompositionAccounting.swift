import Accounting

/// The ε that a list of stored events spends under the `rdp` or `zcdp` rule, at a budget's δ.
///
/// - `rdp`: the events are composed by ``RDPAccountant`` (RDP of a composition is the sum of the
///   RDP curves, Mironov 2017, Proposition 1) and converted to (ε, δ) by ``RDPConversion``.
/// - `zcdp`: ρ adds up under composition (Bun & Steinke 2016, Lemma 1.7); the total is converted with
///   ``ZCDP/epsilon(rho:delta:)``.
///
/// An `epsilon_delta(ε, δ)` event with δ > 0 (for example the partition selection of a private SQL query) has no
/// finite RDP or zCDP bound on its own, but it is *δ-approximately* ε²/2-zCDP, and likewise δ-approximately
/// RDP with the curve of pure ε-DP: its outputs on two neighbouring data sets are, up to a part of probability
/// δ, those of a pure ε-DP mechanism (Murtagh & Vadhan 2016, Lemma 3.2; Kairouz, Oh & Viswanath 2015). Under
/// composition the Rényi parts add up as usual and the δs add up (Bun & Steinke 2016, Section 8, approximate
/// zCDP); converting the Rényi total at δ − Σδᵢ then gives (ε, δ)-DP for the whole sequence. So each such event
/// is split into its pure part `epsilon_delta(ε, 0)` — bounded by RDP(α) ≤ min(ε, αε²/2) and ρ = ε²/2 (Bun &
/// Steinke 2016, Proposition 1.4) — and an additive δ, and the budget's δ pays Σδᵢ first. An (ε, δ) event
/// inside `poisson_sampled` is refused: its amplification is not accounted here.
struct RenyiComposition {
    let rule: CompositionRule
    private let accountant = RDPAccountant()
    /// `rdp`: the summed RDP curve at ``orders``; all zeros under `zcdp`.
    private(set) var curve: [Double]
    /// `zcdp`: the summed ρ; 0 under `rdp`.
    private(set) var rho = 0.0
    /// Σδᵢ of the (ε, δ) events added so far.
    private(set) var additiveDelta = 0.0

    /// The Rényi orders of ``curve``.
    var orders: [Double] { accountant.orders }

    /// An empty composition under `rule` (`rdp` or `zcdp`).
    init(rule: CompositionRule) {
        precondition(rule != .basic, "basic composition sums declared costs in fixed point")
        self.rule = rule
        curve = [Double](repeating: 0, count: accountant.orders.count)
    }

    /// A composition restored from stored sums (see ``ComposedState``); nil when `curve` does not
    /// have one value per order.
    init?(rule: CompositionRule, curve: [Double], rho: Double, additiveDelta: Double) {
        self.init(rule: rule)
        guard curve.count == self.curve.count else { return nil }
        self.curve = curve
        self.rho = rho
        self.additiveDelta = additiveDelta
    }

    /// Adds one event.
    /// - Throws: `unsupported` for an (ε, δ) event with δ > 0 under Poisson sampling; the accountants' errors.
    mutating func add(_ event: DPEvent) throws {
        let (renyi, delta) = try Self.split(event, rule: rule)
        additiveDelta += delta
        switch rule {
        case .rdp:
            let c = try accountant.rdp(for: renyi)
            for i in curve.indices { curve[i] += c[i] }
        case .zcdp:
            rho += try ZCDP.rho(for: renyi)
        case .basic:
            preconditionFailure("basic composition sums declared costs in fixed point")
        }
    }

    /// ε of the events added so far at `delta`: 0 when their Rényi part is zero, ∞ when their additive δ
    /// leaves nothing of `delta` for the conversion.
    func epsilon(delta: Double) throws -> Double {
        if additiveDelta > 0 && !(additiveDelta < delta) { return .infinity }
        let conversionDelta = delta - additiveDelta
        switch rule {
        case .rdp:
            if curve.allSatisfy({ $0 == 0 }) { return 0 }
            return try RDPConversion.epsilon(orders: accountant.orders, rdp: curve, delta: conversionDelta).epsilon
        case .zcdp:
            return rho == 0 ? 0 : try ZCDP.epsilon(rho: rho, delta: conversionDelta)
        case .basic:
            preconditionFailure("basic composition sums declared costs in fixed point")
        }
    }

    /// `event` as its Rényi part (every `epsilon_delta(ε, δ)` replaced by `epsilon_delta(ε, 0)`) and the δ it adds.
    static func split(_ event: DPEvent, rule: CompositionRule) throws -> (renyi: DPEvent, delta: Double) {
        switch event {
        case .epsilonDelta(let epsilon, let delta) where delta > 0:
            return (.epsilonDelta(epsilon: epsilon, delta: 0), delta)
        case .composed(let events):
            var parts: [DPEvent] = []
            var delta = 0.0
            for e in events {
                let (r, d) = try split(e, rule: rule)
                parts.append(r)
                delta += d
            }
            return (.composed(parts), delta)
        case .selfComposed(let inner, let count):
            let (r, d) = try split(inner, rule: rule)
            return (.selfComposed(event: r, count: count), d * Double(count))
        case .poissonSampled(_, let inner):
            let (_, d) = try split(inner, rule: rule)
            if d > 0 {
                throw VeilError(.unsupported, """
                    an (ε, δ) event with δ > 0 under Poisson sampling has no \(rule == .rdp ? "RDP" : "zCDP") bound here, \
                    so it cannot be charged to a budget with \(rule) composition; charge it to a basic budget
                    """)
            }
            return (event, 0)
        default:
            return (event, 0)
        }
    }
}

/// Composition of stored events under the `rdp` and `zcdp` rules (see ``RenyiComposition``).
enum CompositionAccounting {
    /// ε spent by `events` together at `delta` under `rule` (`rdp` or `zcdp`); 0 for no events.
    static func epsilon(of events: [DPEvent], rule: CompositionRule, delta: Double) throws -> Double {
        var composition = RenyiComposition(rule: rule)
        for event in events { try composition.add(event) }
        return try composition.epsilon(delta: delta)
    }

    /// ε after each prefix of `events` (ε of the first 1, 2, …, n events composed), in one pass:
    /// RDP curves, ρ and additive δs add up, so each prefix is converted from running sums.
    static func cumulativeEpsilon(of events: [DPEvent], rule: CompositionRule, delta: Double) throws -> [Double] {
        var composition = RenyiComposition(rule: rule)
        return try events.map { event in
            try composition.add(event)
            return try composition.epsilon(delta: delta)
        }
    }

    /// Tolerance when comparing a recomputed ε with a limit: 10⁻¹² absolute (one fixed-point unit of
    /// basic composition), so that rounding in the accountant cannot refuse a charge that fits exactly.
    static let tolerance = 1e-12
}
