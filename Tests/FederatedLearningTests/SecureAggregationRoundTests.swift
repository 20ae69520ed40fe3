import FederatedLearning
import Foundation
import Mechanisms
import PrivateTraining
import SecureAggregation
import Testing
import _TestSupport

@Suite("Secure aggregation of federated updates")
struct SecureAggregationRoundTests {
    /// `count` random updates of `dimension` values, clipped to norm 1.
    private func updates(count: Int, dimension: Int, seed: UInt64) -> [[Float]] {
        var random = InsecureSeededRandomSource(seed: seed)
        return (0..<count).map { _ in
            let raw = (0..<dimension).map { _ in Float(Double(random.next() >> 11) * 0x1p-53 * 2 - 1) }
            return UpdateClipping.clip(raw, clipNorm: 1).update
        }
    }

    /// Runs one round and returns the aggregator, the quantised inputs it held, and the decoded sum.
    private func round(_ inputs: [[Float]], dropoutRate: Double, seed: UInt64, bitWidth: Int = 32)
        throws -> (SecureAggregationAggregator<InsecureSeededRandomSource>, [(client: Int, values: [Int64])], [Double]) {
        let quantizer = try UpdateQuantizer(clipNorm: 1, bitWidth: bitWidth, maximumClients: 1000)
        var aggregator = try SecureAggregationAggregator(quantizer: quantizer, dropoutRate: dropoutRate,
                                                         random: InsecureSeededRandomSource(seed: seed))
        aggregator.beginRound(1, dimension: inputs[0].count)
        for (i, update) in inputs.enumerated() { try aggregator.accept(update, from: 100 + i) }
        let quantized = aggregator.quantizedInputs
        let sum = try aggregator.finishRound()
        return (aggregator, quantized, sum)
    }

    private func plainSum(_ quantized: [(client: Int, values: [Int64])], of clients: Set<Int>) -> [Int64] {
        var sum = [Int64](repeating: 0, count: quantized[0].values.count)
        for input in quantized where clients.contains(input.client) {
            for i in sum.indices { sum[i] += input.values[i] }
        }
        return sum
    }

    @Test("the unmasked sum equals the plain sum of the quantised updates exactly, and decodes near the real sum")
    func exactSum() throws {
        let inputs = updates(count: 10, dimension: 40, seed: 3)
        let (aggregator, quantized, decoded) = try round(inputs, dropoutRate: 0, seed: 5)
        let record = try #require(aggregator.lastRound)
        #expect(record.included == Set(100..<110))
        let expected = plainSum(quantized, of: record.included)
        #expect(record.quantizedSum == expected)
        #expect(decoded == expected.map { Double($0) * aggregator.quantizer.step })
        // Stochastic rounding moves each coordinate of each update by less than one step g.
        for i in decoded.indices {
            let real = inputs.reduce(0.0) { $0 + Double($1[i]) }
            #expect(abs(decoded[i] - real) < 10 * aggregator.quantizer.step)
        }
    }

    @Test("with dropouts below the threshold the round completes with the sum of exactly the clients that sent masked inputs")
    func dropoutsBelowThreshold() throws {
        let inputs = updates(count: 16, dimension: 24, seed: 7)
        var sawBefore = false, sawAfter = false
        // Ten fixed seeds (deterministic); among them, rounds with dropouts before and after the masked input.
        for seed in UInt64(11)..<21 {
            let (aggregator, quantized, decoded) = try round(inputs, dropoutRate: 0.1, seed: seed)
            let record = try #require(aggregator.lastRound)
            let droppedBefore = Set(100..<116).subtracting(record.included)
            #expect(droppedBefore.isSubset(of: record.dropped) && record.included.count >= 8)
            if !droppedBefore.isEmpty { sawBefore = true }
            if !record.dropped.subtracting(droppedBefore).isEmpty { sawAfter = true }
            #expect(record.quantizedSum == plainSum(quantized, of: record.included))
            #expect(decoded == record.quantizedSum.map { Double($0) * aggregator.quantizer.step })
        }
        #expect(sawBefore && sawAfter, "clients dropped before (not in the sum) and after (in the sum) their masked input")
    }

