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
        discussion: HelpText.reflow("""
        Every release Veil makes is charged to a privacy budget before any noisy value exists.
        Start with `veil query --help` for private SQL, or `veil account dpsgd --help` to see what a \
        DP-SGD run costs.

        Exit codes: 0 success, 1 failure, 2 bad input (flags, parameters, files),
        3 refused for lack of privacy budget.
        """),
        version: VeilVersion.string,
        subcommands: [QueryCommand.self, AccountCommand.self, BudgetCommand.self, ImportCommand.self,
                      TrainCommand.self, EvaluateCommand.self, EnclaveCommand.self, ModelsCommand.self, PredictCommand.self,
                      ServeCommand.self, TransparencyCommand.self, ServiceCommand.self, FederatedCommand.self,
                      AuditCommand.self]
    )

    /// Parses, runs, and maps failures to Veil's exit codes (one line on stderr for each error).
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as VeilError {
            printError(error.message)
            Foundation.exit(error.code.category.exitCode)
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

/// Exit codes shared by every subcommand: those of ``VeilError/Category`` (a library error exits with
/// `error.code.category.exitCode`).
enum CLIExitCode {
    static let failure = VeilError.Category.failure.exitCode
    static let badInput = VeilError.Category.badInput.exitCode
    static let budgetExhausted = VeilError.Category.budgetRefused.exitCode
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
