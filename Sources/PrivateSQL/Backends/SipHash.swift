/// SipHash-2-4, a keyed pseudorandom function on byte strings (Aumasson & Bernstein, "SipHash: a fast
/// short-input PRF", INDOCRYPT 2012). Veil uses it to rank each unit's groups under a per-query secret key.
struct SipHash24 {
    private var v0: UInt64 = 0x736f_6d65_7073_6575
    private var v1: UInt64 = 0x646f_7261_6e64_6f6d
    private var v2: UInt64 = 0x6c79_6765_6e65_7261
    private var v3: UInt64 = 0x7465_6462_7974_6573
    private var tail: UInt64 = 0
    private var tailCount = 0
    private var length = 0

    /// A hasher keyed with the 128-bit key `(k0, k1)` (k0 = the first eight key bytes, little-endian).
    init(k0: UInt64, k1: UInt64) {
        v0 ^= k0
        v1 ^= k1
        v2 ^= k0
        v3 ^= k1
    }

    private static func rotl(_ x: UInt64, _ b: UInt64) -> UInt64 { (x << b) | (x >> (64 - b)) }

    private mutating func round() {
        v0 &+= v1; v1 = Self.rotl(v1, 13); v1 ^= v0; v0 = Self.rotl(v0, 32)
        v2 &+= v3; v3 = Self.rotl(v3, 16); v3 ^= v2
        v0 &+= v3; v3 = Self.rotl(v3, 21); v3 ^= v0
        v2 &+= v1; v1 = Self.rotl(v1, 17); v1 ^= v2; v2 = Self.rotl(v2, 32)
    }

    private mutating func compress(_ m: UInt64) {
        v3 ^= m
        round()
        round()
        v0 ^= m
    }

    /// Appends bytes to the message.
    mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes { appendByte(byte) }
    }

    @inline(__always)
    private mutating func appendByte(_ byte: UInt8) {
        tail |= UInt64(byte) << (8 * UInt64(tailCount))
        tailCount += 1
        length += 1
        if tailCount == 8 {
            compress(tail)
            tail = 0
            tailCount = 0
        }
    }

    /// Appends a 64-bit word, little-endian.
    mutating func append(_ word: UInt64) {
        if tailCount == 0 {
            compress(word)
            length += 8
            return
        }
        for shift in stride(from: UInt64(0), to: 64, by: 8) { appendByte(UInt8(truncatingIfNeeded: word >> shift)) }
    }

    /// The 64-bit tag of the message appended so far.
    func finalize() -> UInt64 {
        var copy = self
        let last = (UInt64(truncatingIfNeeded: length) << 56) | tail
        copy.compress(last)
        copy.v2 ^= 0xff
        copy.round()
        copy.round()
        copy.round()
        copy.round()
        return copy.v0 ^ copy.v1 ^ copy.v2 ^ copy.v3
    }
}

extension SipHash24 {
    /// The rank of a (unit, group) pair among its unit's groups under ``PartitionSampling/keyedHash(_:)``: the
    /// SipHash-2-4 of the values' canonical bytes (a type tag word — 0 null, 1 integer, 2 real, 3 text — then
    /// the 8 little-endian bytes of a number, or the UTF-8 length and bytes of a text), as a signed integer.
    /// A real with a whole value is hashed as that integer (``SQLValue/canonicalKey``): SQLite's `GROUP BY` puts
    /// `1` and `1.0` in one group and may report either, and both must rank the same.
    static func priority(key: PartitionSamplingKey, of values: [SQLValue]) -> Int64 {
        var hasher = SipHash24(k0: key.k0, k1: key.k1)
        for value in values {
            switch value.canonicalKey {
            case .null:
                hasher.append(0)
            case .integer(let v):
                hasher.append(1)
                hasher.append(UInt64(bitPattern: v))
            case .real(let v):
                hasher.append(2)
                hasher.append(v.bitPattern)
            case .text(let s):
                hasher.append(3)
                hasher.append(UInt64(s.utf8.count))
                hasher.append(s.utf8)
            }
        }
        return Int64(bitPattern: hasher.finalize())
    }
}
