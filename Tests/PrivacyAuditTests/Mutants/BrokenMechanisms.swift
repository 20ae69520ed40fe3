import Mechanisms
import PrivacyAudit

// Deliberately broken mechanisms, compiled into the tests only: each is a bug that privacy proofs assume
// away and that the audit must catch. Each claims what its correct counterpart claims.

/// Discrete Laplace noise at half the scale the claim needs (`b = 1/(2ε)` for a count): truly 2ε-DP.
struct HalvedNoiseLaplace: AuditTarget {
    let claim: PrivacyClaim
    let sampler: DiscreteLaplaceSampler

    init(epsilon: Double) throws {
        claim = try PrivacyClaim(epsilon: epsilon)
        sampler = try DiscreteLaplaceSampler(scale: 1 / (2 * epsilon))
    }

    var name: String { "discrete-laplace with half the noise scale" }
    var neighbours: String { "count 0 vs 1" }

    func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        Double((input == .original ? 0 : 1) + sampler.sample(using: &source))
    }
}

/// A sum of values in [0, 2] (sensitivity 2) noised as if its sensitivity were 1: truly 2ε-DP.
struct SensitivityOffByOne: AuditTarget {
    let claim: PrivacyClaim
    let mechanism: DiscreteLaplaceMechanism

    init(epsilon: Double) throws {
        claim = try PrivacyClaim(epsilon: epsilon)
        mechanism = try DiscreteLaplaceMechanism(epsilon: epsilon, sensitivity: 1)
    }

    var name: String { "sum of values in [0, 2] calibrated for Δ = 1" }
    var neighbours: String { "sum 0 vs 2" }

    func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        Double(mechanism.release(input == .original ? 0 : 2, using: &source).value)
    }
}

/// A sum whose values are declared to lie in [0, 1] and noised for Δ = 1, without clamping them: the
/// neighbour's extra value 4 moves the sum by 4, so it is truly 4ε-DP.
struct ClampSkipped: AuditTarget {
    let claim: PrivacyClaim
    let mechanism: GranularLaplaceMechanism
    let clamps: Bool

    /// - Parameter clamps: `true` builds the correct mechanism, `false` the mutant.
    init(epsilon: Double, clamps: Bool) throws {
        claim = try PrivacyClaim(epsilon: epsilon)
        mechanism = try GranularLaplaceMechanism(epsilon: epsilon, sensitivity: 1)
        self.clamps = clamps
    }

    var name: String { clamps ? "sum clamped to [0, 1]" : "sum of [0, 1] values without the clamp" }
    var neighbours: String { "rows [0.5, 0.25] vs [0.5, 0.25, 4]" }

    func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        let rows: [Double] = input == .original ? [0.5, 0.25] : [0.5, 0.25, 4]
        let sum = rows.reduce(0) { $0 + (clamps ? min(max($1, 0), 1) : $1) }
        return try mechanism.release(sum, using: &source).value
    }
}

/// A count of rows where each privacy unit may contribute one row, run without bounding a unit's rows: the
/// removed unit has 3 rows, so the count moves by 3 and it is truly 3ε-DP.
struct UnboundedContributions: AuditTarget {
    let claim: PrivacyClaim
    let mechanism: DiscreteLaplaceMechanism
    let bounds: Bool

    /// - Parameter bounds: `true` builds the correct mechanism (one row per unit), `false` the mutant.
    init(epsilon: Double, bounds: Bool) throws {
        claim = try PrivacyClaim(epsilon: epsilon)
        mechanism = try DiscreteLaplaceMechanism(epsilon: epsilon, sensitivity: 1)
        self.bounds = bounds
    }

    var name: String { bounds ? "count, one row per unit" : "count without the per-unit bound" }
    var neighbours: String { "units {a: 2 rows, b: 1 row} vs the same plus {c: 3 rows}" }

    func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        let rowsPerUnit = input == .original ? [2, 1] : [2, 1, 3]
        let count = rowsPerUnit.reduce(0) { $0 + (bounds ? min($1, 1) : $1) }
        return Double(mechanism.release(count, using: &source).value)
    }
}

/// The discrete Gaussian at a quarter of the σ the (ε, δ) claim needs: its δ at the claimed ε is far above
/// the claimed δ.
struct QuarterSigmaGaussian: AuditTarget {
    let claim: PrivacyClaim
    let sampler: DiscreteGaussianSampler

    init(epsilon: Double, delta: Double) throws {
        claim = try PrivacyClaim(epsilon: epsilon, delta: delta)
        let sigma = try DiscreteGaussianMechanism(epsilon: epsilon, delta: delta).sigma
        sampler = try DiscreteGaussianSampler(sigma: sigma / 4)
    }

    var name: String { "discrete-gaussian with a quarter of σ" }
    var neighbours: String { "count 0 vs 1" }

    func statistic<R: RandomSource>(on input: NeighbouringInput, using source: inout R) throws -> Double {
        Double((input == .original ? 0 : 1) + sampler.sample(using: &source))
    }
}
