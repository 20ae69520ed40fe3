import Crypto
import _CryptoExtras
import Foundation
import Mechanisms
import Testing
import _TestSupport
@testable import SecureAggregation

/// The blocked, parallel mask application against the PRG's definition: one AES-256-CTR keystream per seed over the
/// whole vector from a zero 96-bit nonce, b ≤ 32 ? 4 : 8 little-endian bytes per element.
@Suite("Mask generator")
struct MaskGeneratorTests {
    /// The definition, one whole-vector keystream per seed.
    static func reference(_ terms: [MaskGenerator.Term], to vector: [UInt64], bitWidth: Int) throws -> [UInt64] {
        let width = bitWidth > 32 ? 8 : 4
        let bits = Modulus(bitWidth: bitWidth).bits
        var out = vector
        for term in terms {
            let stream = Array(try AES._CTR.encrypt(Data(count: vector.count * width), using: SymmetricKey(data: term.seed),
                                                    nonce: AES._CTR.Nonce(nonceBytes: [UInt8](repeating: 0, count: 12))))
            for i in out.indices {
                var word: UInt64 = 0
                for k in 0..<width { word |= UInt64(stream[width * i + k]) << (8 * UInt64(k)) }
                out[i] = term.sign > 0 ? (out[i] &+ word) & bits : (out[i] &- word) & bits
            }
        }
        return out
    }

    @Test("masks applied block by block over several blocks equal the whole-vector keystreams", arguments: [20, 32, 64])
    func blocksMatchDefinition(bitWidth: Int) throws {
        var source = InsecureSeededRandomSource(seed: UInt64(bitWidth))
        let bits = Modulus(bitWidth: bitWidth).bits
        // Three blocks, the last one partial and of odd length.
        let count = 2 * MaskGenerator.blockElements + 1_001
        let vector = (0..<count).map { _ in source.next() & bits }
        let terms = (0..<5).map { k in
            MaskGenerator.Term(seed: (0..<32).map { _ in UInt8(truncatingIfNeeded: source.next()) }, sign: k % 2 == 0 ? 1 : -1)
        }
        var blocked = vector
        MaskGenerator.apply(terms, to: &blocked, bitWidth: bitWidth)
        #expect(blocked == (try Self.reference(terms, to: vector, bitWidth: bitWidth)))
        // Adding then subtracting every mask gives the vector back.
        MaskGenerator.apply(terms.map { MaskGenerator.Term(seed: $0.seed, sign: -$0.sign) }, to: &blocked, bitWidth: bitWidth)
        #expect(blocked == vector)
    }

    @Test("a checked sum refuses a value of 2^b or more and leaves the sum untouched")
    func checkedAdd() {
        let modulus = Modulus(bitWidth: 8)
        var sum: [UInt64] = [250, 3, 7]
        #expect(modulus.addIfReduced([10, 255, 0], into: &sum))
        #expect(sum == [4, 2, 7])
        #expect(!modulus.addIfReduced([1, 256, 2], into: &sum))
        #expect(sum == [4, 2, 7])
    }
}
