import ArgumentParser
import Foundation
import Mechanisms
import PrivacyAudit
import PrivateTraining

/// `veil audit training PIPELINE`: a one-run audit of a training pipeline with canaries.
struct AuditTrainingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training",
        abstract: "Audit a training pipeline in one run: train with canaries, then guess which were trained on.",
        discussion: HelpText.reflow("""
        The one-run audit of Steinke, Nasr and Jagielski (2023). --canaries examples are drawn from the \
        pipeline's test split and given a wrong label; each joins the training set with probability ½. The \
        pipeline is then trained once, as veil train would train it (same plan, Poisson sampling, clipping, \
        noise). The final model's loss on each canary's wrong label ranks them: the --guesses/2 lowest are \
        guessed included, the --guesses/2 highest excluded. If the run is (ε, δ)-DP, right guesses cannot beat \
        a coin by more than e^ε/(1 + e^ε) allows; the report gives the largest ε the count of right guesses \
        proves at the stated confidence.

        The claim audited is the pipeline's planned ε and δ, or --epsilon/--delta (needed for a pipeline \
        without privacy). The model is thrown away and nothing is charged to a ledger: nothing is released. \
        The audit reads the data as its owner would; its figures are not differentially private, so the \
        report holds counts and bounds only — no loss, no label, no example.

        The audit sees the final model only, so for correct DP-SGD its bound lies far below the claim; it \
        catches runs with far too little noise or no clipping. Progress goes to stderr.

        Examples:
          veil audit training pipelines/health-panel-logistic-eps1.yaml --canaries 1000
          veil audit training pipelines/mnist-cnn-nonprivate.yaml --epsilon 1 --json

        Exit codes: 0 no violation found, 1 violation (ε̂ > ε) or a failed run, 2 bad input.
        """))

    @Argument(help: ArgumentHelp("The training pipeline (YAML), as for veil train.", valueName: "pipeline"))
    var pipeline: String

    @OptionGroup var options: CanaryAuditOptions

    @Option(help: "Override training.epochs.")
    var epochs: Int?

    func run() throws {
        TrainingAllocator.configure()
        var pipeline = try TrainingPipeline.load(path: self.pipeline)
        try pipeline.override(epochs: epochs)
        let plan = try TrainingPlan(datasetSize: pipeline.size, training: pipeline.training, privacy: pipeline.privacy)
        let reporter = ProgressReporter(totalSteps: plan.steps, toStandardError: true)
        var source = SecureRandomSource()
        let audit = try TrainingAudit(pipeline: pipeline, claim: try options.claim(pipelineDelta: pipeline.privacy?.delta),
                                      canaries: options.canaries, guesses: options.guessCount,
                                      confidence: options.confidence, using: &source, status: CanaryAuditOptions.status,
                                      progress: reporter.report)
        reporter.finish()
        try options.finish(audit, text: AuditReportText.text(audit), json: AuditReportText.json(audit), run: "training")
    }
}
