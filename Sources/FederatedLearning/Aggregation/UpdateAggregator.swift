/// How a round's client updates become their sum: the seam between the federated round and the transport of
/// updates. A round calls ``beginRound(_:dimension:)``, then ``accept(_:from:)`` once per client whose
/// (clipped) update arrived, then ``finishRound()`` for the sum.
///
/// ``PlainSumAggregator`` sums on the server, which then sees every update. A secure-aggregation
/// implementation (SecAgg+, Bell et al. 2020) conforms by doing its masking on the clients' side of
/// ``accept(_:from:)`` and its unmasking, with dropout recovery, in ``finishRound()``: the server then learns
/// the sum and nothing else. With distributed noise (the distributed discrete Gaussian) the clients add the
/// noise, ``addsNoise`` is true and the server adds none. See docs/federated.md, "The aggregation seam".
public protocol UpdateAggregator {
    /// Whether the sum that ``finishRound()`` returns already carries the round's DP noise (distributed noise
    /// added by the clients); `false` means the server adds N(0, σ²C²) per coordinate to the sum.
    var addsNoise: Bool { get }

    /// Starts round `round` for updates of `dimension` values.
    mutating func beginRound(_ round: Int, dimension: Int)

    /// Takes the clipped update (norm ≤ C, finite) of client `client`.
    /// - Throws: `VeilError.invalidInput` for an update of the wrong length or one already received from the client.
    mutating func accept(_ update: [Float], from client: Int) throws

    /// The sum of the updates accepted this round (zeros when none arrived).
    mutating func finishRound() throws -> [Double]
}
