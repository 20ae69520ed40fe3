import ArgumentParser
import BudgetLedger
import Foundation
import Mechanisms
import PrivateTraining

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model from a pipeline file with DP-SGD and write it with its privacy card.",
        discussion: """
        The pipeline file (YAML) names the data, the model, the privacy target (ε, δ, clip norm,
        accountant), the optimisation settings and the output path; see docs/training.md.
        The noise multiplier is calibrated to the target ε before any data is touched; training
        stops before a step that would exceed it. Batches are Poisson-sampled and the noise drawn
        from the operating system's CSPRNG.

        Charge before release: when the pipeline names privacy.ledger_scope, the planned cost of the
        whole run is reserved in that budget of the ledger (--ledger, $VEIL_LEDGER or
        ./veil-ledger.sqlite) before any noise is drawn, and a run that does not fit is refused
        (exit code 3). The reservation is committed with the model file's SHA-256 once the file is
        written; the model's privacy card names the ledger entry.

        Example:
          veil budget create mnist --epsilon 8 --delta 1e-5 --composition rdp
          veil train pipelines/mnist-cnn-eps3.yaml --epochs 2 --output /tmp/mnist.safetensors --analyst ana
        """
    )

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(help: "Override training.epochs.")
    var epochs: Int?

    @Option(help: "Override the output path.")
    var output: String?

    @Flag(help: "Print the final summary as one JSON object.")
    var json = false

    @Option(help: "Who trains, recorded with the ledger charge (default: $USER).")
    var analyst: String?

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        TrainingAllocator.configure()
        var pipeline = try TrainingPipeline.load(path: self.pipeline)
        if let epochs {
            try TrainingLimits.check(epochs, in: TrainingLimits.epochs, name: "--epochs")
            pipeline.training.epochs = epochs
        }
        if let output { pipeline.output = output }

        // Everything that can fail without reading the data is checked first, then everything that can fail
        // before noise is drawn; only then is the budget reserved (DESIGN.md §2 rule 3).
        try ModelFileDestination.validate(pipeline.output)
        let plan = try TrainingPlan(datasetSize: pipeline.size, training: pipeline.training, privacy: pipeline.privacy)
        let ledger = try openLedger(pipeline: pipeline)

        let (train, test) = try pipeline.loadData()
        // The model file's data description is settled before any noise is drawn.
        let metadata = [TrainingDataDescription.metadataKey: pipeline.dataDescription(trainedOn: train).json]
        var secure = SecureRandomSource()
        var model = try SequentialModel(architecture: pipeline.layerSpecifications, inputShape: train.inputShape, random: &secure)
        try ArchitectureFootprint(architecture: model.architecture, inputShape: model.inputShape)
            .checkBatch(pipeline.training.maxPhysicalBatchSize)
        try ModelFileDestination.prepare(pipeline.output)
        for warning in plan.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let status = FileHandle.standardError
        if let sigma = plan.noiseMultiplier, let privacy = plan.privacy {
            // Only declared and derived settings: the exact number of examples read is never printed.
            status.write(Data(String(format: "DP-SGD: declared N = %d, q = %.6g, %d steps, σ = %.4f, C = %g, target ε = %g at δ = %g (%@)\n",
                                     plan.datasetSize, plan.samplingRate, plan.steps, sigma, privacy.clipNorm,
                                     privacy.targetEpsilon, privacy.delta, privacy.accountant.rawValue).utf8))
        }
        let charger = ledger.map {
            LedgerBudgetCharger(ledger: $0.ledger, scope: $0.scope, analyst: analyst ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown",
                                // The data's fingerprint goes to the access-controlled ledger, never into the model file.
                                purpose: "veil train \(self.pipeline) → \(pipeline.output) (training data sha256:\(train.sha256))")
        }
        let reporter = ProgressReporter(totalSteps: plan.steps, toStandardError: json)
        var order: any RandomSource = pipeline.seed.map { InsecureSeededRandomSource(seed: $0) as any RandomSource }
            ?? SecureRandomSource()
        var orderSource = AnyRandomSource(&order)
        let outcome = try DPSGDTrainer.train(
            model: &model, data: train, plan: plan, budget: charger, privacyRandom: &secure, orderRandom: &orderSource,
            progressInterval: reporter.interval, ledgerScope: pipeline.ledgerScope, progress: reporter.report)
        reporter.finish()
        var card = outcome.card
        card.ledgerEntry = charger?.entryReference
        let modelDigest = try SafetensorsFile.write(model: model, card: card, to: pipeline.output, extraMetadata: metadata)
        try charger?.recordRelease(resultDigest: "sha256:" + modelDigest)
        // Evaluating on the test split is the operator's own use of their data, shown to them only.
        let evaluation = try test.map { try Evaluation(model: model, data: $0) }
        if json {
            var fields: [(String, JSONValue)] = [
                ("model", .string(pipeline.output)), ("steps", .number(Double(outcome.steps))),
                ("epsilon", outcome.epsilon.map { .number($0) } ?? .null),
                ("delta", plan.privacy.map { .number($0.delta) } ?? .null),
                ("noise_multiplier", plan.noiseMultiplier.map { .number($0) } ?? .null),
                ("seconds", .number(outcome.seconds)),
                ("ledger_entry", card.ledgerEntry.map { .string($0) } ?? .null),
            ]
            if let evaluation {
                fields += [("test_accuracy", .number(evaluation.accuracy)), ("test_loss", .number(evaluation.loss))]
            }
            print(JSONValue.object(fields).rendered)
        } else {
            print("wrote \(pipeline.output)")
            if let epsilon = outcome.epsilon, let privacy = plan.privacy {
                print(String(format: "privacy: ε = %.4f at δ = %g (%@), %d steps, σ = %.4f, C = %g",
                             epsilon, privacy.delta, privacy.accountant.rawValue, outcome.steps, plan.noiseMultiplier!, privacy.clipNorm))
            } else {
                print("privacy: none — trained without differential privacy")
            }
            if let evaluation {
                print(String(format: "test: accuracy %.4f, loss %.4f on %d examples", evaluation.accuracy, evaluation.loss,
                             evaluation.examples))
            }
            print(String(format: "time: %.1f s (%.0f expected examples/s)", outcome.seconds,
                         Double(outcome.examples) / max(outcome.seconds, 1e-9)))
            if let charger, let reservation = charger.reservation {
                print("ledger: charged ε \(reservation.cost.epsilon), δ \(reservation.cost.delta) to \(charger.scope) "
                      + "(entry \(reservation.id) of \(charger.ledger.path))")
            }
        }
    }

    /// The ledger and scope a DP run is charged to, checked to exist before any data is read; `nil` for a
    /// non-private run.
    private func openLedger(pipeline: TrainingPipeline) throws -> (ledger: Ledger, scope: String)? {
        guard pipeline.privacy != nil else { return nil }
        // Charge before release (DESIGN.md §2 rule 3): a DP run is never trained uncharged.
        guard let scope = pipeline.ledgerScope else {
            throw VeilError(.invalidInput, """
                privacy.ledger_scope is not set in \(self.pipeline): a DP run must be charged to a privacy budget \
                (create one with `veil budget create SCOPE --epsilon E --delta D` and name it there)
                """)
        }
        let opened = try ledger.open()
        _ = try opened.budget(scope: scope)
        return (opened, scope)
    }
}

