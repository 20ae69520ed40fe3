import ArgumentParser
import BudgetLedger

/// `veil budget migrate --from FILE --to postgres://…`: copies an SQLite ledger into PostgreSQL.
struct BudgetMigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy an SQLite ledger into an empty PostgreSQL ledger, entry by entry, and verify both chains.",
        discussion: HelpText.reflow("""
        Every entry keeps its id, content and hash, so the head hash kept elsewhere still matches. The \
        source is verified before anything is copied; the copy runs in one transaction and is verified \
        after; a target that already holds entries is refused. Stop the processes that charge the \
        source first, and point them at the target afterwards.

        Example:
          veil budget migrate --from veil-ledger.sqlite --to postgres://veil@db.internal:5432/veil
        """))

    @Option(help: ArgumentHelp("The SQLite ledger file to copy.", valueName: "path"))
    var from: String

    @Option(help: ArgumentHelp("The ledger to copy into: postgres://user@host:port/db (or a new SQLite file).",
                               valueName: "url"))
    var to: String

    func run() throws {
        guard !Ledger.isServerLocation(from) else {
            throw CLIFailure("--from must be an SQLite ledger file, not a server URL", exitCode: CLIExitCode.badInput)
        }
        let source = try Ledger(path: from)
        let target = try Ledger.open(location: to, mode: .createIfMissing)
        let result = try target.copyEntries(from: source)
        print("""
            copied \(result.entries) entries from \(source.path) to \(target.path); \
            chain verified on both sides: head \(result.target.headHash)
            """)
    }
}
