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
        discussion: HelpText.reflow("""
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
        """)
    )

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Option(help: "Override training.epochs.")
    var epochs: Int?

    @Option(help: "Override the output path.")
    var output: String?

    @Flag(help: "Print the final summary as one JSON object.")
    var json = false

    @Option(help: "Who trains, recorded with the ledger charge ($USER when set, else analyst).")
    var analyst: String = DefaultAnalyst.name

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        TrainingAllocator.configure()
        var pipeline = try TrainingPipeline.load(path: self.pipeline)
        try pipeline.override(epochs: epochs)
        if let output { pipeline.output = output }

        // Everything that can fail without drawing noise is checked before the budget is reserved.
        let run = try TrainingRun.prepare(pipeline: pipeline, source: self.pipeline,
                                          analyst: analyst,
                                          charger: { scope in LedgerBudgetCharger(ledger: try ledger.open(), scope: scope) },
                                          status: { FileHandle.standardError.write(Data("\($0)\n".utf8)) })
        let plan = run.plan
        for warning in run.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        if let sigma = plan.noiseMultiplier, let privacy = plan.privacy {
            // Only declared and derived settings: the exact number of examples read is never printed.
            FileHandle.standardError.write(Data(String(
                format: "DP-SGD: declared N = %d, q = %.6g, %d steps, σ = %.4f, C = %g, target ε = %g at δ = %g (%@)\n",
                plan.datasetSize, plan.samplingRate, plan.steps, sigma, privacy.clipNorm,
                privacy.targetEpsilon, privacy.delta, privacy.accountant.rawValue).utf8))
            if let normalization = pipeline.features.dpNormalization {
                FileHandle.standardError.write(Data(String(
                    format: "normalisation: channel statistics under DP (σ = %g × clip, clips %g and %g) before the "
                        + "steps, in the same charge; the ε above covers both\n",
                    normalization.noiseMultiplier, normalization.meanClip, normalization.squareClip).utf8))
            }
        }
        let reporter = ProgressReporter(totalSteps: plan.steps, toStandardError: json)
        let release = try run.execute(progressInterval: reporter.interval, progress: reporter.report)
        reporter.finish()
        let outcome = release.outcome
        if json {
            var fields: [(String, JSONValue)] = [
                ("model", .string(release.modelPath)), ("steps", .number(Double(outcome.steps))),
                ("epsilon", outcome.epsilon.map { .number($0) } ?? .null),
                ("delta", plan.privacy.map { .number($0.delta) } ?? .null),
                ("noise_multiplier", plan.noiseMultiplier.map { .number($0) } ?? .null),
                ("seconds", .number(outcome.seconds)),
                ("ledger_entry", release.card.ledgerEntry.map { .string($0) } ?? .null),
            ]
            if let evaluation = release.evaluation {
                fields += [("test_accuracy", .number(evaluation.accuracy)), ("test_loss", .number(evaluation.loss))]
            }
            print(JSONValue.object(fields).rendered)
        } else {
            print("wrote \(release.modelPath)")
            if let epsilon = outcome.epsilon, let privacy = plan.privacy, let sigma = plan.noiseMultiplier {
                print(String(format: "privacy: ε = %.4f at δ = %g (%@), %d steps, σ = %.4f, C = %g",
                             epsilon, privacy.delta, privacy.accountant.rawValue, outcome.steps, sigma, privacy.clipNorm))
            } else {
                print("privacy: none — trained without differential privacy")
            }
            if let evaluation = release.evaluation {
                print(String(format: "test: accuracy %.4f, loss %.4f on %d examples", evaluation.accuracy, evaluation.loss,
                             evaluation.examples))
            }
            print(String(format: "time: %.1f s (%.0f expected examples/s)", outcome.seconds,
                         Double(outcome.examples) / max(outcome.seconds, 1e-9)))
            if let reservation = release.reservation, let ledgerPath = release.ledgerPath {
                print("ledger: charged ε \(reservation.cost.epsilon), δ \(reservation.cost.delta) to \(reservation.scope) "
                      + "(entry \(reservation.id) of \(ledgerPath))")
            }
        }
    }
}

extension TrainingPipeline {
    /// Applies an `--epochs` override, checked against ``TrainingLimits/epochs``.
    mutating func override(epochs: Int?) throws {
        guard let epochs else { return }
        try TrainingLimits.check(epochs, in: TrainingLimits.epochs, name: "--epochs")
        training.epochs = epochs
    }
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
        // Step, ε spent and expected throughput only: no loss and no realised batch size (docs/design.md §2 rule 7).
        let text = String(format: "step %d/%d  %@  %.0f ex/s  ETA %@", p.step, p.totalSteps, epsilon,
                          p.examplesPerSecond, TrainingProgress.clockText(seconds: p.remainingSeconds))
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
}
