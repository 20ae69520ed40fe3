import BudgetLedger
import Foundation
import LinearAlgebra
import Mechanisms
import PrivateTraining
import SecureAggregation

/// A federated run over the network: the aggregator of `veil federated serve`. The clients are a roster (public
/// to the operator: N is the declared client count and the realised counts of a round may be shown); each round
/// the server Poisson-samples roster entries, publishes the model to them, waits until every sampled client has
/// sent its update or the round deadline passes, and runs the round (``FederatedRounds``) on the updates that
/// arrived — the same code path as the simulation, with late clients counted as dropped. The charging follows
/// ``FederatedRun``: the whole plan is reserved before round 1 and committed with the model's digest, or in full
/// if the run stops early.
public struct FederatedServerRun {
    /// The model file written and the run's figures.
    @dynamicMemberLookup
    public struct Release: Sendable {
        /// What the run released and spent, as a simulated run reports it (no test-split evaluation).
        public var run: FederatedRun.Release
        /// Updates refused, by kind.
        public var refusals: [String: Int]

        public subscript<T>(dynamicMember keyPath: KeyPath<FederatedRun.Release, T>) -> T { run[keyPath: keyPath] }
    }

    public let pipeline: FederatedPipeline
    public let plan: FederatedPlan
    public let roster: ClientRoster
    private let model: SequentialModel
    private let local: LocalTraining
    private let releasing: FederatedRelease

    /// The metadata key of the local training settings the server sends with its model.
    public static let localTrainingKey = "veil.federated.local_training"

    public var warnings: [String] { plan.warnings }

    /// Checks the pipeline, the plan, the budget and the output path and builds the initial model; reads no data
    /// (the server has none). The model's input is the pipeline's declared tabular feature columns.
    public static func prepare(pipeline: FederatedPipeline, roster: ClientRoster, source: String, analyst: String,
                               charger makeCharger: (_ scope: String) throws -> any BudgetCharger) throws -> FederatedServerRun {
        try ModelFileDestination.validate(pipeline.base.output)
        var plan = try FederatedPlan(settings: pipeline.federated, privacy: pipeline.base.privacy)
        let local = try LocalTraining(pipeline.base.training)
        let charger = try FederatedRelease.openCharger(pipeline: pipeline, source: source, makeCharger: makeCharger)
        let description: TrainingDataDescription
        switch pipeline.base.data {
        case .csv(_, _, let columns), .sqlite(_, _, _, let columns):
            guard let features = columns.featureColumns, !features.isEmpty else {
                throw VeilError(.invalidInput, "\(source): a server needs data.feature_columns (it reads no data to find them)")
            }
            let format: TrainingDataDescription.Format = if case .csv = pipeline.base.data { .csv } else { .sqlite }
            description = TrainingDataDescription(format: format, classes: pipeline.base.classes,
                                                  labelColumn: columns.labelColumn, featureColumns: features,
                                                  featureBounds: columns.featureBounds.isEmpty ? nil : columns.featureBounds)
        case .idx:
            throw VeilError(.invalidInput, "\(source): `veil federated serve` takes tabular pipelines (csv or sqlite data)")
        }
        var secure = SecureRandomSource()
        let model = try SequentialModel(architecture: pipeline.base.layerSpecifications,
                                        inputShape: ImageShape(height: 1, width: 1,
                                                               channels: description.featureColumns?.count ?? 0),
                                        random: &secure)
        // The distributed discrete Gaussian is calibrated to the model's size (declared architecture and input).
        plan = try plan.withDistributedGaussian(dimension: model.parameterCount)
        if plan.settings.aggregation != .plain, plan.updateQuantizer == nil, plan.distributedGaussian == nil {
            throw VeilError(.invalidParameter, "aggregation \(plan.settings.aggregation.name) needs a privacy target with clip_norm")
        }
        try ModelFileDestination.prepare(pipeline.base.output)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let metadata = [TrainingDataDescription.metadataKey: description.json,
                        localTrainingKey: String(decoding: try encoder.encode(local), as: UTF8.self)]
        let releasing = FederatedRelease(
            plan: plan, local: local, clients: nil, charger: charger, analyst: analyst,
            purpose: "veil federated serve \(source) → \(pipeline.base.output) (roster of \(roster.clients.count) clients)",
            ledgerScope: pipeline.base.ledgerScope, output: pipeline.base.output, metadata: metadata)
        return FederatedServerRun(pipeline: pipeline, plan: plan, roster: roster, model: model, local: local,
                                  releasing: releasing)
    }

