import ArgumentParser
import BudgetLedger
import FederatedLearning
import Foundation
import Mechanisms
import PrivateTraining

struct FederatedSimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a federated pipeline with all its clients in this process.",
        discussion: HelpText.reflow("""
        Each round samples every client independently with probability q = clients_per_round / N (N the \
        declared number of clients; the OS CSPRNG draws), the sampled clients train locally on their own \
        examples, each update is clipped to the L2 norm C (privacy.clip_norm), and the server adds Gaussian \
        noise of standard deviation σ·C to the sum and divides it by q·N (DP-FedAvg, McMahan et al. 2018). \
        σ is calibrated to privacy.target_epsilon at the client level before any data is read.

        Charge before release: the whole planned run is reserved in privacy.ledger_scope of the ledger \
        (--ledger, $VEIL_LEDGER or ./veil-ledger.sqlite) before round 1, and committed with the model file's \
        SHA-256; a run that stops early still commits the whole reservation.

        Aggregation (federated.aggregation or --aggregation): plain (the server sums the clipped updates), \
        secagg (each update quantised and masked with SecAgg+; the server unmasks only the sum and adds the \
        noise) or ddg (the distributed discrete Gaussian: the clients add discrete Gaussian noise before \
        masking and the server only decodes a noisy sum). With secagg or ddg, --dropout applies inside the \
        protocol; a round left below its threshold aborts, releasing nothing, and the charge stands.

        Progress: one line per round (clients reached and dropped — shown only when the clients are a \
        configured split, since the number of distinct values of a column is private — and ε so far).

        The MNIST pipeline pipelines/mnist-logistic-federated-dirichlet.yaml splits MNIST (not shipped in \
        the repository) over 6,000 label-skewed clients; --clients changes the number of clients of a split.

        Examples:
          veil budget create health_panel_federated --epsilon 2 --delta 1e-5 --composition rdp
          veil federated simulate pipelines/health-panel-logistic-federated-eps1.yaml --rounds 3 --output /tmp/fed.safetensors
          veil federated simulate pipelines/health-panel-logistic-federated-eps1.yaml --rounds 2 --json --output /tmp/fed2.safetensors
        """)
    )

    @Argument(help: "The federated pipeline file (YAML).")
    var pipeline: String

    @Option(help: "Override the number of simulated clients of a split (federated.clients.count and declared_clients).")
    var clients: Int?

    @Option(help: "Override federated.rounds.")
    var rounds: Int?

    @Option(help: "Override the output path.")
    var output: String?

    @Option(parsing: .unconditional, help: "Probability that a sampled client drops out of a round, in [0, 1).",
            transform: DecimalArgument.parse)
    var dropout: Double = 0

    @Option(help: "Override federated.aggregation: plain, secagg (secure aggregation) or ddg (distributed discrete Gaussian).")
    var aggregation: String?

    @Option(help: "Every this many rounds, add the model's accuracy on the pipeline's test split to the progress line.")
    var evaluateEvery: Int?

    @Flag(help: "Print the final summary as one JSON object (progress goes to stderr).")
    var json = false

    @Option(help: "Who trains, recorded with the ledger charge ($USER when set, else analyst).")
    var analyst: String = DefaultAnalyst.name

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        TrainingAllocator.configure()
        var pipeline = try FederatedPipeline.load(path: self.pipeline)
        if let clients {
            try TrainingLimits.check(clients, in: FederatedSettings.clientLimit, name: "--clients")
            guard case .split(_, let skew, let seed) = pipeline.federated.clients else {
                throw VeilError(.invalidInput, "--clients applies to a split of the data; this pipeline's clients are "
                                + "the values of a column")
            }
            pipeline.federated.clients = .split(count: clients, skew: skew, seed: seed)
            pipeline.federated.declaredClients = clients
        }
        if let rounds {
            try TrainingLimits.check(rounds, in: FederatedSettings.roundLimit, name: "--rounds")
            pipeline.federated.rounds = rounds
        }
        if let output { pipeline.base.output = output }
        if let aggregation { pipeline.federated.aggregation = try FederatedAggregation(name: aggregation) }
        guard dropout >= 0, dropout < 1 else {
            throw VeilError(.invalidInput, "--dropout must be in [0, 1), got \(dropout)")
        }
        if let evaluateEvery { try TrainingLimits.check(evaluateEvery, in: FederatedSettings.roundLimit, name: "--evaluate-every") }

        let run = try FederatedRun.prepare(pipeline: pipeline, source: self.pipeline, analyst: analyst,
                                           charger: { scope in LedgerBudgetCharger(ledger: try ledger.open(), scope: scope) },
                                           status: { FileHandle.standardError.write(Data("\($0)\n".utf8)) })
        let plan = run.plan
        let err = FileHandle.standardError
        for warning in run.warnings { err.write(Data("warning: \(warning)\n".utf8)) }
        if let privacy = plan.privacy, let z = plan.noiseMultiplier {
            // Declared and derived settings only: the number of clients found in the data is never printed.
            err.write(Data(String(
                format: "%@: declared N = %d clients, q = %.6g, %d rounds, σ = %.4f, C = %g, target ε = %g at δ = %g (%@)\n",
                plan.settings.algorithm == .dpFTRL ? "DP-FTRL" : "DP-FedAvg", plan.settings.declaredClients, plan.samplingRate, plan.rounds, z, privacy.clipNorm,
                privacy.targetEpsilon, privacy.delta,
                plan.distributedGaussian == nil ? privacy.accountant.rawValue : "ddg").utf8))
        }
        err.write(Data("aggregation: \(plan.settings.aggregation.description)\n".utf8))
        let interval = max(1, plan.rounds / 50)
        var secure = SecureRandomSource()
        var order = SecureRandomSource()
        let release = try run.execute(dropoutRate: dropout, privacyRandom: &secure,
                                      orderRandom: &order, progressInterval: interval,
                                      evaluationInterval: evaluateEvery) { p in
            let line = FederatedProgressLine.text(p) + "\n"
            if json { err.write(Data(line.utf8)) } else { print(line, terminator: ""); fflush(nil) }
        }
        if json {
            var fields: [(String, JSONValue)] = [
                ("model", .string(release.modelPath)), ("rounds", .number(Double(release.rounds))),
                ("declared_clients", .number(Double(plan.settings.declaredClients))),
                ("sampling_rate", .number(plan.samplingRate)),
                ("aggregation", .string(plan.settings.aggregation.name)),
                ("epsilon", release.epsilon.map { .number($0) } ?? .null),
                ("delta", plan.privacy.map { .number($0.delta) } ?? .null),
                ("noise_multiplier", plan.noiseMultiplier.map { .number($0) } ?? .null),
                ("update_noise_multiplier", plan.updateNoiseMultiplier.map { .number($0) } ?? .null),
                ("clip_norm", plan.privacy.map { .number($0.clipNorm) } ?? .null),
                ("accountant", release.card.accountant.map { .string($0) } ?? .null),
                ("seconds", .number(release.seconds)),
                ("ledger_entry", release.card.ledgerEntry.map { .string($0) } ?? .null),
            ]
            if let evaluation = release.evaluation {
                fields += [("test_accuracy", .number(evaluation.accuracy)), ("test_loss", .number(evaluation.loss))]
            }
            print(JSONValue.object(fields).rendered)
        } else {
            print("wrote \(release.modelPath)")
            if let epsilon = release.epsilon, let privacy = plan.privacy, let z = plan.noiseMultiplier {
                print(String(format: "privacy: client-level ε = %.4f at δ = %g (%@), %d rounds, q = %.6g, σ = %.4f, C = %g",
                             epsilon, privacy.delta, release.card.accountant ?? privacy.accountant.rawValue,
                             release.rounds, plan.samplingRate, z,
                             privacy.clipNorm))
            } else {
                print("privacy: none — FedAvg without differential privacy")
            }
            if let evaluation = release.evaluation {
                print(String(format: "test: accuracy %.4f, loss %.4f on %d examples", evaluation.accuracy, evaluation.loss,
                             evaluation.examples))
            }
            print("aggregation: \(plan.settings.aggregation.description)")
            print(String(format: "time: %.1f s", release.seconds))
            if let reservation = release.reservation, let ledgerPath = release.ledgerPath {
                print("ledger: charged ε \(reservation.cost.epsilon), δ \(reservation.cost.delta) to \(reservation.scope) "
                      + "(entry \(reservation.id) of \(ledgerPath))")
            }
        }
    }
}

/// One progress line per reported round: clients reached and dropped (a public population only), ε so far.
enum FederatedProgressLine {
    static func text(_ p: FederatedProgress) -> String {
        var parts = ["round \(p.round)/\(p.totalRounds)"]
        if let reached = p.clientsReached, let dropped = p.clientsDropped {
            parts.append("clients reached \(reached), dropped \(dropped)")
        } else {
            parts.append(String(format: "clients expected %.1f", p.expectedClients))
        }
        parts.append(p.epsilonSpent.map { String(format: "ε %.3f", $0) } ?? "non-private")
        if let c = p.clipNorm { parts.append(String(format: "C %.4g", c)) }
        parts.append(String(format: "%.1f s", p.elapsedSeconds))
        if let accuracy = p.testAccuracy { parts.append(String(format: "test accuracy %.4f", accuracy)) }
        return parts.joined(separator: "  ")
    }
}
