import Accounting
import Foundation
import Testing

/// The one (ε, δ) value type: its two ranges, its canonical form and its JSON.
@Suite("Privacy parameters")
struct PrivacyParametersTests {
    @Test("ε > 0 for a budget or target, ε ≥ 0 for a cost; δ in [0, 1); ε at most 10⁶; each refusal names the value",
          arguments: [
              (1.0, 0.0, true, true), (0.0, 1e-6, false, true), (-0.0, 0.0, false, true),
              (-1.0, 0.0, false, false), (.nan, 0.0, false, false), (.infinity, 0.0, false, false),
              (1e6, 0.5, true, true), (1e6 + 1, 0.0, false, false), (1.0, 1.0, false, false),
              (1.0, -1e-9, false, false), (1.0, .nan, false, false),
          ] as [(Double, Double, Bool, Bool)])
    func ranges(epsilon: Double, delta: Double, validBudget: Bool, validCost: Bool) throws {
        let budget = Result { try PrivacyParameters(epsilon: epsilon, delta: delta) }
        let cost = Result { try PrivacyParameters.cost(epsilon: epsilon, delta: delta) }
        #expect(((try? budget.get()) != nil) == validBudget)
        #expect(((try? cost.get()) != nil) == validCost)
        for case .failure(let error) in [budget, cost] {
            let veil = try #require(error as? VeilError)
            #expect(veil.code == .invalidParameter)
            #expect(veil.message.hasPrefix("epsilon must be") || veil.message.hasPrefix("delta must be"))
        }
    }

    @Test("the messages callers rely on stay the same")
    func messages() {
        #expect(throws: VeilError.invalidParameter("epsilon", 0.0, allowed: "a finite number > 0")) {
            try PrivacyParameters(epsilon: 0)
        }
        #expect(throws: VeilError.invalidParameter("epsilon", -1.0, allowed: "a finite number ≥ 0")) {
            try PrivacyParameters.cost(epsilon: -1, delta: 0)
        }
        let tooLarge = #expect(throws: VeilError.self) { try PrivacyParameters.cost(epsilon: 1e308, delta: 0) }
        #expect(tooLarge?.message == "epsilon must be at most 1000000.0, got 1e+308")
    }

    @Test("−0 is stored as +0, so one amount has one form (and one hash)")
    func canonicalZero() throws {
        let negative = try PrivacyParameters.cost(epsilon: -0.0, delta: -0.0)
        #expect(negative.epsilon.sign == .plus && negative.delta.sign == .plus)
        #expect(negative == (try PrivacyParameters.cost(epsilon: 0, delta: 0)))
    }

    @Test("JSON is {\"delta\", \"epsilon\"}; decoding checks the cost range")
    func json() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let value = try PrivacyParameters(epsilon: 0.5, delta: 1e-6)
        let data = try encoder.encode(value)
        #expect(String(decoding: data, as: UTF8.self) == #"{"delta":1e-06,"epsilon":0.5}"#)
        #expect(try JSONDecoder().decode(PrivacyParameters.self, from: data) == value)
        #expect(try JSONDecoder().decode(PrivacyParameters.self, from: Data(#"{"epsilon":0,"delta":1e-7}"#.utf8))
                == (try PrivacyParameters.cost(epsilon: 0, delta: 1e-7)))
        for bad in [#"{"epsilon":-1,"delta":0}"#, #"{"epsilon":1,"delta":1}"#, #"{"epsilon":2e6,"delta":0}"#] {
            #expect(throws: VeilError.self) { try JSONDecoder().decode(PrivacyParameters.self, from: Data(bad.utf8)) }
        }
    }

    @Test("one accountant kind: each names its accountant")
    func accountantKind() throws {
        #expect(AccountantKind.allCases.map(\.rawValue) == ["rdp", "pld"])
        #expect(try AccountantKind.rdp.makeAccountant() is RDPAccountant)
        #expect(try AccountantKind.pld.makeAccountant() is PLDAccountant)
    }
}