    /// Serves every round, then writes the model and commits the charge.
    /// - Parameters:
    ///   - configuration: where to listen.
    ///   - roundDeadline: how long a round waits for its sampled clients.
    ///   - onListening: receives the bound port.
    ///   - progress: one report per round.
    public func execute(configuration: FederatedServer.Configuration, roundDeadline: Duration,
                        onListening: @escaping @Sendable (Int) -> Void,
                        progress: (FederatedProgress) -> Void) async throws -> Release {
        let coordinator = RoundCoordinator()
        let template = model
        let server = FederatedServer(roster: roster, coordinator: coordinator, configuration: configuration) {
            try UpdateMessage.decode($0, expecting: template)
        }
        // The server must be listening before anything is reserved: a port in use fails the run at no cost.
        let listening = ListeningState()
        let serverTask = Task {
            do {
                try await server.run { port in
                    listening.set(.success(port))
                    onListening(port)
                }
            } catch {
                listening.set(.failure(error))
            }
        }
        defer { serverTask.cancel() }
        let startDeadline = ContinuousClock.now.advanced(by: .seconds(30))
        while listening.value == nil, ContinuousClock.now < startDeadline { try await Task.sleep(for: .milliseconds(10)) }
        switch listening.value {
        case .success: break
        case .failure(let error):
            throw VeilError(.federatedNetwork, "the federated server could not listen on \(configuration.host):\(configuration.port): \(error)")
        case nil:
            throw VeilError(.federatedNetwork, "the federated server did not start listening within 30 s")
        }
        var rounds = try FederatedRounds(plan: plan, local: local, model: model, clientCount: roster.clients.count)
        var aggregator = PlainSumAggregator()
        var secure = SecureRandomSource()
        let reservation = try releasing.reserve()
        let started = Date()
        do {
            for round in 1...plan.rounds {
                let sampled = rounds.sampleClients(using: &secure)
                var card = try releasing.card(roundsRun: round - 1)
                card.notes.append("an intermediate model of a federated run, sent to the clients of round \(round)")
                if plan.settings.aggregation != .plain {
                    let outcome = try await secureRound(round, clients: sampled.map { roster.clients[$0] }, card: card,
                                                        rounds: &rounds, coordinator: coordinator,
                                                        roundDeadline: roundDeadline, random: &secure)
                    progress(FederatedProgress(
                        round: round, totalRounds: plan.rounds, clientsReached: outcome.reached,
                        clientsDropped: outcome.dropped, expectedClients: plan.expectedClientsPerRound,
                        epsilonSpent: try releasing.epsilon(roundsRun: round), clipNorm: rounds.clipNorm,
                        elapsedSeconds: Date().timeIntervalSince(started)))
                    continue
                }
                let body = try SafetensorsFile.encode(model: rounds.model, card: card, extraMetadata: releasing.metadata)
                await coordinator.open(round: round, clients: Set(sampled.map { roster.clients[$0] }), model: body)
                let deadline = ContinuousClock.now.advanced(by: roundDeadline)
                while ContinuousClock.now < deadline, !(await coordinator.complete) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let received = await coordinator.close()
                // An update the server could not use (empty) is the client's zero update.
                let zero = [Float](repeating: 0, count: template.parameterCount)
                let outcome = try rounds.runRound(clients: sampled, aggregator: &aggregator, privacyRandom: &secure) {
                    received[roster.clients[$0]].map { $0.isEmpty ? zero : $0 }
                }
                progress(FederatedProgress(
                    round: round, totalRounds: plan.rounds, clientsReached: outcome.reached, clientsDropped: outcome.dropped,
                    expectedClients: plan.expectedClientsPerRound, epsilonSpent: try releasing.epsilon(roundsRun: round),
                    clipNorm: rounds.clipNorm, elapsedSeconds: Date().timeIntervalSince(started)))
            }
            await coordinator.finish()
            let (card, digest) = try releasing.release(model: rounds.model, roundsRun: rounds.roundsDone,
                                                      reservation: reservation)
            // Clients polling for work learn that the run is over before the server stops.
            try? await Task.sleep(for: .seconds(1.5))
            let run = FederatedRun.Release(
                modelPath: pipeline.base.output, card: card, rounds: rounds.roundsDone, epsilon: card.epsilon,
                seconds: Date().timeIntervalSince(started), modelDigest: digest, reservation: reservation,
                ledgerPath: releasing.charger?.ledgerPath, evaluation: nil, head: rounds.model)
            return Release(run: run, refusals: await coordinator.refusals)
        } catch {
            releasing.stopEarly(reservation, roundsRun: rounds.roundsDone)
            throw error
        }
    }
}

