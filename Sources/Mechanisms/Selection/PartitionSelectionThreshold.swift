import Foundation

/// Thresholds for releasing groups whose keys come from the data (partition selection): a group is released
/// only when its noisy count of distinct privacy units reaches the threshold.
///
/// Each privacy unit touches at most `k` groups. A group created by one unit alone (true unit count 1) must
/// be released with probability at most δ/k, so that the `k` groups one unit can create are released with
/// probability at most δ together (union bound; Korolova, Kenthapadi, Mishra, Ntoulas 2009; Wilson et al.
/// 2020, "Differentially Private SQL with Bounded User Contribution", §3).
public enum PartitionSelectionThreshold {
    /// The threshold for discrete Laplace noise of `scale` on unit counts: `1 + max(1, ⌈scale · ln(1/(δ/k · (1 + r)))⌉)`
    /// with `r = e^(−1/scale)`, so that `P(Y ≥ threshold − 1) ≤ δ/k` for `Y` discrete Laplace of that scale.
    ///
    /// - Throws: ``VeilError`` (`invalid_parameter`) when δ/k is so small that the threshold is not below 2^62
    ///   (e.g. a subnormal δ).
    public static func discreteLaplace(scale: Double, delta: Double, k: Int) throws -> Int64 {
        let r = exp(-1 / scale)
        let perPartitionDelta = delta / Double(k)
        let t = (scale * log(1 / (perPartitionDelta * (1 + r)))).rounded(.up)
        guard perPartitionDelta > 0, t.isFinite, t < 0x1p62 else {
            throw VeilError.invalidParameter("delta / k", perPartitionDelta,
                                             allowed: "large enough for a finite threshold (e.g. δ ≥ 1e-100)")
        }
        return 1 + Int64(max(1, t))
    }

    /// The threshold for discrete Gaussian noise of parameter σ on unit counts: `1 + t` for the smallest `t ≥ 1`
    /// with `P(Y ≥ t) ≤ δ/k`, `Y ~ N_ℤ(0, σ²)` (tail from ``NoiseQuantile``, exact for σ ≤ 512 and an upper
    /// bound above).
    ///
    /// - Throws: ``VeilError`` (`invalid_parameter`) when δ/k is not in (0, 1) or σ is beyond 2^52.
    public static func discreteGaussian(sigma: Double, delta: Double, k: Int) throws -> Int64 {
        1 + Int64(try NoiseQuantile.discreteGaussianUpperQuantile(sigma: sigma, tailProbability: delta / Double(k)))
    }
}
