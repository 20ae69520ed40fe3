import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The transparency log on disk: an append-only file of entries, each followed by its leaf hash, with the
/// Merkle tree rebuilt in memory on open.
///
/// Layout: the 8-byte magic `VTLOG\0\0` + version, then records (``LogRecordFormat``; new logs use version 2,
/// `length || length check || entry || SHA-256 leaf hash`; a version-1 log keeps its layout when appended to).
/// Each append is one `write` of a whole record on a descriptor opened with `O_APPEND`, followed by `fsync`,
/// under an exclusive `flock` so two writers cannot interleave. On open every record is checked:
/// - a tail shorter than its record (a header cut short, or a whole header announcing more bytes than remain) is
///   an append torn by a crash, never acknowledged: it is cut off, so nothing half-written is kept;
/// - anything else that does not check is damage and is refused as `corruptLog`, cutting nothing: a header
///   whose length check fails, a length above the entry limit, a whole record whose stored hash does not match,
///   or (version 1, which has no length check) a tail that is a whole record under another length.
public final class LogFile {
    public let path: String
    /// Opened only to read (a server proving its own measurement): never appended to, never cut.
    public let readOnly: Bool
    private let descriptor: Int32
    /// The record layout of this file (version 2 for logs created now).
    let format: LogRecordFormat
    public private(set) var tree: MerkleTree
    /// Where each entry starts in the file (after its length field).
    private var entryOffsets: [(offset: Int, length: Int)]
    private var indexByLeafHash: [[UInt8]: Int]
    /// How many bytes of a torn final append were cut off when the log was opened.
    public let discardedTailBytes: Int

    /// What opening a log reads.
    private struct Contents {
        var tree = MerkleTree()
        var offsets: [(offset: Int, length: Int)] = []
        var index: [[UInt8]: Int] = [:]
        var discarded = 0
        var format = LogRecordFormat.current

        mutating func add(hash: [UInt8], offset: Int, length: Int) {
            tree.append(leafHash: hash)
            offsets.append((offset: offset, length: length))
            index[hash] = tree.size - 1
        }
    }

    /// Opens the log at `path`, creating it when `create` is true and it is missing. With `readOnly`, the file is
    /// opened for reading under a shared lock: a torn last append is skipped, not cut, and ``append(_:)`` refuses.
    ///
    /// A writer holds its exclusive lock for as long as the `LogFile` lives, and a lock is held per open file,
    /// so a second writer (another process, or a second `LogFile` on the same path in this one) waits for it.
    /// The wait is bounded by `lockWait`; past it the open fails with a `fileSystem` error naming the log.
    /// - Throws: `invalidInput` (missing file, not a log), `corruptLog`, `fileSystem`.
    public init(path: String, create: Bool = false, readOnly: Bool = false,
                lockWait: Duration = .seconds(10)) throws {
        self.path = path
        self.readOnly = readOnly
        let exists = FileManager.default.fileExists(atPath: path)
        guard exists || (create && !readOnly) else { throw TransparencyLogError.invalid("no transparency log at \(path)") }
        let fd = readOnly ? open(path, O_RDONLY | O_CLOEXEC)
                          : open(path, O_RDWR | O_APPEND | O_CLOEXEC | (exists ? 0 : O_CREAT | O_EXCL), 0o644)
        guard fd >= 0 else {
            throw TransparencyLogError(.fileSystem, "cannot open the log \(path): \(String(cString: strerror(errno)))")
        }
        let contents: Contents
        do {
            try Self.lock(fd, exclusive: !readOnly, path: path, wait: lockWait)
            if !exists {
                try Self.writeAll(LogRecordFormat.current.magic, to: fd, path: path)
                Self.syncFolder(of: path)
            }
            contents = try Self.load(fd: fd, path: path, cutTornTail: !readOnly)
        } catch {
            close(fd)
            throw error
        }
        descriptor = fd
        format = contents.format
        tree = contents.tree
        entryOffsets = contents.offsets
        indexByLeafHash = contents.index
        discardedTailBytes = contents.discarded
    }

    deinit { close(descriptor) }

    /// The number of entries.
    public var size: Int { tree.size }

    /// Appends an entry durably and returns its index. An entry already in the log is not added twice;
    /// its index is returned.
    /// - Throws: `invalidInput` for an oversized entry, `fileSystem` when the write or fsync fails.
    @discardableResult
    public func append(_ entry: MeasurementEntry) throws -> Int {
        guard !readOnly else { throw TransparencyLogError.invalid("the log \(path) was opened read-only") }
        let bytes = entry.bytes
        let hash = MerkleHashing.leafHash(bytes)
        if let existing = indexByLeafHash[hash] { return existing }
        let record = format.record(entry: bytes, leafHash: hash)
        let offset = Int(lseek(descriptor, 0, SEEK_END))
        do { try Self.writeAll(record, to: descriptor, path: path) } catch {
            _ = ftruncate(descriptor, off_t(offset))   // never leave a half record before the next append
            throw error
        }
        guard fsync(descriptor) == 0 else {
            throw TransparencyLogError(.fileSystem, "cannot sync the log \(path): \(String(cString: strerror(errno)))")
        }
        tree.append(leafHash: hash)
        entryOffsets.append((offset: offset + format.headerSize, length: bytes.count))
        indexByLeafHash[hash] = size - 1
        return size - 1
    }

