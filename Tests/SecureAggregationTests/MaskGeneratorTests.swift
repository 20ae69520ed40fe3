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

    @Test("known answer: the mask of the all-zero seed is the AES-256-CTR keystream of the zero key, little-endian words, also past a block")
    func knownAnswer() {
        // The keystream of AES-256 with the zero key from a zero counter begins dc95c078 a2408989 ad48a214 92842087
        // (FIPS-197's cipher of the zero block under the zero key); counter block 4096 begins 3fa9d391, 8192 77e61258 97668ac8.
        let zero = [UInt8](repeating: 0, count: 32)
        let count = MaskGenerator.blockElements + 1
        let m32 = MaskGenerator.mask(seed: zero, count: count, bitWidth: 32)
        #expect(Array(m32.prefix(6)) == [0x78c0_95dc, 0x8989_40a2, 0x14a2_48ad, 0x8720_8492, 0xfb8a_0f53, 0xb936_45c7])
        #expect(m32[MaskGenerator.blockElements] == 0x91d3_a93f)
        #expect(MaskGenerator.mask(seed: zero, count: 4, bitWidth: 20) == [0x0_95dc, 0x9_40a2, 0x2_48ad, 0x0_8492])
        let m64 = MaskGenerator.mask(seed: zero, count: count, bitWidth: 64)
        #expect(Array(m64.prefix(3)) == [0x8989_40a2_78c0_95dc, 0x8720_8492_14a2_48ad, 0xb936_45c7_fb8a_0f53])
        #expect(m64[MaskGenerator.blockElements] == 0xc88a_6697_5812_e677)
        // Subtracted, three times over (a lazily reduced sum wraps below zero modulo 2^64 first).
        var v: [UInt64] = [5, 0]
        MaskGenerator.apply(Array(repeating: MaskGenerator.Term(seed: zero, sign: -1), count: 3), to: &v, bitWidth: 32)
        let expected: [UInt64] = [0x95be_3e71, 0x6364_3e1a]   // (5 − 3·0x78c095dc, 0 − 3·0x898940a2) mod 2^32
        #expect(v == expected)
    }

    @Test("known answer: values added straight from their big-endian encoding, refused (sum untouched) at 2^b or more")
    func packedAdd() {
        let m32 = Modulus(bitWidth: 32)
        var sum: [UInt64] = [0xFFFF_FFFF, 5]
        #expect([UInt8]([0, 0, 0, 2, 0x80, 0, 0, 1]).withUnsafeBytes { m32.addPackedIfReduced($0, width: 4, into: &sum) })
        #expect(sum == [1, 0x8000_0006])
        let m20 = Modulus(bitWidth: 20)
        var s20: [UInt64] = [1, 2]
        #expect([UInt8]([0x0F, 0xFF, 0xFF, 0, 0, 3]).withUnsafeBytes { m20.addPackedIfReduced($0, width: 3, into: &s20) })
        #expect(s20 == [0, 5])
        #expect(![UInt8]([0, 0, 1, 0x10, 0, 0]).withUnsafeBytes { m20.addPackedIfReduced($0, width: 3, into: &s20) })
        #expect(![UInt8]([0, 0, 0, 1, 0, 0x10, 0, 0]).withUnsafeBytes { m20.addPackedIfReduced($0, width: 4, into: &s20) })
        #expect(s20 == [0, 5])
        let m64 = Modulus(bitWidth: 64)
        var s64: [UInt64] = [UInt64.max]
        #expect([UInt8]([0, 0, 0, 0, 0, 0, 0, 2]).withUnsafeBytes { m64.addPackedIfReduced($0, width: 8, into: &s64) })
        #expect(s64 == [1])
    }

    @Test("long packed inputs (eight at a time, then the tail) add as their values do; a value at 2^b anywhere is refused",
          arguments: [20, 32])
    func packedAddLong(bitWidth: Int) {
        let modulus = Modulus(bitWidth: bitWidth)
        var source = InsecureSeededRandomSource(seed: 7)
        let count = 1_003
        let values = (0..<count).map { _ in source.next() & modulus.bits }
        let start = (0..<count).map { _ in source.next() & modulus.bits }
        func bigEndian(_ values: [UInt64]) -> [UInt8] { values.flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } } }
        var packedSum = start, reference = start
        #expect(bigEndian(values).withUnsafeBytes { modulus.addPackedIfReduced($0, width: 4, into: &packedSum) })
        #expect(modulus.addIfReduced(values, into: &reference))
        #expect(packedSum == reference)
        #expect(packedSum == zip(start, values).map { ($0 &+ $1) & modulus.bits })
        // One value out of range, inside the vectorised part and in the tail: refused, the sum as it was.
        guard bitWidth < 32 else { return }
        for index in [13, count - 1] {
            var bad = values
            bad[index] = modulus.bits + 1
            #expect(!bigEndian(bad).withUnsafeBytes { modulus.addPackedIfReduced($0, width: 4, into: &packedSum) })
            #expect(packedSum == reference)
        }
    }

    @Test("mask blocks: at most blockElements, whole AES blocks, a multiple of the cores, covering the vector")
    func blockLengths() {
        #expect(MaskGenerator.blockLength(count: 100_000, cores: 2) == 12_500)   // 8 blocks, not 7 of 16,384
        for (count, cores) in [(1, 1), (5, 2), (16_384, 2), (16_385, 2), (33_769, 2), (100_000, 3), (1_000_000, 8), (7, 0)] {
            let length = MaskGenerator.blockLength(count: count, cores: cores)
            let blocks = (count + length - 1) / length
            #expect(length > 0 && length <= MaskGenerator.blockElements && length % 4 == 0)
            #expect(blocks * length >= count && (blocks - 1) * length < count)
            if count >= 1_000 { #expect(blocks % max(cores, 1) == 0, "\(count) over \(cores) cores: \(blocks) blocks") }
        }
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
