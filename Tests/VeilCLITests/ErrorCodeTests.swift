import _TestSupport
import BudgetLedger
import Foundation
import GRDB
import PostgresClient
import PrivateSQL
import SecureAggregation
import Testing

/// Every `VeilError` code exits `veil` with the code docs/design.md §5 promises, and an error keeps its cause.
@Suite("Error codes and exit codes")
struct ErrorCodeTests {
    /// Every code Veil declares, with the exit code docs/design.md promises for it.
    static let promised: [(VeilError.Code, Int32)] = [
        (.invalidParameter, 2), (.unsupported, 2), (.invalidInput, 2), (.numerical, 1), (.exhausted, 1),
        (.budgetExhausted, 3), (.unknownScope, 2), (.unknownReservation, 2), (.ledgerConflict, 2),
        (.ledgerUnavailable, 2), (.ledgerDamaged, 1), (.reservationRefunded, 1), (.ledgerStorage, 1),
        (.fileNotWritten, 1), (.invalidQuery, 2), (.queryRefused, 2), (.invalidMetadata, 2), (.queryTimeout, 1),
        (.queryFailed, 1), (.messageRefused, 2), (.sharesRefused, 2), (.roundAborted, 1), (.databaseUnavailable, 1),
        (.databaseError, 1),
    ]

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    @Test("each declared code exits with the code its category promises", arguments: promised)
    func exitCode(_ code: VeilError.Code, _ expected: Int32) {
        #expect(code.category.exitCode == expected, "\(code)")
    }

    @Test("the docs' table, the sources' declarations and this test list the same codes with the same exit codes")
    func everyCodeIsDocumented() throws {
        let design = try String(contentsOf: Self.repository.appendingPathComponent("docs/design.md"), encoding: .utf8)
        // | `invalid_parameter` | Mechanisms | bad input | 2 |
        var documented: [String: Int32] = [:]
        for line in design.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 4, let exit = Int32(cells[3]) else { continue }
            documented[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = exit
        }
        let listed = Dictionary(uniqueKeysWithValues: Self.promised.map { ($0.0.rawValue, $0.1) })
        #expect(documented == listed)

        // Every declaration `VeilError.Code("name", category: …)` or `Code("name", category: …)` in the sources.
        var declared: Set<String> = []
        let sources = Self.repository.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        let pattern = try Regex(#"Code\("([a-z_]+)", category: \.[A-Za-z]+\)"#)
        for case let file as URL in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: pattern) {
                if let name = match.output[1].substring { declared.insert(String(name)) }
            }
        }
        #expect(declared == Set(listed.keys))
    }

    @Test("the binary exits with the category's code: bad input 2, refused budget 3, damaged ledger 1")
    func binaryExitCodes() throws {
        let folder = try TemporaryDirectory.make("exit")
        defer { try? FileManager.default.removeItem(at: folder) }
        let ledger = folder.appendingPathComponent("l.sqlite").path
        #expect(try runVeil(["budget", "create", "s", "--epsilon", "1", "--ledger", ledger]).status == 0)
        let unknown = try runVeil(["budget", "show", "nosuch", "--ledger", ledger])
        #expect(unknown.status == VeilError.Code.unknownScope.category.exitCode)
        let refused = try runVeil(["budget", "charge", "s", "--epsilon", "2", "--analyst", "a", "--purpose", "p",
                                   "--ledger", ledger])
        #expect(refused.status == VeilError.Code.budgetExhausted.category.exitCode && refused.status == 3)
        #expect(refused.stderr.hasPrefix("error: budget exhausted"))
        let damaged = folder.appendingPathComponent("damaged.sqlite").path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: ledger))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: damaged))
        let broken = try runVeil(["budget", "show", "s", "--ledger", damaged])
        #expect(broken.status == 1, "\(broken.stderr)")
    }

    @Test("a wrapped cause survives: the database's error behind a ledger error, the QueryError behind a query error")
    func causeSurvives() throws {
        let folder = try TemporaryDirectory.make("cause")
        defer { try? FileManager.default.removeItem(at: folder) }
        // An SQLite header over garbage: SQLite reports the damage, and the ledger error keeps SQLite's error.
        let path = folder.appendingPathComponent("garbage.sqlite").path
        var bytes = Data("SQLite format 3\0".utf8)
        bytes.append(Data(repeating: 0xA5, count: 4080))
        try bytes.write(to: URL(fileURLWithPath: path))
        let opened = #expect(throws: VeilError.self) { try Ledger(path: path) }
        #expect(opened?.code == .ledgerDamaged)
        let databaseCause = try #require(opened?.cause, "\(opened?.message ?? "")")
        #expect(databaseCause is DatabaseError, "\(databaseCause)")

        let syntax = #expect(throws: QueryError.self) { try Parser.parse("SELECT COUNT(* FROM t") }
        let converted = VeilError(try #require(syntax))
        #expect(converted.code == .invalidQuery)
        let cause = try #require(converted.cause as? QueryError)
        #expect(cause == syntax)
        #expect(cause.location != nil)
        #expect(converted.message == syntax?.description)

        let underlying = POSIXError(.ENOSPC)
        let wrapped = VeilError(.fileNotWritten, "cannot write x", cause: underlying)
        #expect((wrapped.cause as? POSIXError)?.code == .ENOSPC)
        #expect(wrapped == VeilError(.fileNotWritten, "cannot write x"))
    }
}
