import Foundation

// MARK: - From DP events

extension PrivacyLossDistribution {
    /// Tail mass cut from each side of a base mechanism whose loss is unbounded (Gaussian, discrete
    /// Gaussian); the cut mass is moved pessimistically (see ``ConnectTheDotsDiscretizer``).
    static let baseTailMass = 1e-20

    /// The pessimistic PLD of `event` in one neighbouring direction.
    ///
    /// Base mechanisms and their Poisson subsamples are discretised by connect-the-dots
    /// (Doroshenko et al. 2022); compositions are convolved and self-compositions raised to a power
    /// in Fourier space (Koskela et al. 2020). The result's δ(ε) is never below the mechanism's.
    ///
    /// Supported events: `gaussian`, `laplace`, `discreteLaplace`, `discreteGaussian`,
    /// `epsilonDelta`; `poissonSampled` of any of those (or of another `poissonSampled`, whose
    /// rates multiply); `selfComposed` and `composed` of any supported event.
    /// - Parameters:
    ///   - event: the event; it is validated first.
    ///   - direction: which ordering of the neighbouring pair to describe.
    ///   - valueDiscretizationInterval: the grid step Δ > 0 (nats).
    /// - Throws: ``VeilError`` `.invalidParameter` for invalid event parameters or Δ,
    ///   `.unsupported` for events outside the list above, `.numerical` when a grid would be too large.
    public init(event: DPEvent, direction: NeighbouringDirection, valueDiscretizationInterval: Double) throws {
        try ParameterCheck.positive(valueDiscretizationInterval, name: "value_discretization_interval")
        try event.validate()
        var builder = EventDistributionBuilder(interval: valueDiscretizationInterval, direction: direction)
        self = try builder.distribution(for: event)
    }
}

/// Walks a ``DPEvent`` tree and builds its PLD, reusing the PLD of repeated sub-events.
struct EventDistributionBuilder {
    let interval: Double
    let direction: NeighbouringDirection
    private var cache: [DPEvent: PrivacyLossDistribution] = [:]

    init(interval: Double, direction: NeighbouringDirection) {
        self.interval = interval
        self.direction = direction
    }

    static let supportedEvents = "gaussian, laplace, discrete_laplace, discrete_gaussian, epsilon_delta, "
        + "poisson_sampled of one of these, and self_composed / composed of supported events"

    mutating func distribution(for event: DPEvent) throws -> PrivacyLossDistribution {
        if let known = cache[event] { return known }
        let result: PrivacyLossDistribution
        switch event {
        case .selfComposed(let inner, let count):
            result = try distribution(for: inner).selfComposed(count)
        case .composed(let events):
            var total = try PrivacyLossDistribution.identity(valueDiscretizationInterval: interval)
            for inner in events { total = try total.composed(with: distribution(for: inner)) }
            result = total
        case .poissonSampled(let rate, let inner):
            result = try sampled(inner, rate: rate)
        default:
            result = try sampled(event, rate: 1)
        }
        cache[event] = result
        return result
    }

    /// The PLD of `event` (a base mechanism, possibly wrapped in further Poisson samplings) run on
    /// a Poisson sample at `rate`.
    private func sampled(_ event: DPEvent, rate: Double) throws -> PrivacyLossDistribution {
        if rate == 0 { return try .identity(valueDiscretizationInterval: interval) }
        let discretizer = ConnectTheDotsDiscretizer(
            interval: interval,
            transform: SubsampledLossTransform(samplingRate: rate, direction: direction),
            tailMass: PrivacyLossDistribution.baseTailMass)
        switch event {
        case .gaussian(let sigma):
            return try discretizer.discretize(BaseMechanismPair(atoms: [], continuous: GaussianLossPart(sigma: sigma)))
        case .laplace(let scale):
            let part = LaplaceLossPart(scale: scale)
            return try discretizer.discretize(BaseMechanismPair(atoms: part.endAtoms, continuous: part))
        case .discreteLaplace(let scale, let sensitivity):
            return try discretizer.discretize(BaseMechanismPair.discreteLaplace(scale: scale, sensitivity: sensitivity))
        case .discreteGaussian(let sigma, let sensitivity):
            return try discretizer.discretize(BaseMechanismPair.discreteGaussian(sigma: sigma, sensitivity: sensitivity))
        case .epsilonDelta(let epsilon, let delta):
            return try discretizer.discretize(BaseMechanismPair.epsilonDelta(epsilon: epsilon, delta: delta))
        case .poissonSampled(let innerRate, let inner):
            // Keeping each unit with probability q, then with probability q′, keeps it with q·q′.
            return try sampled(inner, rate: rate * innerRate)
        case .composed(let events) where events.isEmpty:
            return try .identity(valueDiscretizationInterval: interval)
        case .selfComposed, .composed:
            throw VeilError(.unsupported,
                            "the PLD accountant cannot analyse poisson_sampled of a composition; supported: \(Self.supportedEvents)")
        }
    }

    /// Whether `event` contains a Poisson sampling at a rate strictly between 0 and 1, the only
    /// case in which the remove and add directions differ.
    static func isDirectionDependent(_ event: DPEvent) -> Bool {
        switch event {
        case .gaussian, .laplace, .discreteLaplace, .discreteGaussian, .epsilonDelta:
            return false
        case .poissonSampled(let rate, let inner):
            return (rate > 0 && rate < 1) || isDirectionDependent(inner)
        case .selfComposed(let inner, _):
            return isDirectionDependent(inner)
        case .composed(let events):
            return events.contains(where: isDirectionDependent)
        }
    }
}
