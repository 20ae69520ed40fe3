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
