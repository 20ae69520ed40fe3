import Foundation
import Mechanisms

/// Iterates over the records of CSV (RFC 4180) text, remembering the line each starts on.
///
/// Reads a file in chunks of ``chunkSize`` bytes, holding one chunk and the current record only, or text already
/// in memory. The delimiters (`"`, `,`, CR, LF) are ASCII bytes, which UTF-8 never uses inside a multi-byte
/// character, so records are split on bytes and each field is decoded once complete; a file must be checked
/// with ``checkUTF8(_:)`` first. A leading byte-order mark is skipped.
struct CSVRecords {
    /// Bytes read from the file at a time.
    static let chunkSize = 1 << 20

    private let handle: FileHandle?
    private let file: String
    private var buffer: [UInt8]
    private var index = 0
    private var line = 1

    /// Records of `text`, for messages naming `file`.
    init(text: String, file: String) {
        handle = nil
        self.file = file
        buffer = Array(text.utf8)
        skipByteOrderMark()
    }

    /// Records of the file at `url` (checked with ``checkUTF8(_:)``), for messages naming `file`.
    /// - Throws: ``VeilError`` (`invalid_input`) if the file cannot be read.
    init(reading url: URL, file: String) throws {
        do { handle = try FileHandle(forReadingFrom: url) } catch { throw Self.unreadable(url, error.localizedDescription) }
        self.file = file
        buffer = []
        _ = try peekByte()
        skipByteOrderMark()
    }

    private mutating func skipByteOrderMark() {
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    /// The byte at the current position, reading the next chunk when the buffer is used up; `nil` at the end.
    private mutating func peekByte() throws -> UInt8? {
        if index == buffer.count {
            guard let handle else { return nil }
            let chunk: Data?
            do { chunk = try handle.read(upToCount: Self.chunkSize) } catch {
                throw VeilError(.invalidInput, "cannot read \(file): \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else { return nil }
            buffer = Array(chunk)
            index = 0
        }
        return buffer[index]
    }

    private mutating func nextByte() throws -> UInt8? {
        guard let byte = try peekByte() else { return nil }
        index += 1
        return byte
    }

    mutating func next() throws -> (line: Int, fields: [String])? {
        guard try peekByte() != nil else { return nil }
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n")
        let startLine = line
        var fields: [String] = []
        var field: [UInt8] = []
        var quoted = false
        var wasQuoted = false
        while let c = try nextByte() {
            if quoted {
                if c == quote {
                    if try peekByte() == quote {
                        field.append(quote)
                        index += 1
                    } else {
                        quoted = false
                    }
                } else {
                    if c == newline { line += 1 }
                    if c == 0 { throw nulCharacter() }
                    field.append(c)
                }
                continue
            }
            switch c {
            case quote:
                guard field.isEmpty, !wasQuoted else {
                    throw VeilError(.invalidInput, "\(file):\(line): a quote inside an unquoted field (quote the whole field and double inner quotes)")
                }
                quoted = true
                wasQuoted = true
            case comma:
                fields.append(String(decoding: field, as: UTF8.self))
                field.removeAll(keepingCapacity: true)
                wasQuoted = false
            case UInt8(ascii: "\r"):
                continue
            case newline:
                line += 1
                fields.append(String(decoding: field, as: UTF8.self))
                return (startLine, fields)
            case 0:
                throw nulCharacter()
            default:
                if wasQuoted {
                    throw VeilError(.invalidInput, "\(file):\(line): text after a closing quote")
                }
                field.append(c)
            }
        }
        if quoted {
            throw VeilError(.invalidInput, "\(file):\(startLine): a quoted field is not closed before the end of the file")
        }
        fields.append(String(decoding: field, as: UTF8.self))
        return (startLine, fields)
    }

    private func nulCharacter() -> VeilError {
        VeilError(.invalidInput, "\(file):\(line): a field contains a NUL character (byte 0), at which SQLite would "
                  + "cut the text; remove it from the file")
    }

    /// Checks that the file at `url` is UTF-8, reading it in chunks of ``chunkSize`` bytes.
    /// - Throws: ``VeilError`` (`invalid_input`): ``unreadable(_:_:)``.
    static func checkUTF8(_ url: URL) throws {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch { throw unreadable(url, error.localizedDescription) }
        var carried: [UInt8] = []
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: chunkSize) } catch { throw unreadable(url, error.localizedDescription) }
            guard let chunk, !chunk.isEmpty else { break }
            let bytes = carried + chunk
            // A character cut by the chunk's end is checked with the next chunk: find where the last one starts.
            var start = bytes.count
            while start > 0, bytes.count - start < 4, bytes[start - 1] & 0xC0 == 0x80 { start -= 1 }
            if start > 0, bytes[start - 1] >= 0xC0 { start -= 1 } else { start = bytes.count }
            guard String(validating: bytes[..<start], as: UTF8.self) != nil else { throw unreadable(url, Self.notUTF8) }
            carried = Array(bytes[start...])
        }
        guard String(validating: carried, as: UTF8.self) != nil else { throw unreadable(url, Self.notUTF8) }
    }

    /// Why a file that is not UTF-8 text is refused.
    static let notUTF8 = "it is not UTF-8 text"

    /// The error for a file that cannot be read, with `reason` (the file is not read again to find one).
    static func unreadable(_ url: URL, _ reason: String) -> VeilError {
        VeilError(.invalidInput, "cannot read \(url.path): \(reason)")
    }
}
