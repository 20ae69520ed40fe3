import Accounting
import Foundation

// MARK: - Budgets

extension Ledger {
    /// Creates a budget.
    ///
    /// - Parameters:
    ///   - scope: the budget's name.
    ///   - epsilon: total ε.
    ///   - delta: total δ (basic), or the conversion δ (rdp, zcdp).
    ///   - composition: how charges add up.
    /// - Throws: `invalidParameter` for out-of-range values; `ledgerConflict` if the scope exists.
    @discardableResult
    public func createBudget(scope: String, epsilon: Double, delta: Double, composition: CompositionRule) throws -> Budget {
        _ = try Budget(scope: scope, epsilon: epsilon, delta: delta, composition: composition)
        let epsilonUnits = try FixedPointAmount.units(epsilon, scale: FixedPointAmount.epsilonScale, rounding: .down)
        let deltaUnits = try FixedPointAmount.units(delta, scale: FixedPointAmount.deltaScale, rounding: .down)
        return try append { db, head in
            if try Self.budget(db, scope: scope) != nil {
                throw VeilError(.ledgerConflict, "a budget named \"\(scope)\" already exists")
            }
            let entry = LedgerEntry(
                id: head.id + 1, kind: .budget, timeMilliseconds: Self.nowMilliseconds(), scope: scope,
                epsilon: epsilon, delta: delta, epsilonUnits: epsilonUnits, deltaUnits: deltaUnits,
                composition: composition.rawValue, previousHash: head.hash)
            try LedgerSchema.insert(entry, into: db)
            try db.execute("INSERT INTO scope_total (scope, epsilon_units, delta_units) VALUES (?, 0, 0)", [.text(scope)])
            return try Budget(scope: scope, epsilon: epsilon, delta: delta, composition: composition, created: entry.time)
        }
    }

    /// The budget entry of `scope`, decoded, or nil.
    static func budget(_ db: any LedgerTransaction, scope: String) throws -> (budget: Budget, epsilonUnits: Int64, deltaUnits: Int64)? {
        guard let row = try db.row(
            "SELECT \(LedgerSchema.entryColumns) FROM entry WHERE scope = ? AND kind = 'budget' ORDER BY id LIMIT 1",
            [.text(scope)]) else { return nil }
        return try budget(from: try LedgerSchema.entry(from: row))
    }

    static func budget(from entry: LedgerEntry) throws -> (budget: Budget, epsilonUnits: Int64, deltaUnits: Int64) {
        guard let epsilon = entry.epsilon, let delta = entry.delta,
              let epsilonUnits = entry.epsilonUnits, let deltaUnits = entry.deltaUnits,
              let rule = entry.composition.flatMap(CompositionRule.init(rawValue:)) else {
            throw LedgerFailure.corrupt("budget entry \(entry.id) is incomplete")
        }
        let budget = try Budget(scope: entry.scope, epsilon: epsilon, delta: delta, composition: rule, created: entry.time)
        return (budget, epsilonUnits, deltaUnits)
    }
}

// MARK: - Charging protocol

