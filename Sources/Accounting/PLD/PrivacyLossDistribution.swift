import Foundation

/// A discrete privacy-loss distribution (PLD): probability masses on the grid of loss values
/// `k·Δ`, plus a mass at `+∞`.
///
/// For a pair of output distributions `(P, Q)` of a mechanism on two neighbouring datasets, the
/// privacy loss of an outcome `o` is `L(o) = log(P(o)/Q(o))` and the PLD is the law of `L(o)` for
/// `o ~ P`; outcomes with `Q(o) = 0` carry infinite loss (Sommer, Meiser, Mohammadi 2019,
/// "Privacy loss classes: the central limit theorem in differential privacy", PoPETs 2019(2);
/// Meiser & Mohammadi 2018, "Tight on budget? Tight bounds for r-fold approximate differential
/// privacy", CCS 2018). The pair's tight δ at every ε is the hockey-stick divergence
///
///     δ(ε) = m_∞ + Σ_{ℓ_j > ε} p_j · (1 − e^{ε − ℓ_j}),
///
/// and adaptive composition of mechanisms convolves their PLDs.
///
/// Values built by Veil are *pessimistic*: their δ(ε) is never below the δ(ε) of the mechanism
/// they describe (see ``PrivacyLossDistribution/init(event:direction:valueDiscretizationInterval:)``).
/// The masses may sum to slightly more than 1 − m_∞ when a pessimistic step adds mass; that only
/// raises δ.
public struct PrivacyLossDistribution: Hashable, Sendable {
    /// The grid step Δ of the loss values (nats).
    public let valueDiscretizationInterval: Double
    /// The grid index of `probabilities[0]`: its loss is `lowestIndex · Δ`.
    public let lowestIndex: Int
    /// `probabilities[j]` is the mass at loss `(lowestIndex + j) · Δ`.
    public let probabilities: [Double]
    /// The mass at loss `+∞` (outcomes impossible under the neighbouring distribution).
    public let infinityMass: Double

    /// Mass that may be discarded from each tail when a composition is truncated to keep the grid
    /// small: the lower tail moves up to the lowest kept loss and the upper tail to `+∞`, so δ can
    /// only grow, and by at most this much.
    public static let defaultTailMassTruncation = 1e-15

    /// A PLD from explicit masses.
    /// - Parameters:
    ///   - valueDiscretizationInterval: the grid step Δ > 0.
    ///   - lowestIndex: the grid index of the first mass.
    ///   - probabilities: masses at losses `(lowestIndex + j)·Δ`; finite and ≥ 0.
    ///   - infinityMass: the mass at `+∞`, in [0, 1].
    /// - Throws: ``VeilError`` with code `.invalidParameter` when a value is out of range or the
    ///   masses sum to more than 1.
    public init(valueDiscretizationInterval: Double, lowestIndex: Int,
                probabilities: [Double], infinityMass: Double) throws {
        try ParameterCheck.positive(valueDiscretizationInterval, name: "value_discretization_interval")
        guard infinityMass.isFinite, infinityMass >= 0, infinityMass <= 1 else {
            throw VeilError.invalidParameter("infinity_mass", infinityMass, allowed: "in the interval [0, 1]")
        }
        for p in probabilities {
            guard p.isFinite, p >= 0 else {
                throw VeilError.invalidParameter("probability mass", p, allowed: "a finite number ≥ 0")
            }
        }
        let total = infinityMass + Self.compensatedSum(probabilities)
        guard total <= 1 + 1e-9 else {
            throw VeilError.invalidParameter("total probability mass", total, allowed: "at most 1")
        }
        self.init(unchecked: valueDiscretizationInterval, lowestIndex: lowestIndex,
                  probabilities: probabilities, infinityMass: infinityMass)
    }

    /// Memberwise initialiser for values already known to be valid; drops zero masses at both ends.
    init(unchecked interval: Double, lowestIndex: Int, probabilities: [Double], infinityMass: Double) {
        var first = 0
        var last = probabilities.count - 1
        while first <= last && probabilities[first] == 0 { first += 1 }
        while last >= first && probabilities[last] == 0 { last -= 1 }
        self.valueDiscretizationInterval = interval
        if first > last {
            self.lowestIndex = 0
            self.probabilities = []
        } else if first == 0 && last == probabilities.count - 1 {
            self.lowestIndex = lowestIndex
            self.probabilities = probabilities
        } else {
            self.lowestIndex = lowestIndex + first
            self.probabilities = Array(probabilities[first...last])
        }
        self.infinityMass = Swift.min(Swift.max(infinityMass, 0), 1)
    }

