import Accounting
import Foundation
import Mechanisms
import SecureAggregation

/// The distributed discrete Gaussian (DDG) of a federated run (Kairouz, Liu, Steinke 2021, "The Distributed
/// Discrete Gaussian Mechanism for Federated Learning with Secure Aggregation"), fixed from declared figures before
/// any data is read: the grid γ, the per-client noise, and the accounting.
///
/// Each client of a round encodes its clipped update with ``DistributedDiscreteGaussian`` and adds discrete
/// Gaussian noise of variance s² = σ²/(γ²·m) integer units per coordinate, m = `clients_per_round`; SecAgg+ sums the
/// encodings, so with m clients the sum carries noise of standard deviation ≈ σ per coordinate and the server adds
/// none. The privacy of a round is certified for the `minimumClients` clients whose noise is surely in the sum (a
/// round with fewer masked inputs aborts), with ``DistributedDiscreteGaussianAccounting`` (Theorem 1 and
/// Proposition 14); rounds compose. Poisson sampling is not credited (no amplification is claimed): the
/// guarantee holds for any client in any round.
///
/// **Calibration.** For each grid γ = C·2⁻ᵏ, k = 0, 1, …, σ is the smallest (by bisection) for which T rounds stay
/// within the target ε; finer grids shrink Δ₂·γ ≈ C + γ√d and so the noise needed, until the modulus 2^b can no
/// longer hold the sum of `maximumClients` encodings and its noise (``DistributedDiscreteGaussianParameters`` refuses
/// it): the finest grid that fits is kept. Parameters that no grid fits, or for which the accounting cannot certify
/// the target (per-client noise below ½ integer unit), are refused.
public struct DistributedGaussianPlan: Sendable {
    /// The encoder's parameters: dimension, C, γ, per-client noise, the clients bounding the sum, bit width.
    public let parameters: DistributedDiscreteGaussianParameters
    /// The accounting of one round, for `minimumClients` noise contributions.
    public let accounting: DistributedDiscreteGaussianAccounting
    /// m: the expected clients per round, whose noise adds up to σ.
    public let expectedClients: Int
    /// The fewest clients whose masked inputs a round needs: ⌈m/2⌉ and at least 3.
    public let minimumClients: Int
    /// σ: the standard deviation per coordinate of the sum's noise when m clients add theirs (real units).
    public let noiseStandardDeviation: Double

    /// The largest grid exponent tried (γ = C·2⁻⁴⁰).
    static let finestGridExponent = 40

    /// Calibrates σ and γ to `targetEpsilon` over `rounds` rounds.
    /// - Parameters:
    ///   - dimension: the model's parameter count.
    ///   - clipNorm: C.
    ///   - expectedClients: m = clients_per_round.
    ///   - maximumClients: the most clients a round's sum may hold (the declared N).
    ///   - bitWidth: b, SecAgg's modulus 2^b.
    /// - Throws: `VeilError.invalidParameter` when no grid fits the modulus or the target cannot be certified.
    public static func calibrate(dimension: Int, clipNorm: Double, expectedClients: Int, maximumClients: Int,
                                 bitWidth: Int, rounds: Int, targetEpsilon: Double, delta: Double) throws -> Self {
        let minimum = max(3, (expectedClients + 1) / 2)
        guard minimum <= expectedClients, expectedClients <= maximumClients else {
            throw VeilError(.invalidParameter, "the distributed discrete Gaussian needs at least 3 clients per round "
                            + "(clients_per_round ≥ 3), got \(expectedClients)")
        }
        var padded = 1
        while padded < dimension { padded <<= 1 }
        var best: Self?
        var lastError: VeilError?
        for k in 0...finestGridExponent {
            let gamma = clipNorm * pow(2, -Double(k))
            let sensitivity = DistributedDiscreteGaussianParameters.roundedNormBound(
                scaledClipNorm: clipNorm / gamma, beta: exp(-0.5), dimension: padded)
            func epsilon(_ s: Double) throws -> Double {
                try DistributedDiscreteGaussianAccounting(l2Sensitivity: sensitivity, localStddev: s, clients: minimum,
                                                          dimension: padded).epsilon(delta: delta, rounds: rounds)
            }
            // s: the per-client standard deviation in integer units, certified only from ½ up.
            var (lo, hi) = (0.5, 0x1p40)
            do {
                guard try epsilon(hi) <= targetEpsilon else { continue }
                if try epsilon(lo) > targetEpsilon {
                    for _ in 0..<200 where hi / lo > 1 + 1e-12 {
                        let mid = (lo * hi).squareRoot()
                        if try epsilon(mid) <= targetEpsilon { hi = mid } else { lo = mid }
                    }
                } else {
                    hi = lo
                }
                let s = hi * (1 + 1e-9)
                let parameters = try DistributedDiscreteGaussianParameters(
                    dimension: dimension, clipNorm: clipNorm, granularity: gamma,
                    noiseStddev: s * gamma * Double(maximumClients).squareRoot(), clients: maximumClients,
                    bitWidth: bitWidth)
                let accounting = try DistributedDiscreteGaussianAccounting(parameters: parameters, minimumClients: minimum)
                guard try accounting.epsilon(delta: delta, rounds: rounds) <= targetEpsilon else { continue }
                best = Self(parameters: parameters, accounting: accounting, expectedClients: expectedClients,
                            minimumClients: minimum,
                            noiseStandardDeviation: accounting.localStddev * gamma * Double(expectedClients).squareRoot())
            } catch let error as VeilError {
                lastError = error
                if best != nil { break }  // finer grids only overflow further
            }
        }
        guard let best else {
            throw VeilError(.invalidParameter, "the distributed discrete Gaussian cannot certify ε = \(targetEpsilon) over "
                            + "\(rounds) rounds with a modulus of 2^\(bitWidth) for \(maximumClients) declared clients: "
                            + "raise aggregation_bit_width or the target"
                            + (lastError.map { " (\($0.message))" } ?? ""))
        }
        return best
    }

    /// ε of `rounds` rounds at `delta` (the accounting's, composed).
    public func epsilon(rounds: Int, delta: Double) throws -> Double {
        // Before the first round nothing was released (the card of the model sent to round 1's clients).
        guard rounds > 0 else { return 0 }
        return try accounting.epsilon(delta: delta, rounds: rounds)
    }

    /// The ledger's event for `rounds` rounds: each round is ρ-zCDP (Theorem 1), whose Rényi divergence of every
    /// order α is at most αρ — that of a Gaussian mechanism of noise multiplier 1/√(2ρ). So the event
    /// `selfComposed(gaussian(1/√(2ρ)), rounds)` never charges less than the mechanism spends.
    public func event(rounds: Int) -> DPEvent {
        .selfComposed(event: .gaussian(noiseMultiplier: 1 / (2 * accounting.rho).squareRoot()), count: rounds)
    }
}
