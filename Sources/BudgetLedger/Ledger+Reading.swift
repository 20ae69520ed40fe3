import Accounting
import Foundation

// MARK: - Budgets, entries, charges

extension Ledger {
    /// Every budget, in order of creation.
    public func budgets() throws -> [Budget] {
        try read { db in try Self.budgetEntries(db).map { try Self.budget(from: $0).budget } }
    }

    /// The budget entries, in order of creation.
    static func budgetEntries(_ db: any LedgerTransaction) throws -> [LedgerEntry] {
        try db.rows("SELECT \(LedgerSchema.entryColumns) FROM entry WHERE kind = 'budget' ORDER BY id", [])
            .map(LedgerSchema.entry(from:))
    }

    /// The budget named `scope`.
    /// - Throws: `unknownScope`.
    public func budget(scope: String) throws -> Budget {
        try read { db in
            guard let found = try Self.budget(db, scope: scope) else { throw LedgerFailure.unknownScope(scope) }
            return found.budget
        }
    }

    /// The entries of `scope` (or of the whole ledger when nil), in chain order.
    /// - Throws: `unknownScope` for a scope without a budget.
    public func entries(scope: String? = nil) throws -> [LedgerEntry] {
        try read { db in
            if let scope {
                guard try Self.budget(db, scope: scope) != nil else { throw LedgerFailure.unknownScope(scope) }
                return try Self.entries(db, scope: scope)
            }
            return try db.rows("SELECT \(LedgerSchema.entryColumns) FROM entry ORDER BY id", [])
                .map(LedgerSchema.entry(from:))
        }
    }

    /// The entries of `scope`, in chain order.
    static func entries(_ db: any LedgerTransaction, scope: String) throws -> [LedgerEntry] {
        try db.rows("SELECT \(LedgerSchema.entryColumns) FROM entry WHERE scope = ? ORDER BY id", [.text(scope)])
            .map(LedgerSchema.entry(from:))
    }

    /// The charges of `scope` in order of reservation, each with its state.
    /// - Throws: `unknownScope`.
    public func charges(scope: String) throws -> [Charge] {
        try Self.charges(from: try entries(scope: scope))
    }

    /// The reservations of `scope` (or of every scope) that are neither committed nor refunded.
    public func openReservations(scope: String? = nil) throws -> [Charge] {
        try read { db in
            let scopes: [String]
            if let scope {
                guard try Self.budget(db, scope: scope) != nil else { throw LedgerFailure.unknownScope(scope) }
                scopes = [scope]
            } else {
                scopes = try Self.budgetEntries(db).map(\.scope)
            }
            return try scopes.flatMap { try Self.charges(from: try Self.entries(db, scope: $0)).filter { $0.state == .open } }
        }
    }

    /// Folds a scope's entries into its charges.
    static func charges(from entries: [LedgerEntry]) throws -> [Charge] {
        var order: [Int64] = []
        var reserves: [Int64: (LedgerEntry, Reservation)] = [:]
        var resolutions: [Int64: LedgerEntry] = [:]
        let decoder = JSONDecoder()
        for entry in entries {
            switch entry.kind {
            case .budget:
                continue
            case .reserve:
                guard let json = entry.event, let epsilon = entry.epsilon, let delta = entry.delta,
                      let analyst = entry.analyst, let purpose = entry.purpose else {
                    throw LedgerFailure.corrupt("reservation \(entry.id) is incomplete")
                }
                let event: DPEvent
                do { event = try decoder.decode(DPEvent.self, from: Data(json.utf8)) } catch {
                    throw LedgerFailure.corrupt("reservation \(entry.id) has an unreadable event")
                }
                let reservation = Reservation(id: entry.id, scope: entry.scope, analyst: analyst, purpose: purpose,
                                              event: event, cost: try PrivacyParameters.cost(epsilon: epsilon, delta: delta),
                                              time: entry.time)
                reserves[entry.id] = (entry, reservation)
                order.append(entry.id)
            case .commit, .refund:
                if let id = entry.reservation, resolutions[id] == nil { resolutions[id] = entry }
            }
        }
        return order.map { id in
            let (entry, reservation) = reserves[id]!
            let resolution = resolutions[id]
            let state: ReservationState = switch resolution?.kind {
            case .commit?: .committed
            case .refund?: .refunded
            default: .open
            }
            return Charge(reservation: reservation, eventJSON: entry.event ?? "", state: state,
                          resolvedAt: resolution?.time, resultDigest: resolution?.digest,
                          note: resolution?.note, resolutionEntry: resolution?.id)
        }
    }
}

