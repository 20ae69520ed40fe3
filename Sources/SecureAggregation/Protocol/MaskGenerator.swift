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

    /// One mask to add to or subtract from a vector: its seed and its sign (+1 adds, −1 subtracts).
    public struct Term: Sendable {
        public let seed: [UInt8]
        public let sign: Int
        public init(seed: [UInt8], sign: Int) {
            precondition(seed.count == 32, "mask seeds are 32 bytes")
            self.seed = seed
            self.sign = sign
        }
    }

    /// The most elements in a block of ``apply(_:to:bitWidth:)``: 16,384 (64 KiB of keystream at b ≤ 32, 128 KiB
    /// above), so that a block of the vector and the keystream added to it stay in cache while every mask passes over
    /// it.
    static let blockElements = 16_384

    /// The length of every block but the last of a vector of `count` elements spread over `cores` cores: at most
    /// ``blockElements``, and a multiple of 4, so that every block starts on a 16-byte AES block of the keystream. The
    /// number of blocks is a multiple of `cores` (except for tiny vectors, where rounding the length up to a multiple
    /// of 4 can save a block), so that each core gets the same share: seven blocks of 16,384 for 100,000 elements
    /// leave one core idle for a seventh of the pass; eight of 12,500 do not.
    static func blockLength(count: Int, cores: Int) -> Int {
        let cores = max(cores, 1), fewest = (count + blockElements - 1) / blockElements
        let blocks = (fewest + cores - 1) / cores * cores
        return ((count + blocks - 1) / blocks + 3) / 4 * 4
    }

    /// Adds (`sign` = +1) or subtracts (`sign` = −1) the mask of `seed` to `vector`, modulo 2^bitWidth.
    public static func apply(seed: [UInt8], sign: Int, to vector: inout [UInt64], bitWidth: Int) {
        apply([Term(seed: seed, sign: sign)], to: &vector, bitWidth: bitWidth)
    }

    /// Adds or subtracts every mask of `terms` to `vector`, modulo 2^bitWidth: the same result as applying them one by
    /// one, computed block by block (``blockLength(count:cores:)``) — each block takes the matching stretch of every
    /// keystream (AES-CTR from the block's counter, so the keystream is the one a whole-vector encryption gives) —
    /// with the blocks spread over the processor's cores. The server removes a round's ~n masks this way in one pass
    /// over its sum instead of n passes.
    public static func apply(_ terms: [Term], to vector: inout [UInt64], bitWidth: Int) {
        guard !terms.isEmpty, !vector.isEmpty else { return }
        let bits = Modulus(bitWidth: bitWidth).bits
        let width = bitWidth > 32 ? 8 : 4
        let count = vector.count
        let blockLength = Self.blockLength(count: count, cores: ProcessInfo.processInfo.activeProcessorCount)
        let blocks = (count + blockLength - 1) / blockLength
        // Read-only from every block: the keys are made once, not once per block.
        nonisolated(unsafe) let keys = terms.map { (key: SymmetricKey(data: $0.seed), add: $0.sign > 0) }
        vector.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: blocks) { block in
                let start = block * blockLength, length = min(blockLength, count - start)
                // The AES block counter where this stretch of the keystream starts (a 96-bit zero nonce, counter 0 at
                // element 0, is the 128-bit counter block 0).
                var counter = [UInt8](repeating: 0, count: 8)
                withUnsafeBytes(of: UInt64(start * width / 16).bigEndian) { counter.append(contentsOf: $0) }
                let nonce = try! AES._CTR.Nonce(nonceBytes: counter)
                let zeros = [UInt8](repeating: 0, count: length * width)
                let part = out + start
                // Lazy reduction: the keystreams are added and subtracted modulo 2^64 and the block is reduced modulo 2^b
                // once at the end, which gives the same residues because 2^b divides 2^64.
                for (key, add) in keys {
                    let stream = try! AES._CTR.encrypt(zeros, using: key, nonce: nonce)
                    stream.withUnsafeBytes { raw in
                        if width == 8 {
                            accumulate(raw, as: UInt64.self, adding: add, into: part, count: length)
                        } else {
                            accumulate(raw, as: UInt32.self, adding: add, into: part, count: length)
                        }
                    }
                }
                for i in 0..<length { part[i] &= bits }
            }
        }
    }

    /// Adds (or subtracts) the `count` little-endian words of type `Word` in `keystream` to `part`, modulo 2^64.
    /// Eight at a time as SIMD vectors on little-endian processors: written as a plain loop, the compiler could not
    /// rule out that `part` overlaps the keystream and added one element at a time, as slowly as AES produced them.
    @inline(__always)
    static func accumulate<Word: FixedWidthInteger & UnsignedInteger & SIMDScalar>(
        _ keystream: UnsafeRawBufferPointer, as _: Word.Type, adding add: Bool, into part: UnsafeMutablePointer<UInt64>,
        count: Int
    ) {
        let base = keystream.baseAddress!
        let size = MemoryLayout<Word>.size
        var i = 0
        #if _endian(little)
        while i + 8 <= count {
            let stretch = base.loadUnaligned(fromByteOffset: size * i, as: SIMD8<Word>.self)
            let words = SIMD8<UInt64>(truncatingIfNeeded: stretch)
            let target = UnsafeMutableRawPointer(part + i)
            let current = target.loadUnaligned(as: SIMD8<UInt64>.self)
            target.storeBytes(of: add ? current &+ words : current &- words, as: SIMD8<UInt64>.self)
            i += 8
        }
        #endif
        while i < count {
            let word = UInt64(truncatingIfNeeded: Word(littleEndian: base.loadUnaligned(fromByteOffset: size * i,
                                                                                          as: Word.self)))
            if add { part[i] &+= word } else { part[i] &-= word }
            i += 1
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

    /// Adds `other` into `sum` modulo 2^b when every element of `other` is below 2^b, in one pass; returns false and
    /// leaves `sum` as it was otherwise.
    public func addIfReduced(_ other: [UInt64], into sum: inout [UInt64]) -> Bool {
        precondition(other.count == sum.count)
        var outside: UInt64 = 0
        other.withUnsafeBufferPointer { o in
            sum.withUnsafeMutableBufferPointer { s in
                for i in 0..<s.count {
                    outside |= o[i] & ~bits
                    s[i] = (s[i] &+ o[i]) & bits
                }
            }
        }
        guard outside != 0 else { return true }
        // A rare refused message: take back what was added (modulo 2^b, subtraction undoes addition exactly).
        for i in sum.indices { sum[i] = (sum[i] &- (other[i] & bits)) & bits }
        return false
    }

    /// ``addIfReduced(_:into:)`` straight from the binary encoding of the values (`count` big-endian values of `width`
    /// bytes each, as a masked input carries them): one pass over the bytes and the sum, without unpacking the
    /// values into an array first. Adds them into `sum` modulo 2^b when every value is below 2^b; returns false and
    /// leaves `sum` as it was otherwise.
    public func addPackedIfReduced(_ packed: UnsafeRawBufferPointer, width: Int, into sum: inout [UInt64]) -> Bool {
        precondition((1...8).contains(width) && packed.count == sum.count * width)
        @inline(__always) func value(_ i: Int) -> UInt64 {
            switch width {
            case 4: return UInt64(UInt32(bigEndian: packed.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            case 8: return UInt64(bigEndian: packed.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
            default:
                var v: UInt64 = 0
                for k in 0..<width { v = v << 8 | UInt64(packed[width * i + k]) }
                return v
            }
        }
        var outside: UInt64 = 0
        sum.withUnsafeMutableBufferPointer { s in
            if width == 4 {
                var i = 0
                #if _endian(little)
                // Eight values at a time: a plain loop was not vectorised (the compiler could not rule out that the
                // sum overlaps the message's bytes) and took twice as long per value as the plain sum of the same
                // vectors. The byte swap is written out lane-wise; it compiles to one shuffle.
                let base = packed.baseAddress!, target = UnsafeMutableRawPointer(s.baseAddress!)
                let keep = SIMD8<UInt64>(repeating: bits)
                var outsideLanes = SIMD8<UInt64>()
                while i + 8 <= s.count {
                    let word = base.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<UInt32>.self)
                    let swapped = (word &>> 24) | ((word &>> 8) & 0xff00) | ((word &<< 8) & 0xff_0000) | (word &<< 24)
                    let v = SIMD8<UInt64>(truncatingIfNeeded: swapped)
                    outsideLanes |= v & ~keep
                    let current = target.loadUnaligned(fromByteOffset: 8 * i, as: SIMD8<UInt64>.self)
                    target.storeBytes(of: (current &+ v) & keep, toByteOffset: 8 * i, as: SIMD8<UInt64>.self)
                    i += 8
                }
                for lane in outsideLanes.indices { outside |= outsideLanes[lane] }
                #endif
                while i < s.count {
                    let v = UInt64(UInt32(bigEndian: packed.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    outside |= v & ~bits
                    s[i] = (s[i] &+ v) & bits
                    i += 1
                }
            } else {
                for i in 0..<s.count {
                    let v = value(i)
                    outside |= v & ~bits
                    s[i] = (s[i] &+ v) & bits
                }
            }
        }
        guard outside != 0 else { return true }
        // A rare refused message: take back what was added (modulo 2^b, subtraction undoes addition exactly).
        for i in sum.indices { sum[i] = (sum[i] &- (value(i) & bits)) & bits }
        return false
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
