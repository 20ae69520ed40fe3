import _TestSupport
import Foundation
import GRDB
import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

@Suite("SQLite data")
struct SQLiteLoaderTests {
    /// Four patients inserted out of rowid order; the third column's name holds a double quote.
    static let schema = #"""
        CREATE TABLE patients (id INTEGER, age INTEGER, "income ""net""" REAL, label INTEGER);
        INSERT INTO patients (rowid, id, age, "income ""net""", label) VALUES (3, 13, 40, 20.5, 1);
        INSERT INTO patients (rowid, id, age, "income ""net""", label) VALUES (1, 11, 20, 10.5, 0);
        INSERT INTO patients (rowid, id, age, "income ""net""", label) VALUES (2, 12, 30, 30.5, 1);
        INSERT INTO patients (rowid, id, age, "income ""net""", label) VALUES (4, 14, 50, 2.5, 0);
        CREATE TABLE empty (x REAL, label INTEGER);
        CREATE VIEW adults AS SELECT * FROM patients WHERE age >= 30;
        """#

    @Test("rows in rowid order, exact values, default feature columns in table order, content digest")
    func exactValues() throws {
        let db = try TemporaryDatabase(Self.schema)
        let data = try SQLiteLoader.load(databasePath: db.path, table: "patients", labelColumn: "label",
                                         featureColumns: nil, classCount: 2)
        #expect(data.featureNames == ["id", "age", "income \"net\""])
        #expect(data.inputShape == ImageShape(height: 1, width: 1, channels: 3))
        #expect(data.features.rows == 4)
        #expect(data.features.storage == [11, 20, 10.5, 12, 30, 30.5, 13, 40, 20.5, 14, 50, 2.5])
        #expect(data.labels == [0, 1, 1, 0])
        #expect(data.classCount == 2)

        // The digest is SHA-256 of the Float32 features (row-major) then the Int32 labels, little-endian.
        var bytes: [UInt8] = []
        for v in data.features.storage { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        for l in [Int32(0), 1, 1, 0] { withUnsafeBytes(of: l.littleEndian) { bytes += $0 } }
        #expect(bytes.count == 12 * 4 + 4 * 4)
        #expect(data.sha256 == ContentDigest.sha256Hex(of: [bytes]))

        let chosen = try SQLiteLoader.load(databasePath: db.path, table: "PATIENTS", labelColumn: "label",
                                           featureColumns: ["income \"net\"", "age"], classCount: 2)
        #expect(chosen.featureNames == ["income \"net\"", "age"])
        #expect(chosen.features.storage == [10.5, 20, 30.5, 30, 20.5, 40, 2.5, 50])
        #expect(chosen.sha256 != data.sha256)
    }

    @Test("the database is opened read-only: the file is unchanged and no journal appears")
    func readOnly() throws {
        let db = try TemporaryDatabase(Self.schema)
        let before = try ContentDigest.sha256Hex(ofFileAt: db.path)
        _ = try SQLiteLoader.load(databasePath: db.path, table: "patients", labelColumn: "label", featureColumns: nil,
                                  classCount: 2)
        #expect(try ContentDigest.sha256Hex(ofFileAt: db.path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: db.folder.path) == ["data.sqlite"])
    }

    @Test("bad input is refused with one line naming the problem", arguments: [
        // (table, label, features, classes, expected message fragment)
        ("nope", "label", nil, 2, "has no table \"nope\" (tables: empty, patients)"),
        ("x\"; DROP TABLE patients; --", "label", nil, 2, "has no table \"x\"; DROP TABLE patients; --\""),
        ("adults", "label", nil, 2, "\"adults\" in DB is a view, not a table"),
        ("patients", "y", nil, 2, "table \"patients\" of DB has no column \"y\" (columns: id, age, income \"net\", label)"),
        ("patients", "label", ["age", "weight"], 2, "has no column \"weight\""),
        ("patients", "label", ["age", "label"], 2, "the label column \"label\" of table \"patients\" of DB is also listed"),
        ("patients", "id", ["age"], 12, "table \"patients\" of DB, rowid 2: the label is out of range 0..<12"),
        ("empty", "label", nil, 2, "table \"empty\" of DB has no data rows"),
    ] as [(String, String, [String]?, Int, String)])
    func refused(table: String, label: String, features: [String]?, classes: Int, message: String) throws {
        let db = try TemporaryDatabase(Self.schema)
        let expected = message.replacingOccurrences(of: "DB", with: db.path)
        #expect {
            try SQLiteLoader.load(databasePath: db.path, table: table, labelColumn: label, featureColumns: features,
                                  classCount: classes)
        } throws: { error in
            let text = (error as? VeilError)?.message ?? ""
            return text.contains(expected) && !text.contains("\n")
        }
        // Nothing was dropped: the table is still there.
        #expect(try SQLiteLoader.load(databasePath: db.path, table: "patients", labelColumn: "label", featureColumns: nil,
                                      classCount: 2).count == 4)
    }

    @Test("NULL, text and blob features, non-integer labels: the error names the rowid and the column, never the value", arguments: [
        ("UPDATE patients SET age = NULL WHERE rowid = 2", "rowid 2, column \"age\": is NULL"),
        ("UPDATE patients SET age = 'abc' WHERE rowid = 3", "rowid 3, column \"age\": a text value is not a number"),
        ("UPDATE patients SET \"income \"\"net\"\"\" = x'00' WHERE rowid = 4", "rowid 4, column \"income \"net\"\": a blob is not a number"),
        ("UPDATE patients SET \"income \"\"net\"\"\" = 1e300 WHERE rowid = 1", "rowid 1, column \"income \"net\"\": the value is not a finite Float"),
        ("UPDATE patients SET label = 0.5 WHERE rowid = 1", "rowid 1: the label is not an integer"),
        ("UPDATE patients SET label = NULL WHERE rowid = 4", "rowid 4: the label is not an integer"),
        ("UPDATE patients SET label = 'one' WHERE rowid = 2", "rowid 2: the label is not an integer"),
        ("UPDATE patients SET label = 2 WHERE rowid = 3", "rowid 3: the label is out of range 0..<2"),
    ])
    func badValues(update: String, message: String) throws {
        let db = try TemporaryDatabase(Self.schema + "\n" + update)
        #expect {
            try SQLiteLoader.load(databasePath: db.path, table: "patients", labelColumn: "label", featureColumns: nil,
                                  classCount: 2)
        } throws: { error in
            (error as? VeilError)?.message == "table \"patients\" of \(db.path), \(message)"
        }
    }

    @Test("a missing file and a file that is not a database are refused")
    func notADatabase() throws {
        let folder = try TemporaryDirectory.make("sqlite")
        defer { try? FileManager.default.removeItem(at: folder) }
        let missing = folder.appendingPathComponent("missing.sqlite").path
        #expect {
            try SQLiteLoader.load(databasePath: missing, table: "t", labelColumn: "label", featureColumns: nil, classCount: 2)
        } throws: { ($0 as? VeilError)?.message == "database file not found: \(missing)" }
        #expect(!FileManager.default.fileExists(atPath: missing))
        let text = folder.appendingPathComponent("notes.sqlite")
        try String(repeating: "not a database at all\n", count: 100).write(to: text, atomically: true, encoding: .utf8)
        #expect {
            try SQLiteLoader.load(databasePath: text.path, table: "t", labelColumn: "label", featureColumns: nil, classCount: 2)
        } throws: { ($0 as? VeilError)?.message == "\(text.path) is not a SQLite database" }
    }

    @Test("the CSV and SQLite loaders give the same data set for the same rows (only the fingerprint differs)")
    func sameAsCSV() throws {
        let db = try TemporaryDatabase("""
            CREATE TABLE patients (id INTEGER, age INTEGER, income REAL, label INTEGER);
            INSERT INTO patients VALUES (11, 20, 10.5, 0), (12, 30, 30.25, 1), (13, 40, -20.5, 1), (14, 50, 2.5, 0);
            """)
        let csv = db.folder.appendingPathComponent("patients.csv")
        try "id,age,income,label\n11,20,10.5,0\n12,30,30.25,1\n13,40,-20.5,1\n14,50,2.5,0\n"
            .write(to: csv, atomically: true, encoding: .utf8)
        for features in [nil, ["income", "age"]] as [[String]?] {
            let fromSQLite = try SQLiteLoader.load(databasePath: db.path, table: "patients", labelColumn: "label",
                                                   featureColumns: features, classCount: 2)
            let fromCSV = try CSVLoader.load(path: csv.path, labelColumn: "label", featureColumns: features, classCount: 2)
            #expect(fromSQLite.features == fromCSV.features)
            #expect(fromSQLite.labels == fromCSV.labels)
            #expect(fromSQLite.inputShape == fromCSV.inputShape)
            #expect(fromSQLite.classCount == fromCSV.classCount)
            #expect(fromSQLite.featureNames == fromCSV.featureNames)
            #expect(fromSQLite.featureNames == features ?? ["id", "age", "income"])
            // CSV fingerprints the file's bytes, SQLite the values read.
            #expect(fromCSV.sha256 == ContentDigest.sha256Hex(of: [try Data(contentsOf: csv)]))
        }
    }

    @Test("a sqlite pipeline: parsed, loaded, clamped and scaled by its declared bounds, described for evaluation")
    func pipelineRoundTrip() throws {
        // The test table lists its columns in another order: evaluation must still read them by name.
        let db = try TemporaryDatabase("""
            CREATE TABLE train (age INTEGER, income REAL, person TEXT, label INTEGER);
            INSERT INTO train VALUES (20, 1, 'a', 0), (30, 3, 'b', 1), (40, 2, 'c', 1), (50, 6, 'd', 0);
            CREATE TABLE test (label INTEGER, income REAL, age INTEGER);
            INSERT INTO test VALUES (1, 4, 35), (0, 2, 45);
            """)
        let yaml = """
            data:
              format: sqlite
              database: data.sqlite
              table: train
              test_table: test
              label_column: label
              feature_columns: [age, income]
              feature_bounds:
                age: {lower: 20, upper: 60}
                income: {lower: 0, upper: 4}
              classes: 2
              size: 4
            model: {architecture: logistic}
            privacy: {non_private: true}
            training: {epochs: 1, expected_batch_size: 2, learning_rate: 0.1}
            output: m.safetensors
            """
        let pipeline = try TrainingPipeline.parse(yaml: yaml, baseDirectory: db.folder.path)
        guard case .sqlite(let database, let table, let testTable, let columns) = pipeline.data else {
            Issue.record("expected sqlite data")
            return
        }
        #expect(database == db.path)
        #expect(table == "train" && testTable == "test")
        let bounds = ["age": try FeatureBounds(lower: 20, upper: 60, column: "age"),
                      "income": try FeatureBounds(lower: 0, upper: 4, column: "income")]
        #expect(columns == TabularColumns(labelColumn: "label", featureColumns: ["age", "income"], featureBounds: bounds))
        #expect(pipeline.classes == 2)

        // (2x − lower − upper) / (upper − lower) after clamping: nothing is fitted on the data.
        let (train, test) = try pipeline.loadData()
        #expect(train.labels == [0, 1, 1, 0])
        #expect(train.features.storage == [-1, -0.5, -0.5, 0.5, 0, 0, 0.5, 1])  // income 6 is clamped to 4
        let t = try #require(test)
        #expect(t.labels == [1, 0])
        #expect(t.features.storage == [-0.25, 1, 0.25, 0])

        // The model file's description reads back and gives evaluation the same test data.
        let description = pipeline.dataDescription(trainedOn: train)
        #expect(description == TrainingDataDescription(format: .sqlite, classes: 2, labelColumn: "label",
                                                       featureColumns: ["age", "income"], featureBounds: bounds,
                                                       table: "train", testTable: "test"))
        let metadata = [TrainingDataDescription.metadataKey: description.json]
        let read = try #require(try TrainingDataDescription(metadata: metadata))
        #expect(read == description)
        let evaluation = try read.loadTabular(path: db.path, table: nil, classCount: 2)
        #expect(evaluation.features == t.features && evaluation.labels == t.labels)
        #expect {
            try read.loadTabular(path: db.path, table: "missing", classCount: 2)
        } throws: { ($0 as? VeilError)?.message.contains("has no table \"missing\"") == true }

        // A model file of an earlier version, whose features were standardised on its training data, is refused.
        let legacy = [TrainingDataDescription.metadataKey: #"{"classes":2,"format":"sqlite","label_column":"label","standardized":true}"#]
        #expect {
            try TrainingDataDescription(metadata: legacy)
        } throws: { ($0 as? VeilError)?.message.contains("retrain it with declared data.feature_bounds") == true }
    }

    @Test("sqlite pipeline keys are checked", arguments: [
        ("  table: train\n", "", "lacks the required key table"),
        ("  label_column: label\n", "", "lacks the required key label_column"),
        ("  table: train\n", "  table: train\n  test: test.csv\n", "unknown key test"),
        ("format: sqlite", "format: parquet", "data.format must be idx, csv or sqlite"),
    ])
    func pipelineKeys(original: String, replacement: String, message: String) {
        let yaml = """
            data:
              format: sqlite
              database: data.sqlite
              table: train
              label_column: label
              classes: 2
              size: 4
            model: {architecture: logistic}
            privacy: {non_private: true}
            training: {epochs: 1, expected_batch_size: 2, learning_rate: 0.1}
            output: m.safetensors
            """
        #expect(yaml.contains(original))
        #expect {
            try TrainingPipeline.parse(yaml: yaml.replacingOccurrences(of: original, with: replacement), baseDirectory: "/d")
        } throws: { ($0 as? VeilError)?.message.contains(message) == true }
    }
}