extension Ledger {
    /// Reserves the cost of a release before it is made (docs/design.md §2 rules 3 and 4).
    ///
    /// In one write transaction (no other writer beside it): checks that everything committed or reserved on `scope`
    /// plus this event stays within the budget under its composition rule, and appends the
    /// reservation to the chain. Once this returns, the reservation is on disk and counts as spent
    /// until it is committed or refunded.
    ///
    /// - Parameters:
    ///   - event: what will be released; stored as JSON so any accountant can recompute its cost.
    ///   - cost: the declared (ε, δ); `basic` budgets sum these, `rdp` and `zcdp` recompute from events.
    ///   - scope: the budget to charge.
    ///   - analyst: who asks for the release.
    ///   - purpose: why.
    ///   - analystLimit: the most `analyst` may spend in `scope` (see ``AnalystLimit``), checked in the same
    ///     transaction; nil for none.
    /// - Throws: `budgetExhausted` ("budget exhausted: … remaining …") if the charge does not fit the scope, or
    ///   ("analyst budget exhausted: …") the analyst's limit;
    ///   `unknownScope`; `invalidParameter` for an invalid event or cost, or an empty analyst or purpose or
    ///   one holding the character NUL (``LedgerTextField``); `unsupported` for an (ε, δ)
    ///   event with δ > 0 on an `rdp` or `zcdp` budget.
    public func reserve(event: DPEvent, cost: PrivacyParameters, scope: String, analyst: String, purpose: String,
                        analystLimit: AnalystLimit? = nil) throws -> Reservation {
        try event.validate()
        let analyst = try LedgerTextField.checked(analyst, field: "analyst", allowed: "a non-empty name")
        let purpose = try LedgerTextField.checked(purpose, field: "purpose", allowed: "a non-empty description")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let eventJSON = String(decoding: try encoder.encode(event), as: UTF8.self)
        let epsilonUnits = try FixedPointAmount.units(cost.epsilon, scale: FixedPointAmount.epsilonScale, rounding: .up)
        let deltaUnits = try FixedPointAmount.units(cost.delta, scale: FixedPointAmount.deltaScale, rounding: .up)

        return try append { db, head in
            guard let (budget, limitEpsilon, limitDelta) = try Self.budget(db, scope: scope) else {
                throw LedgerFailure.unknownScope(scope)
            }
            if let analystLimit {
                try Self.checkAnalystLimit(db, scope: scope, analyst: analyst, limit: analystLimit,
                                           epsilonUnits: epsilonUnits, deltaUnits: deltaUnits, cost: cost)
            }
            let (totalEpsilon, totalDelta, lastTotalEntry) = try Self.verifiedRunningTotal(db, scope: scope)
            let (newEpsilon, overflowE) = totalEpsilon.addingReportingOverflow(epsilonUnits)
            let (newDelta, overflowD) = totalDelta.addingReportingOverflow(deltaUnits)
            var stateDigest: String?
            switch budget.composition {
            case .basic:
                if overflowE || overflowD || newEpsilon > limitEpsilon || newDelta > limitDelta {
                    let e = FixedPointAmount.decimalString(units: max(0, limitEpsilon - totalEpsilon), scale: FixedPointAmount.epsilonScale)
                    let d = FixedPointAmount.decimalString(units: max(0, limitDelta - totalDelta), scale: FixedPointAmount.deltaScale)
                    throw VeilError(.budgetExhausted, """
                        budget exhausted: ε \(e), δ \(d) remaining in \(scope) \
                        (this charge needs ε \(NumberText.short(cost.epsilon)), δ \(NumberText.short(cost.delta)))
                        """)
                }
            case .rdp, .zcdp:
                // The scope's state so far, as the chain binds it: O(1) instead of recomposing every
                // earlier event (see `verifiedComposition`).
                var composition = try Self.verifiedComposition(db, scope: scope, rule: budget.composition,
                                                               last: lastTotalEntry)
                let previous = composition
                try composition.add(event)   // refuses an event the rule cannot bound
                let after = try composition.epsilon(delta: budget.delta)
                if !(after <= budget.epsilon + CompositionAccounting.tolerance) {
                    let remaining = max(0, budget.epsilon - (try previous.epsilon(delta: budget.delta)))
                    let reason = after.isFinite
                        ? "this charge would bring ε to \(after) of \(budget.epsilon)"
                        : "the δ of its (ε, δ) events would add up to \(composition.additiveDelta), leaving nothing of δ \(budget.delta)"
                    throw VeilError(.budgetExhausted, """
                        budget exhausted: ε \(remaining) remaining at δ \(budget.delta) in \(scope) \
                        (\(budget.composition) composition; \(reason))
                        """)
                }
                // The declared costs are not what rdp and zcdp compose, but their units are summed
                // for the record; a sum past the fixed-point range cannot be recorded.
                guard !overflowE, !overflowD else {
                    throw VeilError.invalidParameter("declared cost", "ε \(NumberText.short(cost.epsilon))",
                                                     allowed: "within the ledger's fixed-point range for \(scope)")
                }
                stateDigest = try Self.storeComposition(db, scope: scope, composition)
            }
            let entry = LedgerEntry(
                id: head.id + 1, kind: .reserve, timeMilliseconds: Self.nowMilliseconds(), scope: scope,
                analyst: analyst, purpose: purpose, event: eventJSON, epsilon: cost.epsilon, delta: cost.delta,
                epsilonUnits: epsilonUnits, deltaUnits: deltaUnits, totalEpsilonUnits: newEpsilon,
                totalDeltaUnits: newDelta, stateDigest: stateDigest, previousHash: head.hash)
            try LedgerSchema.insert(entry, into: db)
            try Self.setRunningTotal(db, scope: scope, epsilonUnits: newEpsilon, deltaUnits: newDelta)
            return Reservation(id: entry.id, scope: scope, analyst: analyst, purpose: purpose, event: event,
                               cost: cost, time: entry.time)
        }
    }

    /// Records that the reserved release was made. After this the charge can never be refunded.
    ///
    /// - Parameters:
    ///   - reservation: the reservation returned by ``reserve(event:cost:scope:analyst:purpose:)``.
    ///   - resultDigest: a digest of the released result (e.g. `sha256:…`), kept for the audit.
    /// - Returns: the commit entry.
    /// - Throws: `ledgerConflict` if the reservation is already committed or refunded.
    @discardableResult
    public func commit(_ reservation: Reservation, resultDigest: String) throws -> LedgerEntry {
        try resolve(reservationID: reservation.id, as: .commit, resultDigest: resultDigest, note: nil)
    }

    /// Gives back a reservation whose release never happened (no noisy value was drawn).
    ///
    /// - Throws: `ledgerConflict` if the reservation was committed (its result was released, so the
    ///   charge stands) or already refunded.
    @discardableResult
    public func refund(_ reservation: Reservation, reason: String) throws -> LedgerEntry {
        try resolve(reservationID: reservation.id, as: .refund, resultDigest: nil, note: reason)
    }

