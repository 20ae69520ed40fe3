import BudgetLedger
import FederatedLearning
import Foundation
import Mechanisms
import PrivateTraining

/// A one-run audit of a federated training run with canary clients (Steinke, Nasr & Jagielski 2023, applied
/// at the federated privacy unit, the client).
///
/// `m` canary clients are made of held-out examples (the test split) with wrong labels, `k` examples each;
/// each client joins the population independently with probability ½. The pipeline then runs once as
/// `veil federated simulate` runs it (client sampling, local training, update clipping, aggregation and
/// noise as configured), and the final model scores every canary client by its mean loss on the client's
/// wrong labels; guesses and the bound are as in ``TrainingAudit``.
///
/// The run is a throw-away: its model file goes to a temporary folder that is deleted afterwards and its cost
/// to no ledger (``InsecureUnrecordedBudgetCharger``). The report holds counts and bounds only.
public struct FederatedAudit: OneRunAuditReport, Sendable {
    /// The claimed client-level (ε, δ).
    public let claim: PrivacyClaim
    /// The bound and the counts behind it (canaries and guesses counted in clients).
    public let result: OneRunAudit
    /// Examples each canary client holds.
    public let examplesPerCanary: Int
    /// How many canary clients joined (about half; random, not data).
    public let includedCanaries: Int
    /// Rounds run.
    public let rounds: Int
    /// Seconds the rounds took.
    public let trainingSeconds: Double

    /// Audits one run of a federated pipeline.
    ///
    /// - Parameters:
    ///   - pipeline: the federated pipeline; its test split supplies the canaries' examples.
    ///   - claim: the (ε, δ) to test; `nil` takes the plan's planned ε and δ (FedAvg needs one).
    ///   - canaries: canary clients `m ≥ 2`.
    ///   - examplesPerCanary: `k ≥ 1`; the test split needs `m·k` examples.
    ///   - guesses: `r`, even, in `2...m`.
    ///   - confidence: in (0, 1).
    ///   - source: draws the canaries and their inclusion and drives client sampling and noise (a
    ///     ``SecureRandomSource`` outside tests).
    ///   - status: the feature layers' progress lines.
    ///   - progress: the rounds' progress reports.
    /// - Throws: ``VeilError`` for the pipeline, its data or the parameters, before any round runs.
    public init<R: RandomSource>(pipeline: FederatedPipeline, claim: PrivacyClaim? = nil, canaries: Int,
                                 examplesPerCanary: Int, guesses: Int, confidence: Double = 0.95,
                                 using source: inout R, status: (String) -> Void = { _ in },
                                 progress: (FederatedProgress) -> Void = { _ in }) throws {
        try OneRunAudit.checkCounts(canaries: canaries, guesses: guesses)
        try ParameterCheck.count(examplesPerCanary, name: "examples per canary", minimum: 1)
        // Checked before anything is read: a product that overflows `Int` would trap.
        let (needed, overflow) = canaries.multipliedReportingOverflow(by: examplesPerCanary)
        guard !overflow else {
            throw VeilError.invalidParameter("examples per canary", examplesPerCanary,
                                             allowed: "small enough that canaries × examples per canary fits in an integer")
        }
        try ParameterCheck.confidenceLevel(confidence, name: "confidence")
        let plan = try FederatedPlan(settings: pipeline.federated, privacy: pipeline.base.privacy)
        self.claim = try claim ?? OneRunAudit.plannedClaim(epsilon: plan.plannedEpsilon, delta: plan.privacy?.delta)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var throwAway = pipeline
        throwAway.base.output = folder.appendingPathComponent("model.safetensors").path
        // Nothing is charged, so the pipeline need not name a budget.
        throwAway.base.ledgerScope = throwAway.base.ledgerScope ?? InsecureUnrecordedBudgetCharger.scope

        var drawn: CanarySet?
        let run = try FederatedRun.prepare(
            pipeline: throwAway, source: "veil audit federated", analyst: "veil audit federated",
            charger: { _ in InsecureUnrecordedBudgetCharger() }, status: status
        ) { data in
            guard let test = data.test, test.count >= needed else {
                throw VeilError(.invalidInput, """
                    \(canaries) canary clients of \(examplesPerCanary) examples need \(needed) held-out examples; \
                    the test split has \(data.test?.count ?? 0)
                    """)
            }
            let canarySet = CanarySet(pool: test, count: canaries, groupSize: examplesPerCanary, using: &source)
            let first = data.examples.count
            data.examples = try canarySet.trainingSet(adding: data.examples)
            let joined = canarySet.included.filter { $0 }.count
            data.clients += (0..<joined).map { Array((first + $0 * examplesPerCanary)..<(first + ($0 + 1) * examplesPerCanary)) }
            drawn = canarySet
        }
        guard let drawn else { preconditionFailure("prepare edits the clients before it returns") }
        // Local batch order only; client sampling and noise draw from `source`.
        var order = InsecureSeededRandomSource(seed: source.next())
        let release = try run.execute(privacyRandom: &source, orderRandom: &order,
                                      progressInterval: max(1, plan.rounds / 10), progress: progress)
        result = try OneRunAudit(canaries: canaries, guesses: guesses,
                                 correct: drawn.rightGuesses(model: release.head, guesses: guesses),
                                 delta: self.claim.delta, confidence: confidence)
        self.examplesPerCanary = examplesPerCanary
        includedCanaries = drawn.included.filter { $0 }.count
        rounds = release.rounds
        trainingSeconds = release.seconds
    }
}
