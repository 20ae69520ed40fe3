import Mechanisms

/// Maps a clipped update (L2 norm ≤ C, so every coordinate in [−C, C]) to integers modulo 2^b for secure
/// aggregation, with a grid fine enough for the update and coarse enough that the sum of the round's updates
/// cannot wrap around the modulus.
///
/// **No wrap-around.** With at most `maximumClients` = n updates in a sum, the grid has `levels` = M =
/// ⌊(2^(b−1) − 1)/n⌋ steps of `step` g = C/M on each side of zero. A coordinate x ∈ [−C, C] is scaled to x/g ∈
/// [−M, M] (clamped there, so a value just outside from `Float` rounding — or a non-finite one, which becomes 0
/// — cannot break the bound: docs/design.md §2 rule 8) and rounded stochastically to ⌊x/g⌋ or ⌈x/g⌉, both in
/// [−M, M] because M is an integer. The sum of n such integers has absolute value at most n·M ≤ 2^(b−1) − 1, so
/// its representative in [−2^(b−1), 2^(b−1)) is the exact integer sum: ``decode(_:)`` never sees a wrapped value.
///
/// Stochastic rounding (round up with probability the fractional part) is unbiased, so the decoded sum
/// is an unbiased estimate of the real sum, with at most g per client and coordinate of rounding error.
public struct UpdateQuantizer: Sendable, Equatable {
    /// C: the bound on each update's L2 norm.
    public let clipNorm: Double
    /// b: values are integers modulo 2^b.
    public let bitWidth: Int
    /// n: the most updates a sum may hold.
    public let maximumClients: Int
    /// M = ⌊(2^(b−1) − 1)/n⌋: a quantised coordinate is an integer in [−M, M].
    public let levels: Int64
    /// g = C/M: the grid step.
    public let step: Double

    /// The smallest grid accepted: M ≥ 2⁸ levels on each side of zero (a coarser grid would drown small updates
    /// in rounding noise).
    public static let minimumLevels: Int64 = 256

    /// - Throws: `VeilError.invalidParameter` for a clip norm that is not finite and positive, a bit width
    ///   outside ``FederatedAggregation/bitWidthLimit``, or a modulus too small for `maximumClients` updates on a
    ///   grid of at least ``minimumLevels`` levels.
    public init(clipNorm: Double, bitWidth: Int, maximumClients: Int) throws {
        guard clipNorm.isFinite, clipNorm > 0 else {
            throw VeilError.invalidParameter("clip norm", clipNorm, allowed: "a finite number > 0")
        }
        guard FederatedAggregation.bitWidthLimit.contains(bitWidth) else {
            throw VeilError.invalidParameter("secure aggregation bit width", bitWidth,
                                             allowed: "in \(FederatedAggregation.bitWidthLimit)")
        }
        try ParameterCheck.count(maximumClients, name: "clients per sum", minimum: 1)
        let half = (Int64(1) << (bitWidth - 1)) - 1
        let m = half / Int64(maximumClients)
        guard m >= Self.minimumLevels else {
            throw VeilError(.invalidParameter, "a modulus of 2^\(bitWidth) cannot hold the sum of \(maximumClients) "
                            + "updates on a grid of \(Self.minimumLevels) levels without wrapping around: raise "
                            + "aggregation_bit_width to at least \(Self.smallestBitWidth(maximumClients: maximumClients))")
        }
        self.clipNorm = clipNorm
        self.bitWidth = bitWidth
        self.maximumClients = maximumClients
        levels = m
        step = clipNorm / Double(m)
    }

    /// The smallest b with ⌊(2^(b−1) − 1)/n⌋ ≥ ``minimumLevels``.
    static func smallestBitWidth(maximumClients n: Int) -> Int {
        var b = FederatedAggregation.bitWidthLimit.lowerBound
        while b < 64, ((Int64(1) << (b - 1)) - 1) / Int64(n) < minimumLevels { b += 1 }
        return b
    }

    /// The update on the grid: integers in [−M, M], rounded stochastically (`random` plays the client's own source).
    public func quantize<R: RandomSource>(_ update: [Float], using random: inout R) -> [Int64] {
        let m = Double(levels)
        return update.map { value in
            let scaled = Double(value) / step
            let y = scaled.isNaN ? 0 : min(max(scaled, -m), m)
            let floor = y.rounded(.down)
            let up = OpenUnitInterval.sample(&random) < y - floor
            return Int64(floor) + (up ? 1 : 0)
        }
    }

    /// Integers as residues modulo 2^b (two's complement, low b bits).
    public func residues(_ values: [Int64]) -> [UInt64] {
        let mask = (UInt64(1) << UInt64(bitWidth)) - 1
        return values.map { UInt64(bitPattern: $0) & mask }
    }

    /// The integer sum from its residue modulo 2^b: the representative in [−2^(b−1), 2^(b−1)), exact when the sum
    /// holds at most ``maximumClients`` quantised updates.
    public func centred(_ sum: [UInt64]) -> [Int64] {
        let mask = (UInt64(1) << UInt64(bitWidth)) - 1
        let half = UInt64(1) << UInt64(bitWidth - 1)
        return sum.map { v in
            let r = v & mask
            return r >= half ? -Int64(bitPattern: (mask - r) + 1) : Int64(bitPattern: r)
        }
    }

    /// The real sum: the centred integer sum times g.
    public func decode(_ sum: [UInt64]) -> [Double] {
        centred(sum).map { Double($0) * step }
    }
}
