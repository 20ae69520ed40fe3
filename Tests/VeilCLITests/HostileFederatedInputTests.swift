import _TestSupport
import Foundation
import Testing

/// `veil federated simulate` on hostile pipelines: each is refused with exit code 2 and one line naming the
/// problem, before anything is reserved (the ledger byte for byte as it was), never a trap or a hang.
@Suite("veil federated simulate: hostile pipelines")
struct HostileFederatedInputTests {
    /// Sixty rows of two features in [0, 1] and a label.
    static let data: Data = {
        var text = "x1,x2,label\n"
        for i in 0..<60 {
            let a = Double((i * 37) % 100) / 100, b = Double((i * 61) % 100) / 100
            text += "\(a),\(b),\(a + b > 1 ? 1 : 0)\n"
        }
        return .text(text)
    }()

    /// A private DP-FedAvg pipeline over 20 IID clients of `data.csv`, charged to the harness's budget `s`.
    static let base = """
        data:
          format: csv
          train: data.csv
          label_column: label
          feature_columns: [x1, x2]
          feature_bounds:
            x1: {lower: 0, upper: 1}
            x2: {lower: 0, upper: 1}
          classes: 2
          size: 60
        model:
          architecture: logistic
        privacy:
          target_epsilon: 1
          delta: 1e-6
          clip_norm: 1
          accountant: rdp
          ledger_scope: s
        training:
          epochs: 1
          expected_batch_size: 2
          optimizer: sgd
          learning_rate: 0.5
        federated:
          clients:
            count: 20
            split: iid
            seed: 1
          rounds: 3
          clients_per_round: 5
        output: out.safetensors

        """

    /// The case whose pipeline is `base` with `from` replaced by `to`.
    static func pipeline(_ label: String, _ from: String, _ to: String, expect fragment: String) -> HostileCase {
        precondition(base.contains(from), "\(from) is not in the base pipeline")
        return HostileCase(label, ["federated", "simulate", "{dir}/pipeline.yaml"],
                           files: ["data.csv": data, "pipeline.yaml": .text(base.replacingOccurrences(of: from, with: to))],
                           expect: fragment, absentAfter: ["out.safetensors"])
    }

    static let cases: [HostileCase] = [
        pipeline("rounds beyond Double", "rounds: 3", "rounds: 1e400", expect: "federated.rounds must be an integer"),
        pipeline("rounds -0", "rounds: 3", "rounds: -0", expect: "federated.rounds must be an integer"),
        pipeline("rounds 2^62", "rounds: 3", "rounds: 4611686018427387904", expect: "federated.rounds must be an integer"),
        pipeline("10^11 clients", "count: 20", "count: 100000000000", expect: "clients.count must be an integer"),
        pipeline("NaN clients per round", "clients_per_round: 5", "clients_per_round: .nan",
                 expect: "federated.clients_per_round must be an integer"),
        pipeline("more clients per round than clients", "clients_per_round: 5", "clients_per_round: 50",
                 expect: "is more than the 20 declared clients"),
        pipeline("Dirichlet α NaN", "split: iid", "split: dirichlet\n    alpha: .nan", expect: "clients.alpha must be a number"),
        pipeline("Dirichlet α ∞", "split: iid", "split: dirichlet\n    alpha: .inf", expect: "clients.alpha must be a number"),
        pipeline("negative seed", "seed: 1", "seed: -1", expect: "clients.seed must be an integer"),
        pipeline("misspelt key", "rounds: 3", "rounds: 3\n  roundz: 4", expect: "unknown key roundz"),
        pipeline("unknown aggregation", "rounds: 3", "rounds: 3\n  aggregation: magic",
                 expect: "federated.aggregation must be plain, secagg or ddg"),
        pipeline("server learning rate NaN", "rounds: 3", "rounds: 3\n  server_learning_rate: .nan",
                 expect: "server learning rate must be a number"),
        pipeline("server momentum 2", "rounds: 3", "rounds: 3\n  server_momentum: 2", expect: "momentum must be in [0, 1)"),
        pipeline("10^20 declared clients", "rounds: 3", "rounds: 3\n  declared_clients: 1e20",
                 expect: "federated.declared_clients must be an integer"),
        pipeline("clip norm -0", "clip_norm: 1", "clip_norm: -0", expect: "clip norm must be a number"),
        pipeline("2,000 nested lists", "rounds: 3",
                 "rounds: 3\n  extra: " + String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000),
                 expect: "nests more than 32 levels deep"),
    ]

    @Test("refused with exit code 2 and one line, nothing reserved, no model written", arguments: cases)
    func hostile(_ c: HostileCase) throws {
        try c.check()
    }
}