/// A random source that forwards to an existential one (the data-order source is chosen at run time).
struct AnyRandomSource: RandomSource {
    private var base: any RandomSource
    init(_ base: inout any RandomSource) { self.base = base }
    mutating func next() -> UInt64 { base.next() }
}

/// Prints training progress: a redrawn bar on a terminal, periodic plain lines otherwise
/// (on stderr when stdout carries `--json` output).
final class ProgressReporter {
    let totalSteps: Int
    let interval: Int
    private let isTerminal: Bool
    private let toStandardError: Bool

    init(totalSteps: Int, toStandardError: Bool) {
        self.totalSteps = totalSteps
        self.toStandardError = toStandardError
        isTerminal = isatty(toStandardError ? STDERR_FILENO : STDOUT_FILENO) == 1
        interval = isTerminal ? max(1, totalSteps / 500) : max(1, totalSteps / 20)
    }

    private func emit(_ text: String) {
        if toStandardError {
            FileHandle.standardError.write(Data(text.utf8))
        } else {
            print(text, terminator: "")
            fflush(nil)
        }
    }

    func report(_ p: TrainingProgress) {
        let epsilon = p.epsilonSpent.map { String(format: "ε %.3f", $0) } ?? "non-private"
        // Step, ε spent and expected throughput only: no loss and no realised batch size (DESIGN.md §2 rule 7).
        let text = String(format: "step %d/%d  %@  %.0f ex/s  ETA %@", p.step, p.totalSteps, epsilon,
                          p.examplesPerSecond, Self.duration(p.remainingSeconds))
        if isTerminal {
            let width = 30
            let filled = Int(Double(width) * Double(p.step) / Double(max(1, p.totalSteps)))
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            emit("\r[\(bar)] \(text)\u{1B}[K")
        } else {
            emit(text + "\n")
        }
    }

    func finish() {
        if isTerminal { emit("\n") }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
