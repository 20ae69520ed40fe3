import _TestSupport
import Foundation
import Testing

/// Runs `veil train` and `veil evaluate` on a small MNIST subset and on bad pipelines.
@Suite("veil train and veil evaluate")
struct TrainCommandTests {
    static let mnist = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/datasets/mnist").standardized.path
    static var available: Bool { FileManager.default.fileExists(atPath: mnist + "/t10k-images-idx3-ubyte.gz") }

    private func pipeline(privacy: String = """
        privacy:
          target_epsilon: 8
          delta: 1e-4
          clip_norm: 1
        """, extraData: String = "", batch: Int = 100, output: String) -> String {
        """
        data:
          format: idx
          train_images: \(Self.mnist)/t10k-images-idx3-ubyte.gz
          train_labels: \(Self.mnist)/t10k-labels-idx1-ubyte.gz
          limit: 1000
          size: 1000
        \(extraData)
        model:
          architecture: logistic
        \(privacy)
        training:
          epochs: 2
          expected_batch_size: \(batch)
          momentum: 0.9
          learning_rate: 0.5
        output: \(output)
        """
    }

    private func temporaryFolder() throws -> URL {
        let url = try TemporaryDirectory.make("train")
        return url
    }

    @Test("train writes a model whose card and evaluation are readable", .enabled(if: available))
    func trainAndEvaluate() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The output folder does not exist yet: train creates it.
        let model = folder.appendingPathComponent("models/mnist/m.safetensors").path
        let file = folder.appendingPathComponent("p.yaml")
        let ledger = folder.appendingPathComponent("ledger.sqlite").path
        _ = try runVeil(["budget", "create", "mnist", "--epsilon", "10", "--delta", "1e-3", "--ledger", ledger])
        try pipeline(privacy: """
            privacy:
              target_epsilon: 8
              delta: 1e-4
              clip_norm: 1
              ledger_scope: mnist
            """, output: "placeholder.safetensors").write(to: file, atomically: true, encoding: .utf8)
        let train = try runVeil(["train", file.path, "--output", model, "--ledger", ledger, "--json"])
        try #require(train.status == 0, "\(train.stderr)")
        // stdout is one JSON object; progress lines (plain, not a terminal) go to stderr with --json.
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as? [String: Any])
        #expect((summary["epsilon"] as? Double ?? 99) <= 8)
        #expect(train.stderr.contains("step 20/20"))
        let evaluate = try runVeil(["evaluate", model, "--data", Self.mnist + "/t10k-images-idx3-ubyte.gz",
                                    "--labels", Self.mnist + "/t10k-labels-idx1-ubyte.gz", "--json"])
        try #require(evaluate.status == 0, "\(evaluate.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [String: Any])
        #expect(object["examples"] as? Int == 10_000)
        #expect((object["accuracy"] as? Double ?? 0) > 0.5)
        #expect(object["loss"] is Double)

        // A truncated model file is refused with one line and exit code 2.
        let data = try Data(contentsOf: URL(fileURLWithPath: model))
        let truncated = folder.appendingPathComponent("t.safetensors")
        try data.prefix(data.count / 2).write(to: truncated)
        let refused = try runVeil(["evaluate", truncated.path, "--data", "x", "--labels", "y"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("not a valid Veil model file"))
    }

    @Test("a DP run is reserved in the pipeline's ledger scope before training and refused when it does not fit",
          .enabled(if: available))
    func ledgerCharge() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let ledger = folder.appendingPathComponent("ledger.sqlite").path
        let created = try runVeil(["budget", "create", "mnist", "--epsilon", "10", "--delta", "1e-3", "--ledger", ledger])
        try #require(created.status == 0, "\(created.stderr)")
        let file = folder.appendingPathComponent("p.yaml")
        try pipeline(privacy: """
            privacy:
              target_epsilon: 8
              delta: 1e-4
              clip_norm: 1
              ledger_scope: mnist
            """, output: "placeholder.safetensors").write(to: file, atomically: true, encoding: .utf8)
        let model = folder.appendingPathComponent("m.safetensors").path
        let train = try runVeil(["train", file.path, "--output", model, "--ledger", ledger, "--analyst", "tester", "--json"])
        try #require(train.status == 0, "\(train.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as? [String: Any])
        #expect(summary["ledger_entry"] as? String == ledger + "#2")

        // The reservation (the planned cost, ≤ 8) is committed with the model file's digest.
        let show = try runVeil(["budget", "show", "mnist", "--json", "--ledger", ledger])
        let status = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        let spent = try #require(status["epsilon_spent"] as? Double)
        #expect(spent > 7 && spent <= 8)
        #expect(status["epsilon_reserved"] as? Double == 0)
        let history = try runVeil(["budget", "history", "mnist", "--json", "--ledger", ledger])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
        let commit = try #require(entries.first { $0["kind"] as? String == "commit" })
        let digest = try #require(commit["digest"] as? String)
        let sum = Process()
        sum.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        sum.arguments = [model]
        let pipe = Pipe()
        sum.standardOutput = pipe
        try sum.run()
        sum.waitUntilExit()
        let fileHash = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).prefix(64)
        #expect(digest == "sha256:" + fileHash)

        // A second run needs about 8 more of the 10: refused before training, nothing written.
        let second = folder.appendingPathComponent("second.safetensors").path
        let refused = try runVeil(["train", file.path, "--output", second, "--ledger", ledger, "--analyst", "tester"])
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("budget exhausted"))
        #expect(!FileManager.default.fileExists(atPath: second))
    }

    @Test("bad pipelines are refused with one message and nothing written",
          .enabled(if: available),
          arguments: [
            ("unknown", "unknown key"),
            ("clip", "clip norm"),
            ("batch", "larger than the data set"),
            ("missing", "not found"),
          ])
    func badPipelines(kind: String, message: String) throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("out/m.safetensors").path
        let text: String
        switch kind {
        case "unknown": text = pipeline(extraData: "  colour: blue", output: model)
        case "clip": text = pipeline(privacy: "privacy:\n  target_epsilon: 3\n  delta: 1e-4\n  clip_norm: 0", output: model)
        case "batch": text = pipeline(batch: 5000, output: model)
        default: text = pipeline(privacy: "privacy:\n  non_private: true", output: model)
            .replacingOccurrences(of: "t10k-labels", with: "no-such-labels")
        }
        let file = folder.appendingPathComponent("p.yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let run = try runVeil(["train", file.path])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    // MARK: SQLite data

    /// Two tables of separable points (label 1 when `2a + b > 0`) imported with `veil import csv`.
    private func sqliteTables(in folder: URL) throws -> String {
        let database = folder.appendingPathComponent("points.sqlite").path
        for (table, count, offset) in [("train", 400, 0), ("test", 100, 1000)] {
            var csv = "a,b,note,label\n"
            for i in offset..<(offset + count) {
                let a = i % 11 - 5, b = Double((i * 7) % 13 - 6) / 2
                csv += "\(a),\(b),row \(i),\(2 * Double(a) + b > 0 ? 1 : 0)\n"
            }
            let file = folder.appendingPathComponent("\(table).csv")
            try csv.write(to: file, atomically: true, encoding: .utf8)
            let imported = try runVeil(["import", "csv", file.path, "--db", database, "--table", table])
            try #require(imported.status == 0, "\(imported.stderr)")
        }
        return database
    }

    private func sqlitePipeline(labelColumn: String = "label") -> String {
        """
        data:
          format: sqlite
          database: points.sqlite
          table: train
          test_table: test
          label_column: \(labelColumn)
          feature_columns: [a, b]
          feature_bounds:
            a: {lower: -5, upper: 5}
            b: {lower: -3, upper: 3}
          classes: 2
          size: 400
        model:
          architecture: logistic
        privacy:
          target_epsilon: 4
          delta: 1e-4
          clip_norm: 1
          ledger_scope: points
        training:
          epochs: 5
          expected_batch_size: 50
          momentum: 0.9
          learning_rate: 0.5
        output: m.safetensors
        """
    }

    /// The point tables, a ledger with a budget `points` (ε 10, δ 1e-3) and the pipeline file `p.yaml`, in `folder`.
    private func sqliteSetup(in folder: URL, pipeline: String) throws -> (database: String, ledger: String, file: URL) {
        let database = try sqliteTables(in: folder)
        let ledger = folder.appendingPathComponent("ledger.sqlite").path
        _ = try runVeil(["budget", "create", "points", "--epsilon", "10", "--delta", "1e-3", "--ledger", ledger])
        let file = folder.appendingPathComponent("p.yaml")
        try pipeline.write(to: file, atomically: true, encoding: .utf8)
        return (database, ledger, file)
    }

    @Test("train on a SQLite table, then evaluate the model on the test table with the same columns and bounds")
    func sqliteTrainAndEvaluate() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (database, ledger, file) = try sqliteSetup(in: folder, pipeline: sqlitePipeline())
        let train = try runVeil(["train", file.path, "--ledger", ledger, "--json"])
        try #require(train.status == 0, "\(train.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as? [String: Any])
        let accuracy = try #require(summary["test_accuracy"] as? Double)
        #expect(accuracy > 0.8)
        #expect((summary["epsilon"] as? Double ?? 99) <= 4)
        let model = folder.appendingPathComponent("m.safetensors").path

        // The same test table, named or taken from the model file: the accuracy training reported.
        for tableArguments in [["--table", "test"], []] {
            let evaluate = try runVeil(["evaluate", model, "--data", database, "--json"] + tableArguments)
            try #require(evaluate.status == 0, "\(evaluate.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(evaluate.stdout.utf8)) as? [String: Any])
            #expect(object["examples"] as? Int == 100)
            #expect(object["accuracy"] as? Double == accuracy)
        }
        let onTrain = try runVeil(["evaluate", model, "--data", database, "--table", "train", "--json"])
        let trainObject = try #require(try JSONSerialization.jsonObject(with: Data(onTrain.stdout.utf8)) as? [String: Any])
        #expect(trainObject["examples"] as? Int == 400)

        let missing = try runVeil(["evaluate", model, "--data", database, "--table", "nope"])
        #expect(missing.status == 2)
        #expect(missing.stderr == "error: \(database) has no table \"nope\" (tables: test, train)\n")
        let help = try runVeil(["evaluate", "--help"])
        #expect(help.stdout.contains("--table <table>") && help.stdout.contains("SQLite data: --data DATABASE --table TABLE"))
    }

    @Test("a SQLite pipeline with an unknown column is refused: one line, nothing written, no budget spent")
    func sqliteRefused() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let (database, ledger, file) = try sqliteSetup(in: folder, pipeline: sqlitePipeline(labelColumn: "lable"))
        let run = try runVeil(["train", file.path, "--ledger", ledger])
        #expect(run.status == 2)
        #expect(run.stderr == "error: table \"train\" of \(database) has no column \"lable\" (columns: a, b, note, label)\n")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("m.safetensors").path))
        let show = try runVeil(["budget", "show", "points", "--json", "--ledger", ledger])
        let status = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        #expect(status["epsilon_spent"] as? Double == 0)
        #expect(status["epsilon_reserved"] as? Double == 0)
    }

    /// The JSON header of a safetensors file: 8 bytes of little-endian length, then the header.
    private func safetensorsHeader(_ path: String) throws -> [String: Any] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any])
    }

    @Test("a run releases no exact function of its data: no digest, size, statistics or loss; the digest goes to the ledger")
    func releasesNoDataStatistics() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The table has 400 rows; the pipeline declares 500, so q = 50 / 500 whatever the true count.
        let (_, ledger, file) = try sqliteSetup(in: folder, pipeline: sqlitePipeline().replacingOccurrences(of: "size: 400",
                                                                                                       with: "size: 500"))
        let train = try runVeil(["train", file.path, "--ledger", ledger])
        try #require(train.status == 0, "\(train.stderr)")
        let progress = train.stdout.split(separator: "\n").filter { $0.hasPrefix("step ") }
        #expect(progress.count >= 2)
        #expect(progress.allSatisfy { !$0.contains("loss") }, "\(progress)")
        #expect(train.stderr.hasPrefix("DP-SGD: declared N = 500, q = 0.1, 50 steps,"), "\(train.stderr)")
        #expect(!train.stderr.contains("400"))

        let header = try safetensorsHeader(folder.appendingPathComponent("m.safetensors").path)
        let metadata = try #require(header["__metadata__"] as? [String: String])
        #expect(metadata["veil.standardization"] == nil)
        let cardJSON = try #require(metadata["veil.privacy"])
        let card = try #require(try JSONSerialization.jsonObject(with: Data(cardJSON.utf8)) as? [String: Any])
        #expect(card["dataset_sha256"] == nil && card["dataset_size"] == nil)
        #expect(card["declared_dataset_size"] as? Int == 500)
        #expect(card["sampling_rate"] as? Double == 0.1 && card["expected_batch_size"] as? Double == 50)
        let dataJSON = try #require(metadata["veil.data"])
        let data = try #require(try JSONSerialization.jsonObject(with: Data(dataJSON.utf8)) as? [String: Any])
        let bounds = try #require(data["feature_bounds"] as? [String: [String: Double]])
        #expect(bounds["a"] == ["lower": -5, "upper": 5] && bounds["b"] == ["lower": -3, "upper": 3])

        let history = try runVeil(["budget", "history", "points", "--json", "--ledger", ledger])
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
        let purpose = try #require(entries.first { $0["kind"] as? String == "reserve" }?["purpose"] as? String)
        let digest = try #require(purpose.range(of: "training data sha256:")).upperBound
        #expect(purpose[digest...].prefix(64).allSatisfy(\.isHexDigit) && purpose[digest...].count >= 64, "\(purpose)")
    }

    /// The `F32` values of tensor `name` in a safetensors file.
    private func tensor(_ name: String, in path: String) throws -> [Float] {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = (0..<8).reduce(0) { $0 | Int(bytes[$1]) << (8 * $1) }
        let entry = try #require(try safetensorsHeader(path)[name] as? [String: Any])
        let offsets = try #require(entry["data_offsets"] as? [Int])
        return stride(from: 8 + length + offsets[0], to: 8 + length + offsets[1], by: 4).map { o in
            Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
        }
    }

    @Test("an adversarial record (2e19) moves the biases no more than C allows: |Δb| ≤ lr·(C·Σ|Bₜ| + 6σC√T)/(q·N), false failure < 1e-8")
    func adversarialRecord() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        var csv = "a,b,label\n"
        for i in 0..<100 { csv += "\(Double(i % 9) / 4 - 1),\(Double(i % 7) / 3 - 1),\(i % 2)\n" }
        csv += "2e19,1,1\n"  // ‖a‖² overflows Float; a saturated tanh gives g = 0, and g·‖a‖² = 0·Inf = NaN
        try csv.write(to: folder.appendingPathComponent("train.csv"), atomically: true, encoding: .utf8)
        let ledger = folder.appendingPathComponent("ledger.sqlite").path
        _ = try runVeil(["budget", "create", "points", "--epsilon", "10", "--delta", "1e-3", "--ledger", ledger])
        let file = folder.appendingPathComponent("p.yaml")
        try """
            data:
              format: csv
              train: train.csv
              label_column: label
              feature_bounds: {a: {lower: -1e9, upper: 1e9}}
              classes: 2
              size: 100
            model: {architecture: mlp, activation: tanh, hidden: [8]}
            privacy: {target_epsilon: 1, delta: 1e-5, clip_norm: 1e-4, ledger_scope: points}
            training: {epochs: 5, expected_batch_size: 10, optimizer: sgd, momentum: 0, learning_rate: 1}
            output: m.safetensors
            """.write(to: file, atomically: true, encoding: .utf8)
        let train = try runVeil(["train", file.path, "--ledger", ledger, "--json"])
        try #require(train.status == 0, "\(train.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(train.stdout.utf8)) as? [String: Any])
        let sigma = try #require(summary["noise_multiplier"] as? Double)
        let steps = try #require(summary["steps"] as? Int)
        #expect(steps == 50)
        // Biases start at 0. Per step the clipped sum has norm ≤ |Bₜ|·C and the noise is N(0, σ²C²) per
        // coordinate; both are divided by q·N = 10. Σ|Bₜ| ~ Binomial(5050, 0.1) (101 rows): ≤ 700 but with
        // probability < 1e-15; the summed noise of one coordinate exceeds 6σC√T with probability < 2e-9
        // (10 coordinates: < 2e-8).
        let (clip, learningRate, expectedBatch) = (1e-4, 1.0, 10.0)
        let bound = learningRate * (clip * 700 + 6 * sigma * clip * Double(steps).squareRoot()) / expectedBatch
        let model = folder.appendingPathComponent("m.safetensors").path
        let biases = try tensor("layers.1.bias", in: model) + tensor("layers.3.bias", in: model)
        #expect(biases.count == 10)
        #expect(biases.allSatisfy { abs(Double($0)) <= bound }, "\(biases), bound \(bound)")
    }
}
