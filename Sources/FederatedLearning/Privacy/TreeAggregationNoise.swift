import Mechanisms
import PrivateTraining

/// The noise of the tree aggregation protocol (Dwork et al. 2010; Chan, Shi & Song 2011) as DP-FTRL uses it
/// (Kairouz et al. 2021, "Practical and Private (Deep) Learning without Sampling or Shuffling", §3): every node of a
/// binary tree over the rounds of a pass holds independent N(0, σ²C²) noise per coordinate, and the noisy prefix sum
/// of rounds 1…t adds the noise of the ⌈popcount(t)⌉ nodes whose dyadic intervals cover [1, t].
///
/// Online: at round t the nodes of levels below the lowest set bit of t are complete and dropped, and one new node of
/// that level (its interval ends at t) is drawn. A round's value enters at most ⌈log₂(T + 1)⌉ nodes of a tree of T
/// rounds, which is the sensitivity factor of the accounting (``FederatedPlan``).
public struct TreeAggregationNoise: Sendable {
    /// Values per node.
    public let dimension: Int
    /// σC, the standard deviation of each node's noise.
    public let standardDeviation: Double
    private var nodes: [(level: Int, noise: [Float])] = []
    private var sampler = GaussianNoiseSampler()
    /// Rounds of the current tree so far.
    public private(set) var step = 0

    public init(dimension: Int, standardDeviation: Double) {
        self.dimension = dimension
        self.standardDeviation = standardDeviation
    }

    /// The noise of the prefix sum of rounds 1…t for the next round t.
    public mutating func next<R: RandomSource>(using random: inout R) -> [Float] {
        step += 1
        let level = step.trailingZeroBitCount
        nodes.removeAll { $0.level < level }
        var fresh = [Float](repeating: 0, count: dimension)
        sampler.addNoise(to: &fresh, standardDeviation: standardDeviation, using: &random)
        nodes.append((level, fresh))
        var total = [Float](repeating: 0, count: dimension)
        for node in nodes { for i in total.indices { total[i] += node.noise[i] } }
        return total
    }

    /// Starts a new tree (a new pass).
    public mutating func reset() {
        nodes = []
        step = 0
    }

    /// ⌈log₂(rounds + 1)⌉: the most nodes one round's value enters in a tree of `rounds` rounds.
    public static func height(rounds: Int) -> Int {
        precondition(rounds >= 1)
        return Int.bitWidth - rounds.leadingZeroBitCount  // = ⌊log₂ rounds⌋ + 1 = ⌈log₂(rounds + 1)⌉
    }
}
