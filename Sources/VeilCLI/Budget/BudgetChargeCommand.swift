import ArgumentParser
import Accounting
import BudgetLedger
import Foundation

struct BudgetChargeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "charge",
        abstract: "Record a release made outside Veil: reserve its (ε, δ), then commit it.",
        discussion: HelpText.reflow("""
        The release is recorded as the event epsilon_delta(ε, δ). Budgets with rdp or zcdp \
        composition accept it only with δ = 0 (pure ε-DP): an (ε, δ) guarantee with δ > 0 has no \
        finite Rényi or zCDP bound.

        With --repeat N the same charge is recorded N times, each reserved and committed in its own \
        transactions, one line per charge as soon as it is committed (for load tests); it stops at \
        the first refusal.

        Exit codes: 0 charged, 3 refused for lack of budget (the message says what is left), \
        2 bad input.
        """))

    @OptionGroup var release: ExternalReleaseOptions

    @Option(help: "A digest of the released result, kept in the audit trail.")
    var resultDigest: String = "external release"

    @Option(help: "Record the same charge this many times (≥ 1).")
    var `repeat`: Int = 1

    @OptionGroup var ledger: LedgerOptions

    func validate() throws {
        guard `repeat` >= 1 else { throw ValidationError("--repeat must be ≥ 1, got \(`repeat`)") }
    }

    func run() throws {
        let (cost, event) = try release.costAndEvent()
        let opened = try ledger.open()
        for _ in 0..<`repeat` {
            let (reservation, commit) = try opened.charge(
                event: event, cost: cost, scope: release.scope, analyst: release.analyst, purpose: release.purpose,
                resultDigest: resultDigest)
            // Unbuffered, so that a reader sees every completed charge even if the process is killed.
            FileHandle.standardOutput.write(Data((
                "charged \(release.scope): reservation \(reservation.id), commit \(commit.id) "
                + "(ε \(amount(release.epsilon)), δ \(amount(release.delta)), analyst \(TerminalText.escaped(reservation.analyst)))\n").utf8))
        }
    }
}
