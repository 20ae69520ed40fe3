import _TestSupport
import Foundation
import Testing
@testable import BudgetLedger

/// The audit report and the status of every budget are built from one read transaction, so that
/// a charge committed meanwhile by another process is in all of their figures or in none.
@Suite("Reports from one snapshot")
struct ReportSnapshotTests {
    /// A ledger with a basic and an rdp budget, both charged.
    private func sampleLedger(_ folder: TemporaryFolder) throws -> Ledger {
        let ledger = try makeLedger(folder.path("l.sqlite"), scope: "panel", epsilon: 1_000, delta: 1e-6)
        try ledger.createBudget(scope: "model", epsilon: 1_000, delta: 1e-5, composition: .rdp)
        let (event, cost) = try pure(0.5)
        for scope in ["panel", "model"] {
            _ = try ledger.charge(event: event, cost: cost, scope: scope, analyst: "a", purpose: "p", resultDigest: "d")
            _ = try ledger.reserve(event: event, cost: cost, scope: scope, analyst: "b", purpose: "open")
        }
        return ledger
    }

    @Test("the audit report and the statuses of all budgets each take one read transaction")
    func oneReadTransaction() throws {
        let folder = try TemporaryFolder()
        let ledger = try sampleLedger(folder)
        // Before, the report read the verification, the head, the budgets and, per scope, its status
        // and its charges in separate transactions (7 here); the statuses took 3.
        var before = ledger.readTransactions.value
        let report = try AuditReport(ledger: ledger)
        #expect(ledger.readTransactions.value - before == 1)
        #expect(report.scopes.count == 2 && report.problems.isEmpty)
        before = ledger.readTransactions.value
        let statuses = try ledger.statuses()
        #expect(ledger.readTransactions.value - before == 1)
        #expect(statuses.map(\.budget.scope) == ["panel", "model"])
        // The figures are those of the per-scope status, computed on its own.
        for (section, status) in zip(report.scopes, statuses) {
            #expect(section.status == status)
            #expect(try ledger.status(scope: status.budget.scope) == status)
        }
    }

    @Test("a report built while another connection charges agrees with its own head")
    func consistentUnderConcurrentCharges() throws {
        let folder = try TemporaryFolder()
        let ledger = try sampleLedger(folder)
        let writer = try Ledger(path: ledger.path, durability: .normal)
        let done = DispatchSemaphore(value: 0)
        let writerError = ErrorBox()
        DispatchQueue.global().async {
            defer { done.signal() }
            do {
                let (event, cost) = try pure(0.001)
                for i in 0..<300 {
                    _ = try writer.charge(event: event, cost: cost, scope: i % 2 == 0 ? "panel" : "model",
                                          analyst: "w", purpose: "race", resultDigest: "d")
                }
            } catch {
                writerError.set(error)
            }
        }
        var reports = 0
        repeat {
            let report = try AuditReport(ledger: ledger)
            // Every entry up to the head is in the report: budgets, reservations and resolutions.
            let counted = report.scopes.count + report.scopes.reduce(0) { sum, scope in
                sum + scope.charges.count + scope.charges.filter { $0.state != .open }.count
            }
            #expect(report.verification.isValid)
            #expect(report.verification.entryCount == Int(report.head.id))
            #expect(counted == Int(report.head.id), "report \(reports): head \(report.head.id), entries counted \(counted)")
            for scope in report.scopes {
                #expect(scope.status.committed + scope.status.open + scope.status.refunded == scope.charges.count)
                #expect(scope.cumulative.count == scope.status.committed + scope.status.open)
            }
            reports += 1
        } while done.wait(timeout: .now()) == .timedOut || reports < 3
        #expect(writerError.value == nil)
    }
}

/// The first error of a background task.
private final class ErrorBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?

    func set(_ e: any Error) {
        lock.lock()
        defer { lock.unlock() }
        if error == nil { error = e }
    }

    var value: (any Error)? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }
}
