import Accounting

/// The ε that a list of stored events spends under the `rdp` or `zcdp` rule, at a budget's δ.
///
/// - `rdp`: the events are composed by ``RDPAccountant`` (RDP of a composition is the sum of the
///   RDP curves, Mironov 2017, Proposition 1) and converted to (ε, δ) by the accountant.
/// - `zcdp`: ρ adds up under composition (Bun & Steinke 2016, Lemma 1.7); the total is converted with
///   ``ZCDP/epsilon(rho:delta:)``.
///
/// An `epsilon_delta` event with δ > 0 has no finite RDP or zCDP bound, so it is refused on these
/// scopes; with δ = 0 it is pure ε-DP, which the accountants bound by RDP(α) ≤ min(ε, αε²/2) and
/// ρ = ε²/2 (Bun & Steinke 2016, Proposition 1.4).
enum CompositionAccounting {
    /// Throws `unsupported` if `event` contains an `epsilon_delta` event with δ > 0.
    static func requireFiniteRenyiBound(_ event: DPEvent, rule: CompositionRule) throws {
        switch event {
        case .epsilonDelta(let epsilon, let delta) where delta > 0:
            throw VeilError(.unsupported, """
                an (ε, δ) event with δ > 0 (ε = \(epsilon), δ = \(delta)) has no finite \(rule == .rdp ? "RDP" : "zCDP") \
                bound, so it cannot be charged to a budget with \(rule) composition; charge it to a basic budget or declare δ = 0
                """)
        case .poissonSampled(_, let inner), .selfComposed(let inner, _):
            try requireFiniteRenyiBound(inner, rule: rule)
        case .composed(let events):
            for e in events { try requireFiniteRenyiBound(e, rule: rule) }
        default:
            return
        }
    }

    /// ε spent by `events` together at `delta` under `rule` (`rdp` or `zcdp`); 0 for no events.
    static func epsilon(of events: [DPEvent], rule: CompositionRule, delta: Double) throws -> Double {
        if events.isEmpty { return 0 }
        switch rule {
        case .basic:
            preconditionFailure("basic composition sums declared costs in fixed point")
        case .rdp:
            return try RDPAccountant().epsilon(for: .composed(events), delta: delta)
        case .zcdp:
            var rho = 0.0
            for event in events { rho += try ZCDP.rho(for: event) }
            if rho == 0 { return 0 }
            return try ZCDP.epsilon(rho: rho, delta: delta)
        }
    }

    /// ε after each prefix of `events` (ε of the first 1, 2, …, n events composed), in one pass:
    /// RDP curves and ρ add up, so each prefix is converted from a running sum.
    static func cumulativeEpsilon(of events: [DPEvent], rule: CompositionRule, delta: Double) throws -> [Double] {
        var result: [Double] = []
        result.reserveCapacity(events.count)
        switch rule {
        case .basic:
            preconditionFailure("basic composition sums declared costs in fixed point")
        case .rdp:
            let accountant = RDPAccountant()
            var sum = [Double](repeating: 0, count: accountant.orders.count)
            for event in events {
                let curve = try accountant.rdp(for: event)
                for i in sum.indices { sum[i] += curve[i] }
                let allZero = sum.allSatisfy { $0 == 0 }
                result.append(allZero ? 0 : try RDPConversion.epsilon(orders: accountant.orders, rdp: sum, delta: delta).epsilon)
            }
        case .zcdp:
            var rho = 0.0
            for event in events {
                rho += try ZCDP.rho(for: event)
                result.append(rho == 0 ? 0 : try ZCDP.epsilon(rho: rho, delta: delta))
            }
        }
        return result
    }

    /// Tolerance when comparing a recomputed ε with a limit: 10⁻¹² absolute (one fixed-point unit of
    /// basic composition), so that rounding in the accountant cannot refuse a charge that fits exactly.
    static let tolerance = 1e-12
}
