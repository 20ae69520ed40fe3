/// Reads fixed-layout little-endian structures (TDX quotes, SNP reports) with a bounds check on every
/// field, so a truncated input fails with the field's name instead of trapping.
struct LittleEndianReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    /// Which structure is being read, for error messages ("TDX quote", "SNP report").
    let structure: String

    init(_ bytes: [UInt8], structure: String, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
        self.structure = structure
    }

    var remaining: Int { bytes.count - offset }

    mutating func bytes(_ count: Int, field: String) throws -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw TrustedExecutionError.invalid(
                "\(structure) is truncated: field \(field) needs \(count) bytes at offset \(offset), \(max(remaining, 0)) left")
        }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func uint16(_ field: String) throws -> UInt16 {
        let b = try bytes(2, field: field)
        return UInt16(b[0]) | UInt16(b[1]) << 8
    }

    mutating func uint32(_ field: String) throws -> UInt32 {
        let b = try bytes(4, field: field)
        return b.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    mutating func uint64(_ field: String) throws -> UInt64 {
        let b = try bytes(8, field: field)
        return b.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }
}

/// Lower-case hexadecimal, and its inverse (either case) for policy files, collateral and command lines.
public enum Hex {
    public static func encode<B: Sequence>(_ bytes: B) -> String where B.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// - Throws: ``TrustedExecutionError`` (`invalidInput`) naming `field`.
    public static func decode(_ text: String, field: String) throws -> [UInt8] {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { throw TrustedExecutionError.invalid("\(field): odd-length hex string") }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x41...0x46: return c - 0x41 + 10
            case 0x61...0x66: return c - 0x61 + 10
            default: throw TrustedExecutionError.invalid("\(field): not a hex string")
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
}
