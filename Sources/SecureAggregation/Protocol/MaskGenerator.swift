import Crypto
import _CryptoExtras
import Foundation
import Mechanisms

/// The pseudorandom generator that expands a 32-byte seed into a mask: AES-256 in counter mode
/// (`_CryptoExtras`) keyed by the seed, encrypting zeros from a zero nonce, so the keystream is the
/// mask. Each seed is used for one mask of one round only (pairwise seeds are derived with the round
/// identifier as HKDF salt, self-mask seeds are fresh), so no keystream is ever reused.
///
/// A mask of `count` elements modulo 2^b takes b ≤ 32 ? 4 : 8 bytes of keystream per element, keeping
/// the low b bits; since 2^b divides 2^32 (or 2^64) every element is uniform modulo 2^b.
public enum MaskGenerator {
    static let zeroNonce = try! AES._CTR.Nonce(nonceBytes: [UInt8](repeating: 0, count: 12))

    /// Keystream bytes for `byteCount` bytes under `seed`.
    static func keystream(seed: [UInt8], byteCount: Int) -> Data {
        precondition(seed.count == 32, "mask seeds are 32 bytes")
        // A zero plaintext of the right size; CTR encryption of zeros is the keystream itself.
        let zeros = Data(count: byteCount)
        return try! AES._CTR.encrypt(zeros, using: SymmetricKey(data: seed), nonce: zeroNonce)
    }

    /// Adds (`sign` = +1) or subtracts (`sign` = −1) the mask of `seed` to `vector`, modulo 2^bitWidth.
    public static func apply(seed: [UInt8], sign: Int, to vector: inout [UInt64], bitWidth: Int) {
        let mask = Modulus(bitWidth: bitWidth)
        let wide = bitWidth > 32
        let stream = keystream(seed: seed, byteCount: vector.count * (wide ? 8 : 4))
        stream.withUnsafeBytes { raw in
            vector.withUnsafeMutableBufferPointer { out in
                if wide {
                    for i in 0..<out.count {
                        let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                        out[i] = sign > 0 ? (out[i] &+ word) & mask.bits : (out[i] &- word) & mask.bits
                    }
                } else {
                    for i in 0..<out.count {
                        let word = UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                        out[i] = sign > 0 ? (out[i] &+ word) & mask.bits : (out[i] &- word) & mask.bits
                    }
                }
            }
        }
    }

    /// The mask of `seed` alone: `count` elements modulo 2^bitWidth.
    public static func mask(seed: [UInt8], count: Int, bitWidth: Int) -> [UInt64] {
        var vector = [UInt64](repeating: 0, count: count)
        apply(seed: seed, sign: 1, to: &vector, bitWidth: bitWidth)
        return vector
    }
}

/// Arithmetic modulo 2^b for 1 ≤ b ≤ 64.
public struct Modulus: Sendable, Hashable {
    public let bitWidth: Int
    /// 2^b − 1: the mask that reduces a word modulo 2^b.
    public let bits: UInt64

    public init(bitWidth: Int) {
        precondition((1...64).contains(bitWidth), "bit width must be in 1 ... 64")
        self.bitWidth = bitWidth
        self.bits = bitWidth == 64 ? ~0 : (UInt64(1) << UInt64(bitWidth)) - 1
    }

    /// Adds `other` into `sum` element-wise modulo 2^b.
    public func add(_ other: [UInt64], into sum: inout [UInt64]) {
        precondition(other.count == sum.count)
        for i in sum.indices { sum[i] = (sum[i] &+ other[i]) & bits }
    }
}

/// A random source that reads an AES-256-CTR keystream keyed by a 32-byte seed: the deterministic,
/// cryptographically strong generator the server and the clients share for the neighbour graph
/// (and the encoder for the rotation signs), so that every party derives the same values.
public struct SeededKeystreamSource: RandomSource {
    private let seed: [UInt8]
    private var words: [UInt64] = []
    private var position = 0
    private var block: UInt32 = 0

    public init(seed: [UInt8]) {
        precondition(seed.count == 32, "keystream seeds are 32 bytes")
        self.seed = seed
    }

    public mutating func next() -> UInt64 {
        if position == words.count { refill() }
        defer { position += 1 }
        return words[position]
    }

    private mutating func refill() {
        // 4 KiB per refill, each refill under its own nonce (the block number) so streams never overlap.
        var nonce = [UInt8](repeating: 0, count: 12)
        withUnsafeBytes(of: block.bigEndian) { nonce.replaceSubrange(8..<12, with: $0) }
        block += 1
        let stream = try! AES._CTR.encrypt(Data(count: 4096), using: SymmetricKey(data: seed),
                                           nonce: AES._CTR.Nonce(nonceBytes: nonce))
        words = stream.withUnsafeBytes { raw in
            (0..<512).map { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)) }
        }
        position = 0
    }
}
