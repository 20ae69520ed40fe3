import _TestSupport
import Foundation
import GRDB
import PrivateTraining
import LinearAlgebra
import Testing

/// `veil models` and `veil predict`, run as the binary.
@Suite("veil models and veil predict")
struct ModelsAndPredictCommandTests {
    @Test("models add, list, show and rm")
    func modelsCommands() throws {
        let folder = try TestModels.temporaryFolder("models-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("m.safetensors").path
        try TestModels.writeTabular(to: file)
        let store = folder.appendingPathComponent("store").path
        let add = try runVeil(["models", "add", file, "--name", "health", "--models", store])
        #expect(add.status == 0, "\(add.stderr)")
        // $VEIL_MODELS names the store when --models is absent.
        let list = try runVeil(["models", "list"], environment: ["VEIL_MODELS": store])
        #expect(list.status == 0)
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("NAME") == true)
        #expect(lines.count == 2 && lines[1].hasPrefix("health") && lines[1].contains("logistic") && lines[1].contains("1.25"))
        let json = try runVeil(["models", "show", "health", "--models", store, "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let card = object?["privacy"] as? [String: Any]
        #expect(card?["epsilon"] as? Double == 1.25 && card?["delta"] as? Double == 1e-5)
        #expect(card?["accountant"] as? String == "rdp" && card?["ledger_entry"] as? String == "entry-7")
        #expect((object?["data"] as? [String: Any])?["feature_columns"] as? [String] == ["age", "income", "visits"])
        let show = try runVeil(["models", "show", "health", "--models", store])
        #expect(show.stdout.contains("ledger_entry") && show.stdout.contains("age [0.0, 100.0]"))
        let bad = try runVeil(["models", "add", folder.appendingPathComponent("missing.safetensors").path, "--models", store])
        #expect(bad.status == 2 && bad.stderr.split(separator: "\n").count == 1)
        let badName = try runVeil(["models", "show", "../etc", "--models", store])
        #expect(badName.status == 2)
        #expect(try runVeil(["models", "rm", "health", "--models", store]).status == 0)
        let gone = try runVeil(["models", "show", "health", "--models", store])
        #expect(gone.status == 2 && gone.stderr.contains("no model named"))
    }

    @Test("predict on IDX images needs no labels file; a labels file is checked against the images")
    func predictImagesWithoutLabels() throws {
        let folder = try TestModels.temporaryFolder("predict-idx")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("cnn.safetensors").path
        try TestModels.writeImage(to: model)
        // Three 8×8 images (IDX magic 0x00000803, big-endian counts), pixel values k·i mod 256.
        var images: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 8, 0, 0, 0, 8]
        for k in 1...3 { images += (0..<64).map { UInt8((k * $0 * 7) % 256) } }
        let imagesPath = folder.appendingPathComponent("images-idx3-ubyte").path
        try Data(images).write(to: URL(fileURLWithPath: imagesPath))
        let run = try runVeil(["predict", model, "--input", imagesPath, "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        let predictions = object?["predictions"] as? [[String: Any]] ?? []
        #expect(predictions.count == 3)
        // The same classes as the model computes on the same pixels scaled by 1/255.
        var cnn = TestModels.cnn
        let pixels = images.dropFirst(16).map { Float($0) / 255 }
        let expected = SoftmaxCrossEntropy.predictions(logits: cnn.forward(Matrix(rows: 3, columns: 64, storage: pixels)))
        #expect(predictions.compactMap { $0["class"] as? Int } == expected.map(Int.init))
        // Labels, when given, must match the number of images.
        let labelsPath = folder.appendingPathComponent("labels-idx1-ubyte").path
        try Data([0, 0, 8, 1, 0, 0, 0, 2, 1, 2]).write(to: URL(fileURLWithPath: labelsPath))
        let mismatch = try runVeil(["predict", model, "--input", imagesPath, "--labels", labelsPath])
        #expect(mismatch.status == 2 && mismatch.stderr.contains("has 3 images but"), "\(mismatch.stderr)")
    }

    @Test("predict on CSV and SQLite writes CSV and JSON with the model's scaling")
    func predictTabular() throws {
        let folder = try TestModels.temporaryFolder("predict-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = folder.appendingPathComponent("store").path
        let file = folder.appendingPathComponent("m.safetensors").path
        try TestModels.writeTabular(to: file)
        #expect(try runVeil(["models", "add", file, "--name", "health", "--models", store]).status == 0)
        // Columns in another order, an extra column, no label: read by name. Row 2's age (250) clamps
        // to 100, so rows 2 and 3 must give the same probabilities.
        let csv = folder.appendingPathComponent("in.csv").path
        try "visits,extra,income,age\n1,x,2.5,30\n0,y,-1,250\n0,z,-1,100\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let out = try runVeil(["predict", "health", "--input", csv, "--models", store])
        #expect(out.status == 0, "\(out.stderr)")
        let rows = out.stdout.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        #expect(rows.first == ["row", "class", "p_0", "p_1", "p_2"])
        #expect(rows.count == 4)
        #expect(Array(rows[2].dropFirst()) == Array(rows[3].dropFirst()))
        let sum = rows[1][2...].compactMap(Float.init).reduce(0, +)
        #expect(abs(sum - 1) < 1e-5)

        // The same rows from SQLite, as JSON: identical probabilities.
        let db = folder.appendingPathComponent("in.sqlite").path
        let queue = try DatabaseQueue(path: db)
        try queue.write { d in
            try d.execute(sql: "CREATE TABLE test (age REAL, income REAL, visits INTEGER, label INTEGER)")
            try d.execute(sql: "INSERT INTO test VALUES (30, 2.5, 1, 0), (250, -1, 0, 1), (100, -1, 0, 2)")
        }
        try queue.close()
        let sqliteFile = folder.appendingPathComponent("s.safetensors").path
        try TestModels.writeTabular(to: sqliteFile, format: .sqlite)
        let json = try runVeil(["predict", sqliteFile, "--input", db, "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let predictions = object?["predictions"] as? [[String: Any]] ?? []
        #expect(predictions.count == 3)
        for (k, p) in predictions.enumerated() {
            let csvProbabilities = rows[k + 1][2...].compactMap(Double.init)
            let jsonProbabilities = p["probabilities"] as? [Double] ?? []
            #expect(zip(csvProbabilities, jsonProbabilities).allSatisfy { abs($0 - $1) < 1e-6 })
            #expect(p["class"] as? Int == Int(rows[k + 1][1]))
        }

        // Bad input: one line, exit 2.
        try "age,income\n1,2\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let missing = try runVeil(["predict", "health", "--input", csv, "--models", store])
        #expect(missing.status == 2 && missing.stderr.contains("no column \"visits\""))
        try "age,income,visits\n1,nan,2\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let nan = try runVeil(["predict", "health", "--input", csv, "--models", store])
        #expect(nan.status == 2 && nan.stderr.split(separator: "\n").count == 1)
        let format = try runVeil(["predict", "health", "--input", csv, "--models", store, "--format", "xml"])
        #expect(format.status == 2)
    }
}
