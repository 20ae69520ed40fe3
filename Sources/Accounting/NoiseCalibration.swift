import Foundation

/// Noise calibration for DP-SGD: the smallest noise multiplier that meets a target ε.
public enum NoiseCalibration {
    /// The DP-SGD event: `steps` rounds of Poisson sampling at `samplingRate` with Gaussian noise
    /// of standard deviation `noiseMultiplier`·C on gradients clipped to norm C.
    /// With `precededBy`, a release on the same data before the steps, the event of both.
    public static func dpsgdEvent(samplingRate: Double, noiseMultiplier: Double, steps: Int,
                                  precededBy: DPEvent? = nil) -> DPEvent {
        let steps = DPEvent.selfComposed(event: .poissonSampled(samplingRate: samplingRate,
                                                                event: .gaussian(noiseMultiplier: noiseMultiplier)),
                                         count: steps)
        return precededBy.map { .composed([$0, steps]) } ?? steps
    }

    /// The smallest noise multiplier σ (to a relative tolerance) whose DP-SGD ε, as computed by
    /// `accountant`, does not exceed `targetEpsilon` at `delta`.
    ///
    /// ε is decreasing in σ, so a bracket is found by doubling and halving and then bisected in
    /// log σ. The result is always the upper end of the final bracket, so its ε is ≤ the target
    /// (conservative): the returned value errs towards more noise by at most `relativeTolerance`.
    ///
    /// - Parameters:
    ///   - targetEpsilon: ε > 0.
    ///   - samplingRate: Poisson sampling rate q ∈ (0, 1].
    ///   - steps: number of DP-SGD steps ≥ 1.
    ///   - delta: δ ∈ (0, 1).
    ///   - accountant: the accountant that defines ε (RDP or PLD).
    ///   - relativeTolerance: width of the final bracket relative to σ.
    ///   - precededBy: a release on the same data before the steps (e.g. normalisation statistics),
    ///     whose cost the ε counts as well.
    /// - Returns: σ and the ε it achieves (with `precededBy`, of both).
    public static func noiseMultiplier(
        targetEpsilon: Double, samplingRate: Double, steps: Int, delta: Double,
        accountant: any PrivacyAccountant, relativeTolerance: Double = 1e-4, precededBy: DPEvent? = nil
    ) throws -> (noiseMultiplier: Double, epsilon: Double) {
        try ParameterCheck.epsilon(targetEpsilon, name: "target epsilon")
        try ParameterCheck.delta(delta)
        guard samplingRate.isFinite, samplingRate > 0, samplingRate <= 1 else {
            throw VeilError.invalidParameter("sampling rate", samplingRate, allowed: "in the interval (0, 1]")
        }
        guard steps >= 1 else {
            throw VeilError.invalidParameter("steps", steps, allowed: "an integer ≥ 1")
        }
        func epsilon(_ sigma: Double) throws -> Double {
            try accountant.epsilon(for: dpsgdEvent(samplingRate: samplingRate, noiseMultiplier: sigma, steps: steps,
                                                   precededBy: precededBy), delta: delta)
        }
        if let precededBy {
            let spent = try accountant.epsilon(for: precededBy, delta: delta)
            guard spent < targetEpsilon else {
                throw VeilError(.invalidParameter, "the release before the DP-SGD steps already spends ε = \(spent) "
                                + "of the target \(targetEpsilon)")
            }
        }
        // Bracket: ε(hi) ≤ target < ε(lo).
        var hi = 1.0, epsHi = try epsilon(hi)
        var lo = 1.0
        if epsHi <= targetEpsilon {
            repeat {
                lo /= 2
                if lo < 1e-6 { return (hi, epsHi) }
                let e = try epsilon(lo)
                if e <= targetEpsilon { hi = lo; epsHi = e } else { break }
            } while true
        } else {
            repeat {
                lo = hi
                hi *= 2
                guard hi < 1e7 else {
                    throw VeilError(.numerical, "no noise multiplier below 10^7 reaches ε = \(targetEpsilon)")
                }
                epsHi = try epsilon(hi)
            } while epsHi > targetEpsilon
        }
        while hi / lo > 1 + relativeTolerance {
            let mid = (lo * hi).squareRoot()
            let e = try epsilon(mid)
            if e <= targetEpsilon { hi = mid; epsHi = e } else { lo = mid }
        }
        return (hi, epsHi)
    }
}
