import Mechanisms

/// Big-endian writer for the stable binary encoding of secure-aggregation messages.
struct BinaryWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.bigEndian) { bytes.append(contentsOf: $0) } }
    mutating func fixed(_ v: [UInt8]) { bytes.append(contentsOf: v) }
    mutating func blob(_ v: [UInt8]) { u32(UInt32(v.count)); bytes.append(contentsOf: v) }
    mutating func share(_ s: SecretShare) { u32(s.x); for v in s.values { u64(v) } }

    /// `values` big-endian, `width` bytes each (the low bytes of each value).
    mutating func packed(_ values: [UInt64], width: Int) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: values.count * width))
        bytes.withUnsafeMutableBufferPointer { out in
            var o = start
            switch width {
            case 4:
                for v in values {
                    let w = UInt32(truncatingIfNeeded: v).bigEndian
                    withUnsafeBytes(of: w) { for k in 0..<4 { out[o + k] = $0[k] } }
                    o += 4
                }
            case 8:
                for v in values {
                    withUnsafeBytes(of: v.bigEndian) { for k in 0..<8 { out[o + k] = $0[k] } }
                    o += 8
                }
            default:
                for v in values {
                    for k in 0..<width { out[o + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(width - 1 - k))) }
                    o += width
                }
            }
        }
    }
}

/// The matching reader: every read checks the bytes left and throws `message_refused` with the field
/// it was reading, so a truncated or padded message never decodes.
struct BinaryReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func take(_ n: Int, _ field: String) throws -> ArraySlice<UInt8> {
        guard n >= 0, remaining >= n else {
            throw VeilError.refused("malformed message: truncated in \(field)")
        }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    mutating func u8(_ field: String) throws -> UInt8 { try take(1, field).first! }
    mutating func u32(_ field: String) throws -> UInt32 {
        try take(4, field).reduce(0) { $0 << 8 | UInt32($1) }
    }
    mutating func u64(_ field: String) throws -> UInt64 {
        try take(8, field).reduce(0) { $0 << 8 | UInt64($1) }
    }
    mutating func fixed(_ n: Int, _ field: String) throws -> [UInt8] { Array(try take(n, field)) }
    mutating func blob(_ field: String, maximum: Int) throws -> [UInt8] {
        let n = Int(try u32(field))
        guard n <= maximum else { throw VeilError.refused("malformed message: \(field) of \(n) bytes exceeds \(maximum)") }
        return try fixed(n, field)
    }
    /// A count of items that each take at least `minimumItemBytes`: refused when the bytes left cannot hold them.
    mutating func count(_ field: String, minimumItemBytes: Int) throws -> Int {
        let n = Int(try u32(field))
        guard n <= remaining / max(1, minimumItemBytes) else {
            throw VeilError.refused("malformed message: \(field) announces \(n) items, more than the message holds")
        }
        return n
    }
    mutating func share(_ field: String) throws -> SecretShare {
        let x = try u32(field)
        var values: [UInt64] = []
        for _ in 0..<ShamirSecretSharing.pieceCount { values.append(try u64(field)) }
        return SecretShare(x: x, values: values)
    }
    /// `count` big-endian values of `width` bytes each.
    static func unpack(_ raw: ArraySlice<UInt8>, count: Int, width: Int) -> [UInt64] {
        [UInt64](unsafeUninitializedCapacity: count) { out, initialized in
            raw.withUnsafeBytes { p in
                switch width {
                case 4:
                    for i in 0..<count { out[i] = UInt64(UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                case 8:
                    for i in 0..<count { out[i] = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)) }
                default:
                    for i in 0..<count {
                        var v: UInt64 = 0
                        for k in 0..<width { v = v << 8 | UInt64(p[width * i + k]) }
                        out[i] = v
                    }
                }
            }
            initialized = count
        }
    }

    func finish() throws {
        guard remaining == 0 else { throw VeilError.refused("malformed message: \(remaining) trailing bytes") }
    }
}
