/// A description of a randomised release, precise enough for any accountant to compute its privacy
/// cost: a small tree in the spirit of Google's `dp_accounting` DpEvent.
///
/// Every mechanism in Veil reports its cost as a `DPEvent`; the budget ledger stores events (not
/// just ε), so any accountant can recompute what was spent. Neighbouring relation: add-or-remove
/// one privacy unit. JSON form: an object with a `"type"` key and snake_case parameters, e.g.
/// `{"type":"poisson_sampled","sampling_rate":0.01,"event":{"type":"gaussian","noise_multiplier":1.1}}`.
public indirect enum DPEvent: Hashable, Sendable {
    /// Continuous Laplace noise of scale `b = noiseMultiplier · Δ₁` on a query of L1 sensitivity Δ₁:
    /// pure ε-DP with ε = 1/noiseMultiplier.
    case laplace(noiseMultiplier: Double)
    /// Continuous Gaussian noise of standard deviation `σ = noiseMultiplier · Δ₂`.
    case gaussian(noiseMultiplier: Double)
    /// Discrete Laplace noise `P(k) ∝ exp(-|k|/scale)` on an integer query of integer sensitivity Δ.
    case discreteLaplace(scale: Double, sensitivity: Int)
    /// Discrete Gaussian noise `P(k) ∝ exp(-k²/(2σ²))` on an integer query of integer sensitivity Δ.
    case discreteGaussian(sigma: Double, sensitivity: Int)
    /// A release known only to satisfy (ε, δ)-DP.
    case epsilonDelta(epsilon: Double, delta: Double)
    /// `event` run on a Poisson sample that keeps each unit independently with probability `samplingRate`.
    case poissonSampled(samplingRate: Double, event: DPEvent)
    /// `event` run `count` times (adaptively) on the same data.
    case selfComposed(event: DPEvent, count: Int)
    /// The events run one after another (adaptively) on the same data.
    case composed([DPEvent])

    /// The event that releases nothing.
    public static let noOp = DPEvent.composed([])
}

// MARK: - Validation

extension DPEvent {
    /// Throws a ``VeilError`` naming the first parameter of the tree outside its allowed range.
    public func validate() throws {
        switch self {
        case .laplace(let m):
            try ParameterCheck.positive(m, name: "laplace noise_multiplier")
        case .gaussian(let m):
            try ParameterCheck.positive(m, name: "gaussian noise_multiplier")
        case .discreteLaplace(let scale, let sensitivity):
            try ParameterCheck.positive(scale, name: "discrete_laplace scale")
            guard sensitivity >= 1 else {
                throw VeilError.invalidParameter("discrete_laplace sensitivity", sensitivity, allowed: "an integer ≥ 1")
            }
        case .discreteGaussian(let sigma, let sensitivity):
            try ParameterCheck.positive(sigma, name: "discrete_gaussian sigma")
            guard sensitivity >= 1 else {
                throw VeilError.invalidParameter("discrete_gaussian sensitivity", sensitivity, allowed: "an integer ≥ 1")
            }
        case .epsilonDelta(let epsilon, let delta):
            guard epsilon.isFinite, epsilon >= 0 else {
                throw VeilError.invalidParameter("epsilon_delta epsilon", epsilon, allowed: "a finite number ≥ 0")
            }
            try ParameterCheck.deltaOrZero(delta, name: "epsilon_delta delta")
        case .poissonSampled(let rate, let event):
            try ParameterCheck.probability(rate, name: "poisson_sampled sampling_rate")
            try event.validate()
        case .selfComposed(let event, let count):
            guard count >= 0 else {
                throw VeilError.invalidParameter("self_composed count", count, allowed: "an integer ≥ 0")
            }
            try event.validate()
        case .composed(let events):
            for event in events { try event.validate() }
        }
    }
}

// MARK: - Codable

extension DPEvent: Codable {
    private enum Kind: String, Codable {
        case laplace, gaussian
        case discreteLaplace = "discrete_laplace"
        case discreteGaussian = "discrete_gaussian"
        case epsilonDelta = "epsilon_delta"
        case poissonSampled = "poisson_sampled"
        case selfComposed = "self_composed"
        case composed
    }

    private enum CodingKeys: String, CodingKey {
        case type
        case noiseMultiplier = "noise_multiplier"
        case scale, sigma, sensitivity, epsilon, delta
        case samplingRate = "sampling_rate"
        case event, count, events
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(Kind.self, forKey: .type) {
        case .laplace:
            self = .laplace(noiseMultiplier: try c.decode(Double.self, forKey: .noiseMultiplier))
        case .gaussian:
            self = .gaussian(noiseMultiplier: try c.decode(Double.self, forKey: .noiseMultiplier))
        case .discreteLaplace:
            self = .discreteLaplace(scale: try c.decode(Double.self, forKey: .scale),
                                    sensitivity: try c.decode(Int.self, forKey: .sensitivity))
        case .discreteGaussian:
            self = .discreteGaussian(sigma: try c.decode(Double.self, forKey: .sigma),
                                     sensitivity: try c.decode(Int.self, forKey: .sensitivity))
        case .epsilonDelta:
            self = .epsilonDelta(epsilon: try c.decode(Double.self, forKey: .epsilon),
                                 delta: try c.decode(Double.self, forKey: .delta))
        case .poissonSampled:
            self = .poissonSampled(samplingRate: try c.decode(Double.self, forKey: .samplingRate),
                                   event: try c.decode(DPEvent.self, forKey: .event))
        case .selfComposed:
            self = .selfComposed(event: try c.decode(DPEvent.self, forKey: .event),
                                 count: try c.decode(Int.self, forKey: .count))
        case .composed:
            self = .composed(try c.decode([DPEvent].self, forKey: .events))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .laplace(let m):
            try c.encode(Kind.laplace, forKey: .type)
            try c.encode(m, forKey: .noiseMultiplier)
        case .gaussian(let m):
            try c.encode(Kind.gaussian, forKey: .type)
            try c.encode(m, forKey: .noiseMultiplier)
        case .discreteLaplace(let scale, let sensitivity):
            try c.encode(Kind.discreteLaplace, forKey: .type)
            try c.encode(scale, forKey: .scale)
            try c.encode(sensitivity, forKey: .sensitivity)
        case .discreteGaussian(let sigma, let sensitivity):
            try c.encode(Kind.discreteGaussian, forKey: .type)
            try c.encode(sigma, forKey: .sigma)
            try c.encode(sensitivity, forKey: .sensitivity)
        case .epsilonDelta(let epsilon, let delta):
            try c.encode(Kind.epsilonDelta, forKey: .type)
            try c.encode(epsilon, forKey: .epsilon)
            try c.encode(delta, forKey: .delta)
        case .poissonSampled(let rate, let event):
            try c.encode(Kind.poissonSampled, forKey: .type)
            try c.encode(rate, forKey: .samplingRate)
            try c.encode(event, forKey: .event)
        case .selfComposed(let event, let count):
            try c.encode(Kind.selfComposed, forKey: .type)
            try c.encode(event, forKey: .event)
            try c.encode(count, forKey: .count)
        case .composed(let events):
            try c.encode(Kind.composed, forKey: .type)
            try c.encode(events, forKey: .events)
        }
    }
}
