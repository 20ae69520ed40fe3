import FederatedLearning
import Mechanisms
import Testing

/// Client splits: every example in exactly one client, reproducible from the seed, Dirichlet skew measurable.
@Suite("Client partitions")
struct ClientPartitionTests {
    /// 10 classes × 1,000 examples, labels interleaved.
    static let labels: [Int32] = (0..<10_000).map { Int32($0 % 10) }

    private func assertPartition(_ clients: [[Int]], count: Int) {
        let all = clients.flatMap { $0 }.sorted()
        #expect(all == Array(0..<count), "every example in exactly one client")
    }

    /// Mean over clients (weighted by size) of the total-variation distance between the client's label
    /// distribution and the uniform one.
    private func meanSkew(_ clients: [[Int]]) -> Double {
        var total = 0.0, examples = 0
        for client in clients where !client.isEmpty {
            var counts = [Int](repeating: 0, count: 10)
            for i in client { counts[Int(Self.labels[i])] += 1 }
            let tv = counts.reduce(0.0) { $0 + abs(Double($1) / Double(client.count) - 0.1) } / 2
            total += tv * Double(client.count)
            examples += client.count
        }
        return total / Double(examples)
    }

    @Test("grouping by a column: one client per distinct key, in key order")
    func byKey() {
        #expect(ClientPartition.byKey([3, 1, 3, 2, 1]) == [[1, 4], [3], [0, 2]])
        #expect(ClientPartition.byKey(["b", "a", "b"]) == [[1], [0, 2]])
    }

    @Test("IID: each example once, sizes within one, reproducible from the seed, unskewed")
    func iid() {
        let a = ClientPartition.split(labels: Self.labels, classCount: 10, count: 30, skew: .iid, seed: 7)
        assertPartition(a, count: Self.labels.count)
        let sizes = a.map(\.count)
        #expect(sizes.max()! - sizes.min()! <= 1)
        #expect(a == ClientPartition.split(labels: Self.labels, classCount: 10, count: 30, skew: .iid, seed: 7))
        #expect(a != ClientPartition.split(labels: Self.labels, classCount: 10, count: 30, skew: .iid, seed: 8))
        // ~333 examples a client: the expected TV distance is about 0.06; 0.15 is far above it.
        #expect(meanSkew(a) < 0.15)
    }

    @Test("Dirichlet: each example once, reproducible, skew grows as α falls")
    func dirichlet() {
        let skewed = ClientPartition.split(labels: Self.labels, classCount: 10, count: 20,
                                           skew: .dirichlet(alpha: 0.1), seed: 3)
        assertPartition(skewed, count: Self.labels.count)
        #expect(skewed == ClientPartition.split(labels: Self.labels, classCount: 10, count: 20,
                                                skew: .dirichlet(alpha: 0.1), seed: 3))
        let mild = ClientPartition.split(labels: Self.labels, classCount: 10, count: 20,
                                         skew: .dirichlet(alpha: 100), seed: 3)
        assertPartition(mild, count: Self.labels.count)
        // At α = 0.1 a client holds mostly one or two classes (expected TV ≈ 0.7); at α = 100 it is near IID.
        #expect(meanSkew(skewed) > 0.5)
        #expect(meanSkew(mild) < 0.15)
    }

    @Test("Dirichlet(α) draws have mean 1/K and variance (1/K)(1 − 1/K)/(Kα + 1)")
    func dirichletMoments() {
        var random = InsecureSeededRandomSource(seed: 11)
        for alpha in [0.3, 2.0] {
            var sampler = DirichletSampler(alpha: alpha)
            let k = 5, draws = 20_000
            var sum = 0.0, squares = 0.0
            for _ in 0..<draws {
                let p = sampler.next(dimension: k, using: &random)
                #expect(abs(p.reduce(0, +) - 1) < 1e-9)
                sum += p[0]
                squares += p[0] * p[0]
            }
            let mean = sum / Double(draws)
            let variance = squares / Double(draws) - mean * mean
            let expected = 0.2 * 0.8 / (Double(k) * alpha + 1)
            // Standard error of the mean is √(var/n) ≤ 0.003; 6 standard errors: false failure < 1e-8 (fixed seed).
            #expect(abs(mean - 0.2) < 0.018)
            #expect(abs(variance - expected) / expected < 0.1)
        }
    }
}
