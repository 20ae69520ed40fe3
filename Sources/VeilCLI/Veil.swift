import ArgumentParser
import Foundation
import BudgetLedger
import Mechanisms
import PrivateSQL

/// The `veil` command: private SQL queries, training pipelines, budget ledgers and accountants.
@main
struct Veil: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "veil",
        abstract: "Veil — a differential-privacy engine: accountants, budget ledger, private queries and training.",
        discussion: """
        Every release Veil makes is charged to a privacy budget before any noisy value exists.
        Start with `veil query --help` for private SQL, or `veil account dpsgd --help` to see what a \
        DP-SGD run costs.

        Exit codes: 0 success, 1 failure, 2 bad input (flags, parameters, files),
        3 refused for lack of privacy budget.
        """,
        subcommands: [QueryCommand.self, AccountCommand.self, BudgetCommand.self, ImportCommand.self,
                      TrainCommand.self, EvaluateCommand.self, ModelsCommand.self, PredictCommand.self,
                      ServeCommand.self]
    )

    /// Parses, runs, and maps failures to Veil's exit codes (one line on stderr for each error).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as VeilError {
            printError(error.message)
            Foundation.exit(CLIExitCode.forError(error.code))
        } catch let error as CLIFailure {
            printError(error.message)
            Foundation.exit(error.exitCode)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help and --version print on stdout and succeed.
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            // One line: the parser's message without the usage block (`--help` shows that).
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            printError(message)
            Foundation.exit(code == .validationFailure ? CLIExitCode.badInput : code.rawValue)
        }
    }

    /// Prints `error: MESSAGE` on stderr as one line, control characters escaped: messages quote
    /// names and values from the command line and the ledger (see ``TerminalText``).
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("error: \(TerminalText.escaped(message))\n".utf8))
    }
}

/// Exit codes shared by every subcommand.
enum CLIExitCode {
    static let failure: Int32 = 1
    static let badInput: Int32 = 2
    static let budgetExhausted: Int32 = 3

    /// The exit code for a library error: 3 for an exhausted budget; 2 for bad input (parameters,
    /// files, metadata, queries, unknown scopes or reservations, a path that is not a ledger);
    /// 1 otherwise (a damaged, read-only or tampered ledger, a commit refused after a refund).
    static func forError(_ code: VeilError.Code) -> Int32 {
        switch code {
        case .budgetExhausted:
            budgetExhausted
        case .invalidParameter, .invalidInput, .unsupported, .invalidMetadata, .invalidQuery, .queryRefused,
             .unknownScope, .unknownReservation, .ledgerConflict, .ledgerUnavailable:
            badInput
        case .ledgerDamaged, .ledgerStorage, .reservationRefunded, .fileNotWritten:
            // A damaged or unwritable ledger, a refund that overtook a commit, a full disk: faults.
            failure
        default:
            failure
        }
    }
}

/// A failure a subcommand reports with its own exit code and a one-line message.
struct CLIFailure: Error {
    let message: String
    let exitCode: Int32
    init(_ message: String, exitCode: Int32 = CLIExitCode.failure) {
        self.message = message
        self.exitCode = exitCode
    }
}
