import Foundation

/// The privacy-loss-distribution accountant: tight (ε, δ) for compositions of Gaussian, Laplace,
/// discrete Laplace, discrete Gaussian and (ε, δ) mechanisms and their Poisson subsamples, under
/// add-or-remove-one neighbouring.
///
/// Each event is discretised pessimistically by connect-the-dots on the grid `k·Δ` (Doroshenko,
/// Ghazi, Kamath, Kumar, Manurangsi 2022), compositions are computed by FFT (Koskela, Jälkö,
/// Honkela 2020) and tails are truncated only in directions that raise δ, so the reported ε is
/// never below the true ε of the event; it exceeds it by roughly the discretisation error, which
/// shrinks with Δ. Events containing Poisson sampling are analysed in both neighbouring directions
/// and the worse is reported, as Google's `dp_accounting` does. See `docs/accounting-pld.md`.
public struct PLDAccountant: PrivacyAccountant {
    /// `"pld"`.
    public var name: String { "pld" }

    /// The grid step Δ of privacy-loss values (nats).
    public let valueDiscretizationInterval: Double

    /// An accountant on the loss grid `k·Δ`.
    /// - Parameter valueDiscretizationInterval: Δ > 0; smaller is tighter and slower (run time and
    ///   memory grow like `1/Δ`). The default `1e-4` matches `dp_accounting`'s common setting.
    /// - Throws: ``VeilError`` `.invalidParameter` if Δ is not a finite number > 0.
    public init(valueDiscretizationInterval: Double = 1e-4) throws {
        try ParameterCheck.positive(valueDiscretizationInterval, name: "value_discretization_interval")
        self.valueDiscretizationInterval = valueDiscretizationInterval
    }

    /// The smallest ε ≥ 0 this accountant certifies for `event` at `delta`: the larger of the two
    /// neighbouring directions' `ε(δ)`; `+∞` if `delta` is below the mass at infinite loss.
    /// - Parameters:
    ///   - event: a supported event (see
    ///     ``PrivacyLossDistribution/init(event:direction:valueDiscretizationInterval:)``).
    ///   - delta: δ ∈ (0, 1).
    /// - Throws: ``VeilError`` `.invalidParameter`, `.unsupported` or `.numerical`.
    public func epsilon(for event: DPEvent, delta: Double) throws -> Double {
        try ParameterCheck.delta(delta)
        return try distributions(for: event).map { $0.epsilon(forDelta: delta) }.max() ?? 0
    }

    /// The smallest δ this accountant certifies for `event` at `epsilon`: the larger of the two
    /// neighbouring directions' hockey-stick divergences `δ(ε)`.
    /// - Parameters:
    ///   - event: a supported event.
    ///   - epsilon: ε ≥ 0, finite.
    /// - Throws: ``VeilError`` `.invalidParameter`, `.unsupported` or `.numerical`.
    public func delta(for event: DPEvent, epsilon: Double) throws -> Double {
        guard epsilon.isFinite, epsilon >= 0 else {
            throw VeilError.invalidParameter("epsilon", epsilon, allowed: "a finite number ≥ 0")
        }
        return try distributions(for: event).map { $0.delta(forEpsilon: epsilon) }.max() ?? 0
    }

    /// The pessimistic PLDs of `event`: one per neighbouring direction when they differ (Poisson
    /// sampling at a rate strictly between 0 and 1), otherwise the single shared one.
    /// - Throws: ``VeilError`` `.invalidParameter`, `.unsupported` or `.numerical`.
    public func distributions(for event: DPEvent) throws -> [PrivacyLossDistribution] {
        try event.validate()
        let directions: [NeighbouringDirection] =
            EventDistributionBuilder.isDirectionDependent(event) ? [.remove, .add] : [.remove]
        return try directions.map {
            try PrivacyLossDistribution(event: event, direction: $0,
                                        valueDiscretizationInterval: valueDiscretizationInterval)
        }
    }
}
