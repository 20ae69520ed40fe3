import ArgumentParser
import BudgetLedger

struct BudgetResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Commit or refund an open reservation (made with `reserve`, or left open by a crash).",
        discussion: HelpText.reflow("""
        An open reservation counts as spent. Use --refund only when you know no result was \
        released; otherwise --commit records the charge as final.
        """))

    @Argument(help: "The reservation id (see `veil budget report` or `history`).")
    var id: Int64

    @Flag(help: "The release happened: the charge stands.")
    var commit = false

    @Flag(help: "Nothing was released: give the budget back.")
    var refund = false

    @Option(help: "Why (kept in the ledger).")
    var note: String = "resolved by an operator"

    @Option(help: "With --commit: a digest of the released result, if known.")
    var resultDigest: String?

    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        guard commit != refund else { throw ValidationError("give exactly one of --commit or --refund") }
    }

    func run() throws {
        let opened = try ledger.open()
        let entry = try opened.resolve(reservationID: id, as: commit ? .commit : .refund,
                                       resultDigest: commit ? (resultDigest ?? "unknown") : nil, note: note)
        print("\(commit ? "committed" : "refunded") reservation \(id) of \(entry.scope) (entry \(entry.id))")
    }
}
