import Mechanisms

/// Deals a data set's examples to clients: every example goes to exactly one client.
public enum ClientPartition {
    /// Groups examples by their client key: one client per distinct key, clients in increasing key order,
    /// each client's examples in their original order.
    /// - Parameter keys: the client key of each example.
    /// - Returns: the example indices of each client.
    public static func byKey<Key: Comparable & Hashable>(_ keys: [Key]) -> [[Int]] {
        var groups: [Key: [Int]] = [:]
        for (i, key) in keys.enumerated() { groups[key, default: []].append(i) }
        return groups.keys.sorted().map { groups[$0]! }
    }

    /// Splits `labels.count` examples into `count` clients, reproducibly from `seed`.
    ///
    /// - IID: the examples are shuffled and dealt round-robin, so client sizes differ by at most one.
    /// - Dirichlet(α) (Hsu, Qi & Brown 2019, "Measuring the Effects of Non-Identical Data Distribution for
    ///   Federated Visual Classification"): for each class, proportions `p ~ Dir(α, …, α)` over the clients are
    ///   drawn and the class's shuffled examples are cut at the cumulative proportions. Small α gives each
    ///   client few classes; large α approaches IID.
    ///
    /// The seed shapes a simulation's split only; it never drives client sampling or noise.
    /// - Parameters:
    ///   - labels: each example's label, in `0 ..< classCount`.
    ///   - classCount: the number of classes.
    ///   - count: the number of clients (≥ 1).
    ///   - skew: IID or Dirichlet(α).
    ///   - seed: the seed of the split.
    /// - Returns: the example indices of each client (a client may hold none under Dirichlet skew).
    public static func split(labels: [Int32], classCount: Int, count: Int, skew: ClientSource.SplitSkew,
                             seed: UInt64) -> [[Int]] {
        precondition(count >= 1, "at least one client")
        var random = InsecureSeededRandomSource(seed: seed)
        var clients = [[Int]](repeating: [], count: count)
        switch skew {
        case .iid:
            var order = Array(labels.indices)
            order.shuffle(using: &random)
            for (position, example) in order.enumerated() { clients[position % count].append(example) }
        case .dirichlet(let alpha):
            var byClass = [[Int]](repeating: [], count: classCount)
            for (i, label) in labels.enumerated() { byClass[Int(label)].append(i) }
            var dirichlet = DirichletSampler(alpha: alpha)
            for var examples in byClass where !examples.isEmpty {
                examples.shuffle(using: &random)
                let proportions = dirichlet.next(dimension: count, using: &random)
                var cumulative = 0.0
                var start = 0
                for client in 0..<count {
                    cumulative += proportions[client]
                    let end = client == count - 1
                        ? examples.count
                        : min(examples.count, max(start, Int((cumulative * Double(examples.count)).rounded())))
                    clients[client].append(contentsOf: examples[start..<end])
                    start = end
                }
            }
            for i in clients.indices { clients[i].sort() }
        }
        return clients
    }
}
