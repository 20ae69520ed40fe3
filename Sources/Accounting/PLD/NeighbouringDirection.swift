/// Which ordering of an add-or-remove-one neighbouring pair a privacy-loss distribution describes.
///
/// With `P₁` the output distribution on the dataset that contains the privacy unit and `P₀` the
/// one on the dataset without it, a PLD is the law of `log(P/Q)` under `P`. Mechanisms whose
/// pair is symmetric (Gaussian, Laplace and their discrete versions, an (ε, δ) pair) give the same
/// PLD in both directions; Poisson-subsampled ones do not, and an add-or-remove guarantee is the
/// worse of the two (Zhu, Dong, Wang 2022, "Optimal accounting of differential privacy via
/// characteristic function", AISTATS; Google `dp_accounting`'s `NeighboringRelation`).
public enum NeighbouringDirection: String, CaseIterable, Codable, Hashable, Sendable {
    /// `P = P₁`-side output, `Q = P₀`: the unit is removed from the dataset behind `P`.
    /// For a Poisson sample at rate `q`: `P = (1 − q)P₀ + qP₁`, `Q = P₀`, so
    /// `L = log(1 − q + q·e^ℓ)` with `ℓ = log(P₁/P₀)`.
    case remove
    /// `P = P₀`, `Q = P₁`-side output: the unit is added to the dataset behind `Q`.
    /// For a Poisson sample at rate `q`: `P = P₀`, `Q = (1 − q)P₀ + qP₁`, so
    /// `L = −log(1 − q + q·e^ℓ)`.
    case add
}
