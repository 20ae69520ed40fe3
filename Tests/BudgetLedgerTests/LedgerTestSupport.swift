import _TestSupport
import Foundation
import Testing
@testable import BudgetLedger

/// A ledger at `path` (a file, or a `postgres://` URL) with one budget.
@discardableResult
func makeLedger(_ path: String, scope: String = "panel", epsilon: Double = 10, delta: Double = 1e-6,
                composition: CompositionRule = .basic) throws -> Ledger {
    let ledger = try Ledger.open(location: path, mode: .createIfMissing)
    try ledger.createBudget(scope: scope, epsilon: epsilon, delta: delta, composition: composition)
    return ledger
}

/// A pure ε charge.
func pure(_ epsilon: Double) throws -> (DPEvent, PrivacyParameters) {
    (.epsilonDelta(epsilon: epsilon, delta: 0), try PrivacyParameters.cost(epsilon: epsilon, delta: 0))
}
