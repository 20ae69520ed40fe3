import Crypto
import Foundation
import Mechanisms
import _CryptoExtras

/// Random words from AES-256 in counter mode, as a fast-key-erasure generator (D. J. Bernstein,
/// "Fast-key-erasure random-number generators", 2017): each refill encrypts a zero counter block
/// sequence of 64 KiB under the current key, the first 32 bytes of that keystream become the next
/// key (the old one is dropped), and the other 65,504 bytes are handed out as words and never
/// again. The first key is 256 bits from the caller's source, the OS CSPRNG in training.
///
/// Each key encrypts one 64 KiB run of counter blocks from zero, so a fixed nonce never repeats a
/// (key, counter) pair. Used by ``GaussianNoiseSampler`` for the noise of large tensors, where
/// reading every word from the kernel would cost more than the rest of a DP-SGD step; AES runs on
/// the processor's AES instructions through BoringSSL (swift-crypto).
public struct KeyErasingAESStream: RandomSource {
    /// Bytes of keystream per key.
    static let refillBytes = 1 << 16
    /// Keystream bytes that become the next key.
    static let keyBytes = 32
    static let wordsPerRefill = (refillBytes - keyBytes) / 8
    private static let zeros = [UInt8](repeating: 0, count: refillBytes)
    private static let counterZero = try! AES._CTR.Nonce(nonceBytes: [UInt8](repeating: 0, count: 16))

    private var key: SymmetricKey
    private var words: [UInt64]
    private var position: Int

    /// A stream keyed with four words (256 bits) of `random`.
    public init<R: RandomSource>(keyFrom random: inout R) {
        var keyWords = (0..<4).map { _ in random.next().littleEndian }
        self.init(key: SymmetricKey(data: keyWords.withUnsafeBytes { Data($0) }))
        for i in keyWords.indices { keyWords[i] = 0 }
    }

    /// A stream with a given first key (known-answer tests).
    init(key: SymmetricKey) {
        self.key = key
        words = [UInt64](repeating: 0, count: Self.wordsPerRefill)
        position = Self.wordsPerRefill
    }

    public mutating func next() -> UInt64 {
        if position == Self.wordsPerRefill { refill() }
        let word = words[position]
        position &+= 1
        return word
    }

    private mutating func refill() {
        // The key is 256 bits and the nonce 16 bytes, the only inputs `encrypt` refuses otherwise.
        var keystream = try! AES._CTR.encrypt(Self.zeros, using: key, nonce: Self.counterZero)
        keystream.withUnsafeBytes { bytes in
            key = SymmetricKey(data: UnsafeRawBufferPointer(rebasing: bytes[0..<Self.keyBytes]))
            words.withUnsafeMutableBytes { destination in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[Self.keyBytes...]))
            }
        }
        // The replaced key was wiped when its `SymmetricKey` was released (swift-crypto clears its secure
        // storage); the copy of the new key in the keystream buffer is wiped here, before the buffer is freed.
        keystream.resetBytes(in: 0..<Self.keyBytes)
        #if _endian(big)
        // The keystream's words are little-endian. (On a little-endian processor there is nothing to do: a loop of
        // identity conversions over `words` checked the array's uniqueness once per word and was half the cost of
        // every Gaussian noise value.)
        words.withUnsafeMutableBufferPointer { w in
            for i in w.indices { w[i] = UInt64(littleEndian: w[i]) }
        }
        #endif
        position = 0
    }
}
