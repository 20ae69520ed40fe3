import Foundation

/// Small linearly separable CSV data sets for federated runs: label 1 when x + y > 0.
enum FederatedTestData {
    /// Writes `rows` examples (`x`, `y` in [−1, 1] on a fixed grid, `label`) to `train.csv` and a test split to
    /// `test.csv` in `folder`.
    static func writeCSV(rows: Int, in folder: URL) throws {
        func text(_ n: Int, offset: Int) -> String {
            var lines = ["x,y,label"]
            for i in 0..<n {
                // A deterministic spread over the square, skipping points near the boundary x + y = 0.
                let x = Double((i * 37 + offset) % 201 - 100) / 100
                var y = Double((i * 91 + offset * 7) % 201 - 100) / 100
                if abs(x + y) < 0.1 { y = -y + (x >= 0 ? 0.3 : -0.3) }
                lines.append("\(x),\(max(-1, min(1, y))),\(x + y > 0 ? 1 : 0)")
            }
            return lines.joined(separator: "\n") + "\n"
        }
        try text(rows, offset: 0).write(to: folder.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        try text(500, offset: 13).write(to: folder.appendingPathComponent("test.csv"), atomically: true, encoding: .utf8)
    }

    /// A federated pipeline over the CSV files in `folder`.
    static func pipeline(folder: URL, clients: Int, perRound: Int, rounds: Int, epsilon: Double? = 8,
                         scope: String = "fed", extraFederated: String = "") -> String {
        let privacy = epsilon.map {
            """
            privacy:
              target_epsilon: \($0)
              delta: 1e-5
              clip_norm: 1
              ledger_scope: \(scope)
            """
        } ?? "privacy: {non_private: true}"
        return """
            data:
              format: csv
              train: \(folder.path)/train.csv
              test: \(folder.path)/test.csv
              label_column: label
              classes: 2
              size: 3000
            model:
              architecture: logistic
            \(privacy)
            training:
              epochs: 2
              expected_batch_size: 2
              optimizer: sgd
              learning_rate: 0.5
            federated:
              clients:
                split: iid
                count: \(clients)
                seed: 4
              rounds: \(rounds)
              clients_per_round: \(perRound)
            \(extraFederated)
            output: \(folder.path)/model.safetensors
            """
    }
}
