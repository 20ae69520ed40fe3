import Accounting
import Foundation
import Testing

/// Unsupported events and invalid parameters raise `VeilError` with the right code.
@Suite("PLD accountant errors")
struct PLDErrorTests {
    static func code(_ body: () throws -> Void) -> VeilError.Code? {
        do { try body() } catch let error as VeilError { return error.code } catch { return nil }
        return nil
    }

    @Test("Poisson sampling of a composition is unsupported, with a message naming what is")
    func unsupportedEvents() throws {
        let accountant = try PLDAccountant()
        let unsupported: [DPEvent] = [
            .poissonSampled(samplingRate: 0.1, event: .composed([.gaussian(noiseMultiplier: 1), .laplace(noiseMultiplier: 1)])),
            .poissonSampled(samplingRate: 0.1, event: .selfComposed(event: .gaussian(noiseMultiplier: 1), count: 3)),
            .selfComposed(event: .poissonSampled(samplingRate: 0.5,
                                                 event: .poissonSampled(samplingRate: 0.5, event: .composed([.gaussian(noiseMultiplier: 1)]))),
                          count: 2),
        ]
        for event in unsupported {
            do {
                _ = try accountant.epsilon(for: event, delta: 1e-5)
                Issue.record("no error for \(event)")
            } catch let error as VeilError {
                #expect(error.code == .unsupported)
                #expect(error.message.contains("supported: gaussian, laplace"))
            }
            #expect(Self.code { _ = try accountant.delta(for: event, epsilon: 1) } == .unsupported)
        }
    }

    @Test("invalid δ, ε, grid steps and event parameters are rejected")
    func invalidParameters() throws {
        let accountant = try PLDAccountant()
        let gaussian = DPEvent.gaussian(noiseMultiplier: 1)
        for delta in [0.0, 1.0, -1e-5, 2.0, .nan, .infinity] {
            #expect(Self.code { _ = try accountant.epsilon(for: gaussian, delta: delta) } == .invalidParameter)
        }
        for epsilon in [-0.1, .nan, .infinity] {
            #expect(Self.code { _ = try accountant.delta(for: gaussian, epsilon: epsilon) } == .invalidParameter)
        }
        for step in [0.0, -1e-4, .nan, .infinity] {
            #expect(Self.code { _ = try PLDAccountant(valueDiscretizationInterval: step) } == .invalidParameter)
        }
        let badEvents: [DPEvent] = [
            .gaussian(noiseMultiplier: 0), .laplace(noiseMultiplier: -1),
            .discreteLaplace(scale: 1, sensitivity: 0), .discreteGaussian(sigma: .nan, sensitivity: 1),
            .epsilonDelta(epsilon: 1, delta: 1), .poissonSampled(samplingRate: 1.5, event: gaussian),
            .selfComposed(event: gaussian, count: -1), .composed([gaussian, .gaussian(noiseMultiplier: -2)]),
        ]
        for event in badEvents {
            #expect(Self.code { _ = try accountant.epsilon(for: event, delta: 1e-5) } == .invalidParameter, "\(event)")
        }
    }

    @Test("hand-built PLDs are validated, and grids must match to compose")
    func distributionValidation() throws {
        #expect(Self.code { _ = try PrivacyLossDistribution(valueDiscretizationInterval: 1e-3, lowestIndex: 0,
                                                            probabilities: [0.6, 0.6], infinityMass: 0) } == .invalidParameter)
        #expect(Self.code { _ = try PrivacyLossDistribution(valueDiscretizationInterval: 1e-3, lowestIndex: 0,
                                                            probabilities: [-0.1, 0.5], infinityMass: 0) } == .invalidParameter)
        #expect(Self.code { _ = try PrivacyLossDistribution(valueDiscretizationInterval: 1e-3, lowestIndex: 0,
                                                            probabilities: [0.5], infinityMass: 1.5) } == .invalidParameter)
        let a = try PrivacyLossDistribution.identity(valueDiscretizationInterval: 1e-3)
        let b = try PrivacyLossDistribution.identity(valueDiscretizationInterval: 1e-4)
        #expect(Self.code { _ = try a.composed(with: b) } == .invalidParameter)
        #expect(Self.code { _ = try a.selfComposed(-1) } == .invalidParameter)
    }

    @Test("a grid too large for memory is refused with a numerical error")
    func gridTooLarge() throws {
        for step in [1e-9, 1e-300] {
            let accountant = try PLDAccountant(valueDiscretizationInterval: step)
            for event: DPEvent in [.epsilonDelta(epsilon: 1, delta: 0), .gaussian(noiseMultiplier: 1),
                                   .laplace(noiseMultiplier: 1), .discreteLaplace(scale: 1, sensitivity: 1)] {
                #expect(Self.code { _ = try accountant.epsilon(for: event, delta: 1e-5) } == .numerical, "Δ=\(step) \(event)")
            }
        }
    }

    @Test("the accountant is named pld")
    func name() throws {
        #expect(try PLDAccountant().name == "pld")
        #expect(try PLDAccountant().valueDiscretizationInterval == 1e-4)
    }
}

@Suite("PLD accountant limits")
struct PLDLimitTests {
    @Test("a composition beyond the grid's index range is refused, not trapped")
    func hugeCount() throws {
        let accountant = try PLDAccountant()
        let event = DPEvent.selfComposed(event: .epsilonDelta(epsilon: 1, delta: 0), count: Int.max / 2)
        #expect(PLDErrorTests.code { _ = try accountant.epsilon(for: event, delta: 1e-5) } == .numerical)
    }
}
