/// QUIC variable-length integers (RFC 9000 §16), the length and number encoding of Binary HTTP
/// (RFC 9292 §3): the two high bits of the first byte give the size (1, 2, 4 or 8 bytes).
enum VariableLengthInteger {
    static let maximum: UInt64 = (1 << 62) - 1

    /// The length of the shortest encoding of `value`.
    static func size(of value: UInt64) -> Int {
        switch value {
        case 0..<(1 << 6): 1
        case 0..<(1 << 14): 2
        case 0..<(1 << 30): 4
        default: 8
        }
    }

    /// The shortest encoding of `value` (at most 2^62 - 1).
    static func encode(_ value: UInt64, into out: inout [UInt8]) {
        precondition(value <= maximum)
        switch value {
        case 0..<(1 << 6): out.append(UInt8(value))
        case 0..<(1 << 14): out += [UInt8(0x40 | value >> 8), UInt8(value & 0xFF)]
        case 0..<(1 << 30): out += (0..<4).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) | ($0 == 3 ? 0x80 : 0) }
        default: out += (0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) | ($0 == 7 ? 0xC0 : 0) }
        }
    }
}

/// Reads RFC 9292 fields from a byte buffer; running past the end is an error, never a trap.
struct BinaryReader {
    let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { position >= bytes.count }
    var remaining: ArraySlice<UInt8> { bytes[position...] }

    /// Whether every byte left is zero (padding): one pass over contiguous memory, OR-ing the bytes together.
    var remainingIsZero: Bool {
        bytes.withUnsafeBufferPointer { buffer in
            guard position < buffer.count else { return true }
            var any: UInt8 = 0
            for byte in UnsafeBufferPointer(rebasing: buffer[position...]) { any |= byte }
            return any == 0
        }
    }

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw ConfidentialInferenceError.invalid("binary HTTP: the message is truncated") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func take(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= bytes.count - position else {
            throw ConfidentialInferenceError.invalid("binary HTTP: the message is truncated")
        }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    mutating func varint() throws -> UInt64 {
        let first = try byte()
        let length = 1 << Int(first >> 6)
        var value = UInt64(first & 0x3F)
        for _ in 1..<length { value = value << 8 | UInt64(try byte()) }
        return value
    }

    /// A varint-prefixed byte string.
    mutating func lengthPrefixed() throws -> [UInt8] {
        Array(bytes[try lengthPrefixedRange()])
    }

    /// A varint-prefixed byte string, as its range in ``bytes`` (read past, not copied).
    mutating func lengthPrefixedRange() throws -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(bytes.count - position) else {
            throw ConfidentialInferenceError.invalid("binary HTTP: the message is truncated")
        }
        defer { position += Int(length) }
        return position..<(position + Int(length))
    }
}
