import ArgumentParser
import Foundation
import PrivacyAudit

/// `veil audit …`: empirical privacy audits of mechanisms and queries.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Measure from the outside how distinguishable a mechanism's or a query's outputs are.",
        discussion: HelpText.reflow("""
        An audit runs a released mechanism (or a whole private query) as a black box, many times on two \
        neighbouring inputs, picks an output event on half of the runs and bounds its probabilities on the \
        other half with Clopper–Pearson intervals. The result is a lower bound ε̂ on the true ε that holds \
        with the stated confidence. ε̂ above the claimed ε proves a bug (a wrong sensitivity, a missed clamp, \
        too little noise); ε̂ below it is evidence, never proof, of privacy. A training run is audited in one \
        run instead, with canaries (examples, or clients of a federated run) whose inclusion is guessed from \
        the final model. See docs/privacy-audit.md.

        Examples:
          veil audit mechanism discrete-laplace --epsilon 1 --trials 100000
          veil audit mechanism discrete-gaussian --epsilon 1 --delta 1e-5 --trials 50000 --json
          veil audit query --db datasets/health_panel.sqlite \\
            --metadata datasets/health_panel.privacy.yaml --epsilon 1 --trials 200 \\
            "SELECT year, COUNT(*) AS n FROM visits GROUP BY year"
          veil audit training pipelines/health-panel-logistic-eps1.yaml --canaries 1000

        Exit codes: 0 no violation found, 1 the audit found a violation (ε̂ > ε) or a run failed, \
        2 bad input.
        """),
        subcommands: [AuditMechanismCommand.self, AuditQueryCommand.self, AuditTrainingCommand.self,
                      AuditFederatedCommand.self]
    )
}

/// The report options every audit command takes.
struct AuditReportOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Confidence of the bound, in (0, 1).", transform: DecimalArgument.parse)
    var confidence: Double = 0.95

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard confidence > 0, confidence < 1 else {
            throw ValidationError("--confidence must be in (0, 1), got \(confidence)")
        }
    }

    /// Prints the report, as JSON with --json.
    func print(text: String, json object: JSONValue) {
        Swift.print(json ? object.rendered : text, terminator: json ? "\n" : "")
    }
}

/// Options shared by the audits of a mechanism and of a query: the claim and the report.
struct AuditOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "The claimed ε (> 0).", transform: DecimalArgument.parse)
    var epsilon: Double

    @Option(parsing: .unconditional, help: "The claimed δ in [0, 1) (needed by Gaussian noise and partition selection).",
            transform: DecimalArgument.parse)
    var delta: Double = 0

    @OptionGroup var report: AuditReportOptions

    var confidence: Double { report.confidence }
}

/// Options shared by the one-run (canary) audits of training and federated runs.
struct CanaryAuditOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "The ε to audit against (default: the pipeline's planned ε).",
            transform: DecimalArgument.parse)
    var epsilon: Double?

    @Option(parsing: .unconditional, help: "The δ to audit against (default: the pipeline's δ, else 0).",
            transform: DecimalArgument.parse)
    var delta: Double?

    @Option(help: "Canaries (≥ 2), each trained on with probability ½.")
    var canaries: Int = 1000

    @Option(help: "Guesses (even, ≤ --canaries; default a fifth of the canaries): half included, half excluded.")
    var guesses: Int?

    @OptionGroup var report: AuditReportOptions

    var confidence: Double { report.confidence }

    func validate() throws {
        if delta != nil, epsilon == nil {
            throw ValidationError("--delta needs --epsilon: the claim audited is one (ε, δ) pair")
        }
    }

    /// --guesses, or a fifth of the canaries (even, at least 2).
    var guessCount: Int { guesses ?? max(2, canaries / 10 * 2) }

    /// The claim of --epsilon/--delta (δ defaulting to the pipeline's), or nil for the pipeline's own.
    func claim(pipelineDelta: Double?) throws -> PrivacyClaim? {
        try epsilon.map { try PrivacyClaim(epsilon: $0, delta: delta ?? pipelineDelta ?? 0) }
    }

    /// Feature layers' status lines, on stderr.
    static func status(_ line: String) { FileHandle.standardError.write(Data("\(line)\n".utf8)) }

    /// Prints the report of a one-run audit and fails when its bound exceeds the claim.
    func finish(_ audit: some OneRunAuditReport, text: String, json: JSONValue, run: String) throws {
        report.print(text: text, json: json)
        if audit.exceedsClaim {
            throw CLIFailure("the \(run) run violates its claim: ε ≥ \(amount(audit.epsilonLowerBound)) > "
                             + amount(audit.claim.epsilon))
        }
    }
}
