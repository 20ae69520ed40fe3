/// Lower-case hexadecimal for hashes, proofs and signatures in the log's JSON, and its inverse.
/// (The log depends on swift-crypto and Foundation only, so it keeps this small codec of its own.)
public enum LogHex {
    public static func encode<B: Sequence>(_ bytes: B) -> String where B.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// - Throws: ``TransparencyLogError`` (`invalidInput`) naming `field`.
    public static func decode(_ text: String, field: String) throws -> [UInt8] {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { throw TransparencyLogError.invalid("\(field): odd-length hex string") }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: throw TransparencyLogError.invalid("\(field): not a hex string")
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            out.append(try nibble(chars[i]) << 4 | nibble(chars[i + 1]))
            i += 2
        }
        return out
    }

    /// Decodes a hash of exactly `count` bytes.
    static func decodeHash(_ text: String, field: String, count: Int = MerkleHashing.hashSize) throws -> [UInt8] {
        let bytes = try decode(text, field: field)
        guard bytes.count == count else {
            throw TransparencyLogError.invalid("\(field): expected \(count) bytes, got \(bytes.count)")
        }
        return bytes
    }
}
