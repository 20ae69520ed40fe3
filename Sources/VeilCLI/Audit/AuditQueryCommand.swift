import Accounting
import ArgumentParser
import Foundation
import Mechanisms
import PrivacyAudit
import PrivateSQL

/// `veil audit query`: audits a private SQL query end to end on a database and the database without one unit.
struct AuditQueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Audit a private SQL query: the whole engine on a database and on a copy without one privacy unit.",
        discussion: HelpText.reflow("""
        The database is copied twice into a temporary folder; from the second copy every row of one privacy \
        unit is deleted (--remove heaviest: the unit with the most rows; random: one chosen at random). The \
        query then runs --trials times on each copy through the whole engine — plan, reservation, bounded \
        read, noise, commit — charged to a throw-away ledger in the same folder, never to your budget. Each \
        released number is audited; the bound reported is the largest, with Bonferroni over the numbers.

        The audit reads the data as its owner would, and its figures are not differentially private (many \
        runs average the noise away). So the report shows bounds only: no released value, no event \
        threshold, no identity of the removed unit. Run it where the data may be read.

        Each run is a full query (tens of milliseconds on the shipped panel): keep --trials modest; progress \
        goes to stderr.

        Example:
          veil audit query --db datasets/health_panel.sqlite --metadata datasets/health_panel.privacy.yaml \\
            --epsilon 1 --trials 200 "SELECT year, COUNT(*) AS n FROM visits GROUP BY year"

        Exit codes: 0 no violation found, 1 violation (ε̂ > ε) or a failed run, 2 bad input.
        """))

    @Option(help: ArgumentHelp("The SQLite database file (it is copied, never written).", valueName: "file"))
    var db: String

    @Option(help: ArgumentHelp("The privacy metadata (YAML).", valueName: "file"))
    var metadata: String

    @OptionGroup var options: AuditOptions

    @Option(help: "Runs on each of the two databases (≥ 2).")
    var trials: Int = 200

    @Option(help: "Which unit the neighbouring database lacks: heaviest or random.", transform: Self.removedUnit)
    var remove: RemovedUnit = .heaviest

    @Argument(help: "The query: one SELECT of Veil's SQL subset.")
    var query: String

    func run() throws {
        let privacy = try PrivacyMetadata.load(contentsOf: URL(fileURLWithPath: metadata))
        let budget = try PrivacyParameters(epsilon: options.epsilon, delta: options.delta)
        var source = SecureRandomSource()
        var progress = AuditProgress(label: "audit query")
        let audit = try QueryAudit(query: query, databasePath: db, metadata: privacy, budget: budget, removed: remove,
                                   trials: trials, confidence: options.confidence, using: &source) {
            progress.report($0, $1)
        }
        options.report.print(text: AuditReportText.text(audit), json: AuditReportText.json(audit))
        if audit.exceedsClaim {
            throw CLIFailure("the query violates its claim: ε ≥ \(amount(audit.epsilonLowerBound)) > \(amount(options.epsilon))")
        }
    }
}

extension AuditQueryCommand {
    /// `--remove`'s value.
    static func removedUnit(_ text: String) throws -> RemovedUnit {
        guard let unit = RemovedUnit(rawValue: text) else {
            throw ValidationError("--remove must be heaviest or random, got '\(text)'")
        }
        return unit
    }
}
