import Foundation
import _TestSupport

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

    /// Writes `train.csv` with 50 rows per client, gives each of `count` clients (`client-0`, …) its own 50 rows in
    /// `client-N.csv`, and adds each to `roster` with a token saved in `client-N.token`.
    static func networkClients(_ count: Int, in folder: URL, roster: String) throws -> [(id: String, token: String, data: String)] {
        try writeCSV(rows: 50 * count, in: folder)
        let lines = try String(contentsOf: folder.appendingPathComponent("train.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        var clients: [(id: String, token: String, data: String)] = []
        for c in 0..<count {
            let id = "client-\(c)"
            let data = folder.appendingPathComponent("\(id).csv").path
            try ([lines[0]] + lines[(1 + 50 * c)..<(1 + 50 * (c + 1))]).joined(separator: "\n")
                .write(toFile: data, atomically: true, encoding: .utf8)
            let made = try runVeil(["federated", "token", id, "--roster", roster])
            guard made.status == 0 else { throw NetworkClientsError(message: made.stderr) }
            let token = folder.appendingPathComponent("\(id).token").path
            try made.stdout.write(toFile: token, atomically: true, encoding: .utf8)
            clients.append((id, token, data))
        }
        return clients
    }

    struct NetworkClientsError: Error, CustomStringConvertible {
        let message: String
        var description: String { "veil federated token failed: \(message)" }
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

    /// A pipeline for `veil federated serve` over the CSV files in `folder`: every client in every round (q = 1), and
    /// the feature columns listed (the server reads no data, so the columns fix the model's input).
    static func networkPipeline(folder: URL, clients: Int, rounds: Int, epsilon: Double? = 8,
                                extraFederated: String = "") -> String {
        pipeline(folder: folder, clients: clients, perRound: clients, rounds: rounds, epsilon: epsilon,
                 extraFederated: extraFederated)
            .replacingOccurrences(of: "  label_column: label", with: "  label_column: label\n  feature_columns: [x, y]")
    }
}