    @Test("with dropouts above the threshold the round aborts and releases nothing")
    func dropoutsAboveThreshold() throws {
        let inputs = updates(count: 12, dimension: 8, seed: 9)
        let quantizer = try UpdateQuantizer(clipNorm: 1, bitWidth: 32, maximumClients: 1000)
        var aggregator = try SecureAggregationAggregator(quantizer: quantizer, dropoutRate: 0.95,
                                                         random: InsecureSeededRandomSource(seed: 13))
        aggregator.beginRound(1, dimension: 8)
        for (i, update) in inputs.enumerated() { try aggregator.accept(update, from: i) }
        let error = #expect(throws: VeilError.self) { _ = try aggregator.finishRound() }
        #expect(error?.code == .roundAborted)
        #expect(aggregator.lastRound == nil, "no sum recorded")
    }

    @Test("fewer than 3 clients cannot be hidden: the round aborts")
    func tooFewClients() throws {
        let quantizer = try UpdateQuantizer(clipNorm: 1, bitWidth: 32, maximumClients: 10)
        var aggregator = try SecureAggregationAggregator(quantizer: quantizer, random: InsecureSeededRandomSource(seed: 1))
        aggregator.beginRound(1, dimension: 2)
        try aggregator.accept([0.5, 0.5], from: 1)
        try aggregator.accept([0.5, -0.5], from: 2)
        let error = #expect(throws: VeilError.self) { _ = try aggregator.finishRound() }
        #expect(error?.code == .roundAborted)
    }

    @Test("the largest possible sum of the declared clients' updates decodes exactly, never wrapping around")
    func noWrapAround() throws {
        // b = 16, n = 127: M = ⌊32767 / 127⌋ = 258 levels, and n·M = 32766 < 2^15.
        let quantizer = try UpdateQuantizer(clipNorm: 2, bitWidth: 16, maximumClients: 127)
        #expect(quantizer.levels == 258)
        var random = InsecureSeededRandomSource(seed: 1)
        for sign in [Float(1), -1] {
            // Each update at the clip norm in one coordinate: every quantised value is ±M exactly.
            var sum = [UInt64](repeating: 0, count: 1)
            for _ in 0..<127 {
                let q = quantizer.residues(quantizer.quantize([sign * 2], using: &random))
                sum[0] = (sum[0] + q[0]) & 0xFFFF
            }
            #expect(quantizer.centred(sum) == [Int64(sign) * 127 * 258])
            #expect(quantizer.decode(sum) == [Double(sign) * 127 * 2])
        }
        // A value beyond C (or not finite) is clamped, so it cannot push the sum past the bound.
        #expect(quantizer.quantize([3, .infinity, -.infinity, .nan], using: &random) == [258, 258, -258, 0])
    }

