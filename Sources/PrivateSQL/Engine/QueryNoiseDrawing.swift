import Foundation
import Mechanisms

/// The exact integer samplers of a plan's quantities, built before anything is reserved or read so that an
/// invalid noise parameter fails before the ledger is touched.
struct QueryNoiseDrawing: Sendable {
    enum Sampler: Sendable {
        case laplace(DiscreteLaplaceSampler)
        case gaussian(DiscreteGaussianSampler)
    }

    let samplers: [Sampler]

    /// One sampler per quantity of `plan`, with exactly the parameters of the plan's ledger event.
    init(plan: QueryPlan) throws {
        samplers = try plan.quantities.map { q in
            switch q.noise {
            case .discreteLaplace(let scale): .laplace(try DiscreteLaplaceSampler(scale: scale))
            case .discreteGaussian(let sigma, _): .gaussian(try DiscreteGaussianSampler(sigma: sigma))
            }
        }
    }

    /// Adds one independent noise draw to every coordinate of every quantity of every group (saturating at the
    /// range of `Int64`, post-processing of the exact sum).
    func noise<R: RandomSource>(_ groups: [TrueGroup], using source: inout R) -> [NoisyGroup] {
        groups.map { noise($0, using: &source) }
    }

    /// Adds one independent noise draw to every coordinate of every quantity of `group`. Laplace and Gaussian
    /// noise are drawn with fixed work per accepted round (``DiscreteLaplaceSampler/sampleWithFixedWork(using:)``,
    /// ``DiscreteGaussianSampler/sampleWithFixedWork(using:)``), so a query's running time does not grow with the
    /// magnitude of its noise.
    func noise<R: RandomSource>(_ group: TrueGroup, using source: inout R) -> NoisyGroup {
        let values = group.values.enumerated().map { index, coordinates in
            coordinates.map { value -> Int64 in
                let z: Int
                switch samplers[index] {
                case .laplace(let sampler): z = sampler.sampleWithFixedWork(using: &source)
                case .gaussian(let sampler): z = sampler.sampleWithFixedWork(using: &source)
                }
                return Int64(clamping: Int128(value) + Int128(z))
            }
        }
        return NoisyGroup(key: group.key, values: values)
    }
}