// MARK: - Status

extension Ledger {
    /// What `scope` has spent, reserved and left, overall and per analyst.
    /// - Throws: `unknownScope`.
    public func status(scope: String) throws -> BudgetStatus {
        try read { db in
            guard let (budget, limitEpsilon, limitDelta) = try Self.budget(db, scope: scope) else {
                throw LedgerFailure.unknownScope(scope)
            }
            return try Self.status(budget: budget, limitEpsilonUnits: limitEpsilon, limitDeltaUnits: limitDelta,
                                   charges: try Self.charges(from: try Self.entries(db, scope: scope)))
        }
    }

    /// The status of every budget, in order of creation, from one read transaction (one snapshot:
    /// a charge committed meanwhile is in all of them or in none).
    public func statuses() throws -> [BudgetStatus] {
        try read { db in
            try Self.budgetEntries(db).map { entry in
                let (budget, limitEpsilon, limitDelta) = try Self.budget(from: entry)
                return try Self.status(budget: budget, limitEpsilonUnits: limitEpsilon, limitDeltaUnits: limitDelta,
                                       charges: try Self.charges(from: try Self.entries(db, scope: budget.scope)))
            }
        }
    }

    /// The status of a budget from its charges: composes the committed ones, those that count
    /// (committed or open), and each analyst's.
    static func status(budget: Budget, limitEpsilonUnits: Int64, limitDeltaUnits: Int64, charges: [Charge]) throws -> BudgetStatus {
        let active = charges.filter { $0.state != .refunded }
        let analysts = try analystNames(of: active).map { name in
            let theirs = active.filter { $0.reservation.analyst == name }
            return (usage: try cost(of: theirs, budget: budget), charges: theirs.count)
        }
        return try status(budget: budget, limitEpsilonUnits: limitEpsilonUnits, limitDeltaUnits: limitDeltaUnits,
                          charges: charges, activeCost: try cost(of: active, budget: budget), analystCosts: analysts)
    }

    /// The status of a budget whose counted charges (committed or open), overall and per analyst
    /// (in ``analystNames(of:)`` order), are already composed; composes only the committed ones.
    static func status(budget: Budget, limitEpsilonUnits: Int64, limitDeltaUnits: Int64, charges: [Charge],
                       activeCost all: ComposedCost, analystCosts: [(usage: ComposedCost, charges: Int)]) throws -> BudgetStatus {
        let committed = charges.filter { $0.state == .committed }
        let open = charges.filter { $0.state == .open }
        let active = charges.filter { $0.state != .refunded }
        let spent = try cost(of: committed, budget: budget)
        let analysts = zip(analystNames(of: active), analystCosts).map { name, c in
            AnalystUsage(analyst: name, epsilon: c.usage.epsilon, delta: c.usage.delta, charges: c.charges)
        }
        let epsilonRemaining: Double
        let deltaRemaining: Double
        switch budget.composition {
        case .basic:
            epsilonRemaining = FixedPointAmount.value(units: max(0, limitEpsilonUnits - all.epsilonUnits),
                                                      scale: FixedPointAmount.epsilonScale)
            deltaRemaining = FixedPointAmount.value(units: max(0, limitDeltaUnits - all.deltaUnits),
                                                    scale: FixedPointAmount.deltaScale)
        case .rdp, .zcdp:
            epsilonRemaining = max(0, budget.epsilon - all.epsilon)
            deltaRemaining = budget.delta
        }
        return BudgetStatus(
            budget: budget, epsilonSpent: spent.epsilon, deltaSpent: spent.delta,
            epsilonReserved: max(0, all.epsilon - spent.epsilon),
            deltaReserved: budget.composition == .basic ? max(0, all.delta - spent.delta) : 0,
            epsilonRemaining: epsilonRemaining, deltaRemaining: deltaRemaining,
            committed: committed.count, open: open.count,
            refunded: charges.count - active.count, analysts: analysts)
    }

