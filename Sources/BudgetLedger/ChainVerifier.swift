/// Walks the entries in id order and checks the chain, one row at a time (see ``Ledger/verify()``).
struct ChainVerifier {
    private var expectedID: Int64 = 1
    private var previousHash = LedgerEntry.genesisHash
    private var count = 0
    private var scopes: Set<String> = []
    private var reservations: [Int64: (scope: String, epsilonUnits: Int64, deltaUnits: Int64)] = [:]
    private var resolved: Set<Int64> = []
    private var totals: [String: (epsilon: Int64, delta: Int64)] = [:]
    private var composedStates = ComposedStateVerifier()

    /// Checks one row; returns the failed verification if the row breaks the chain.
    mutating func check(_ row: LedgerRow) -> ChainVerification? {
        let entry: LedgerEntry
        do {
            entry = try LedgerSchema.entry(from: row)
        } catch {
            let id: Int64? = row.first?.int64
            return fail(id ?? expectedID, "\(error)")
        }
        guard entry.id == expectedID else {
            return fail(entry.id, "expected entry \(expectedID) here but found \(entry.id): an entry is missing or out of order")
        }
        guard entry.previousHash == previousHash else {
            return fail(entry.id, "its prev hash does not match the hash of entry \(entry.id - 1)")
        }
        guard entry.hashMatchesContent else {
            return fail(entry.id, "its content does not match its hash")
        }
        if let problem = checkContent(entry) { return fail(entry.id, problem) }
        if let problem = checkRecordedTotal(entry) { return fail(entry.id, problem) }
        if let problem = composedStates.check(entry) { return fail(entry.id, problem) }
        expectedID += 1
        previousHash = entry.hash
        count += 1
        return nil
    }

    /// The result after the last row: checks the running totals and the composed states of `rdp`
    /// and `zcdp` scopes against the entries.
    func finish(runningTotals: [LedgerRow], composedStates storedStates: [LedgerRow]) -> ChainVerification {
        var stored: [String: (Int64, Int64)] = [:]
        for row in runningTotals {
            guard row.count == 3, let scope = row[0].string, let e = row[1].int64, let d = row[2].int64 else {
                return failWithoutEntry("a running total row is malformed")
            }
            stored[scope] = (e, d)
        }
        for scope in scopes.sorted() {
            let expected = totals[scope] ?? (0, 0)
            guard let actual = stored[scope], actual.0 == expected.epsilon, actual.1 == expected.delta else {
                return failWithoutEntry("the running total of \(scope) does not match its entries")
            }
        }
        if let extra = stored.keys.first(where: { !scopes.contains($0) }) {
            return failWithoutEntry("a running total exists for \(extra), which has no budget entry")
        }
        if let problem = composedStates.finish(storedStates: storedStates) { return failWithoutEntry(problem) }
        return ChainVerification(isValid: true, entryCount: count, headHash: previousHash,
                                 firstInvalidEntry: nil, problem: nil)
    }

    private mutating func checkContent(_ entry: LedgerEntry) -> String? {
        switch entry.kind {
        case .budget:
            guard !scopes.contains(entry.scope) else { return "a second budget for \(entry.scope)" }
            guard let epsilon = entry.epsilon, let delta = entry.delta,
                  entry.composition.flatMap(CompositionRule.init(rawValue:)) != nil,
                  (try? FixedPointAmount.units(epsilon, scale: FixedPointAmount.epsilonScale, rounding: .down)) == entry.epsilonUnits,
                  (try? FixedPointAmount.units(delta, scale: FixedPointAmount.deltaScale, rounding: .down)) == entry.deltaUnits
            else { return "the budget entry of \(entry.scope) is incomplete or inconsistent" }
            scopes.insert(entry.scope)
            totals[entry.scope] = (0, 0)
            if let rule = entry.composition.flatMap(CompositionRule.init(rawValue:)) {
                composedStates.budget(scope: entry.scope, rule: rule)
            }
        case .reserve:
            guard scopes.contains(entry.scope) else { return "a reservation on \(entry.scope), which has no budget" }
            guard let epsilon = entry.epsilon, let delta = entry.delta, entry.event != nil,
                  entry.analyst != nil, entry.purpose != nil,
                  let e = entry.epsilonUnits, let d = entry.deltaUnits,
                  (try? FixedPointAmount.units(epsilon, scale: FixedPointAmount.epsilonScale, rounding: .up)) == e,
                  (try? FixedPointAmount.units(delta, scale: FixedPointAmount.deltaScale, rounding: .up)) == d
            else { return "reservation \(entry.id) is incomplete or its units do not match its cost" }
            reservations[entry.id] = (entry.scope, e, d)
            let t = totals[entry.scope] ?? (0, 0)
            let (sumE, overflowE) = t.epsilon.addingReportingOverflow(e)
            let (sumD, overflowD) = t.delta.addingReportingOverflow(d)
            guard !overflowE, !overflowD else { return "reservation \(entry.id) overflows the scope's running total" }
            totals[entry.scope] = (sumE, sumD)
            composedStates.reserve(entry)
        case .commit, .refund:
            guard let id = entry.reservation, let reserved = reservations[id] else {
                return "a \(entry.kind.rawValue) without an earlier reservation"
            }
            guard reserved.scope == entry.scope else { return "a \(entry.kind.rawValue) of reservation \(id) on another scope" }
            guard !resolved.contains(id) else { return "reservation \(id) is resolved twice" }
            resolved.insert(id)
            if entry.kind == .refund {
                let t = totals[entry.scope] ?? (0, 0)
                // Each reservation's units were added before, so the difference is never negative in a valid chain.
                totals[entry.scope] = (t.epsilon - reserved.epsilonUnits, t.delta - reserved.deltaUnits)
                composedStates.refund(scope: entry.scope, reservation: id)
            }
        }
        return nil
    }

    /// Format 2: a `reserve` or `refund` entry records its scope's running total after it, and no
    /// other entry records one.
    private func checkRecordedTotal(_ entry: LedgerEntry) -> String? {
        switch (entry.totalEpsilonUnits, entry.totalDeltaUnits) {
        case (nil, nil):
            return nil
        case let (e?, d?) where entry.kind == .reserve || entry.kind == .refund:
            let t = totals[entry.scope] ?? (0, 0)
            return e == t.epsilon && d == t.delta
                ? nil : "the running total it records does not match the entries of \(entry.scope)"
        default:
            return "it records a running total where none belongs"
        }
    }

    private func fail(_ id: Int64, _ problem: String) -> ChainVerification {
        ChainVerification(isValid: false, entryCount: count, headHash: previousHash,
                          firstInvalidEntry: id, problem: "entry \(id): \(problem)")
    }

    private func failWithoutEntry(_ problem: String) -> ChainVerification {
        ChainVerification(isValid: false, entryCount: count, headHash: previousHash,
                          firstInvalidEntry: nil, problem: problem)
    }
}
