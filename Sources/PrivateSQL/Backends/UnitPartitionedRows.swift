import Crypto
import Foundation
import _CryptoExtras
#if canImport(Glibc)
import Glibc
#endif
import Mechanisms

/// The rows of a single-pass scan, split by a hash of their privacy unit into partitions, so that every row of
/// a unit lands in the same partition, in table order, whatever the order in which the table hands them over.
///
/// A row is a fixed number of 64-bit words (``BoundedAccumulation`` lays them out). Each partition fills a
/// buffer of ``chunkWords`` words; a full buffer becomes a chunk, kept in memory until the chunks in memory
/// reach ``SinglePassLimits/memoryBytes`` and written to an unlinked temporary file after that (the external
/// hash partitioning of Grace hash joins, Kitsuregawa, Tanaka and Moto-oka 1983). After the scan the partitions
/// are read back one at a time: what the bounding holds at once is one partition, about 1/``partitionCount``
/// of the rows, not every (unit, group) pair of the table.
struct UnitPartitionedRows {
    /// 64-bit words per row.
    let rowWords: Int
    /// The number of partitions.
    let partitionCount: Int
    /// Words per chunk: 2,048 words, 16 KiB (a few hundred rows).
    let chunkWords: Int

    private enum Chunk {
        case memory([UInt64])
        case file(offset: Int, words: Int)
    }

    private var open: [[UInt64]]
    private var chunks: [[Chunk]]
    /// Rows per partition so far.
    private(set) var rowCounts: [Int]
    private var memoryWords = 0
    private let memoryWordLimit: Int
    private var spill: SpillFile?
    private let seed: UInt64

    /// Empty partitions for rows of `rowWords` words.
    init(rowWords: Int, limits: SinglePassLimits) {
        self.rowWords = rowWords
        partitionCount = Swift.max(1, limits.partitions)
        chunkWords = Swift.max(rowWords, 2048 / rowWords * rowWords)
        open = [[UInt64]](repeating: [], count: partitionCount)
        chunks = [[Chunk]](repeating: [], count: partitionCount)
        rowCounts = [Int](repeating: 0, count: partitionCount)
        memoryWordLimit = Swift.max(0, limits.memoryBytes / 8)
        var random = SecureRandomSource()
        seed = random.next()
    }

    /// Bytes of the temporary file so far (0 while every row fits in memory).
    var spilledBytes: Int { spill?.length ?? 0 }

    /// The partition of a unit key: the MurmurHash3 64-bit finaliser of `key ^ seed`, with a per-scan random
    /// seed so that no fixed set of units falls into one partition on every run.
    @inline(__always)
    func partition(of key: UInt64) -> Int {
        Int(truncatingIfNeeded: IntegerIDTable.mix(key ^ seed) % UInt64(partitionCount))
    }

    /// Appends one row (its first `rowWords` words come from `fill`) to partition `p`.
    /// - Returns: the partition's row count, or nil when a full chunk could not be written to the temporary file.
    @inline(__always)
    mutating func append(to p: Int, _ fill: (inout [UInt64]) -> Void) -> Int? {
        if open[p].capacity == 0 { open[p].reserveCapacity(chunkWords) }
        fill(&open[p])
        rowCounts[p] += 1
        if open[p].count >= chunkWords {
            guard seal(p) else { return nil }
        }
        return rowCounts[p]
    }

    private mutating func seal(_ p: Int) -> Bool {
        let full = open[p]
        open[p] = []
        if memoryWords + full.count <= memoryWordLimit {
            memoryWords += full.count
            chunks[p].append(.memory(full))
            return true
        }
        if spill == nil { spill = SpillFile() }
        guard let spill, let offset = spill.append(full) else { return false }
        chunks[p].append(.file(offset: offset, words: full.count))
        return true
    }

    /// The rows of partition `p` in the order they were appended, back to back (nil if the temporary file could
    /// not be read). The partition's chunks are released.
    mutating func take(_ p: Int) -> [UInt64]? {
        var words: [UInt64] = []
        words.reserveCapacity(rowCounts[p] * rowWords)
        for chunk in chunks[p] {
            switch chunk {
            case .memory(let chunkWords):
                words += chunkWords
                memoryWords -= chunkWords.count
            case .file(let offset, let count):
                guard let spill, spill.read(offset: offset, words: count, into: &words) else { return nil }
            }
        }
        words += open[p]
        chunks[p] = []
        open[p] = []
        return words
    }
}

