import Foundation

// MARK: - Composition

extension PrivacyLossDistribution {
    /// The largest grid (number of loss values) a composition may allocate: 2²⁵ points, about
    /// 256 MB per buffer.
    static let maximumGridLength = 1 << 25

    /// The PLD of running this mechanism and then `other` (adaptively) on the same data: the
    /// convolution of the two finite parts, with infinity masses combined as
    /// `1 − (1 − m₁)(1 − m₂)` (Koskela, Jälkö, Honkela 2020, "Computing tight differential privacy
    /// guarantees using FFT", AISTATS; Sommer et al. 2019).
    ///
    /// Small inputs are convolved directly; larger ones through a real FFT whose length covers
    /// the full support of the result, so there is no wrap-around. Rounding noise below zero is
    /// clamped to 0, then tails of at most `tailMassTruncation` are truncated pessimistically.
    /// - Parameters:
    ///   - other: a PLD on the same grid step.
    ///   - tailMassTruncation: mass allowed to move per tail (lower tail up to the lowest kept
    ///     loss, upper tail to `+∞`), in [0, 1).
    /// - Throws: ``VeilError`` `.invalidParameter` when the grid steps differ or the tail mass is
    ///   out of range, `.numerical` when
    ///   the result would exceed ``maximumGridLength`` points.
    public func composed(with other: PrivacyLossDistribution,
                         tailMassTruncation: Double = defaultTailMassTruncation) throws -> PrivacyLossDistribution {
        try checkSameGrid(other)
        try Self.checkTailMass(tailMassTruncation)
        let infinity = infinityMass + other.infinityMass - infinityMass * other.infinityMass
        let lhs = probabilities, rhs = other.probabilities
        guard !lhs.isEmpty, !rhs.isEmpty else {
            return PrivacyLossDistribution(unchecked: valueDiscretizationInterval, lowestIndex: 0,
                                           probabilities: [], infinityMass: infinity)
        }
        let length = lhs.count + rhs.count - 1
        guard length <= Self.maximumGridLength else { throw Self.gridTooLarge(length) }
        var result: [Double]
        if Swift.min(lhs.count, rhs.count) <= 64 || lhs.count * rhs.count <= 1 << 20 {
            result = [Double](repeating: 0, count: length)
            for (i, a) in lhs.enumerated() where a != 0 {
                for (j, b) in rhs.enumerated() { result[i + j] += a * b }
            }
        } else {
            let fft = try RealFourierTransform(length: RealFourierTransform.efficientLength(atLeast: length))
            var left = lhs + [Double](repeating: 0, count: fft.length - lhs.count)
            var right = rhs + [Double](repeating: 0, count: fft.length - rhs.count)
            try fft.forward(&left)
            try fft.forward(&right)
            HalfComplexSpectrum.multiply(&left, by: right)
            try fft.inverse(&left)
            result = Array(left[0..<length])
            for i in result.indices where result[i] < 0 { result[i] = 0 }
        }
        return PrivacyLossDistribution(unchecked: valueDiscretizationInterval,
                                       lowestIndex: lowestIndex + other.lowestIndex,
                                       probabilities: result, infinityMass: infinity)
            .truncated(tailMass: tailMassTruncation)
    }

