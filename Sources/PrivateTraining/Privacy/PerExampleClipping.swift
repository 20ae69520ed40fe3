/// The per-example clipping factor of DP-SGD (Abadi et al. 2016, Algorithm 1): example `i`'s
/// gradient is scaled by `cᵢ = min(1, C / (‖∇ℓᵢ‖ + 10⁻⁶))`, so that its norm is at most `C`.
///
/// The proof assumes `cᵢ · ‖∇ℓᵢ‖ ≤ C` for every example, so a norm that is not a finite number
/// ≥ 0 — NaN from `0 · Inf` in a ghost norm, +Inf from an overflowing `‖aᵢ‖²`, a negative value
/// from rounding in a Gram form — gives the factor 0: the example is dropped from the sum rather
/// than entering it unclipped (docs/design.md §2 rule 8). Swift's `min(1, NaN)` is 1, which is why the
/// comparison is written out here.
public enum PerExampleClipping {
    /// The factor `cᵢ ∈ [0, 1]` for an example whose squared gradient norm is `squaredNorm`.
    /// - Parameters:
    ///   - squaredNorm: `‖∇ℓᵢ‖²` over all parameters.
    ///   - clipNorm: `C`, finite and > 0.
    /// - Returns: 0 when `squaredNorm` is NaN, ±Inf or negative; otherwise `min(1, C / (√squaredNorm + 10⁻⁶))`.
    public static func factor(squaredNorm: Float, clipNorm: Float) -> Float {
        guard squaredNorm.isFinite, squaredNorm >= 0 else { return 0 }
        let factor = clipNorm / (squaredNorm.squareRoot() + 1e-6)
        return factor < 1 ? factor : 1
    }
}