    @Test("a modulus too small for the declared clients is refused before anything runs")
    func refusesWrappingParameters() throws {
        // b = 16, n = 128: M = ⌊32767 / 128⌋ = 255 < 256 levels.
        let error = #expect(throws: VeilError.self) {
            _ = try UpdateQuantizer(clipNorm: 1, bitWidth: 16, maximumClients: 128)
        }
        #expect(error?.code == .invalidParameter)
        #expect(error?.message.contains("at least 17") == true)
    }

    @Test("stochastic rounding is unbiased: the mean of many roundings of 0.3·g is 0.3·g")
    func unbiasedRounding() throws {
        let quantizer = try UpdateQuantizer(clipNorm: 1, bitWidth: 32, maximumClients: 1000)
        var random = InsecureSeededRandomSource(seed: 21)
        let value = Float(0.3 * quantizer.step)
        let n = 20_000
        let ups = (0..<n).reduce(0) { acc, _ in acc + Int(quantizer.quantize([value], using: &random)[0]) }
        // Binomial(20000, 0.3): sd ≈ 64.8; |ups − 6000| > 6 sd has probability < 2e-9.
        #expect(abs(ups - 6000) < 389)
    }

    private func prepare(_ folder: URL, charger: RecordingCharger, extra: String) throws -> FederatedRun {
        try FederatedTestData.writeCSV(rows: 300, in: folder)
        let yaml = FederatedTestData.pipeline(folder: folder, clients: 100, perRound: 50, rounds: 3,
                                              extraFederated: extra)
        let pipeline = try FederatedPipeline.parse(yaml: yaml, baseDirectory: folder.path)
        return try FederatedRun.prepare(pipeline: pipeline, source: "test", analyst: "a", charger: { _ in charger })
    }

    @Test("a run with aggregation secagg trains, charges DP-FedAvg's event and says so on the model's card")
    func secureRun() throws {
        let folder = try TemporaryDirectory.make("fed-secagg")
        defer { try? FileManager.default.removeItem(at: folder) }
        let charger = RecordingCharger()
        let run = try prepare(folder, charger: charger, extra: "  aggregation: secagg")
        #expect(run.plan.settings.aggregation == .secureAggregation(bitWidth: 32))
        var privacy = InsecureSeededRandomSource(seed: 1), order = InsecureSeededRandomSource(seed: 2)
        let release = try run.execute(dropoutRate: 0.05, privacyRandom: &privacy, orderRandom: &order)
        #expect(release.rounds == 3)
        let (event, _) = try #require(charger.reserved.first)
        #expect(event == run.plan.event(rounds: 3), "the same accounting as DP-FedAvg")
        #expect(charger.committed == ["sha256:" + release.modelDigest])
        let card = try SafetensorsFile.read(path: release.modelPath).card
        #expect(card.notes.contains { $0.contains("secure aggregation (SecAgg+") })
    }

    @Test("a round aborted by dropouts stops the run: nothing is written and the whole reservation stays charged")
    func abortedRunKeepsCharge() throws {
        let folder = try TemporaryDirectory.make("fed-secagg-abort")
        defer { try? FileManager.default.removeItem(at: folder) }
        let charger = RecordingCharger()
        let run = try prepare(folder, charger: charger, extra: "  aggregation: secagg")
        var privacy = InsecureSeededRandomSource(seed: 1), order = InsecureSeededRandomSource(seed: 2)
        // 95% of ~50 clients drop out inside the protocol: too few are left to send unmasking answers
        // (the round needs half of them), so round 1 aborts; the chance that it does not is below 1e-20.
        let error = #expect(throws: VeilError.self) {
            _ = try run.execute(dropoutRate: 0.95, privacyRandom: &privacy, orderRandom: &order)
        }
        #expect(error?.code == .roundAborted)
        #expect(charger.reserved.count == 1)
        #expect(charger.committed == ["stopped-early:after-round-0"])
        #expect(charger.refunded.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("model.safetensors").path))
    }

    @Test("the pipeline's aggregation key: secagg refused without privacy, with adaptive clipping or a wrapping modulus")
    func pipelineChecks() throws {
        let folder = URL(fileURLWithPath: "/nonexistent")
        func plan(epsilon: Double? = 8, _ extra: String) throws -> FederatedPlan {
            let yaml = FederatedTestData.pipeline(folder: folder, clients: 200, perRound: 50, rounds: 3, epsilon: epsilon,
                                                  extraFederated: extra)
            let pipeline = try FederatedPipeline.parse(yaml: yaml, baseDirectory: "/")
            return try FederatedPlan(settings: pipeline.federated, privacy: pipeline.base.privacy)
        }
        #expect(try plan("  aggregation: secagg\n  aggregation_bit_width: 20").updateQuantizer?.bitWidth == 20)
        #expect(try plan("").settings.aggregation == .plain)
        #expect(throws: VeilError.self) { try plan("  aggregation: shamir") }
        #expect(throws: VeilError.self) { try plan(epsilon: nil, "  aggregation: secagg") }
        #expect(throws: VeilError.self) {
            try plan("  aggregation: secagg\n  adaptive_clipping:\n    count_noise_stddev: 10")
        }
        // 200 declared clients: ⌊(2^15 − 1)/200⌋ = 163 < 256 levels at b = 16 (b = 17 gives 327).
        #expect(throws: VeilError.self) { try plan("  aggregation: secagg\n  aggregation_bit_width: 16") }
    }
}