    /// Resolves a reservation by id: used by operators for reservations left open by a crash
    /// (`veil budget resolve`), and by ``commit(_:resultDigest:)`` and ``refund(_:reason:)``.
    ///
    /// - Parameters:
    ///   - reservationID: the id of the reserve entry.
    ///   - resolution: commit (the charge stands) or refund (nothing was released).
    ///   - resultDigest: for a commit, the result's digest if known.
    ///   - note: the refund reason, or the operator's note.
    /// - Throws: `unknownReservation`, or `ledgerConflict` if it is not open.
    @discardableResult
    public func resolve(reservationID: Int64, as resolution: Resolution, resultDigest: String?, note: String?) throws -> LedgerEntry {
        // Losing a resolution in a power cut leaves its reservation open, which counts as spent:
        // safe, so it need not wait for its own disk flush (see `append(flushImmediately:_:)`).
        try append(flushImmediately: false) { db, head in
            // The reservation and the kind of its first resolution, if any, in one statement.
            guard let row = try db.row("""
                SELECT \(LedgerSchema.entryColumns),
                       (SELECT x.kind FROM entry x WHERE x.reservation = e.id ORDER BY x.id LIMIT 1)
                FROM entry e WHERE e.id = ? AND e.kind = 'reserve'
                """, [.integer(reservationID)]) else {
                throw LedgerFailure.unknownReservation(reservationID)
            }
            let reserved = try LedgerSchema.entry(from: row)
            if row.count > LedgerSchema.entryColumnCount, let previous = row[LedgerSchema.entryColumnCount].string {
                if previous == LedgerEntry.Kind.commit.rawValue {
                    throw VeilError(.ledgerConflict,
                                    "reservation \(reservationID) is already committed: its result was released, so the charge stands")
                }
                // A run that made its release and finds its reservation refunded has failed: the
                // release must not be used, and an operator must look at why it was refunded.
                throw resolution == .commit
                    ? VeilError(.reservationRefunded, """
                        cannot commit reservation \(reservationID): it was refunded in the meantime \
                        (see `veil budget history \(reserved.scope)`); do not use the result
                        """)
                    : VeilError(.ledgerConflict, "reservation \(reservationID) was already refunded")
            }
            var totals: (epsilon: Int64, delta: Int64)?
            var stateDigest: String?
            if resolution == .refund {
                let (e, d, _) = try Self.verifiedRunningTotal(db, scope: reserved.scope)
                let (remainingE, overflowE) = e.subtractingReportingOverflow(reserved.epsilonUnits ?? 0)
                let (remainingD, overflowD) = d.subtractingReportingOverflow(reserved.deltaUnits ?? 0)
                guard !overflowE, !overflowD, remainingE >= 0, remainingD >= 0 else {
                    throw LedgerFailure.totalMismatch(reserved.scope, "refunding reservation \(reservationID) would take "
                                                      + "the running total below zero")
                }
                totals = (remainingE, remainingD)
                guard let (budget, _, _) = try Self.budget(db, scope: reserved.scope) else {
                    throw LedgerFailure.unknownScope(reserved.scope)
                }
                if budget.composition != .basic {
                    // Removing an event from floating-point sums is not exact, so a refund (rare)
                    // recomposes the remaining events in order: the state stays exactly what a
                    // full recomposition gives.
                    let remaining = try Self.composedEvents(db, scope: reserved.scope, rule: budget.composition,
                                                            excluding: reservationID)
                    stateDigest = try Self.storeComposition(db, scope: reserved.scope, remaining)
                }
            }
            let entry = LedgerEntry(
                id: head.id + 1, kind: resolution == .commit ? .commit : .refund,
                timeMilliseconds: Self.nowMilliseconds(), scope: reserved.scope, reservation: reservationID,
                digest: resolution == .commit ? (resultDigest ?? "") : nil, note: note,
                totalEpsilonUnits: totals?.epsilon, totalDeltaUnits: totals?.delta, stateDigest: stateDigest,
                previousHash: head.hash)
            try LedgerSchema.insert(entry, into: db)
            if let totals {
                try Self.setRunningTotal(db, scope: reserved.scope, epsilonUnits: totals.epsilon, deltaUnits: totals.delta)
            }
            return entry
        }
    }

    /// Reserves and immediately commits: records a release made outside Veil.
    ///
    /// - Returns: the reservation and the commit entry.
    public func charge(event: DPEvent, cost: PrivacyParameters, scope: String, analyst: String, purpose: String,
                       resultDigest: String) throws -> (reservation: Reservation, commit: LedgerEntry) {
        let reservation = try reserve(event: event, cost: cost, scope: scope, analyst: analyst, purpose: purpose)
        let commit = try commit(reservation, resultDigest: resultDigest)
        return (reservation, commit)
    }
}
