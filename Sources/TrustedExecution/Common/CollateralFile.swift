import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file that must be small: evidence, collateral, policies, key stores.
///
/// The file must be a regular file (a symbolic link is followed to one) of at most `limit` bytes, checked
/// before anything is read, and no more than `limit + 1` bytes are ever read: a link to `/dev/zero`, a FIFO or
/// a huge file is one clear error instead of an unbounded allocation or a hang.
public enum BoundedFile {
    /// The bytes of the file at `path`.
    /// - Parameters:
    ///   - what: names the file in messages (`policy`, `collateral`).
    /// - Throws: `TrustedExecutionError.invalid` for a missing, unreadable, non-regular or oversized file.
    public static func read(_ path: String, limit: Int, what: String) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw TrustedExecutionError.invalid("\(what): cannot read \(path)")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw TrustedExecutionError.invalid("\(what): \(path) is not a regular file")
        }
        guard info.st_size <= limit else {
            throw TrustedExecutionError.invalid("\(what): \(path) is larger than \(limit) bytes")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw TrustedExecutionError.invalid("\(what): cannot read \(path)")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: limit + 1)) ?? Data()
        guard data.count <= limit else {
            throw TrustedExecutionError.invalid("\(what): \(path) is larger than \(limit) bytes")
        }
        return [UInt8](data)
    }
}

/// Reads one file of a collateral folder (at most 1 MiB); a missing or oversized file is bad input.
enum CollateralFile {
    static let maximumSize = 1 << 20

    static func read(_ name: String, in directory: URL) throws -> [UInt8] {
        try BoundedFile.read(directory.appendingPathComponent(name).path, limit: maximumSize, what: "collateral")
    }
}