    /// The PLD of `count` adaptive runs of this mechanism.
    ///
    /// The `count`-fold convolution is computed as the inverse FFT of the `count`-th power of the
    /// transform (Koskela et al. 2020), over a window of losses chosen by a Chernoff
    /// bound on the composed finite part: with `K(t) = log Σ_j p_j e^{t ℓ_j}`,
    /// `P(S ≥ x) ≤ exp(count·K(t) − t·x)` and `P(S ≤ x) ≤ exp(count·K(−t) + t·x)` for every
    /// `t > 0`, each minimised over `t` so that each tail outside the window holds at most
    /// `tailMassTruncation`. The cyclic transform folds mass from outside the window back into
    /// it: mass from below lands at a *higher* loss (pessimistic); the at most
    /// `tailMassTruncation` from above lands lower, so that bound is added to the infinity mass.
    /// Infinity masses compose as `1 − (1 − m_∞)^count`.
    /// - Parameters:
    ///   - count: the number of runs, ≥ 0.
    ///   - tailMassTruncation: the per-tail mass bound of the window and of the final truncation,
    ///     in [0, 1); 0 keeps the full support (exact, but as long as `count` times one step's).
    /// - Throws: ``VeilError`` `.invalidParameter` for a negative count or a tail mass out of
    ///   range, `.numerical` when the window would exceed ``maximumGridLength`` points (use a
    ///   larger grid step) or the composed losses leave the grid's index range.
    public func selfComposed(_ count: Int,
                             tailMassTruncation: Double = defaultTailMassTruncation) throws -> PrivacyLossDistribution {
        guard count >= 0 else {
            throw VeilError.invalidParameter("self-composition count", count, allowed: "an integer ≥ 0")
        }
        try Self.checkTailMass(tailMassTruncation)
        if count == 0 { return try .identity(valueDiscretizationInterval: valueDiscretizationInterval) }
        if count == 1 { return self }
        let infinity = infinityMass >= 1 ? 1 : -Foundation.expm1(Double(count) * Foundation.log1p(-infinityMass))
        let n = probabilities.count
        if n == 0 {
            return PrivacyLossDistribution(unchecked: valueDiscretizationInterval, lowestIndex: 0,
                                           probabilities: [], infinityMass: infinity)
        }
        // Composed grid indices must stay far inside `Int`.
        let indexLimit = Double(1 << 62)
        guard Swift.abs(Double(lowestIndex) * Double(count)) < indexLimit,
              Swift.abs(Double(lowestIndex + n - 1) * Double(count)) < indexLimit else {
            throw VeilError(.numerical, "a \(count)-fold composition of this privacy-loss distribution "
                            + "reaches losses beyond the grid's index range; use a larger value_discretization_interval")
        }
        if n == 1 {
            return PrivacyLossDistribution(unchecked: valueDiscretizationInterval,
                                           lowestIndex: lowestIndex * count,
                                           probabilities: [Foundation.pow(probabilities[0], Double(count))],
                                           infinityMass: infinity)
        }

        // Window [low, high] of composed grid indices, inside the full support.
        let supportLow = Double(lowestIndex) * Double(count)
        let supportHigh = Double(lowestIndex + n - 1) * Double(count)
        let window = ChernoffWindow(probabilities: probabilities, lowestIndex: lowestIndex,
                                    count: count, tailMass: tailMassTruncation)
        var low = Swift.max(supportLow, window.lowIndex)
        var high = Swift.min(supportHigh, window.highIndex)
        if !(low <= high) { (low, high) = (supportLow, supportHigh) }
        let needed = high - low + 1
        guard needed <= Double(Self.maximumGridLength) else {
            throw Self.gridTooLarge(Int(exactly: needed.rounded(.up)).map(String.init) ?? "too many")
        }
        let fft = try RealFourierTransform(length: RealFourierTransform.efficientLength(atLeast: Int(needed)))
        let length = fft.length
        let windowLow = Int(low)
        let windowHigh = windowLow + length - 1

        // The cyclic transform works modulo `length` on offsets from `count · lowestIndex`.
        var buffer = [Double](repeating: 0, count: length)
        for (j, p) in probabilities.enumerated() { buffer[j % length] += p }
        try fft.forward(&buffer)
        HalfComplexSpectrum.raise(&buffer, toPower: count)
        try fft.inverse(&buffer)

        // Grid points above the full support hold only rounding noise; they are dropped.
        let origin = lowestIndex * count
        let kept = Swift.min(length, (lowestIndex + n - 1) * count - windowLow + 1)
        var result = [Double](repeating: 0, count: kept)
        let start = ((windowLow - origin) % length + length) % length
        for r in 0..<kept {
            let value = buffer[(start + r) % length]
            result[r] = value > 0 ? value : 0
        }
        let foldedFromAbove = Double(windowHigh) < supportHigh ? tailMassTruncation : 0
        return PrivacyLossDistribution(unchecked: valueDiscretizationInterval, lowestIndex: windowLow,
                                       probabilities: result,
                                       infinityMass: Swift.min(1, infinity + foldedFromAbove))
            .truncated(tailMass: tailMassTruncation)
    }

    // MARK: - Truncation

    /// This PLD with at most `tailMass` removed from each end of the grid, pessimistically: the
    /// lower tail is added to the lowest kept loss (a higher loss than its own) and the upper
    /// tail to the infinity mass. Both moves can only raise δ(ε) at every ε.
    public func truncated(tailMass: Double) -> PrivacyLossDistribution {
        let n = probabilities.count
        guard n > 1, tailMass > 0 else { return self }
        var first = 0
        var lowerMass = 0.0
        while first < n - 1 && lowerMass + probabilities[first] <= tailMass {
            lowerMass += probabilities[first]
            first += 1
        }
        var last = n - 1
        var upperMass = 0.0
        while last > first && upperMass + probabilities[last] <= tailMass {
            upperMass += probabilities[last]
            last -= 1
        }
        if first == 0 && last == n - 1 { return self }
        var kept = Array(probabilities[first...last])
        kept[0] += lowerMass
        return PrivacyLossDistribution(unchecked: valueDiscretizationInterval, lowestIndex: lowestIndex + first,
                                       probabilities: kept,
                                       infinityMass: Swift.min(1, infinityMass + upperMass))
    }

    // MARK: - Helpers

    private func checkSameGrid(_ other: PrivacyLossDistribution) throws {
        let a = valueDiscretizationInterval, b = other.valueDiscretizationInterval
        guard Swift.abs(a - b) <= 1e-12 * Swift.max(a, b) else {
            throw VeilError.invalidParameter("value_discretization_interval of the second PLD", b,
                                             allowed: "equal to the first PLD's (\(a))")
        }
    }

    private static func checkTailMass(_ value: Double) throws {
        guard value.isFinite, value >= 0, value < 1 else {
            throw VeilError.invalidParameter("tail_mass_truncation", value, allowed: "in the interval [0, 1)")
        }
    }

    /// The error for a grid longer than ``maximumGridLength``.
    static func gridTooLarge(_ points: some CustomStringConvertible) -> VeilError {
        VeilError(.numerical,
                  "the privacy-loss distribution needs \(points) grid points, more than the "
                  + "\(maximumGridLength) allowed; use a larger value_discretization_interval")
    }
}
