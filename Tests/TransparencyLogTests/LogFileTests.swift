import Crypto
import Foundation
import Testing
import _TestSupport
@testable import TransparencyLog

@Suite struct LogFileTests {
    static func manifest(_ i: Int) throws -> MeasurementEntry {
        try MeasurementEntry(manifest: "veil-enclave-manifest-v1\nbinary \(String(repeating: "ab", count: 48)) 1234 veil\nmodel \(LogHex.encode((0..<48).map { UInt8(truncatingIfNeeded: i >> (8 * (47 - $0))) })) \(i) m\(i).safetensors\n")
    }

    @Test func appendsSurviveReopeningAndKeepTheRoot() throws {
        let folder = try TemporaryDirectory.make("tlog")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log").path
        var root: [UInt8] = []
        do {
            let log = try LogFile(path: path, create: true)
            for i in 0..<20 { #expect(try log.append(try Self.manifest(i)) == i) }
            #expect(try log.append(try Self.manifest(3)) == 3, "an entry already in the log keeps its index")
            root = try log.tree.rootHash()
        }
        let reopened = try LogFile(path: path)
        #expect(reopened.size == 20)
        #expect(try reopened.tree.rootHash() == root)
        #expect(try reopened.entry(at: 7) == Self.manifest(7))
        #expect(reopened.index(ofLeafHash: try Self.manifest(11).leafHash) == 11)
    }

    /// A log of `count` entries at `path` in `format` (written byte by byte, as that format's writer would).
    static func writeLog(_ path: String, count: Int, format: LogRecordFormat) throws {
        var bytes = format.magic
        for i in 0..<count {
            let entry = try manifest(i)
            bytes += format.record(entry: entry.bytes, leafHash: entry.leafHash)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func aTornFinalAppendIsCutAndNothingAcknowledgedIsLost() throws {
        let folder = try TemporaryDirectory.make("tlog")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log").path
        let root: [UInt8]
        do {
            let log = try LogFile(path: path, create: true)
            #expect(log.format == .version2)
            for i in 0..<5 { try log.append(try Self.manifest(i)) }
            root = try log.tree.rootHash()
        }
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        // A crash mid-append leaves a prefix of the next record: part of its header, the header and part of the
        // entry, everything but the last hash byte.
        let next = try Self.manifest(5)
        let record = LogRecordFormat.version2.record(entry: next.bytes, leafHash: next.leafHash)
        for cut in [1, 4, 7, 8, 30, record.count - 1] {
            try (whole + Data(record.prefix(cut))).write(to: URL(fileURLWithPath: path))
            let log = try LogFile(path: path)
            #expect(log.size == 5)
            #expect(log.discardedTailBytes == cut)
            #expect(try log.tree.rootHash() == root)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == whole, "the torn tail is cut")
            try log.append(next)
            #expect(log.size == 6)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == whole + Data(record))
        }
    }

    /// After a crash some file systems extend a file to its new length with zeros before the append's data lands:
    /// for the unacknowledged record that leaves zeros, which are cut like any torn append (in both formats).
    @Test(arguments: [LogRecordFormat.version1, .version2])
    func aZeroFilledTailIsATornAppend(format: LogRecordFormat) throws {
        let folder = try TemporaryDirectory.make("tlog")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log").path
        try Self.writeLog(path, count: 4, format: format)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        let next = try Self.manifest(4)
        let recordSize = format.record(entry: next.bytes, leafHash: next.leafHash).count
        for zeros in [format.headerSize, recordSize - 1, recordSize, recordSize + 100] {
            try (whole + Data(count: zeros)).write(to: URL(fileURLWithPath: path))
            let log = try LogFile(path: path)
            #expect(log.size == 4)
            #expect(log.discardedTailBytes == zeros)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == whole, "the zeros are cut")
        }
    }

    /// A damaged length field reads like a torn append when it points past the end of the file; the length check of
    /// version 2 (and, in version 1, a whole record following under another length) tells them apart, and the log is
    /// refused with nothing cut.
    @Test(arguments: [LogRecordFormat.version1, .version2])
    func aDamagedLengthFieldIsRefusedAsCorruptionNotCutAsATornAppend(format: LogRecordFormat) throws {
        let folder = try TemporaryDirectory.make("tlog")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log").path
        try Self.writeLog(path, count: 5, format: format)
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let last = try Self.manifest(4)
        let lastRecord = whole.count - format.record(entry: last.bytes, leafHash: last.leafHash).count
        // The last record's length grown by 32 KiB (under the entry limit, past the end of the file).
        var damaged = whole
        damaged[lastRecord + 2] |= 0x80
        try Data(damaged).write(to: URL(fileURLWithPath: path))
        #expect(throws: TransparencyLogError.self) { _ = try LogFile(path: path) }
        do { _ = try LogFile(path: path) } catch let error as TransparencyLogError {
            #expect(error.code == .corruptLog)
            #expect(error.message.contains("damaged at byte \(lastRecord) (entry 4)"), "\(error.message)")
        }
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == damaged, "nothing is cut")
        #expect(throws: TransparencyLogError.self) { _ = try LogFile(path: path, readOnly: true) }

        // Version 2 also catches it in an earlier record, and a length made smaller.
        guard format == .version2 else { return }
        let second = LogRecordFormat.magicSize + format.record(entry: try Self.manifest(0).bytes, leafHash: try Self.manifest(0).leafHash).count
        for (offset, flip) in [(second + 2, UInt8(0x80)), (lastRecord + 3, UInt8(0x01))] {
            var changed = whole
            changed[offset] ^= flip
            try Data(changed).write(to: URL(fileURLWithPath: path))
            do { _ = try LogFile(path: path); Issue.record("a damaged length at \(offset) was accepted") } catch let error as TransparencyLogError {
                #expect(error.code == .corruptLog && error.message.contains("length field"), "\(error.message)")
            }
            #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == changed, "nothing is cut")
        }
    }

    /// A whole last record whose stored hash does not match is not a prefix of any record a crash could leave: it is
    /// damage to an acknowledged entry, refused, not cut.
    @Test func aWholeLastRecordWithAWrongHashIsCorruption() throws {
        let folder = try TemporaryDirectory.make("tlog")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log").path
        try Self.writeLog(path, count: 3, format: .version2)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 40] ^= 0x01   // inside the last entry
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do { _ = try LogFile(path: path); Issue.record("accepted") } catch let error as TransparencyLogError {
            #expect(error.code == .corruptLog && error.message.contains("entry 2"), "\(error.message)")
        }
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
    }

    /// A log written in version 1 opens, cuts a torn tail, and is appended to in its own layout.
    @Test func aVersion1LogIsReadAndAppendedInItsOwnLayout() throws {
        let folder = try TemporaryDirectory.make("tlog")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log").path
        try Self.writeLog(path, count: 4, format: .version1)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        let next = try Self.manifest(4)
        let record = LogRecordFormat.version1.record(entry: next.bytes, leafHash: next.leafHash)
        try (whole + Data(record.prefix(40))).write(to: URL(fileURLWithPath: path))
        do {
            let log = try LogFile(path: path)
            #expect(log.format == .version1 && log.size == 4 && log.discardedTailBytes == 40)
            try log.append(next)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == whole + Data(record))
        }
        #expect(try LogFile(path: path).size == 5)   // once the writer above has closed the file (its lock is exclusive)
    }

