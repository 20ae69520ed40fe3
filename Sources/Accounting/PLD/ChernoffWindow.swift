import Foundation

/// Grid indices outside of which the `count`-fold self-convolution of a finite mass function
/// holds at most `tailMass` per tail, by the Chernoff bound.
///
/// For the sum `S` of `count` independent draws from the (sub-)probability masses `p_j` at grid
/// indices `x_j`, with `K(s) = log Σ_j p_j e^{s·x_j}` and any `s > 0`,
/// `P(S ≥ x) ≤ exp(count·K(s) − s·x)` and `P(S ≤ x) ≤ exp(count·K(−s) + s·x)`. Solving each for
/// the `x` at which the bound equals `tailMass` gives `x(s) = (count·K(±s) − log tailMass)/s`, a
/// quasi-convex function of `s` (the slope of the chord from `(0, log tailMass)` to the convex
/// curve `count·K`), minimised here by golden-section search on `log s`. Any `s` gives a valid
/// bound, so the search only has to be good, not exact.
struct ChernoffWindow {
    /// A grid index `≤` every index of the composed lower tail holding more than `tailMass`.
    let lowIndex: Double
    /// A grid index with `P(S ≥ highIndex) ≤ tailMass`.
    let highIndex: Double

    init(probabilities: [Double], lowestIndex: Int, count: Int, tailMass: Double) {
        var logMasses: [Double] = []
        var offsets: [Double] = []
        logMasses.reserveCapacity(probabilities.count)
        offsets.reserveCapacity(probabilities.count)
        for (j, p) in probabilities.enumerated() where p > 0 {
            logMasses.append(Foundation.log(p))
            offsets.append(Double(j))
        }
        let base = Double(lowestIndex)
        let span = (offsets.last ?? 0) - (offsets.first ?? 0)
        let upper = Self.tailIndex(logMasses: logMasses, offsets: offsets, sign: 1,
                                   count: Double(count), logTail: Foundation.log(tailMass), span: span)
        let lower = Self.tailIndex(logMasses: logMasses, offsets: offsets, sign: -1,
                                   count: Double(count), logTail: Foundation.log(tailMass), span: span)
        highIndex = (Double(count) * base + upper).rounded(.up)
        lowIndex = (Double(count) * base - lower).rounded(.down)
    }

    /// `min_s (count·K(sign·s) − logTail)/s` with offsets measured from the lowest index: a value
    /// that `sign·(S − count·lowestIndex)` exceeds with probability at most `e^{logTail}`.
    private static func tailIndex(logMasses: [Double], offsets: [Double], sign: Double,
                                  count: Double, logTail: Double, span: Double) -> Double {
        guard !offsets.isEmpty else { return 0 }
        func bound(_ logS: Double) -> Double {
            let s = Foundation.exp(logS)
            // One-pass log-sum-exp: rescale the running sum whenever a larger term appears. Terms
            // more than 60 below the running peak are not exponentiated but counted as e^{−60}
            // each, which can only enlarge K (so the bound stays valid) and skips most of the grid.
            var peak = -Double.infinity
            var sum = 0.0
            var negligible = 0
            for i in offsets.indices {
                let term = logMasses[i] + sign * s * offsets[i]
                if term <= peak {
                    if term < peak - 60 { negligible += 1 } else { sum += Foundation.exp(term - peak) }
                } else {
                    sum = sum * Foundation.exp(peak - term) + 1
                    peak = term
                }
            }
            let cumulant = peak + Foundation.log(sum + Double(negligible) * Foundation.exp(-60.0))
            return (count * cumulant - logTail) / s
        }
        // s ranges over scales from one step of the composed support to a thousand per step;
        // 28 golden-section steps narrow log s to about 1e-4 of that range.
        var a = Foundation.log(1e-3 / Swift.max(1, count * Swift.max(span, 1)))
        var b = Foundation.log(1e3)
        let ratio = (5.0.squareRoot() - 1) / 2
        var c = b - ratio * (b - a), d = a + ratio * (b - a)
        var fc = bound(c), fd = bound(d)
        for _ in 0..<28 {
            if fc <= fd {
                b = d; d = c; fd = fc
                c = b - ratio * (b - a); fc = bound(c)
            } else {
                a = c; c = d; fc = fd
                d = a + ratio * (b - a); fd = bound(d)
            }
        }
        // With sign −1 this bounds −(S − count·lowestIndex) from above, i.e. S from below.
        return Swift.min(fc, fd)
    }
}
