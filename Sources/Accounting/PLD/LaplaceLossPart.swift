import Foundation

/// The middle part `0 < x < 1` of the Laplace pair `P₀ = Lap(0, b)`, `P₁ = Lap(1, b)` (noise
/// multiplier `b`, sensitivity 1), where `ℓ(x) = (2x − 1)/b` runs over `(−1/b, 1/b)`; outside it
/// the loss is constant `∓1/b` and those two sets are atoms
/// (`P₀(x ≤ 0) = 1/2`, `P₁(x ≤ 0) = e^{−1/b}/2`, and mirrored). On `(x₁, x₂) ⊂ (0, 1)`:
/// `P₀ = e^{−x₁/b}(1 − e^{−(x₂−x₁)/b})/2`, `P₁ = e^{−(1−x₂)/b}(1 − e^{−(x₂−x₁)/b})/2`.
struct LaplaceLossPart: ContinuousLossPart {
    let scale: Double

    var lossRange: (lower: Double, upper: Double) { (-1 / scale, 1 / scale) }

    /// The outcome `x ∈ [0, 1]` at loss `ℓ`.
    func position(atLoss ell: Double) -> Double {
        Swift.min(1, Swift.max(0, (scale * ell + 1) / 2))
    }

    func masses(from x1: Double, to x2: Double) -> (mass0: Double, mass1: Double) {
        guard x2 > x1 else { return (0, 0) }
        let width = -Foundation.expm1(-(x2 - x1) / scale)
        return (0.5 * Foundation.exp(-x1 / scale) * width, 0.5 * Foundation.exp(-(1 - x2) / scale) * width)
    }

    func lossQuantiles(tailMass: Double) -> (p0: (lower: Double, upper: Double), p1: (lower: Double, upper: Double)) {
        (lossRange, lossRange)
    }

    /// The two end atoms, `x ≤ 0` and `x ≥ 1`.
    var endAtoms: [LossAtom] {
        let far = 0.5 * Foundation.exp(-1 / scale)
        return [LossAtom(mass0: 0.5, mass1: far, loss: -1 / scale),
                LossAtom(mass0: far, mass1: 0.5, loss: 1 / scale)]
    }
}
