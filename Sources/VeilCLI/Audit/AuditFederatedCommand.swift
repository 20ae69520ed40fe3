import ArgumentParser
import FederatedLearning
import Foundation
import Mechanisms
import PrivacyAudit
import PrivateTraining

/// `veil audit federated PIPELINE`: a one-run audit of a federated pipeline with canary clients.
struct AuditFederatedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "federated",
        abstract: "Audit a federated pipeline in one run: simulate it with canary clients, then guess which took part.",
        discussion: HelpText.reflow("""
        The one-run audit of veil audit training, at the federated privacy unit, the client. --canaries \
        canary clients each hold --examples-per-canary examples of the pipeline's test split with wrong \
        labels; each client joins the population with probability ½. The pipeline is then simulated once as \
        veil federated simulate runs it (client sampling, local training, clipping, aggregation and noise as \
        configured). The final model's mean loss on each canary client's wrong labels ranks them; the \
        --guesses/2 lowest are guessed to have taken part, the --guesses/2 highest not.

        The claim audited is the pipeline's planned client-level ε and δ, or --epsilon/--delta (needed for \
        FedAvg). The model file goes to a temporary folder that is deleted, and nothing is charged to a \
        ledger. The report holds counts and bounds only. Progress goes to stderr.

        Examples:
          veil audit federated pipelines/mnist-mlp-federated-dpfedavg-eps8.yaml --canaries 500
          veil audit federated pipelines/mnist-mlp-federated-fedavg.yaml --epsilon 1 --canaries 500

        Exit codes: 0 no violation found, 1 violation (ε̂ > ε) or a failed run, 2 bad input.
        """))

    @Argument(help: ArgumentHelp("The federated pipeline (YAML), as for veil federated simulate.", valueName: "pipeline"))
    var pipeline: String

    @OptionGroup var options: CanaryAuditOptions

    @Option(help: "Held-out examples each canary client holds (≥ 1).")
    var examplesPerCanary: Int = 5

    @Option(help: "Override federated.rounds.")
    var rounds: Int?

    func run() throws {
        TrainingAllocator.configure()
        var pipeline = try FederatedPipeline.load(path: self.pipeline)
        if let rounds {
            try TrainingLimits.check(rounds, in: FederatedSettings.roundLimit, name: "--rounds")
            pipeline.federated.rounds = rounds
        }
        var source = SecureRandomSource()
        let audit = try FederatedAudit(pipeline: pipeline,
                                       claim: try options.claim(pipelineDelta: pipeline.base.privacy?.delta),
                                       canaries: options.canaries, examplesPerCanary: examplesPerCanary,
                                       guesses: options.guessCount, confidence: options.confidence, using: &source,
                                       status: CanaryAuditOptions.status) {
            FileHandle.standardError.write(Data((FederatedProgressLine.text($0) + "\n").utf8))
        }
        try options.finish(audit, text: AuditReportText.text(audit), json: AuditReportText.json(audit), run: "federated")
    }
}
