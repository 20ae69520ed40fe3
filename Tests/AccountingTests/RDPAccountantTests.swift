import Accounting
import Foundation
import Testing

@Suite("RDP accountant")
struct RDPAccountantTests {
    static let reference = ReferenceCases.shared

    @Test("default orders are dp_accounting's")
    func defaultOrdersMatchReference() {
        #expect(RDPAccountant.defaultOrders == Self.reference.rdpOrders)
    }

    @Test("DP-SGD epsilon within 0.5% of the 40-digit reference, never below it", arguments: reference.cases)
    func dpsgdKnownAnswer(_ c: ReferenceCases.Case) throws {
        let event = DPEvent.selfComposed(
            event: .poissonSampled(samplingRate: c.samplingRate, event: .gaussian(noiseMultiplier: c.noiseMultiplier)),
            count: c.steps)
        let (epsilon, order) = try RDPAccountant().epsilonAndOrder(for: event, delta: c.delta)
        let relative = (epsilon - c.rdpEpsilonExact) / c.rdpEpsilonExact
        #expect(relative >= -1e-9, "below the exact value: \(epsilon) vs \(c.rdpEpsilonExact)")
        #expect(relative <= 0.005, "more than 0.5% above the exact value: \(epsilon) vs \(c.rdpEpsilonExact)")
        #expect(order == c.rdpBestOrderExact)
    }

    @Test("Gaussian without sampling: closed form α/(2σ²)")
    func gaussianClosedForm() throws {
        let rdp = try RDPAccountant(orders: [2, 10]).rdp(for: .gaussian(noiseMultiplier: 2))
        let expectedRDP: [Double] = [0.25, 1.25]
        #expect(rdp == expectedRDP)
        // Sampling rate 1 is the unsampled mechanism.
        let sampled = try RDPAccountant(orders: [2, 10, 2.5])
            .rdp(for: .poissonSampled(samplingRate: 1, event: .gaussian(noiseMultiplier: 2)))
        let expected: [Double] = [2.0 / 8, 10.0 / 8, 2.5 / 8]
        #expect(sampled == expected)
    }

    @Test("integer and fractional series agree where both apply")
    func seriesContinuity() throws {
        // RDP is continuous in the order: the fractional series just beside an integer order must
        // agree with the binomial sum at it.
        let accountant = RDPAccountant(orders: [3, 3.000001, 7, 7.000001])
        let rdp = try accountant.rdp(for: .poissonSampled(samplingRate: 0.02, event: .gaussian(noiseMultiplier: 0.9)))
        #expect(abs(rdp[0] - rdp[1]) / rdp[0] < 1e-4)
        #expect(abs(rdp[2] - rdp[3]) / rdp[2] < 1e-4)
    }

    @Test("composition adds RDP: composed and self-composed agree")
    func compositionAdds() throws {
        let step = DPEvent.poissonSampled(samplingRate: 0.01, event: .gaussian(noiseMultiplier: 1))
        let accountant = RDPAccountant()
        let a = try accountant.rdp(for: .selfComposed(event: step, count: 3))
        let b = try accountant.rdp(for: .composed([step, step, step]))
        let one = try accountant.rdp(for: step)
        for k in a.indices {
            #expect(abs(a[k] - b[k]) <= 1e-12 * max(1, a[k]))
            #expect(abs(a[k] - 3 * one[k]) <= 1e-12 * max(1, a[k]))
        }
    }

    @Test("Laplace RDP tends to ε = 1/b at large orders and stays below it")
    func laplace() throws {
        let rdp = try RDPAccountant(orders: [2, 1024]).rdp(for: .laplace(noiseMultiplier: 2))
        // Mironov 2017, Table II at α = 2: log(2/3·e^(1/2) + 1/3·e^(−1)).
        #expect(abs(rdp[0] - log(2.0 / 3 * exp(0.5) + 1.0 / 3 * exp(-1))) < 1e-12)
        #expect(rdp[1] <= 0.5 && rdp[1] > 0.49)
    }

    @Test("discrete Laplace RDP matches a direct sum of the Rényi divergence", arguments: [1, 3])
    func discreteLaplaceDirectSum(sensitivity: Int) throws {
        let t = 1.7, alpha = 3.5
        let rdp = try RDPAccountant(orders: [alpha])
            .rdp(for: .discreteLaplace(scale: t, sensitivity: sensitivity))[0]
        // Σ_k P(k)^α Q(k)^(1−α) over a range that holds all but ~e^-200 of the mass.
        let z = (1 + exp(-1 / t)) / (1 - exp(-1 / t))
        var sum = 0.0
        for k in -400...400 {
            let p = exp(-Double(abs(k)) / t) / z
            let q = exp(-Double(abs(k - sensitivity)) / t) / z
            sum += pow(p, alpha) * pow(q, 1 - alpha)
        }
        #expect(abs(rdp - log(sum) / (alpha - 1)) < 1e-10)
        #expect(rdp <= Double(sensitivity) / t)
    }

    @Test("pure ε-DP events: randomised-response RDP, below min(ε, αε²/2)")
    func pureDP() throws {
        let eps = 0.7
        let rdp = try RDPAccountant(orders: [2, 50]).rdp(for: .epsilonDelta(epsilon: eps, delta: 0))
        let p = exp(eps) / (1 + exp(eps)), q = 1 - p
        #expect(abs(rdp[0] - log(p * p / q + q * q / p)) < 1e-12)
        #expect(rdp[0] <= 2 * eps * eps / 2)
        #expect(rdp[1] <= eps)
    }

    @Test("delta and epsilon conversions are inverse to each other")
    func deltaEpsilonRoundTrip() throws {
        let event = DPEvent.selfComposed(
            event: .poissonSampled(samplingRate: 0.01, event: .gaussian(noiseMultiplier: 1.1)), count: 1000)
        let accountant = RDPAccountant()
        let eps = try accountant.epsilon(for: event, delta: 1e-5)
        let delta = try accountant.delta(for: event, epsilon: eps)
        #expect(delta <= 1e-5 * 1.0001)
        #expect(delta >= 1e-5 * 0.5)
        // A tiny bit more ε must need no more δ; a little less ε needs more.
        #expect(try accountant.delta(for: event, epsilon: eps * 0.9) > 1e-5)
    }

    @Test("unsupported events and bad parameters are refused with a message")
    func refusals() {
        let accountant = RDPAccountant()
        #expect(throws: VeilError.self) {
            try accountant.epsilon(for: .epsilonDelta(epsilon: 1, delta: 1e-6), delta: 1e-5)
        }
        do {
            _ = try accountant.rdp(for: .poissonSampled(samplingRate: 0.1, event: .laplace(noiseMultiplier: 1)))
            Issue.record("a sampled Laplace was accepted")
        } catch let error as VeilError {
            #expect(error.code == .unsupported)
            #expect(error.message.contains("PLD"))
        } catch { Issue.record("unexpected error \(error)") }
        do {
            _ = try accountant.epsilon(for: .gaussian(noiseMultiplier: 1), delta: 1.5)
            Issue.record("δ = 1.5 was accepted")
        } catch let error as VeilError {
            #expect(error.code == .invalidParameter)
            #expect(error.message == "delta must be in the open interval (0, 1), got 1.5")
        } catch { Issue.record("unexpected error \(error)") }
        #expect(throws: VeilError.self) { try accountant.rdp(for: .gaussian(noiseMultiplier: -1)) }
        #expect(throws: VeilError.self) {
            try accountant.rdp(for: .poissonSampled(samplingRate: 1.2, event: .gaussian(noiseMultiplier: 1)))
        }
    }
}
