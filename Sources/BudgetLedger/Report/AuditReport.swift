import Accounting
import Foundation

/// The budget audit report: for each scope its limits, what was spent and what is left under its
/// composition rule, per-analyst totals, every release and open reservation, the cumulative ε over
/// time, and the result of verifying the hash chain with its head hash.
///
/// Render it with ``markdown()``, ``html()`` or ``json()``.
public struct AuditReport: Sendable, Codable {
    /// When the report was made.
    public let generated: Date
    /// The ledger file the report describes.
    public let ledgerPath: String
    /// The result of ``Ledger/verify()`` at the time of the report.
    public let verification: ChainVerification
    /// The head of the chain at the time of the report.
    public let head: ChainHead
    /// One section per budget.
    public let scopes: [ScopeReport]
    /// Budgets that could not be read (a damaged ledger), with the reason; the report still
    /// covers the others.
    public let problems: [String]

    /// Builds the report of `scope` (or of every budget) from `ledger`.
    /// - Throws: `unknownScope`, or a storage error.
    public init(ledger: Ledger, scope: String? = nil, generated: Date = Date()) throws {
        self.generated = generated
        self.ledgerPath = ledger.path
        self.verification = try ledger.verify()
        self.head = try ledger.head()
        var problems: [String] = []
        var budgets: [Budget] = []
        if let scope {
            budgets = [try ledger.budget(scope: scope)]
        } else {
            do { budgets = try ledger.budgets() } catch { problems.append("the budgets cannot be read: \(error)") }
        }
        var scopes: [ScopeReport] = []
        for budget in budgets {
            do {
                scopes.append(try ScopeReport(ledger: ledger, budget: budget))
            } catch {
                problems.append("scope \(budget.scope) cannot be read: \(error)")
            }
        }
        self.scopes = scopes
        self.problems = problems
    }
}

/// One budget's part of the ``AuditReport``.
public struct ScopeReport: Sendable, Codable {
    /// Limits, spent, reserved and remaining.
    public let status: BudgetStatus
    /// Every reservation in order, with what became of it.
    public let charges: [Charge]
    /// Cumulative ε of the scope after each charge that counts (committed or open).
    public let cumulative: [CumulativePoint]
    /// The same per analyst, each composed on their own.
    public let analystCumulative: [AnalystSeries]

    init(ledger: Ledger, budget: Budget) throws {
        status = try ledger.status(scope: budget.scope)
        charges = try ledger.charges(scope: budget.scope)
        let counted = charges.filter { $0.state != .refunded }
        cumulative = try Self.series(counted, budget: budget)
        var names: [String] = []
        for c in counted where !names.contains(c.reservation.analyst) { names.append(c.reservation.analyst) }
        analystCumulative = try names.map { name in
            AnalystSeries(analyst: name,
                          points: try Self.series(counted.filter { $0.reservation.analyst == name }, budget: budget))
        }
    }

    private static func series(_ charges: [Charge], budget: Budget) throws -> [CumulativePoint] {
        let epsilons: [Double]
        switch budget.composition {
        case .basic:
            var units: Int64 = 0
            epsilons = try charges.map { charge in
                units += try FixedPointAmount.units(charge.reservation.cost.epsilon,
                                                    scale: FixedPointAmount.epsilonScale, rounding: .up)
                return FixedPointAmount.value(units: units, scale: FixedPointAmount.epsilonScale)
            }
        case .rdp, .zcdp:
            epsilons = try CompositionAccounting.cumulativeEpsilon(
                of: charges.map(\.reservation.event), rule: budget.composition, delta: budget.delta)
        }
        return zip(charges, epsilons).map { CumulativePoint(time: $0.reservation.time, epsilon: $1, reservation: $0.reservation.id) }
    }
}

/// The cumulative ε of a scope (or of one analyst) just after one charge.
public struct CumulativePoint: Sendable, Codable, Hashable {
    /// When the charge was reserved.
    public let time: Date
    /// ε of all counted charges up to and including this one.
    public let epsilon: Double
    /// The reservation id of the charge.
    public let reservation: Int64
}

/// One analyst's cumulative ε over time.
public struct AnalystSeries: Sendable, Codable, Hashable {
    /// The analyst.
    public let analyst: String
    /// Their cumulative ε after each of their charges.
    public let points: [CumulativePoint]
}
