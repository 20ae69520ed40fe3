import Mechanisms

/// The communication graph of SecAgg+: who exchanges keys, pairwise masks and secret shares with whom.
///
/// Bell, Bonawitz, Gascón, Lepoint, Raykova 2020 ("Secure Single-Server Aggregation with
/// (Poly)Logarithmic Overhead", semi-honest construction) replace the complete graph of Bonawitz et
/// al. 2017 by a k-regular graph of degree k = O(log n): a Harary graph H(k, n) — position p is joined
/// to the k/2 positions on either side of it on a ring — whose nodes are assigned to the clients by a
/// uniformly random permutation. Veil draws the permutation from a 32-byte seed the server chooses
/// with the operating system's CSPRNG and sends to every client with the key directory, so each party
/// derives the same graph. With k ≥ n − 1 the graph is complete: the protocol of Bonawitz et al. 2017.
public struct NeighbourGraph: Sendable {
    /// Number of clients (indices 0 ..< clientCount).
    public let clientCount: Int
    /// Degree k (even, or n − 1 for the complete graph).
    public let degree: Int
    /// position[client] on the ring.
    private let position: [Int]
    /// client at ring position p.
    private let clientAt: [Int]

    /// The graph for `clientCount` clients of degree `degree` relabelled by the permutation drawn from `seed`.
    public init(clientCount: Int, degree: Int, seed: [UInt8]) {
        precondition(clientCount >= 2 && degree >= 1)
        self.clientCount = clientCount
        self.degree = min(degree, clientCount - 1)
        var order = Array(0..<clientCount)
        var source = SeededKeystreamSource(seed: seed)
        if self.degree < clientCount - 1 {
            // Fisher–Yates with unbiased draws.
            for i in stride(from: clientCount - 1, to: 0, by: -1) {
                let j = Int(source.uniform(below: UInt64(i + 1)))
                order.swapAt(i, j)
            }
        }
        clientAt = order
        var position = [Int](repeating: 0, count: clientCount)
        for (p, client) in order.enumerated() { position[client] = p }
        self.position = position
    }

    /// Whether the graph is complete (Bonawitz et al. 2017).
    public var isComplete: Bool { degree >= clientCount - 1 }

    /// The neighbours of `client`, in increasing index order, without the client itself.
    public func neighbours(of client: Int) -> [Int] {
        if isComplete { return (0..<clientCount).filter { $0 != client } }
        let p = position[client]
        var result: [Int] = []
        result.reserveCapacity(degree)
        for offset in 1...(degree / 2) {
            result.append(clientAt[(p + offset) % clientCount])
            result.append(clientAt[(p - offset + clientCount) % clientCount])
        }
        return result.sorted()
    }

    /// Whether `a` and `b` are neighbours.
    public func areNeighbours(_ a: Int, _ b: Int) -> Bool {
        guard a != b else { return false }
        if isComplete { return true }
        let d = abs(position[a] - position[b])
        return min(d, clientCount - d) <= degree / 2
    }
}
