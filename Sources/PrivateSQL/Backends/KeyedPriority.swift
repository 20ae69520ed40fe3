import Foundation
import Crypto

/// The keyed hash that ranks each unit's groups (and, with `max_rows_per_unit`, its rows) under a per-query secret
/// key (``PartitionSampling/keyedHash(_:)``), computed identically by every backend: in Swift here (SQLite's
/// `veil_priority`, the single-pass aggregation) and inside PostgreSQL with its built-in `sha256(bytea)`
/// (``SQLDialect/priority(key:values:)``).
///
/// The priority of values v₁…vₙ is the first 8 bytes of SHA-256(key ‖ enc(v₁) ‖ … ‖ enc(vₙ)), read as a big-endian
/// signed 64-bit integer, where key is the 16 bytes k0 ‖ k1 (each big-endian) and enc is the canonical encoding:
/// - NULL: the byte 00;
/// - an integer, or a real with a whole value in [−2⁶³, 2⁶³) (``SQLValue/canonicalKey``: SQLite's `GROUP BY` puts
///   `1` and `1.0` in one group and may report either): 01 then the 8 bytes of the integer, big-endian;
/// - any other real: 02 then the 8 bytes of its IEEE 754 bit pattern, big-endian (PostgreSQL's `float8send`);
/// - text: 03, the UTF-8 length as 8 bytes big-endian, then the UTF-8 bytes.
///
/// The encoding is injective (a type tag, fixed widths, and a length before every variable-length part), so
/// distinct value lists are distinct messages. SHA-256 with a secret 128-bit prefix behaves as a pseudorandom
/// function of the message, so the priorities of distinct (unit, group) pairs are independent and uniform for
/// anyone without the key: the groups a unit keeps are a uniform choice among its own groups, whatever the data,
/// and the choice depends only on that unit's values. (A length-extension attack needs the digest, which never
/// leaves the process or the server.)
enum KeyedPriority {
    /// The 16 key bytes, k0 then k1, each big-endian (bound as a `bytea` parameter in PostgreSQL).
    static func keyBytes(_ key: PartitionSamplingKey) -> [UInt8] {
        bigEndian(key.k0) + bigEndian(key.k1)
    }

    /// The priority of `values` under `key` (see the type's documentation).
    static func priority(key: PartitionSamplingKey, of values: [SQLValue]) -> Int64 {
        var hasher = SHA256()
        hasher.update(data: keyBytes(key))
        var message: [UInt8] = []
        for value in values {
            switch value.canonicalKey {
            case .null:
                message.append(0)
            case .integer(let v):
                message.append(1)
                message += bigEndian(UInt64(bitPattern: v))
            case .real(let v):
                message.append(2)
                message += bigEndian(v.bitPattern)
            case .text(let s):
                message.append(3)
                message += bigEndian(UInt64(s.utf8.count))
                message += s.utf8
            }
        }
        hasher.update(data: message)
        var word: UInt64 = 0
        for byte in hasher.finalize().prefix(8) { word = word << 8 | UInt64(byte) }
        return Int64(bitPattern: word)
    }

    private static func bigEndian(_ word: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: word >> (56 - 8 * $0)) }
    }
}
