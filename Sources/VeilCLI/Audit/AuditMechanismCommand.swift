import ArgumentParser
import Foundation
import Mechanisms
import PrivacyAudit

/// `veil audit mechanism NAME`: audits one of Veil's mechanisms on its worst-case neighbouring inputs.
struct AuditMechanismCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mechanism",
        abstract: "Audit one noise or selection mechanism on worst-case neighbouring inputs.",
        discussion: HelpText.reflow("""
        Mechanisms: \(MechanismCatalog.entries.map { "\n  \($0.name)\($0.needsDelta ? " (needs --delta)" : ""): \($0.summary)" }.joined())

        The runs draw their noise from the operating system's CSPRNG, as a release does. Each input gets \
        --trials runs: half choose the event, half bound it, so 100,000 trials bound probabilities from 50,000 \
        runs. A δ below about 1/trials leaves nothing to measure for partition selection.

        Examples:
          veil audit mechanism discrete-laplace --epsilon 1 --trials 100000
          veil audit mechanism partition-selection --epsilon 1 --delta 0.01 --trials 20000 --json

        Exit codes: 0 no violation found, 1 violation (ε̂ > ε), 2 bad input.
        """))

    @Argument(help: ArgumentHelp("The mechanism: \(MechanismCatalog.names.joined(separator: ", ")).", valueName: "name"))
    var name: String

    @OptionGroup var options: AuditOptions

    @Option(help: "Runs on each of the two inputs (≥ 2).")
    var trials: Int = 20_000

    func run() throws {
        let target = try MechanismCatalog.target(named: name, epsilon: options.epsilon, delta: options.delta)
        var source = SecureRandomSource()
        var progress = AuditProgress(label: "audit \(name)")
        let audit = try MechanismAudit(target, trials: trials, confidence: options.confidence, using: &source) {
            progress.report($0, $1)
        }
        options.report.print(text: AuditReportText.text(audit), json: AuditReportText.json(audit))
        if audit.exceedsClaim {
            throw CLIFailure("\(name) violates its claim: ε ≥ \(amount(audit.epsilonLowerBound)) > \(amount(options.epsilon))")
        }
    }
}
