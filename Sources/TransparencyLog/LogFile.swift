import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The transparency log on disk: an append-only file of entries, each followed by its leaf hash, with the
/// Merkle tree rebuilt in memory on open.
///
/// Layout: the 8-byte magic `VTLOG\0\0\u{1}`, then records `length (u32 BE) || entry || SHA-256 leaf hash`.
/// Each append is one `write` of a whole record on a descriptor opened with `O_APPEND`, followed by
/// `fsync`, under an exclusive `flock` so two writers cannot interleave. On open every record's stored
/// hash is checked against its entry; a final record that is short or does not match (an append torn by a
/// crash, never acknowledged) is cut off, so nothing acknowledged is lost and nothing half-written is
/// kept. A damaged record anywhere else is refused as corruption.
public final class LogFile {
    static let magic: [UInt8] = [0x56, 0x54, 0x4C, 0x4F, 0x47, 0x00, 0x00, 0x01]

    public let path: String
    /// Opened only to read (a server proving its own measurement): never appended to, never cut.
    public let readOnly: Bool
    private let descriptor: Int32
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

        mutating func add(hash: [UInt8], offset: Int, length: Int) {
            tree.append(leafHash: hash)
            offsets.append((offset: offset, length: length))
            index[hash] = tree.size - 1
        }
    }

    /// Opens the log at `path`, creating it when `create` is true and it is missing. With `readOnly`, the file is
    /// opened for reading under a shared lock: a torn last append is skipped, not cut, and ``append(_:)`` refuses.
    /// - Throws: `invalidInput` (missing file, not a log), `corruptLog`, `fileSystem`.
    public init(path: String, create: Bool = false, readOnly: Bool = false) throws {
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
            guard flock(fd, readOnly ? LOCK_SH : LOCK_EX) == 0 else {
                throw TransparencyLogError(.fileSystem, "cannot lock the log \(path): \(String(cString: strerror(errno)))")
            }
            if !exists {
                try Self.writeAll(Self.magic, to: fd, path: path)
                Self.syncFolder(of: path)
            }
            contents = try Self.load(fd: fd, path: path, cutTornTail: !readOnly)
        } catch {
            close(fd)
            throw error
        }
        descriptor = fd
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
        let length = UInt32(bytes.count)
        var record = [UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
                      UInt8(truncatingIfNeeded: length)]
        record += bytes
        record += hash
        let offset = Int(lseek(descriptor, 0, SEEK_END))
        do { try Self.writeAll(record, to: descriptor, path: path) } catch {
            _ = ftruncate(descriptor, off_t(offset))   // never leave a half record before the next append
            throw error
        }
        guard fsync(descriptor) == 0 else {
            throw TransparencyLogError(.fileSystem, "cannot sync the log \(path): \(String(cString: strerror(errno)))")
        }
        tree.append(leafHash: hash)
        entryOffsets.append((offset: offset + 4, length: bytes.count))
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
        guard bytes.count >= Self.magic.count, Array(bytes[0..<Self.magic.count]) == Self.magic else {
            throw TransparencyLogError.invalid("\(path) is not a Veil transparency log")
        }
        var position = Self.magic.count
        while position < bytes.count {
            let remaining = bytes.count - position
            var complete = false
            var length = 0
            if remaining >= 4 {
                length = Int(bytes[position]) << 24 | Int(bytes[position + 1]) << 16 | Int(bytes[position + 2]) << 8 | Int(bytes[position + 3])
                guard length <= MeasurementEntry.maximumSize else {
                    // No append writes such a length: this is damage, not a torn append.
                    throw TransparencyLogError(.corruptLog, "the log \(path) is damaged at byte \(position): a record length of \(length) bytes")
                }
                complete = remaining >= 4 + length + MerkleHashing.hashSize
            }
            var valid = false
            if complete {
                let entry = bytes[(position + 4)..<(position + 4 + length)]
                let stored = Array(bytes[(position + 4 + length)..<(position + 4 + length + MerkleHashing.hashSize)])
                valid = MerkleHashing.leafHash(entry) == stored
                if valid { contents.add(hash: stored, offset: position + 4, length: length) }
            }
            if valid {
                position += 4 + length + MerkleHashing.hashSize
                continue
            }
            // Only the last record may be damaged, and only by a torn append.
            let isLast = !complete || position + 4 + length + MerkleHashing.hashSize == bytes.count
            guard isLast else {
                throw TransparencyLogError(.corruptLog, "the log \(path) is damaged at byte \(position) (entry \(contents.tree.size)): its stored hash does not match")
            }
            guard !cutTornTail || (ftruncate(descriptor, off_t(position)) == 0 && fsync(descriptor) == 0) else {
                throw TransparencyLogError(.fileSystem, "cannot cut the torn last record of \(path): \(String(cString: strerror(errno)))")
            }
            contents.discarded = bytes.count - position
            break
        }
        return contents
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
