import _TestSupport
import Foundation
import Mechanisms
import Testing
@testable import BudgetLedger

/// Amounts are hashed as numbers in the canonical JSON; Swift writes them and both Veil and the
/// independent Python verifier must read back the same bytes, for every class of `Double`.
@Suite("Canonical numbers in the hash chain")
struct CanonicalNumberTests {
    static let smallestSubnormal = Double.leastNonzeroMagnitude            // 5e-324
    static let largestSubnormal = Double.leastNormalMagnitude.nextDown    // 2.225073858507201e-308

    /// −0, zero, the smallest subnormal, the largest subnormal, the smallest normal, tiny, ordinary,
    /// the switch to exponent notation at 1e16, and the largest finite values.
    static let values: [Double] = [
        -0.0, 0, smallestSubnormal, largestSubnormal, Double.leastNormalMagnitude, 1e-300, 1e-7, 1e-5, 0.0001,
        0.1, 1.0 / 3.0, 2.5, 1e6, 999_999_999_999_999, 1e16, 1.2345678901234567e20, 1e308,
        1.7976931348623157e308,
    ]

    @Test("Swift writes each value as Python's verifier does, and −0 as 0.0")
    func swiftMatchesPython() throws {
        // Exact values cross the process boundary as C99 hexadecimal floats ("%a").
        let program = """
            import json, sys
            sys.path.insert(0, sys.argv[1])
            from verify_ledger import canonical
            for h in sys.argv[2:]:
                print(json.dumps(canonical(float.fromhex(h))))
            """
        let hex = Self.values.map { String(format: "%a", $0) }
        let run = try runPython(["-c", program, RepositoryFolder.scripts.path] + hex)
        #expect(run.status == 0)
        let python = run.stdout.split(separator: "\n").map(String.init)
        let swift = Self.values.map(CanonicalJSON.number)
        #expect(swift == python)
        #expect(CanonicalJSON.number(-0.0) == "0.0")
        #expect(CanonicalJSON.number(1e308) == "1e+308")
        #expect(CanonicalJSON.number(Self.smallestSubnormal) == "5e-324")
        #expect(CanonicalJSON.number(Self.largestSubnormal) == "2.225073858507201e-308")
    }

    @Test("−0, subnormal and tiny amounts written by Swift verify in Swift and in Python")
    func roundTrip() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("l.sqlite")
        // A budget created with δ = −0 broke the chain for good before the fix.
        let ledger = try makeLedger(path, scope: "zero", epsilon: FixedPointAmount.maximumEpsilon, delta: -0.0)
        try ledger.createBudget(scope: "wide", epsilon: 10, delta: 0.5, composition: .basic)
        let costs: [(scope: String, epsilon: Double, delta: Double)] = [
            ("zero", -0.0, -0.0), ("zero", Self.smallestSubnormal, 0), ("zero", 1e-300, -0.0), ("zero", Self.largestSubnormal, 0),
            ("wide", 0, Self.smallestSubnormal), ("wide", 1e-300, 1e-300), ("wide", 0.1, Double.leastNormalMagnitude),
            ("wide", 1.0 / 3.0, 1e-7),
        ]
        for c in costs {
            let cost = try PrivacyParameters.cost(epsilon: c.epsilon, delta: c.delta)
            _ = try ledger.charge(event: .epsilonDelta(epsilon: c.epsilon, delta: c.delta), cost: cost, scope: c.scope,
                                  analyst: "a", purpose: "p", resultDigest: "d")
        }
        let verification = try ledger.verify()
        #expect(verification.isValid, "\(verification.problem ?? "")")
        #expect(verification.entryCount == 2 + 2 * costs.count)
        let python = try runLedgerVerifier(path)
        #expect(python.status == 0)
        #expect(python.stdout == "chain verified: \(verification.entryCount) entries, head \(verification.headHash)\n")
        // Stored and shown as +0.
        let first = try #require(try ledger.entries(scope: "zero").first)
        #expect(first.delta?.sign == .plus)
    }

    @Test("an amount too large for the ledger is refused in short form, not hundreds of digits")
    func tooLarge() throws {
        let error = #expect(throws: VeilError.self) { try PrivacyParameters.cost(epsilon: 1e308, delta: 0) }
        #expect(error?.message == "epsilon must be at most 1000000.0, got 1e+308")
        let budget = #expect(throws: VeilError.self) {
            try Budget(scope: "s", epsilon: 1.7976931348623157e308, delta: 0, composition: .basic)
        }
        #expect(budget?.message.contains("got 1.7976931348623157e+308") == true)
    }
}
