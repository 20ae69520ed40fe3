import Foundation

/// The map from a base mechanism's privacy loss `ℓ = log(P₁/P₀)` to the loss `L` of its Poisson
/// subsample at rate `q` in one ``NeighbouringDirection``, and its inverse.
///
/// - remove: `L = g(ℓ) = log(1 − q + q e^ℓ)`, increasing, from `log(1 − q)` to `+∞`;
///   inverse `ℓ = log((e^L − 1 + q)/q)`.
/// - add: `L = g(ℓ) = −log(1 − q + q e^ℓ)`, decreasing, from `−log(1 − q)` to `−∞`;
///   inverse `ℓ = log((e^{−L} − 1 + q)/q)`.
///
/// With `q = 1` these are `L = ℓ` and `L = −ℓ`. The masses under the pair are
/// remove: `(P, Q) = ((1 − q)P₀ + qP₁, P₀)`, add: `(P, Q) = (P₀, (1 − q)P₀ + qP₁)`
/// (Zhu, Dong, Wang 2022, on dominating pairs of Poisson subsampling; Koskela et al. 2020).
struct SubsampledLossTransform {
    let samplingRate: Double
    let direction: NeighbouringDirection

    /// Whether `L` increases with `ℓ`.
    var isIncreasing: Bool { direction == .remove }

    /// `log(1 − q + q e^ℓ)` without overflow or cancellation.
    private func logMixture(_ ell: Double) -> Double {
        let q = samplingRate
        if q == 1 { return ell }
        if ell == -.infinity { return Foundation.log1p(-q) }
        if ell == .infinity { return .infinity }
        if ell > 0 {
            // ℓ + log(q + (1 − q)e^{−ℓ})
            return ell + Foundation.log(q + (1 - q) * Foundation.exp(-ell))
        }
        return Foundation.log1p(q * Foundation.expm1(ell))
    }

    /// `L = g(ℓ)`.
    func subsampledLoss(_ ell: Double) -> Double {
        direction == .remove ? logMixture(ell) : -logMixture(ell)
    }

    /// `L`'s limit as `ℓ → −∞` (`ℓ → +∞` gives `±∞`).
    var lossAtNegativeInfinity: Double { subsampledLoss(-.infinity) }

    /// `ℓ = g⁻¹(L)` for `L` strictly inside the range of `g`.
    func baseLoss(_ loss: Double) -> Double {
        let q = samplingRate
        let signed = direction == .remove ? loss : -loss
        if q == 1 { return signed }
        // log((e^x − 1 + q)/q), x = ±L; for large x use x + log((1 − (1 − q)e^{−x})/q).
        if signed > 1 {
            return signed + Foundation.log1p(-(1 - q) * Foundation.exp(-signed)) - Foundation.log(q)
        }
        return Foundation.log(Foundation.expm1(signed) + q) - Foundation.log(q)
    }

    /// The masses `(a, b)` of a set under `(P, Q)` from its masses `(m₀, m₁)` under `(P₀, P₁)`.
    func pairMasses(base0 m0: Double, base1 m1: Double) -> (upper: Double, lower: Double) {
        let q = samplingRate
        let mixture = q == 1 ? m1 : (1 - q) * m0 + q * m1
        return direction == .remove ? (mixture, m0) : (m0, mixture)
    }
}
