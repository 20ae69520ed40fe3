import ArgumentParser
import BudgetLedger

struct BudgetVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the hash chain; exit 0 only if every entry matches.",
        discussion: HelpText.reflow("""
        Prints the number of entries and the head hash. Compare the head with a copy kept \
        elsewhere (`veil budget head`) to detect entries removed from the end.
        """))

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let opened = try ledger.open()
        let result = try opened.verify()
        guard result.isValid else {
            throw CLIFailure("ledger verification failed: \(result.problem ?? "unknown problem")")
        }
        print("chain verified: \(result.entryCount) entries, head \(result.headHash)")
    }
}

struct BudgetHeadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "head",
        abstract: "Print the hash of the last ledger entry, to keep elsewhere.")

    @Flag(help: "Print {\"id\": …, \"hash\": …} instead of the hash alone.")
    var json = false

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let opened = try ledger.open()
        let head = try opened.head()
        if json {
            print(JSONValue.object([("id", .number(Double(head.id))), ("hash", .string(head.hash))]).rendered)
        } else {
            print(head.hash)
        }
    }
}
