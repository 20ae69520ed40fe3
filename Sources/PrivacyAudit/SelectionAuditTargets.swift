import Mechanisms

// Audit targets for the selection mechanisms. Each score moves by at most Δ = 1 between the inputs, in
// opposite directions for the first candidate and the others (the non-monotone worst case), and the
// statistic is what the mechanism outputs: the selected index, or where the first positive answer came.

/// The scores of the selection targets: candidate 0 leads by Δ on `D` and trails by Δ on `D'`.
enum SelectionScores {
    static let candidates = 4

    static func scores(on input: NeighbouringInput) -> [Int] {
        (0..<candidates).map { i in (i == 0) == (input == .original) ? 1 : 0 }
    }
}

/// Report-noisy-max (``ReportNoisyMax``, non-monotone, Δ = 1) over four scores: `[1, 0, 0, 0]` on `D` and
/// `[0, 1, 1, 1]` on `D'`; the statistic is the selected index.
public struct ReportNoisyMaxAuditTarget: AuditTarget {
    /// The mechanism under audit.
    public let mechanism: ReportNoisyMax
    public let claim: PrivacyClaim

    /// - Parameter epsilon: the claimed ε, finite and > 0.
    /// - Throws: ``VeilError`` (`invalid_parameter`) from the mechanism.
    public init(epsilon: Double) throws {
        mechanism = try ReportNoisyMax(epsilon: epsilon, sensitivity: 1, monotonic: false)
        claim = try PrivacyClaim(epsilon: epsilon)
    }

    public var name: String { "report-noisy-max" }
    public var neighbours: String { "scores [1,0,0,0] vs [0,1,1,1] (Δ = 1)" }

    public func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        Double(try mechanism.select(scores: SelectionScores.scores(on: input), using: &source))
    }
}

/// Permute-and-flip (``PermuteAndFlip``, non-monotone, Δ = 1) over the same scores as
/// ``ReportNoisyMaxAuditTarget``; the statistic is the selected index.
public struct PermuteAndFlipAuditTarget: AuditTarget {
    /// The mechanism under audit.
    public let mechanism: PermuteAndFlip
    public let claim: PrivacyClaim

    /// - Parameter epsilon: the claimed ε, finite and > 0.
    /// - Throws: ``VeilError`` (`invalid_parameter`) from the mechanism.
    public init(epsilon: Double) throws {
        mechanism = try PermuteAndFlip(epsilon: epsilon, sensitivity: 1, monotonic: false)
        claim = try PrivacyClaim(epsilon: epsilon)
    }

    public var name: String { "permute-and-flip" }
    public var neighbours: String { "scores [1,0,0,0] vs [0,1,1,1] (Δ = 1)" }

    public func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        Double(try mechanism.select(scores: SelectionScores.scores(on: input).map(Double.init), using: &source))
    }
}

/// The sparse vector technique (``SparseVector``, one positive answer, non-monotone, Δ = 1, threshold 0)
/// over five queries: `[0, 0, 0, 0, 1]` on `D` and `[1, 1, 1, 1, 0]` on `D'`, the pattern under which a
/// flawed variant's loss grows with the number of queries (Lyu, Su, Li 2017, §3; Ding et al. 2018,
/// "Detecting Violations of Differential Privacy", CCS, §6). The statistic is the index of the first
/// positive answer, −1 when there is none.
public struct SparseVectorAuditTarget: AuditTarget {
    /// A fresh interaction (no noise drawn yet); each run answers on its own copy, a separate interaction.
    public let fresh: SparseVector
    public let claim: PrivacyClaim

    static let queries = 5

    /// - Parameter epsilon: the claimed ε, finite and > 0.
    /// - Throws: ``VeilError`` (`invalid_parameter`) from the mechanism.
    public init(epsilon: Double) throws {
        fresh = try SparseVector(epsilon: epsilon, sensitivity: 1, threshold: 0)
        claim = try PrivacyClaim(epsilon: epsilon)
    }

    public var name: String { "sparse-vector" }
    public var neighbours: String { "queries [0,0,0,0,1] vs [1,1,1,1,0] (Δ = 1, threshold 0, c = 1)" }

    public func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        var interaction = fresh
        for i in 0..<Self.queries {
            let last = i == Self.queries - 1
            let value: Double = (input == .original) == last ? 1 : 0
            if try interaction.isAboveThreshold(value, using: &source) { return Double(i) }
        }
        return -1
    }
}

/// Partition selection by thresholding (``PartitionSelectionThreshold/discreteLaplace(scale:delta:k:)``, one
/// group per unit): on `D` a group holds one privacy unit, on `D'` the group does not exist. The unit count
/// gets discrete Laplace noise of scale `1/ε` and the group is released when the noisy count reaches the
/// threshold; the statistic is the released noisy count, −1 when the group is suppressed (as on `D'`
/// always). Here only δ keeps the release possible, so with `n` trials a δ below about `1/n` leaves the
/// audit nothing to see: the bound is then 0 whatever the implementation.
public struct PartitionSelectionAuditTarget: AuditTarget {
    /// The noise on the unit count.
    public let sampler: DiscreteLaplaceSampler
    /// The threshold the noisy unit count must reach.
    public let threshold: Int64
    public let claim: PrivacyClaim

    /// - Parameters:
    ///   - epsilon: the claimed ε, finite and > 0 (noise of scale 1/ε on the unit count).
    ///   - delta: the claimed δ, in (0, 1) (the probability that a single-unit group is released).
    /// - Throws: ``VeilError`` (`invalid_parameter`) from the sampler or the threshold.
    public init(epsilon: Double, delta: Double) throws {
        try ParameterCheck.delta(delta)
        let scale = try DiscreteLaplaceMechanism(epsilon: epsilon, sensitivity: 1).scale
        sampler = try DiscreteLaplaceSampler(scale: scale)
        threshold = try PartitionSelectionThreshold.discreteLaplace(scale: scale, delta: delta, k: 1)
        claim = try PrivacyClaim(epsilon: epsilon, delta: delta)
    }

    public var name: String { "partition-selection" }
    public var neighbours: String { "a group of 1 privacy unit vs no group (k = 1)" }

    public func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        guard input == .original else { return -1 }
        let noisy = Int64(1) + Int64(sampler.sample(using: &source))
        return noisy >= threshold ? Double(noisy) : -1
    }
}
