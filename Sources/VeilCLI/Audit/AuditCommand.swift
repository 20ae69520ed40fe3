import ArgumentParser

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

/// Options shared by the audit commands.
struct AuditOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "The claimed ε (> 0).", transform: DecimalArgument.parse)
    var epsilon: Double

    @Option(parsing: .unconditional, help: "The claimed δ in [0, 1) (needed by Gaussian noise and partition selection).",
            transform: DecimalArgument.parse)
    var delta: Double = 0

    @Option(parsing: .unconditional, help: "Confidence of the bound, in (0, 1).", transform: DecimalArgument.parse)
    var confidence: Double = 0.95

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        guard confidence > 0, confidence < 1 else {
            throw ValidationError("--confidence must be in (0, 1), got \(confidence)")
        }
    }
}