extension FederatedServerRun {
    /// One round of secure aggregation over the network: the sampled `clients` (in SecAgg+ index order) fetch the
    /// model with the round's ``SecureRoundDescription``, train, clip and encode their updates, and run SecAgg+ with
    /// the server (``SecAggRelay`` over ``SecAggServer``, the state machine the simulation drives). Each step waits
    /// until every client it expects has answered or `roundDeadline` passes; then the server closes it. The
    /// unmasked sum is decoded and applied by ``FederatedRounds/apply(sum:noiseFromClients:reached:centredCount:privacyRandom:)``
    /// — the server adds the Gaussian noise for `secagg`, none for `ddg` (the clients did).
    /// - Throws: `round_aborted` (nothing released) when the round has fewer clients than the aggregation needs or
    ///   more than its modulus was sized for, or falls below SecAgg+'s minimum at any step.
    func secureRound<R: RandomSource>(_ round: Int, clients: [String], card: PrivacyCard, rounds: inout FederatedRounds,
                                      coordinator: RoundCoordinator, roundDeadline: Duration,
                                      random: inout R) async throws -> (reached: Int, dropped: Int) {
        let dimension = model.parameterCount
        var configuration: SecAggConfiguration
        let description: (SecAggConfiguration, UInt64) -> SecureRoundDescription
        if let ddg = plan.distributedGaussian {
            guard clients.count >= ddg.minimumClients else {
                throw SecureAggregationAggregatorError.tooFewClients(minimum: ddg.minimumClients)
            }
            guard clients.count <= ddg.parameters.clients else {
                throw SecureAggregationAggregatorError.tooManyClients(ddg.parameters.clients)
            }
            let defaults = try SecAggConfiguration.secAggPlus(clientCount: clients.count,
                                                              vectorLength: ddg.parameters.paddedDimension,
                                                              bitWidth: ddg.parameters.bitWidth)
            // The server refuses to unmask a sum of fewer masked inputs than the accounting counts on.
            configuration = try SecAggConfiguration(
                clientCount: defaults.clientCount, vectorLength: defaults.vectorLength, bitWidth: defaults.bitWidth,
                neighbours: defaults.neighbours, threshold: defaults.threshold,
                minimumSurvivors: max(defaults.minimumSurvivors, ddg.minimumClients))
            let rotationSeed = (0..<4).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }
            description = { .distributedGaussian(ddg.parameters, rotationSeed: rotationSeed, configuration: $0, roundID: $1) }
        } else {
            guard let quantizer = plan.updateQuantizer else {
                throw VeilError(.invalidParameter, "aggregation secagg needs a privacy target with clip_norm")
            }
            guard clients.count >= 3 else { throw SecureAggregationAggregatorError.tooFewClients(minimum: 3) }
            guard clients.count <= quantizer.maximumClients else {
                throw SecureAggregationAggregatorError.tooManyClients(quantizer.maximumClients)
            }
            configuration = try SecAggConfiguration.secAggPlus(clientCount: clients.count, vectorLength: dimension,
                                                               bitWidth: quantizer.bitWidth)
            description = { .quantized(quantizer, configuration: $0, roundID: $1) }
        }
        let server = try SecAggServer(configuration: configuration, using: &random)
        let published = description(configuration, server.roundID)
        var metadata = releasing.metadata
        metadata[SecureRoundDescription.metadataKey] = String(decoding: try JSONEncoder().encode(published), as: UTF8.self)
        let body = try SafetensorsFile.encode(model: rounds.model, card: card, extraMetadata: metadata)
        await coordinator.open(round: round, clients: clients, model: body, relay: SecAggRelay(server: server))
        var step = SecAggRelay.Step.advertising
        while step != .finished {
            let deadline = ContinuousClock.now.advanced(by: roundDeadline)
            while ContinuousClock.now < deadline, !(await coordinator.secureStepComplete) {
                try await Task.sleep(for: .milliseconds(20))
            }
            // The roster is public to the operator, so the abort may count clients (unlike a simulation's).
            step = try await coordinator.closeSecureStep()
        }
        _ = await coordinator.close()
        guard let result = await coordinator.secureResult else {
            throw VeilError(.roundAborted, "round aborted, nothing released: the round of secure aggregation did not finish")
        }
        try rounds.apply(sum: try published.decode(result.sum), noiseFromClients: published.noiseFromClients,
                         reached: result.included, privacyRandom: &random)
        return (result.included, clients.count - result.included)
    }
}

/// Whether the server task is listening (with its port) or failed to start, set once from the server task.
private final class ListeningState: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Result<Int, any Error>?
    func set(_ value: Result<Int, any Error>) { lock.withLock { if stored == nil { stored = value } } }
    var value: Result<Int, any Error>? { lock.withLock { stored } }
}