/// An anonymous temporary file that holds the chunks of ``UnitPartitionedRows`` past its memory limit.
///
/// The rows are private data (unit ids, clamped values), so nothing readable reaches the disk: the file is
/// created with `O_TMPFILE` (no name ever refers to it, so a crash leaves nothing behind; a named `mkstemp` file
/// unlinked at once where the file system lacks `O_TMPFILE`), mode 0600 and close-on-exec, and every chunk is
/// encrypted with AES-256-CTR under a key drawn from the OS CSPRNG for this file alone and held only in memory
/// (wiped when it is released). Each chunk's counter block starts at its byte offset in the high 64 bits, so no
/// (key, counter) pair is used twice. Freed disk blocks, swap or a snapshot of the folder hold ciphertext only.
final class SpillFile {
    private let descriptor: Int32
    private let key: SymmetricKey
    private(set) var length = 0

    init?() {
        let folder = NSTemporaryDirectory()
        var fd = open(folder, Self.temporaryFileFlag | O_RDWR | O_CLOEXEC, 0o600)
        if fd < 0 {
            var template = Array((folder + "/veil-bound-XXXXXX").utf8CString)
            fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            guard fd >= 0 else { return nil }
            template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        descriptor = fd
        var random = SecureRandomSource()
        var keyWords = (0..<4).map { _ in random.next() }
        key = SymmetricKey(data: keyWords.withUnsafeBytes { Data($0) })
        for i in keyWords.indices { keyWords[i] = 0 }
    }

    deinit { close(descriptor) }

    /// Linux's `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`), which Glibc's Swift module does not export (it needs
    /// `_GNU_SOURCE`); a kernel or file system without it refuses the open, and the named fallback is used.
    private static let temporaryFileFlag: Int32 = 0o20_200_000

    /// Moves `bytes` bytes at file offset `offset` through `call(done, remaining, fileOffset)` (a `pread` or
    /// `pwrite`), repeating after short transfers. - Returns: whether all were moved.
    private static func transfer(_ bytes: Int, at offset: Int, _ call: (Int, Int, off_t) -> Int) -> Bool {
        var done = 0
        while done < bytes {
            let n = call(done, bytes - done, off_t(offset + done))
            if n <= 0 { return false }
            done += n
        }
        return true
    }

    /// The counter block of the chunk at byte `offset`.
    private static func nonce(_ offset: Int) -> AES._CTR.Nonce {
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: UInt64(offset) >> (56 - 8 * i)) }
        return try! AES._CTR.Nonce(nonceBytes: bytes)   // 16 bytes, the one size it takes
    }

    /// Encrypts `words` and writes them at the end of the file. - Returns: their byte offset, or nil on failure.
    func append(_ words: [UInt64]) -> Int? {
        let offset = length
        guard let sealed = try? words.withUnsafeBytes({ try AES._CTR.encrypt($0, using: key, nonce: Self.nonce(offset)) })
        else { return nil }
        let bytes = sealed.count
        let descriptor = self.descriptor
        let written = sealed.withUnsafeBytes { buffer in
            Self.transfer(bytes, at: offset) { pwrite(descriptor, buffer.baseAddress! + $0, $1, $2) }
        }
        guard written else { return nil }
        length += bytes
        return offset
    }

    /// Reads and decrypts `count` words at byte `offset`, appending them to `words`. - Returns: whether all were
    /// read.
    func read(offset: Int, words count: Int, into words: inout [UInt64]) -> Bool {
        let bytes = count * 8
        var sealed = Data(count: bytes)
        let descriptor = self.descriptor
        let read = sealed.withUnsafeMutableBytes { buffer in
            Self.transfer(bytes, at: offset) { pread(descriptor, buffer.baseAddress! + $0, $1, $2) }
        }
        guard read, var plain = try? AES._CTR.decrypt(sealed, using: key, nonce: Self.nonce(offset)),
              plain.count == bytes else { return false }
        let start = words.count
        words += repeatElement(0, count: count)
        words.withUnsafeMutableBytes { destination in
            plain.withUnsafeBytes { destination.baseAddress!.advanced(by: start * 8).copyMemory(from: $0.baseAddress!, byteCount: bytes) }
        }
        plain.resetBytes(in: 0..<bytes)
        return true
    }
}
