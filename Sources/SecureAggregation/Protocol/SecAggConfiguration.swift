import Foundation
import Mechanisms

/// The public parameters of one secure-aggregation round, known to the server and every client.
public struct SecAggConfiguration: Sendable, Hashable, Codable {
    /// Number of clients invited to the round; clients are numbered 0 ..< clientCount.
    public let clientCount: Int
    /// Length of every input vector.
    public let vectorLength: Int
    /// Inputs and the sum are integers modulo 2^bitWidth (1 ... 64).
    public let bitWidth: Int
    /// Degree k of the neighbour graph (``NeighbourGraph``): even and < clientCount − 1, or
    /// clientCount − 1 for the complete graph.
    public let neighbours: Int
    /// Shamir threshold t: a client's secrets are shared among itself and its neighbours, and any t of
    /// those k + 1 holders reconstruct them. t > (k + 1)/2, so that no client's self-mask seed and
    /// masking key can both be reconstructed (the holders of a share only ever reveal one of the two).
    public let threshold: Int
    /// The round aborts, releasing nothing, when fewer clients than this are left at any step (key
    /// advertisement, share exchange, masked inputs): the sum always covers at least this many inputs.
    public let minimumSurvivors: Int

    /// - Throws: ``VeilError`` (`invalid_parameter`) naming the first parameter out of range.
    public init(clientCount: Int, vectorLength: Int, bitWidth: Int, neighbours: Int, threshold: Int,
                minimumSurvivors: Int) throws {
        try ParameterCheck.count(clientCount, name: "client count", minimum: 2)
        try ParameterCheck.count(vectorLength, name: "vector length", minimum: 1)
        guard (1...64).contains(bitWidth) else {
            throw VeilError.invalidParameter("bit width", bitWidth, allowed: "in 1 ... 64")
        }
        let complete = neighbours >= clientCount - 1
        guard neighbours >= 2, complete || neighbours % 2 == 0 else {
            throw VeilError.invalidParameter("neighbours", neighbours,
                                             allowed: "an even number ≥ 2, or ≥ client count − 1 for the complete graph")
        }
        let degree = min(neighbours, clientCount - 1)
        guard 2 * threshold > degree + 1, threshold <= degree + 1 else {
            throw VeilError.invalidParameter("threshold", threshold,
                                             allowed: "more than half of the \(degree + 1) share holders and at most \(degree + 1)")
        }
        guard minimumSurvivors >= threshold, minimumSurvivors <= clientCount else {
            throw VeilError.invalidParameter("minimum survivors", minimumSurvivors,
                                             allowed: "in \(threshold) ... \(clientCount)")
        }
        self.clientCount = clientCount
        self.vectorLength = vectorLength
        self.bitWidth = bitWidth
        self.neighbours = degree
        self.threshold = threshold
        self.minimumSurvivors = minimumSurvivors
    }

    /// SecAgg+ defaults for `clientCount` clients: degree k = 2⌈log₂ n⌉ + 2 (even, O(log n); the
    /// complete graph when that reaches n − 1), threshold t = ⌊(k + 1)/2⌋ + 1 (a strict majority of
    /// the k + 1 holders), and a round that needs at least `minimumSurvivorFraction` of the clients.
    ///
    /// Bell et al. 2020 bound the failure probability of the random graph for given corruption and
    /// dropout rates. With this default (k = 22, t = 12 at n = 1,000) a round with 10% independent
    /// dropouts fails to reconstruct a neighbourhood with probability below 10⁻³; for higher dropout
    /// rates pass a larger degree (up to the complete graph).
    public static func secAggPlus(clientCount: Int, vectorLength: Int, bitWidth: Int,
                                  minimumSurvivorFraction: Double = 0.5) throws -> SecAggConfiguration {
        try ParameterCheck.count(clientCount, name: "client count", minimum: 3)
        try ParameterCheck.probability(minimumSurvivorFraction, name: "minimum survivor fraction")
        let logN = Int(ceil(log2(Double(clientCount))))
        var k = 2 * logN + 2
        if k >= clientCount - 1 { k = clientCount - 1 }
        let t = (k + 1) / 2 + 1
        let minimum = max(t, Int(ceil(minimumSurvivorFraction * Double(clientCount))))
        return try SecAggConfiguration(clientCount: clientCount, vectorLength: vectorLength, bitWidth: bitWidth,
                                       neighbours: k, threshold: t, minimumSurvivors: minimum)
    }

    private enum CodingKeys: String, CodingKey {
        case clientCount, vectorLength, bitWidth, neighbours, threshold, minimumSurvivors
    }

    /// Decodes the six parameters and checks them as ``init(clientCount:vectorLength:bitWidth:neighbours:threshold:minimumSurvivors:)``
    /// does: a configuration received from elsewhere (a round's published description) is never used unchecked.
    /// - Throws: `DecodingError`, or ``VeilError`` (`invalid_parameter`) naming the first parameter out of range.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(clientCount: try c.decode(Int.self, forKey: .clientCount),
                      vectorLength: try c.decode(Int.self, forKey: .vectorLength),
                      bitWidth: try c.decode(Int.self, forKey: .bitWidth),
                      neighbours: try c.decode(Int.self, forKey: .neighbours),
                      threshold: try c.decode(Int.self, forKey: .threshold),
                      minimumSurvivors: try c.decode(Int.self, forKey: .minimumSurvivors))
    }

    /// The modulus 2^bitWidth.
    public var modulus: Modulus { Modulus(bitWidth: bitWidth) }
    /// Bytes per element of a masked input on the wire.
    public var bytesPerElement: Int { (bitWidth + 7) / 8 }
}
