import ArgumentParser
import Accounting
import BudgetLedger
import Foundation

/// `veil budget …`: privacy budgets in the ledger file.
struct BudgetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budget",
        abstract: "Privacy budgets: create, charge, show, audit and verify the ledger.",
        discussion: """
        The ledger is one SQLite file: --ledger PATH, else $VEIL_LEDGER, else ./veil-ledger.sqlite. \
        Every charge is reserved in one transaction that checks the budget, then committed once the \
        release is made. Entries form a SHA-256 hash chain; `veil budget verify` recomputes it and \
        `veil budget head` prints the hash to keep elsewhere.

        Examples:
          veil budget create health_panel --epsilon 3 --delta 1e-6 --composition rdp
          veil budget charge health_panel --epsilon 0.5 --analyst ana --purpose counts
          veil budget show health_panel --json
          veil budget report --format html --output audit.html

        Exit codes: 0 success, 1 failure (a broken chain), 2 bad input (unknown scope, bad values, \
        a file that is not a ledger), 3 refused for lack of budget.
        """,
        subcommands: [
            BudgetCreateCommand.self, BudgetShowCommand.self, BudgetChargeCommand.self, BudgetReserveCommand.self,
            BudgetResolveCommand.self, BudgetHistoryCommand.self, BudgetVerifyCommand.self, BudgetHeadCommand.self,
            BudgetReportCommand.self,
        ]
    )
}

/// The `--ledger PATH` option shared by the budget commands.
struct LedgerOptions: ParsableArguments {
    @Option(name: .customLong("ledger"),
            help: ArgumentHelp("Ledger file (default: $VEIL_LEDGER, else ./veil-ledger.sqlite).", valueName: "path"))
    var path: String?

    /// Opens the ledger, mapping ledger errors to the CLI's exit codes.
    func open(_ mode: Ledger.OpenMode = .existing) throws -> Ledger {
        try ledgerCall { try Ledger(path: Ledger.resolvePath(path), mode: mode) }
    }
}

/// Runs a ledger call and maps its errors to exit codes: 3 for an exhausted budget, 2 for unknown
/// scopes or reservations, conflicts and unusable files, 1 for storage failures. Parameter errors
/// pass through (the root command maps them to 2).
func ledgerCall<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as VeilError {
        switch error.code {
        case .budgetExhausted:
            throw CLIFailure(error.message, exitCode: CLIExitCode.budgetExhausted)
        case .unknownScope, .unknownReservation, .ledgerConflict, .ledgerUnavailable:
            throw CLIFailure(error.message, exitCode: CLIExitCode.badInput)
        case .ledgerStorage:
            throw CLIFailure(error.message, exitCode: CLIExitCode.failure)
        default:
            throw error
        }
    }
}

/// Up to 6 significant digits for people (`0.1`, `10`, `1e-06`).
func amount(_ value: Double) -> String { value == 0 ? "0" : String(format: "%.6g", value) }
