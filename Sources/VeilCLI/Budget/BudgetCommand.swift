import ArgumentParser
import Accounting
import BudgetLedger
import Foundation

/// `veil budget …`: privacy budgets in the ledger file.
struct BudgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Privacy budgets: create, charge, show, audit and verify the ledger.",
        discussion: HelpText.reflow("""
        The ledger is one SQLite file (--ledger PATH, else $VEIL_LEDGER, else ./veil-ledger.sqlite) or a \
        PostgreSQL database shared by several machines (--ledger postgres://user@host:port/db). \
        Every charge is reserved in one transaction that checks the budget, then committed once the \
        release is made. Entries form a SHA-256 hash chain; `veil budget verify` recomputes it and \
        `veil budget head` prints the hash to keep elsewhere.

        Examples:
          veil budget create health_panel --epsilon 3 --delta 1e-6 --composition rdp
          veil budget charge health_panel --epsilon 0.5 --analyst ana --purpose counts
          veil budget show health_panel --json
          veil budget report --format html --output audit.html

        Exit codes: 0 success, 1 failure (a broken chain, a damaged or read-only ledger, a running \
        total that contradicts the chain), 2 bad input (unknown scope, bad values, a file that is not \
        a ledger, a report destination that is not a regular file), 3 refused for lack of budget.

        Numbers are plain decimals (0.5, 3, 1e-6); hexadecimal, nan, inf and a leading '+' are refused.
        """),
        subcommands: [
            BudgetCreateCommand.self, BudgetShowCommand.self, BudgetChargeCommand.self, BudgetReserveCommand.self,
            BudgetResolveCommand.self, BudgetHistoryCommand.self, BudgetVerifyCommand.self, BudgetHeadCommand.self,
            BudgetReportCommand.self, BudgetMigrateCommand.self,
        ]
    )
}

/// The `--ledger PATH|URL` option shared by the commands that charge or read the ledger.
struct LedgerOptions: ParsableArguments {
    @Option(name: .customLong("ledger"),
            help: ArgumentHelp("Ledger file, or postgres://user@host:port/db (default: $VEIL_LEDGER, else ./veil-ledger.sqlite).",
                               valueName: "path"))
    var path: String?

    /// Opens the ledger at `--ledger`, `$VEIL_LEDGER` or `./veil-ledger.sqlite` (a file, or a PostgreSQL URL).
    func open(_ mode: Ledger.OpenMode = .existing) throws -> Ledger {
        try Ledger.open(location: Ledger.resolvePath(path), mode: mode)
    }
}

/// Up to 6 significant digits for people (`0.1`, `10`, `1e-06`).
func amount(_ value: Double) -> String { value == 0 ? "0" : String(format: "%.6g", value) }

/// What `veil budget charge` and `veil budget reserve` record: a release made outside Veil,
/// as the event epsilon_delta(ε, δ).
struct ExternalReleaseOptions: ParsableArguments {
    @Argument(help: "The budget to charge.")
    var scope: String

    @Option(parsing: .unconditional, help: "ε of the release (finite, ≥ 0).", transform: DecimalArgument.parse)
    var epsilon: Double

    @Option(parsing: .unconditional, help: "δ of the release, in [0, 1).", transform: DecimalArgument.parse)
    var delta: Double = 0

    @Option(help: "Who makes the release ($USER when set, else analyst).")
    var analyst: String = DefaultAnalyst.name

    @Option(help: "Why.")
    var purpose: String

    /// The declared cost and the event, validated.
    func costAndEvent() throws -> (PrivacyParameters, DPEvent) {
        let cost = try PrivacyParameters.cost(epsilon: epsilon, delta: delta)
        let event = DPEvent.epsilonDelta(epsilon: epsilon, delta: delta)
        try event.validate()
        return (cost, event)
    }
}
