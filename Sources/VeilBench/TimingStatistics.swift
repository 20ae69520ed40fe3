/// Statistics of per-sample running times against the magnitude of the noise drawn, for the timing side
/// channel of Jin, McMurtry, Rubinstein, Ohrimenko 2022 ("Are We There Yet? Timing and Floating-Point Attacks
/// on Differential Privacy Systems", IEEE S&P): if a sample's time grows with |noise|, an observer of the time
/// learns about the noise and hence about the true value.
struct TimingStatistics {
    /// Bucket edges of |noise| in units of the noise scale (b for Laplace, σ for Gaussian): [0, 0.5), [0.5, 1),
    /// [1, 2), [2, 4), [4, 8), [8, ∞).
    static let bucketEdges: [Double] = [0, 0.5, 1, 2, 4, 8]
    /// Names of the buckets, for figure names.
    static let bucketNames = ["0to0.5", "0.5to1", "1to2", "2to4", "4to8", "8up"]

    /// Spearman's rank correlation ρ_s of time and |noise| (Pearson correlation of the ranks, ties at their
    /// average rank).
    let spearman: Double
    /// Least-squares slope of time (ns) on |noise|/scale: the extra nanoseconds one unit of scale costs.
    let slopeNanosecondsPerScale: Double
    /// Mean time (ns) and count of the samples in each bucket (`nil` mean when the bucket is empty).
    let buckets: [(meanNanoseconds: Double?, count: Int)]
    /// Samples whose time exceeded the outlier cut and were left out (preemption by other processes).
    let outliers: Int

    /// - Parameters:
    ///   - nanoseconds: the running time of each sample.
    ///   - magnitudes: |noise| / scale of each sample.
    ///   - outlierCut: times above this (ns) are left out: no sample takes that long unless descheduled.
    init(nanoseconds: [Double], magnitudes: [Double], outlierCut: Double) {
        precondition(nanoseconds.count == magnitudes.count)
        let kept = nanoseconds.indices.filter { nanoseconds[$0] <= outlierCut }
        let times = kept.map { nanoseconds[$0] }
        let sizes = kept.map { magnitudes[$0] }
        outliers = nanoseconds.count - kept.count
        spearman = Self.pearson(Self.averageRanks(times), Self.averageRanks(sizes))
        let meanSize = sizes.reduce(0, +) / Double(max(sizes.count, 1))
        let meanTime = times.reduce(0, +) / Double(max(times.count, 1))
        var covariance = 0.0, variance = 0.0
        for (t, s) in zip(times, sizes) {
            covariance += (s - meanSize) * (t - meanTime)
            variance += (s - meanSize) * (s - meanSize)
        }
        slopeNanosecondsPerScale = variance > 0 ? covariance / variance : 0
        var sums = [Double](repeating: 0, count: Self.bucketEdges.count)
        var counts = [Int](repeating: 0, count: Self.bucketEdges.count)
        for (t, s) in zip(times, sizes) {
            let bucket = Self.bucketEdges.lastIndex { s >= $0 } ?? 0
            sums[bucket] += t
            counts[bucket] += 1
        }
        buckets = zip(sums, counts).map { sum, count in (count > 0 ? sum / Double(count) : nil, count) }
    }

    /// Ranks 1…n of `values`, tied values sharing the average of their ranks.
    static func averageRanks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && values[order[end + 1]] == values[order[start]] { end += 1 }
            let rank = Double(start + end) / 2 + 1
            for i in start...end { ranks[order[i]] = rank }
            start = end + 1
        }
        return ranks
    }

    /// Pearson's correlation of `x` and `y` (0 when either is constant).
    static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        guard n > 1 else { return 0 }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxy += (a - mx) * (b - my)
            sxx += (a - mx) * (a - mx)
            syy += (b - my) * (b - my)
        }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0
    }
}
