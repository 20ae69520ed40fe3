import Crypto

/// The record layout of a transparency log file, by format version (the last byte of the file's magic).
///
/// - Version 1: `length (u32 BE) || entry || leaf hash`. Nothing protects the length field, so a damaged length
///   that points past the end of the file reads like an append cut short by a crash.
/// - Version 2 (new logs): `length (u32 BE) || length check (4 bytes) || entry || leaf hash`, the check being the
///   first four bytes of `SHA-256("veil-transparency-log-length" 0x00 || length)`. A crash mid-append leaves a
///   prefix of a record whose header, once whole, still checks; a damaged length field does not (a random change
///   passes with probability 2^-32), so the two are told apart.
enum LogRecordFormat: UInt8, Sendable {
    case version1 = 1
    case version2 = 2

    /// `VTLOG\0\0` followed by the version byte.
    static let magicPrefix: [UInt8] = [0x56, 0x54, 0x4C, 0x4F, 0x47, 0x00, 0x00]
    static let magicSize = 8
    /// The format new logs are written in.
    static let current = LogRecordFormat.version2

    var magic: [UInt8] { Self.magicPrefix + [rawValue] }

    /// The format a file's first bytes announce, or `nil` when they are no log's magic.
    init?(magic bytes: ArraySlice<UInt8>) {
        guard bytes.count >= Self.magicSize, bytes.prefix(Self.magicPrefix.count).elementsEqual(Self.magicPrefix),
              let format = LogRecordFormat(rawValue: bytes[bytes.startIndex + Self.magicPrefix.count]) else { return nil }
        self = format
    }

    /// Bytes before the entry.
    var headerSize: Int { self == .version1 ? 4 : 8 }

    /// The bytes of a whole record.
    func record(entry: [UInt8], leafHash: [UInt8]) -> [UInt8] {
        var record = Self.lengthBytes(entry.count)
        if self == .version2 { record += Self.lengthCheck(record) }
        return record + entry + leafHash
    }

    /// What a record's header says: the entry's length, or `nil` when the header is damaged (version 2's check fails).
    func entryLength(header: ArraySlice<UInt8>) -> Int? {
        precondition(header.count >= headerSize)
        let start = header.startIndex
        let length = Int(header[start]) << 24 | Int(header[start + 1]) << 16 | Int(header[start + 2]) << 8 | Int(header[start + 3])
        if self == .version2, !header[(start + 4)..<(start + 8)].elementsEqual(Self.lengthCheck(Array(header[start..<(start + 4)]))) {
            return nil
        }
        return length
    }

    static func lengthBytes(_ length: Int) -> [UInt8] {
        let value = UInt32(length)
        return [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    /// The first four bytes of `SHA-256("veil-transparency-log-length" 0x00 || length)`.
    static func lengthCheck(_ lengthBytes: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Array("veil-transparency-log-length".utf8) + [0x00] + lengthBytes)
        return Array(hasher.finalize().prefix(4))
    }
}
