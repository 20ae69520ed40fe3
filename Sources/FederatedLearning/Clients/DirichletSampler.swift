import Foundation
import Mechanisms
import PrivateTraining

/// Draws from the Dirichlet(α, …, α) distribution as normalised Gamma(α, 1) variates, the Gamma variates by
/// Marsaglia & Tsang's method ("A Simple Method for Generating Gamma Variables", ACM TOMS 26(3), 2000), with
/// Gamma(α) = Gamma(α + 1) · U^{1/α} for α < 1 (ibid., §6).
///
/// It only shapes simulated client splits (which examples a simulated client holds): it is not a privacy
/// mechanism and its floating-point arithmetic carries no guarantee.
public struct DirichletSampler {
    /// The concentration α > 0 of every component.
    public let alpha: Double
    private var normal = GaussianNoiseSampler()

    /// A sampler of Dirichlet(α, …, α).
    public init(alpha: Double) {
        precondition(alpha.isFinite && alpha > 0, "α must be finite and > 0")
        self.alpha = alpha
    }

    /// One probability vector of `dimension` components (each ≥ 0, summing to 1).
    public mutating func next<R: RandomSource>(dimension: Int, using random: inout R) -> [Double] {
        var values = (0..<dimension).map { _ in gamma(alpha, using: &random) }
        var total = values.reduce(0, +)
        if !(total > 0) || !total.isFinite {
            // Every variate underflowed (tiny α): all mass on one uniformly chosen component.
            values = [Double](repeating: 0, count: dimension)
            values[Int(random.uniform(below: UInt64(dimension)))] = 1
            total = 1
        }
        return values.map { $0 / total }
    }

    /// One Gamma(shape, 1) variate.
    mutating func gamma<R: RandomSource>(_ shape: Double, using random: inout R) -> Double {
        if shape < 1 {
            let u = OpenUnitInterval.sample(&random)
            return gamma(shape + 1, using: &random) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat {
                x = normal.next(using: &random)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = OpenUnitInterval.sample(&random)
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }
}