    /// The analysts of `charges`, in order of their first charge.
    static func analystNames(of charges: [Charge]) -> [String] {
        var names: [String] = []
        var seen: Set<String> = []
        for charge in charges where seen.insert(charge.reservation.analyst).inserted {
            names.append(charge.reservation.analyst)
        }
        return names
    }

    /// A composed (ε, δ), with the fixed-point units it was summed in under `basic` (0 otherwise).
    typealias ComposedCost = (epsilon: Double, delta: Double, epsilonUnits: Int64, deltaUnits: Int64)

    /// The composed cost of `charges` under the budget's rule.
    static func cost(of charges: [Charge], budget: Budget) throws -> ComposedCost {
        switch budget.composition {
        case .basic:
            return try cumulativeCost(of: charges, budget: budget).last ?? (0, 0, 0, 0)
        case .rdp, .zcdp:
            let epsilon = try CompositionAccounting.epsilon(of: charges.map(\.reservation.event),
                                                            rule: budget.composition, delta: budget.delta)
            return (epsilon, charges.isEmpty ? 0 : budget.delta, 0, 0)
        }
    }

    /// The composed cost of each prefix of `charges` (the first 1, 2, …, n) in one pass; the last is
    /// exactly ``cost(of:budget:)`` of all of them.
    static func cumulativeCost(of charges: [Charge], budget: Budget) throws -> [ComposedCost] {
        switch budget.composition {
        case .basic:
            var e: Int64 = 0
            var d: Int64 = 0
            return try charges.map { charge in
                e += try FixedPointAmount.units(charge.reservation.cost.epsilon, scale: FixedPointAmount.epsilonScale, rounding: .up)
                d += try FixedPointAmount.units(charge.reservation.cost.delta, scale: FixedPointAmount.deltaScale, rounding: .up)
                return (FixedPointAmount.value(units: e, scale: FixedPointAmount.epsilonScale),
                        FixedPointAmount.value(units: d, scale: FixedPointAmount.deltaScale), e, d)
            }
        case .rdp, .zcdp:
            let epsilons = try CompositionAccounting.cumulativeEpsilon(
                of: charges.map(\.reservation.event), rule: budget.composition, delta: budget.delta)
            return epsilons.map { ($0, budget.delta, 0, 0) }
        }
    }
}

// MARK: - Hash chain

extension Ledger {
    /// The last entry of the chain. Keep its hash elsewhere: comparing it later reveals a deleted tail.
    public func head() throws -> ChainHead {
        try read { db in try Self.head(db) }
    }

    /// Recomputes the whole chain and reports the first entry that does not match.
    ///
    /// Checks, entry by entry: ids run 1, 2, 3, … without gaps; each `prev` is the previous entry's
    /// hash; each hash is the SHA-256 of the entry's canonical JSON; budgets are created once;
    /// reservations name an existing budget, carry a readable event and units matching their
    /// declared cost; commits and refunds resolve an earlier reservation of the same scope exactly
    /// once; a running total recorded by a `reserve` or `refund` entry (format 2) equals the sum of
    /// its scope's unrefunded reservations at that point. Finally each scope's cached running total
    /// must equal that sum.
    public func verify() throws -> ChainVerification {
        try read { db in try Self.verify(db) }
    }

    /// ``verify()`` inside a read transaction.
    static func verify(_ db: any LedgerTransaction) throws -> ChainVerification {
        var verifier = ChainVerifier()
        var failure: ChainVerification?
        try db.forEachRow("SELECT \(LedgerSchema.entryColumns) FROM entry ORDER BY id", []) { row in
            if failure == nil { failure = verifier.check(row) }
        }
        if let failure { return failure }
        let totals = try db.rows("SELECT scope, epsilon_units, delta_units FROM scope_total", [])
        let states = try db.rows("SELECT scope, state FROM scope_composition", [])
        return verifier.finish(runningTotals: totals, composedStates: states)
    }
}
