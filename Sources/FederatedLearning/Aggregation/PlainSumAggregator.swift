import Mechanisms

/// The server-side sum of the round's updates, in `Double`: the server sees each update (no secure aggregation).
/// Each update has norm ≤ C, so the sum of n updates has norm ≤ nC and stays finite.
public struct PlainSumAggregator: UpdateAggregator, Sendable {
    private var sum: [Double] = []
    private var received: Set<Int> = []

    /// An aggregator with no round open.
    public init() {}

    /// The server adds the noise.
    public var addsNoise: Bool { false }

    public mutating func beginRound(_ round: Int, dimension: Int) {
        sum = [Double](repeating: 0, count: dimension)
        received = []
    }

    public mutating func accept(_ update: [Float], from client: Int) throws {
        guard update.count == sum.count else {
            throw VeilError(.invalidInput, "client \(client)'s update has \(update.count) values, the model has \(sum.count)")
        }
        guard received.insert(client).inserted else {
            throw VeilError(.invalidInput, "client \(client) already sent an update this round")
        }
        for i in update.indices { sum[i] += Double(update[i]) }
    }

    public mutating func finishRound() throws -> [Double] { sum }
}
