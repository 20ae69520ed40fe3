import _TestSupport
import BudgetLedger
import Foundation
import GRDB
import Testing
@testable import PrivateSQL

/// The SQLite helpers shared across modules (identifiers, read-only connections, blob text) and the streaming
/// CSV reader of the importer.
@Suite("SQLite helpers and streamed CSV import")
struct SQLiteSupportTests {
    @Test("identifiers are double-quoted with inner quotes doubled; blobs read back as lowercase hex text")
    func identifiersAndBlobs() {
        #expect(SQLiteIdentifier.quoted("visits") == #""visits""#)
        #expect(SQLiteIdentifier.quoted(#"a"b""#) == #""a""b""""#)
        #expect(SQLRewriter.quote(#"x"y"#) == SQLiteIdentifier.quoted(#"x"y"#))
        #expect(SQLValue.hexText(of: [0x00, 0x0f, 0xab, 0xff]) == .text("000fabff"))
        #expect(SQLValue(Data([0xca, 0xfe]).databaseValue) == .text("cafe"))
    }

    @Test("a read-only connection reads but cannot write")
    func readOnly() throws {
        let db = try TemporaryDatabase()
        try db.queue.write { try $0.execute(sql: "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7)") }
        let queue = try ReadOnlyDatabase.open(path: db.url.path, label: "test")
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT x FROM t") } == 7)
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "INSERT INTO t VALUES (8)") } }
        #expect(try db.queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM t") } == 1)
    }

    @Test("a CSV larger than the reading chunk: a 4-byte character, an escaped quote and CRLF cut by chunk ends")
    func acrossChunks() throws {
        let chunk = CSVRecords.chunkSize
        var text = "id,name\n"
        var names: [String] = []
        func add(_ name: String, lineEnd: String = "\n") {
            names.append(name)
            text += "\(names.count),\"\(name.replacingOccurrences(of: "\"", with: "\"\""))\"" + lineEnd
        }
        /// Fills up to just before `target`, then adds a row whose `special` text starts at byte `target - before`.
        func straddle(_ target: Int, before: Int, _ special: String, lineEnd: String = "\n") {
            while text.utf8.count < target - 200 { add("row ü \(names.count)\nsecond line") }
            let prefix = "\(names.count + 1),\"".utf8.count
            let pad = String(repeating: "p", count: target - before - text.utf8.count - prefix)
            add(pad + special, lineEnd: lineEnd)
        }
        straddle(chunk, before: 2, "𝄞 after")                // 4 bytes, cut 2 + 2
        straddle(2 * chunk, before: 1, "\" quoted")          // `""` cut 1 + 1
        straddle(3 * chunk, before: 5, "end", lineEnd: "\r\n")   // CR the chunk's last byte, LF the next one's first
        add("last")
        let temporary = try TemporaryFolder("chunks")
        let folder = temporary.url
        let csv = folder.appendingPathComponent("big.csv")
        try text.write(to: csv, atomically: true, encoding: .utf8)
        let bytes = Array(text.utf8)
        #expect(Array(bytes[(chunk - 2)..<(chunk + 2)]) == Array("𝄞".utf8))
        #expect(Array(bytes[(2 * chunk - 1)..<(2 * chunk + 1)]) == Array("\"\"".utf8))
        #expect(Array(bytes[(3 * chunk - 1)..<(3 * chunk + 1)]) == Array("\r\n".utf8))

        let database = folder.appendingPathComponent("big.sqlite").path
        let summary = try CSVImporter.importCSV(at: csv, into: database, options: CSVImportOptions(table: "t"))
        #expect(summary.rows == names.count)
        #expect(summary.columns.map(\.type) == [.integer, .text])
        let read = try DatabaseQueue(path: database).read { try String.fetchAll($0, sql: "SELECT name FROM t ORDER BY id") }
        #expect(read == names)
    }

    @Test("an invalid UTF-8 byte past the first chunk: nothing is written, the file is named")
    func invalidUTF8() throws {
        let temporary = try TemporaryFolder("utf8")
        let folder = temporary.url
        let csv = folder.appendingPathComponent("bad.csv")
        var bytes = Array("id,name\n".utf8)
        while bytes.count < CSVRecords.chunkSize + 100 { bytes += Array("1,é\n".utf8) }
        bytes += [0x32, 0x2c, 0xff, 0x0a]   // 2,<0xFF>
        try Data(bytes).write(to: csv)
        let database = folder.appendingPathComponent("bad.sqlite").path
        do {
            _ = try CSVImporter.importCSV(at: csv, into: database, options: CSVImportOptions(table: "t"))
            Issue.record("invalid UTF-8 must be refused")
        } catch let error as VeilError {
            #expect(error.code == .invalidInput)
            #expect(error.message.hasPrefix("cannot read \(csv.path): "))
        }
        #expect(!FileManager.default.fileExists(atPath: database))
    }
}
