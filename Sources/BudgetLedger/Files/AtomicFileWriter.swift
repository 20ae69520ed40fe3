import Accounting
import Foundation

extension VeilError.Code {
    /// A file could not be written (full disk, permissions): a fault, not bad input.
    public static let fileNotWritten = VeilError.Code("file_not_written", category: .failure)
}

/// Writes a file all at once (a temporary file in the same folder, flushed, then renamed over the
/// destination), and only where a regular file may stand.
///
/// The destination is checked when the writer is made, before any work is done, and again just
/// before the rename: it must be missing or a regular file, in an existing folder. A symbolic link,
/// a FIFO, a device (`/dev/full`, `/dev/null`), a socket or a directory is refused: renaming over
/// it would replace the special file itself with a regular file, and writing through it would send
/// the content somewhere other than the path names. Reports, model files and cards share it.
///
/// ```swift
/// let writer = try AtomicFileWriter(path: "audit.html")   // refuses bad destinations up front
/// // … produce the content …
/// try writer.write(Data(html.utf8))
/// ```
public struct AtomicFileWriter: Sendable {
    /// The destination path, as given.
    public let path: String

    /// A writer for `path`.
    /// - Throws: `invalidInput` naming the path when it exists and is not a regular file, or when
    ///   its folder does not exist.
    public init(path: String) throws {
        guard !path.isEmpty else { throw VeilError(.invalidInput, "the output path is empty") }
        self.path = path
        try checkDestination()
    }

    /// Writes `data` to a temporary file next to the destination, flushes it to disk, then renames
    /// it over the destination, so that a reader sees the old file or the whole new one.
    /// - Throws: `invalidInput` when the destination became a non-regular file; `fileNotWritten`
    ///   when the folder cannot be written (full disk, permissions).
    public func write(_ data: Data) throws {
        try checkDestination()
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            guard FileManager.default.createFile(atPath: temporary.path, contents: nil,
                                                 attributes: [.posixPermissions: 0o644]) else {
                throw CocoaError(.fileWriteNoPermission)
            }
            let handle = try FileHandle(forWritingTo: temporary)
            do {
                try handle.write(contentsOf: data)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            guard rename(temporary.path, path) == 0 else {
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw VeilError(.fileNotWritten, "cannot write \(path): \(error.localizedDescription)", cause: error)
        }
    }

    /// Refuses a destination that exists and is not a regular file, or whose folder is missing.
    private func checkDestination() throws {
        try Self.checkReplaceable(path)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw VeilError(.invalidInput, "cannot write \(path): the folder \(folder) does not exist")
        }
    }

    /// Checks that nothing exists at `path` or that it is a regular file; a symbolic link is examined
    /// itself, not followed. Used before any work by everything Veil writes (reports, model files).
    /// - Throws: `invalidInput` naming what is there instead.
    public static func checkReplaceable(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        let kind: String? = switch info.st_mode & S_IFMT {
        case S_IFREG: nil
        case S_IFLNK: "a symbolic link"
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
        if let kind {
            throw VeilError(.invalidInput, "refusing to write \(path): it is \(kind); Veil writes only regular files")
        }
    }
}
