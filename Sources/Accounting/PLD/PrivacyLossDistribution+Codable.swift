// MARK: - Codable

/// JSON form: `{"value_discretization_interval": Δ, "lowest_index": k₀, "probabilities": [...],
/// "infinity_mass": m_∞}`. Decoding validates like
/// ``PrivacyLossDistribution/init(valueDiscretizationInterval:lowestIndex:probabilities:infinityMass:)``.
extension PrivacyLossDistribution: Codable {
    private enum CodingKeys: String, CodingKey {
        case valueDiscretizationInterval = "value_discretization_interval"
        case lowestIndex = "lowest_index"
        case probabilities
        case infinityMass = "infinity_mass"
    }

    /// Decodes and validates a PLD.
    /// - Throws: a decoding error, or ``VeilError`` `.invalidParameter` for invalid masses or Δ.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(valueDiscretizationInterval: try c.decode(Double.self, forKey: .valueDiscretizationInterval),
                      lowestIndex: try c.decode(Int.self, forKey: .lowestIndex),
                      probabilities: try c.decode([Double].self, forKey: .probabilities),
                      infinityMass: try c.decode(Double.self, forKey: .infinityMass))
    }

    /// Encodes the grid step, the lowest index, the masses and the infinity mass.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(valueDiscretizationInterval, forKey: .valueDiscretizationInterval)
        try c.encode(lowestIndex, forKey: .lowestIndex)
        try c.encode(probabilities, forKey: .probabilities)
        try c.encode(infinityMass, forKey: .infinityMass)
    }
}
