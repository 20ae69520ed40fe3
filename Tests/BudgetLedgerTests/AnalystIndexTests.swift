import _TestSupport
import Foundation
import Testing
@testable import BudgetLedger

/// A charge with a per-analyst limit, and every answer of the query service, sums the analyst's reservations.
/// Without an index on (scope, analyst) that sum visits every reservation of the scope, so each charge cost time in
/// proportion to the ledger's length while holding the ledger's write lock.
@Suite("The index of each analyst's reservations")
struct AnalystIndexTests {
    @Test("an analyst's spending is read through the (scope, analyst) index, not by scanning the scope's reservations")
    func spendingUsesTheAnalystIndex() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        _ = try makeLedger(path, epsilon: 10, delta: 0)
        let plan = try runTool("/usr/bin/env", ["sqlite3", path, "EXPLAIN QUERY PLAN " + Ledger.analystSpentSQL]).stdout
        // Before the index: `SEARCH r USING INDEX entry_scope (scope=? AND kind=?)`, every reservation of the scope.
        #expect(plan.contains("INDEX entry_analyst (scope=? AND analyst=?)"))
    }

    @Test("a ledger opened without the index gets it back, and its charges, limits and chain are unchanged")
    func olderLedgersGetTheIndex() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        let limit = try AnalystLimit(epsilon: 1, delta: 0)
        let (event, cost) = try pure(0.4)
        do {
            let ledger = try makeLedger(path, epsilon: 10, delta: 0)
            for analyst in ["ana", "ana", "bob"] {
                _ = try ledger.reserve(event: event, cost: cost, scope: "panel", analyst: analyst, purpose: "p", analystLimit: limit)
            }
        }
        // What a ledger written by format 3 looks like: no index, no record of the migration.
        #expect(try sqlite3(path, "DROP INDEX entry_analyst; DELETE FROM grdb_migrations WHERE identifier = 'v4-analyst-index';") == 0)
        let reopened = try Ledger(path: path)
        let indexes = try runTool("/usr/bin/env", ["sqlite3", path, "SELECT name FROM sqlite_master WHERE type = 'index'"]).stdout
        #expect(indexes.contains("entry_analyst"))
        #expect(try reopened.spending(scope: "panel", analyst: "ana").charges == 2)
        #expect(throws: VeilError.self) {
            try reopened.reserve(event: event, cost: cost, scope: "panel", analyst: "ana", purpose: "p", analystLimit: limit)
        }
        _ = try reopened.reserve(event: event, cost: cost, scope: "panel", analyst: "bob", purpose: "p", analystLimit: limit)
        #expect(try reopened.verify().isValid)
    }
}
