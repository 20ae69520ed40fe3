import Foundation
import Crypto

/// The measurement of what a Veil enclave runs: SHA-384 over a canonical manifest that lists the `veil`
/// binary, each model file it serves (safetensors; the privacy card is in the file's header, so it is
/// covered), and its serving configuration, each by role, file name, size and SHA-384.
///
/// Manifest (UTF-8, one line per entry, models sorted by file name, then by digest):
/// ```
/// veil-enclave-manifest-v1
/// binary <sha384-hex> <size> <file name>
/// model <sha384-hex> <size> <file name>
/// config <sha384-hex> <size> <file name>
/// ```
/// Paths are reduced to file names so the value does not depend on where the files sit. File names with
/// control characters or spaces are refused (they would make the manifest ambiguous).
public struct EnclaveMeasurement: Sendable, Equatable {
    public static let header = "veil-enclave-manifest-v1"
    /// The canonical manifest text that is hashed.
    public let manifest: String
    /// SHA-384 of ``manifest``.
    public let value: [UInt8]

    public var hex: String { Hex.encode(value) }

    public init(binary: URL, models: [URL], configuration: URL?) throws {
        var lines = [Self.header]
        lines.append(try Self.entry("binary", binary))
        let modelLines = try models.map { try Self.entry("model", $0) }
        lines += modelLines.sorted { Self.sortKey($0) < Self.sortKey($1) }
        if let configuration { lines.append(try Self.entry("config", configuration)) }
        manifest = lines.joined(separator: "\n") + "\n"
        value = Array(SHA384.hash(data: Array(manifest.utf8)))
    }

    static func sortKey(_ line: String) -> String {
        let parts = line.split(separator: " ")
        return parts.count == 4 ? "\(parts[3]) \(parts[1])" : line
    }

    static func entry(_ role: String, _ url: URL) throws -> String {
        let name = url.lastPathComponent
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw TrustedExecutionError.invalid("measure: \(role) file name '\(name)' is empty or has spaces or control characters")
        }
        let (digest, size) = try FileDigest.sha384(of: url, what: role)
        return "\(role) \(Hex.encode(digest)) \(size) \(name)"
    }
}

/// Streams a file through SHA-384 in 1 MiB chunks.
enum FileDigest {
    static func sha384(of url: URL, what: String) throws -> (digest: [UInt8], size: UInt64) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let handle = FileHandle(forReadingAtPath: url.path) else {
            throw TrustedExecutionError.invalid("measure: cannot read \(what) file \(url.path)")
        }
        defer { try? handle.close() }
        var hasher = SHA384()
        var size: UInt64 = 0
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw TrustedExecutionError(.platform, "measure: reading \(url.path) failed: \(error)")
            }
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            size += UInt64(chunk.count)
        }
        return (Array(hasher.finalize()), size)
    }
}