    /// A second writer waits for the first one's lock for at most its `lockWait`, then fails naming the log;
    /// once the first writer has closed, the log opens again. (An unbounded wait hung a process that opened
    /// the same log twice.)
    @Test func aSecondWriterGivesUpAfterItsLockWait() throws {
        let folder = try TemporaryDirectory.make("tlog")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log").path
        do {
            let writer = try LogFile(path: path, create: true)
            try writer.append(try Self.manifest(0))
            let clock = ContinuousClock()
            let started = clock.now
            do {
                _ = try LogFile(path: path, lockWait: .milliseconds(200))
                Issue.record("a second writer opened a log that is open for writing")
            } catch let error as TransparencyLogError {
                #expect(error.code == .fileSystem)
                #expect(error.message.contains("is locked by another writer"))
            }
            #expect(clock.now - started >= .milliseconds(200))
            #expect(throws: TransparencyLogError.self) { _ = try LogFile(path: path, readOnly: true, lockWait: .zero) }
        }
        #expect(try LogFile(path: path, lockWait: .zero).size == 1)
    }

    @Test func damageBeforeTheLastRecordIsRefusedAsCorruption() throws {
        let folder = try TemporaryDirectory.make("tlog")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log").path
        do {
            let log = try LogFile(path: path, create: true)
            for i in 0..<5 { try log.append(try Self.manifest(i)) }
        }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[20] ^= 0x01   // inside the first entry
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(throws: TransparencyLogError.self) { try LogFile(path: path) }
        do { _ = try LogFile(path: path) } catch let error as TransparencyLogError { #expect(error.code == .corruptLog) }
    }

    @Test func aReadOnlyLogSkipsATornTailWithoutCuttingItAndRefusesAppends() throws {
        let folder = try TemporaryDirectory.make("tlog")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("log").path
        do {
            let log = try LogFile(path: path, create: true)
            for i in 0..<3 { try log.append(try Self.manifest(i)) }
        }
        let torn = try Data(contentsOf: URL(fileURLWithPath: path)) + Data([0, 0, 1, 0, 0x76])
        try torn.write(to: URL(fileURLWithPath: path))
        let log = try LogFile(path: path, readOnly: true)
        #expect(log.size == 3 && log.discardedTailBytes == 5)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == torn)
        #expect(throws: TransparencyLogError.self) { try log.append(try Self.manifest(3)) }
    }

    @Test func signedHeadsVerifyOnlyUnchangedAndUnderTheTrustedKey() throws {
        let key = Curve25519.Signing.PrivateKey()
        let other = Curve25519.Signing.PrivateKey()
        let root = [UInt8](repeating: 7, count: 32)
        let head = try SignedTreeHead(treeSize: 9, rootHash: root, timestamp: 1_700_000_000_000, signingKey: key)
        try head.verify(trustedKey: Array(key.publicKey.rawRepresentation))
        #expect(throws: TransparencyLogError.self) { try head.verify(trustedKey: Array(other.publicKey.rawRepresentation)) }
        let json = try JSONEncoder().encode(head)
        #expect(try JSONDecoder().decode(SignedTreeHead.self, from: json) == head)
        // Changing the size, root or time in the JSON breaks the signature.
        let text = String(decoding: json, as: UTF8.self)
        for (from, to) in [("\"tree_size\":9", "\"tree_size\":10"), ("\"timestamp\":1700000000000", "\"timestamp\":1700000000001"),
                           (LogHex.encode(root), LogHex.encode([UInt8](repeating: 8, count: 32)))] {
            #expect(text.contains(from))
            let changed = try JSONDecoder().decode(SignedTreeHead.self, from: Data(text.replacingOccurrences(of: from, with: to).utf8))
            #expect(throws: TransparencyLogError.self) { try changed.verify(trustedKey: Array(key.publicKey.rawRepresentation)) }
        }
    }

    /// A log that shows one client a history and later another one (a fork) is caught by the
    /// consistency check from the head the client remembered.
    @Test func aForkedHeadIsCaughtByTheConsistencyCheck() throws {
        let key = Curve25519.Signing.PrivateKey()
        let trusted = Array(key.publicKey.rawRepresentation)
        let entries = try (0..<12).map(Self.manifest)
        var honest = MerkleTree(leafHashes: entries.map(\.leafHash))
        // The fork rewrites entry 4 and then goes on.
        var forked = MerkleTree(leafHashes: entries.prefix(4).map(\.leafHash))
        forked.append(leafHash: try Self.manifest(99).leafHash)
        for entry in entries[5...] { forked.append(leafHash: entry.leafHash) }
        honest.append(leafHash: try Self.manifest(12).leafHash)
        forked.append(leafHash: try Self.manifest(12).leafHash)

        let remembered = try SignedTreeHead(treeSize: 8, rootHash: try honest.rootHash(size: 8), timestamp: 1, signingKey: key)
        let entry = try Self.manifest(12)
        func check(_ tree: MerkleTree) throws -> SignedTreeHead {
            let head = try SignedTreeHead(treeSize: tree.size, rootHash: try tree.rootHash(), timestamp: 2, signingKey: key)
            return try LogMembershipCheck.verify(
                entry: entry, inclusion: InclusionProof(leafIndex: 12, treeSize: tree.size, path: try tree.inclusionProof(index: 12)),
                head: head, trustedLogKey: trusted, remembered: remembered,
                consistency: ConsistencyProof(oldSize: 8, newSize: tree.size, path: try tree.consistencyProof(oldSize: 8)))
        }
        #expect(try check(honest).treeSize == 13)
        #expect(throws: TransparencyLogError.self) { try check(forked) }
        // A fork at the remembered size itself: same size, another root.
        let sameSize = try SignedTreeHead(treeSize: 8, rootHash: try forked.rootHash(size: 8), timestamp: 3, signingKey: key)
        #expect(throws: TransparencyLogError.self) {
            try LogMembershipCheck.verify(entry: entries[2], inclusion: InclusionProof(leafIndex: 2, treeSize: 8, path: try forked.inclusionProof(index: 2, size: 8)),
                                          head: sameSize, trustedLogKey: trusted, remembered: remembered, consistency: nil)
        }
        // An entry that is not in the log fails inclusion.
        #expect(throws: TransparencyLogError.self) {
            try LogMembershipCheck.verify(entry: try Self.manifest(50), inclusion: InclusionProof(leafIndex: 12, treeSize: 13, path: try honest.inclusionProof(index: 12)),
                                          head: try SignedTreeHead(treeSize: 13, rootHash: try honest.rootHash(), timestamp: 2, signingKey: key),
                                          trustedLogKey: trusted, remembered: nil, consistency: nil)
        }
    }
}