    /// The index of the entry with this leaf hash, if it is in the log.
    public func index(ofLeafHash hash: [UInt8]) -> Int? { indexByLeafHash[hash] }

    /// The entry at `index`, read back from the file.
    public func entry(at index: Int) throws -> MeasurementEntry {
        guard index >= 0, index < size else { throw TransparencyLogError.invalid("no entry \(index) in a log of \(size)") }
        let (offset, length) = entryOffsets[index]
        var buffer = [UInt8](repeating: 0, count: length)
        let read = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, length, off_t(offset)) }
        guard read == length else { throw TransparencyLogError(.fileSystem, "cannot read entry \(index) of \(path)") }
        return try MeasurementEntry(bytes: buffer)
    }

    /// Signs the current tree head.
    public func signedHead(signingKey: Curve25519.Signing.PrivateKey, timestamp: UInt64) throws -> SignedTreeHead {
        try SignedTreeHead(treeSize: size, rootHash: try tree.rootHash(), timestamp: timestamp, signingKey: signingKey)
    }

    /// Reads and checks every record; cuts a torn final append (or, without `cutTornTail`, leaves it out).
    private static func load(fd descriptor: Int32, path: String, cutTornTail: Bool) throws -> Contents {
        var contents = Contents()
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TransparencyLogError(.fileSystem, "cannot read the log \(path)")
        }
        let bytes = [UInt8](data)
        guard let format = LogRecordFormat(magic: bytes[...]) else {
            throw TransparencyLogError.invalid("\(path) is not a Veil transparency log (or one of a newer format)")
        }
        contents.format = format
        func damaged(_ position: Int, _ what: String) -> TransparencyLogError {
            TransparencyLogError(.corruptLog, "the log \(path) is damaged at byte \(position) (entry \(contents.tree.size)): \(what); nothing was cut")
        }
        let hashSize = MerkleHashing.hashSize
        var position = LogRecordFormat.magicSize
        while position < bytes.count {
            let remaining = bytes.count - position
            // A file system may extend a file with zeros when it crashes before the data of an append reached the
            // disk (XFS, ext4 without data=ordered): no record is all zeros, so such a tail is a torn append too.
            if remaining >= format.headerSize, bytes[position...].contains(where: { $0 != 0 }) {
                guard let length = format.entryLength(header: bytes[position..<(position + format.headerSize)]) else {
                    throw damaged(position, "its length field does not match its check")
                }
                // No append writes such a length: this is damage, not a torn append.
                guard length <= MeasurementEntry.maximumSize else { throw damaged(position, "a record length of \(length) bytes") }
                let entryStart = position + format.headerSize
                if remaining >= format.headerSize + length + hashSize {
                    let stored = Array(bytes[(entryStart + length)..<(entryStart + length + hashSize)])
                    guard MerkleHashing.leafHash(bytes[entryStart..<(entryStart + length)]) == stored else {
                        throw damaged(position, "its stored hash does not match")
                    }
                    contents.add(hash: stored, offset: entryStart, length: length)
                    position = entryStart + length + hashSize
                    continue
                }
                // Version 1 has no length check: a tail that is a whole record under another length had its
                // length field damaged; a torn append cannot end in its own entry's hash.
                if format == .version1, remaining >= format.headerSize + hashSize,
                   MerkleHashing.leafHash(bytes[entryStart..<(bytes.count - hashSize)]) == Array(bytes[(bytes.count - hashSize)...]) {
                    throw damaged(position, "its length field says \(length) bytes but a whole record of \(remaining - format.headerSize - hashSize) follows")
                }
            }
            // The tail is shorter than its record: an append torn by a crash.
            guard !cutTornTail || (ftruncate(descriptor, off_t(position)) == 0 && fsync(descriptor) == 0) else {
                throw TransparencyLogError(.fileSystem, "cannot cut the torn last record of \(path): \(String(cString: strerror(errno)))")
            }
            contents.discarded = remaining
            break
        }
        return contents
    }

    /// Takes the file's lock, retrying a busy lock every 10 ms until `wait` has passed.
    private static func lock(_ descriptor: Int32, exclusive: Bool, path: String, wait: Duration) throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: wait)
        while flock(descriptor, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0 {
            let failure = errno
            guard failure == EWOULDBLOCK || failure == EINTR else {
                throw TransparencyLogError(.fileSystem, "cannot lock the log \(path): \(String(cString: strerror(failure)))")
            }
            guard clock.now < deadline else {
                throw TransparencyLogError(.fileSystem, "the log \(path) is locked by another writer"
                                           + " (another process, or the log is already open for writing in this one)")
            }
            usleep(10_000)
        }
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw TransparencyLogError(.fileSystem, "cannot append to the log \(path): \(String(cString: strerror(errno)))")
            }
            written += n
        }
    }

    private static func syncFolder(of path: String) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        _ = fsync(fd)
    }
}
