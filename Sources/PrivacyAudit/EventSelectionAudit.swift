import CGSL
import Foundation
import Mechanisms

/// The black-box ε lower bound from samples of a statistic of `M(D)` and of `M(D')`.
///
/// The samples are split in two halves. On the first half (selection) every threshold event `{x ≥ t}` and
/// `{x ≤ t}` over candidate thresholds `t`, with either input favoured, is scored by the bound it would prove
/// there, and the best is kept (DP-Sniper's threshold search, Bichsel et al. 2021, §4, with the score being
/// a confidence bound itself, so rare events with lucky ratios lose to well-supported ones; for speed the
/// selection scores use Wilson's normal-approximation bounds, which affects only which event is chosen).
/// On the second
/// half (estimation), which the choice never saw, that one event's probabilities are bounded by exact
/// Clopper–Pearson and turned into ``EpsilonLowerBound``. Because the event is fixed before the estimation
/// samples are looked at, the bound keeps its confidence: `P[ε < ε̂] ≤ α`.
public struct EventSelectionAudit: Sendable, Hashable, Codable {
    /// The event chosen on the selection half.
    public let event: ThresholdEvent
    /// The bound the event proved on the selection half (optimistic; reported for comparison only).
    public let selectionEpsilon: Double
    /// The bound on the estimation half: the audit's result.
    public let bound: EpsilonLowerBound

    /// The audited lower bound ε̂ (``EpsilonLowerBound/epsilon``).
    public var epsilon: Double { bound.epsilon }

    /// The most candidate thresholds scored on the selection half (evenly spaced order statistics
    /// of the pooled selection samples when there are more distinct values).
    public static let defaultCandidateLimit = 256

    /// Audits samples of the statistic on both inputs.
    ///
    /// - Parameters:
    ///   - original: the statistic of independent runs on `D` (NaN is in no event).
    ///   - neighbour: the statistic of independent runs on `D'`, as many as `original`.
    ///   - delta: δ of the claim, in [0, 1).
    ///   - confidence: `1 − α` of the bound, in (0, 1).
    ///   - candidateLimit: the most thresholds scored (≥ 1).
    /// - Throws: ``VeilError`` (`invalid_parameter`) for fewer than 2 samples, unequal sample counts, or a
    ///   parameter out of range.
    public init(original: [Double], neighbour: [Double], delta: Double, confidence: Double,
                candidateLimit: Int = EventSelectionAudit.defaultCandidateLimit) throws {
        guard original.count == neighbour.count else {
            throw VeilError.invalidParameter("neighbour sample count", neighbour.count,
                                             allowed: "equal to the original sample count \(original.count)")
        }
        guard original.count >= 2 else {
            throw VeilError.invalidParameter("trials", original.count, allowed: "at least 2 (one per half)")
        }
        try ParameterCheck.count(candidateLimit, name: "candidate limit", minimum: 1)
        let half = original.count / 2
        let selection = (original: SortedSample(original[0..<half]), neighbour: SortedSample(neighbour[0..<half]))
        let estimation = (original: SortedSample(original[half..<(2 * half)]),
                          neighbour: SortedSample(neighbour[half..<(2 * half)]))

        let z = gsl_cdf_ugaussian_Qinv((1 - confidence) / 2)
        var best: (event: ThresholdEvent, score: Double)?
        for threshold in Self.candidates(selection.original, selection.neighbour, limit: candidateLimit) {
            for direction in [ThresholdEvent.Direction.atLeast, .atMost] {
                for favoured in NeighbouringInput.allCases {
                    let event = ThresholdEvent(threshold: threshold, direction: direction, favoured: favoured)
                    let counts = Self.counts(event, original: selection.original, neighbour: selection.neighbour)
                    let score = Self.selectionScore(pCount: counts.p, qCount: counts.q, trials: half, delta: delta, z: z)
                    if best == nil || score > best!.score { best = (event, score) }
                }
            }
        }
        // With no finite sample at all, the event {x ≥ +∞} (empty for every finite statistic) proves nothing.
        let chosen = best ?? (ThresholdEvent(threshold: .infinity, direction: .atLeast, favoured: .original), 0)
        event = chosen.event
        selectionEpsilon = max(0, chosen.score.isFinite ? chosen.score : 0)
        let counts = Self.counts(chosen.event, original: estimation.original, neighbour: estimation.neighbour)
        bound = try EpsilonLowerBound(pCount: counts.p, qCount: counts.q, trials: half, delta: delta,
                                      confidence: confidence)
    }

    /// `ln((p_L − δ)/q_U)` with Wilson's score bounds at normal quantile `z` (Wilson 1927, "Probable
    /// inference, the law of succession, and statistical inference", JASA 22), without the floor at 0
    /// (−∞ when `p_L ≤ δ`), so that selection prefers the event closest to proving something even when none does.
    static func selectionScore(pCount: Int, qCount: Int, trials: Int, delta: Double, z: Double) -> Double {
        let excess = wilsonBound(pCount, trials, z: -z) - delta
        guard excess > 0 else { return -.infinity }
        return Foundation.log(excess / wilsonBound(qCount, trials, z: z))
    }

    /// Wilson's bound `(p̂ + z²/2n + z·√(p̂(1 − p̂)/n + z²/4n²))/(1 + z²/n)`: the upper bound for `z > 0`, the
    /// lower for `z < 0`.
    static func wilsonBound(_ successes: Int, _ trials: Int, z: Double) -> Double {
        let n = Double(trials)
        let p = Double(successes) / n
        let spread = (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
        return (p + z * z / (2 * n) + z * spread) / (1 + z * z / n)
    }

    /// The event's counts on the favoured (`p`) and the other (`q`) input.
    static func counts(_ event: ThresholdEvent, original: SortedSample, neighbour: SortedSample) -> (p: Int, q: Int) {
        let onOriginal = original.count(in: event)
        let onNeighbour = neighbour.count(in: event)
        return event.favoured == .original ? (onOriginal, onNeighbour) : (onNeighbour, onOriginal)
    }

    /// Distinct finite values of both samples, thinned to at most `limit` evenly spaced order statistics.
    static func candidates(_ a: SortedSample, _ b: SortedSample, limit: Int) -> [Double] {
        var pooled = (a.values + b.values).sorted()
        pooled = pooled.enumerated().compactMap { i, x in i == 0 || pooled[i - 1] != x ? x : nil }
        guard pooled.count > limit else { return pooled }
        if limit == 1 { return [pooled[pooled.count / 2]] }
        return (0..<limit).map { pooled[$0 * (pooled.count - 1) / (limit - 1)] }
    }
}

/// A sample's values in ascending order, NaN left out (a NaN run is in no event; ±∞ are ordered and kept).
struct SortedSample {
    /// The non-NaN values, ascending.
    let values: [Double]

    init(_ sample: ArraySlice<Double>) {
        values = sample.filter { !$0.isNaN }.sorted()
    }

    /// The number of values in `event`.
    func count(in event: ThresholdEvent) -> Int {
        switch event.direction {
        case .atLeast: values.count - firstIndex { $0 >= event.threshold }
        case .atMost: firstIndex { $0 > event.threshold }
        }
    }

    /// The first index whose value satisfies a predicate that is monotone along the sorted values.
    private func firstIndex(where predicate: (Double) -> Bool) -> Int {
        var low = 0
        var high = values.count
        while low < high {
            let mid = (low + high) / 2
            if predicate(values[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