    /// The PLD of a mechanism that releases nothing: all mass at loss 0.
    /// - Parameter valueDiscretizationInterval: the grid step Δ > 0.
    public static func identity(valueDiscretizationInterval: Double) throws -> PrivacyLossDistribution {
        try PrivacyLossDistribution(valueDiscretizationInterval: valueDiscretizationInterval,
                                    lowestIndex: 0, probabilities: [1], infinityMass: 0)
    }

    /// The loss value of grid index `index`, `index · Δ`.
    public func loss(atIndex index: Int) -> Double { Double(index) * valueDiscretizationInterval }

    /// The total finite mass `Σ p_j` (compensated summation, so that rounding over long grids
    /// stays near one ulp).
    public var finiteMass: Double { Self.compensatedSum(probabilities) }

    /// Kahan–Babuška (Neumaier) summation.
    static func compensatedSum(_ values: [Double]) -> Double {
        var sum = 0.0, correction = 0.0
        for v in values {
            let t = sum + v
            correction += Swift.abs(sum) >= Swift.abs(v) ? (sum - t) + v : (v - t) + sum
            sum = t
        }
        return sum + correction
    }

    // MARK: - Privacy profile

    /// The δ of the hockey-stick divergence at `epsilon`:
    /// `δ(ε) = m_∞ + Σ_{ℓ_j > ε} p_j (1 − e^{ε − ℓ_j})` (Meiser & Mohammadi 2018;
    /// Sommer et al. 2019), capped at 1.
    /// - Parameter epsilon: any real ε (negative values are allowed and give larger δ).
    public func delta(forEpsilon epsilon: Double) -> Double {
        var sum = 0.0
        var j = probabilities.count - 1
        while j >= 0 {
            let lossValue = loss(atIndex: lowestIndex + j)
            if lossValue <= epsilon { break }
            sum += probabilities[j] * -Foundation.expm1(epsilon - lossValue)
            j -= 1
        }
        return Swift.min(1, infinityMass + sum)
    }

    /// The smallest ε ≥ 0 with `δ(ε) ≤ delta`; `+∞` when `delta < m_∞`.
    ///
    /// δ(ε) is non-increasing and, between consecutive grid losses `ℓ_{k−1} < ε ≤ ℓ_k`, equals
    /// `δ(ℓ_{k−1}) − (e^{ε − ℓ_{k−1}} − 1)·S_{k−1}` with `S_{k−1} = Σ_{j ≥ k} p_j e^{ℓ_{k−1} − ℓ_j}`.
    /// The scan runs from the top of the grid, updating `S` and `δ` by additions of non-negative
    /// terms only (`S_{k−1} = e^{−Δ}(p_k + S_k)`, `δ(ℓ_{k−1}) = δ(ℓ_k) + (1 − e^{−Δ})(p_k + S_k)`),
    /// and solves the crossing interval in closed form.
    /// - Parameter delta: the target δ ∈ (0, 1).
    public func epsilon(forDelta delta: Double) -> Double {
        if infinityMass > delta { return .infinity }
        let n = probabilities.count
        guard n > 0 else { return 0 }
        let step = valueDiscretizationInterval
        let decay = Foundation.exp(-step)
        let growth = -Foundation.expm1(-step)  // 1 − e^{−Δ}
        var excess = 0.0     // δ(ℓ_k) − m_∞
        var scaled = 0.0     // S_k
        var k = n - 1
        while true {
            // Here δ(ℓ_k) = m_∞ + excess ≤ delta.
            if loss(atIndex: lowestIndex + k) <= 0 { return 0 }
            let carried = probabilities[k] + scaled
            if k == 0 {
                // Below the lowest loss all mass counts: δ(ε) = δ(ℓ_0) + (1 − e^{ε−ℓ_0})·carried.
                let shortfall = delta - (infinityMass + excess)
                guard carried > 0, shortfall < carried else { return 0 }
                let value = loss(atIndex: lowestIndex) + Foundation.log1p(-shortfall / carried)
                return Swift.max(0, value)
            }
            let nextScaled = decay * carried
            let nextExcess = excess + growth * carried
            if infinityMass + nextExcess > delta {
                let lower = loss(atIndex: lowestIndex + k - 1)
                let value = lower + Foundation.log1p((infinityMass + nextExcess - delta) / nextScaled)
                return Swift.max(0, Swift.min(value, loss(atIndex: lowestIndex + k)))
            }
            scaled = nextScaled
            excess = nextExcess
            k -= 1
        }
    }
}
