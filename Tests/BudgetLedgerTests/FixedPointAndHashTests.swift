import Foundation
import Testing
@testable import BudgetLedger

@Suite("Fixed-point amounts")
struct FixedPointAmountTests {
    @Test("decimal amounts convert exactly, costs round up and limits down")
    func units() throws {
        let e = FixedPointAmount.epsilonScale
        let d = FixedPointAmount.deltaScale
        #expect(try FixedPointAmount.units(0.1, scale: e, rounding: .up) == 100_000_000_000)
        #expect(try FixedPointAmount.units(10, scale: e, rounding: .down) == 10_000_000_000_000)
        #expect(try FixedPointAmount.units(1e-5, scale: d, rounding: .up) == 10_000_000_000_000)
        #expect(try FixedPointAmount.units(1.5e-13, scale: e, rounding: .up) == 1)
        #expect(try FixedPointAmount.units(1.5e-13, scale: e, rounding: .down) == 0)
        #expect(try FixedPointAmount.units(1.0000000000005, scale: e, rounding: .up) == 1_000_000_000_001)
        #expect(try FixedPointAmount.units(1.0000000000005, scale: e, rounding: .down) == 1_000_000_000_000)
        #expect(try FixedPointAmount.units(0, scale: e, rounding: .up) == 0)
        #expect(throws: VeilError.self) { try FixedPointAmount.units(-0.1, scale: e, rounding: .up) }
        #expect(throws: VeilError.self) { try FixedPointAmount.units(.infinity, scale: e, rounding: .up) }
        #expect(throws: VeilError.self) { try FixedPointAmount.units(1e30, scale: e, rounding: .up) }
    }

    @Test("a hundred charges of 0.1 add up to exactly 10")
    func hundredTenths() throws {
        let unit = try FixedPointAmount.units(0.1, scale: FixedPointAmount.epsilonScale, rounding: .up)
        let limit = try FixedPointAmount.units(10, scale: FixedPointAmount.epsilonScale, rounding: .down)
        #expect(unit * 100 == limit)
        #expect((0..<100).reduce(0.0) { acc, _ in acc + 0.1 } != 10) // what floating point would have done
    }

    @Test("units print back as exact decimals")
    func decimalStrings() {
        #expect(FixedPointAmount.decimalString(units: 100_000_000_000, scale: 12) == "0.1")
        #expect(FixedPointAmount.decimalString(units: 10_000_000_000_000, scale: 12) == "10")
        #expect(FixedPointAmount.decimalString(units: 0, scale: 12) == "0")
        #expect(FixedPointAmount.decimalString(units: 1, scale: 18) == "0.000000000000000001")
        #expect(FixedPointAmount.value(units: 100_000_000_000, scale: 12) == 0.1)
    }
}

@Suite("Hash chain encoding")
struct HashChainEncodingTests {
    @Test("SHA-256 known answers (FIPS 180-4 examples)")
    func sha256Vectors() {
        #expect(ChainHash.hex(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ChainHash.hex(of: "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(ChainHash.hex(of: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// Expected strings and hashes computed independently with Python:
    /// `json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` and `hashlib.sha256`.
    @Test("canonical JSON and hashes match an independent implementation")
    func canonicalJSONKnownAnswers() {
        let budget = LedgerEntry(id: 1, kind: .budget, timeMilliseconds: 1_700_000_000_000, scope: "health_panel",
                                 epsilon: 10, delta: 1e-6, epsilonUnits: 10_000_000_000_000,
                                 deltaUnits: 1_000_000_000_000, composition: "basic",
                                 previousHash: LedgerEntry.genesisHash)
        #expect(budget.canonicalJSON == """
            {"composition":"basic","delta":1e-06,"delta_units":1000000000000,"epsilon":10.0,"epsilon_units":10000000000000,\
            "id":1,"kind":"budget","prev":"0000000000000000000000000000000000000000000000000000000000000000",\
            "scope":"health_panel","time_ms":1700000000000}
            """)
        #expect(budget.hash == "a6e465005ffc65e373f17445c61428bf2d14bee9d0567aec6f51370d0ecdd66b")

        let reserve = LedgerEntry(id: 2, kind: .reserve, timeMilliseconds: 1_700_000_000_500, scope: "health_panel",
                                  analyst: "Zoë \"z\"", purpose: "line\nbreak\ttab\\",
                                  event: #"{"delta":0,"epsilon":0.1,"type":"epsilon_delta"}"#,
                                  epsilon: 0.1, delta: 0, epsilonUnits: 100_000_000_000, deltaUnits: 0,
                                  previousHash: budget.hash)
        #expect(reserve.hash == "50c60eb7ca38dc9020b131e9e4fdc516ca0c8f0450534506ea3d004f7d54c34b")
        #expect(reserve.hashMatchesContent)
    }
}
