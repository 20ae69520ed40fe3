import Foundation

/// A point of a base mechanism's outcome space (or a set of outcomes sharing one loss) with its
/// masses under `P₀` (dataset without the unit) and `P₁` (with it) and its loss `ℓ = log(m₁/m₀)`,
/// which may be `±∞`.
struct LossAtom {
    let mass0: Double
    let mass1: Double
    let loss: Double
}

/// The part of a base mechanism's outcome space on which the loss `ℓ = log(P₁/P₀)` is a
/// continuous, strictly increasing function of the outcome, described in terms of `ℓ`.
protocol ContinuousLossPart {
    /// A cumulative position that ``masses(from:to:)`` can difference accurately.
    associatedtype Position
    /// The open interval of `ℓ` covered (ends may be infinite).
    var lossRange: (lower: Double, upper: Double) { get }
    /// The cumulative position of the loss threshold `ℓ` (`±∞` allowed).
    func position(atLoss ell: Double) -> Position
    /// The `(P₀, P₁)` masses of the outcomes with `from < ℓ ≤ to`.
    func masses(from: Position, to: Position) -> (mass0: Double, mass1: Double)
    /// For `P₀` and for `P₁`, an interval of `ℓ` outside of which each tail holds at most
    /// `tailMass`.
    func lossQuantiles(tailMass: Double) -> (p0: (lower: Double, upper: Double), p1: (lower: Double, upper: Double))
}

/// A base mechanism as a neighbouring pair `(P₀, P₁)`: atoms plus at most one continuous part,
/// and an upper bound on mass that was left out (counted at `+∞` for pessimism).
struct BaseMechanismPair<Continuous: ContinuousLossPart> {
    var atoms: [LossAtom]
    var continuous: Continuous?
    /// Mass of `P₀` and of `P₁` (each) possibly left out of `atoms`; it is added to `m_∞`.
    var omittedMass: Double = 0
}

/// A placeholder continuous part for purely discrete mechanisms.
struct NoContinuousPart: ContinuousLossPart {
    var lossRange: (lower: Double, upper: Double) { (0, 0) }
    func position(atLoss ell: Double) -> Double { ell }
    func masses(from: Double, to: Double) -> (mass0: Double, mass1: Double) { (0, 0) }
    func lossQuantiles(tailMass: Double) -> (p0: (lower: Double, upper: Double), p1: (lower: Double, upper: Double)) {
        ((0, 0), (0, 0))
    }
}

// MARK: - Discrete and (ε, δ) pairs

extension BaseMechanismPair where Continuous == NoContinuousPart {
    /// The most atoms a discrete mechanism may contribute.
    static var maximumAtoms: Int { 1 << 22 }

    /// The canonical pair of an (ε, δ)-DP mechanism (Kairouz, Oh, Viswanath 2015, "The
    /// composition theorem for differential privacy", ICML; Meiser & Mohammadi 2018):
    /// `P₁ = (δ, (1−δ)e^ε/(1+e^ε), (1−δ)/(1+e^ε), 0)`, `P₀` its mirror image. Every
    /// (ε, δ)-DP mechanism is a post-processing of it.
    static func epsilonDelta(epsilon: Double, delta: Double) -> Self {
        let decay = Foundation.exp(-epsilon)
        let high = (1 - delta) / (1 + decay)          // (1−δ) e^ε/(1+e^ε)
        let low = (1 - delta) * decay / (1 + decay)   // (1−δ)/(1+e^ε), without cancellation
        return Self(atoms: [
            LossAtom(mass0: 0, mass1: delta, loss: .infinity),
            LossAtom(mass0: low, mass1: high, loss: epsilon),
            LossAtom(mass0: high, mass1: low, loss: -epsilon),
            LossAtom(mass0: delta, mass1: 0, loss: -.infinity),
        ], continuous: nil)
    }

    /// Discrete Laplace noise `P(k) = c·r^{|k|}`, `r = e^{−1/t}`, `c = (1 − r)/(1 + r)`, on an
    /// integer query of sensitivity `s`: `ℓ(k) = (|k| − |k − s|)/t`. Outcomes `k ≤ 0` and `k ≥ s`
    /// share the losses `∓s/t` and are lumped: `P₀(k ≤ 0) = 1/(1 + r)`, `P₀(k ≥ s) = r^s/(1 + r)`.
    static func discreteLaplace(scale t: Double, sensitivity s: Int) throws -> Self {
        guard s <= maximumAtoms else {
            throw VeilError(.unsupported, "discrete_laplace sensitivity \(s) is too large for the PLD accountant (at most \(maximumAtoms))")
        }
        let r = Foundation.exp(-1 / t)
        let c = -Foundation.expm1(-1 / t) / (1 + r)
        let far = Foundation.exp(-Double(s) / t) / (1 + r)
        let near = 1 / (1 + r)
        var atoms = [LossAtom(mass0: near, mass1: far, loss: -Double(s) / t),
                     LossAtom(mass0: far, mass1: near, loss: Double(s) / t)]
        if s > 1 {
            for k in 1..<s {
                atoms.append(LossAtom(mass0: c * Foundation.exp(-Double(k) / t),
                                      mass1: c * Foundation.exp(-Double(s - k) / t),
                                      loss: Double(2 * k - s) / t))
            }
        }
        return Self(atoms: atoms, continuous: nil)
    }

    /// Discrete Gaussian noise `P(k) = e^{−k²/(2σ²)}/Z` on an integer query of sensitivity `s`
    /// (Canonne, Kamath, Steinke 2020, "The discrete Gaussian for differential privacy"):
    /// `ℓ(k) = (2ks − s²)/(2σ²)`. Outcomes are enumerated for `−K ≤ k ≤ K + s` with
    /// `K = ⌈12σ⌉ + s + 1`; the mass left out of each distribution is at most
    /// `2(σ²/K) e^{−K²/(2σ²)}` (a Gaussian-integral bound, `Z ≥ 1`) and is counted at `+∞`.
    static func discreteGaussian(sigma: Double, sensitivity s: Int) throws -> Self {
        let reach = (12 * sigma).rounded(.up) + Double(s) + 1
        guard 2 * reach + Double(s) <= Double(maximumAtoms) else {
            throw VeilError(.unsupported, "discrete_gaussian with sigma \(sigma) and sensitivity \(s) needs more than \(maximumAtoms) outcomes; the PLD accountant cannot enumerate it")
        }
        let bound = Int(reach)
        let twoVariance = 2 * sigma * sigma
        var normaliser = 1.0
        for k in 1...bound { normaliser += 2 * Foundation.exp(-Double(k) * Double(k) / twoVariance) }
        var atoms: [LossAtom] = []
        atoms.reserveCapacity(2 * bound + s + 1)
        for k in -bound...(bound + s) {
            let kk = Double(k), shifted = Double(k - s)
            let m0 = Foundation.exp(-kk * kk / twoVariance) / normaliser
            let m1 = Foundation.exp(-shifted * shifted / twoVariance) / normaliser
            guard m0 > 0 || m1 > 0 else { continue }
            atoms.append(LossAtom(mass0: m0, mass1: m1, loss: (2 * kk * Double(s) - Double(s * s)) / twoVariance))
        }
        let omitted = 2 * (sigma * sigma / reach) * Foundation.exp(-reach * reach / twoVariance)
        return Self(atoms: atoms, continuous: nil, omittedMass: omitted)
    }
}
