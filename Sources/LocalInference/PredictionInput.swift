import Foundation
import GRDB
import LinearAlgebra
import Mechanisms
import PrivateTraining

/// Reads the examples to predict from a file, with the column rules of `veil evaluate`: IDX images
/// (with their labels file, read by ``IDXLoader``); for tabular models, the feature columns the model
/// names, read by name from a CSV file with a header or a SQLite table (a label column may be present and
/// is ignored; other columns are ignored). Values are returned as read: ``InferenceModel/prepare(_:)``
/// checks and scales them.
public enum PredictionInput {
    /// Where the examples are.
    public enum Source: Sendable, Equatable {
        /// An IDX images file, with its labels file when given (then checked against the images, not used).
        case idx(images: String, labels: String?)
        /// A CSV file with a header.
        case csv(path: String)
        /// A table of a SQLite database (`nil`: the model's test table, else its training table).
        case sqlite(path: String, table: String?)
    }

    /// Whether `path` starts with the SQLite file header.
    public static func isSQLite(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        return header == Data("SQLite format 3\0".utf8)
    }

    /// The examples of `source` for `model`, one per row, as read.
    /// - Throws: `VeilError.invalidInput` on a missing file, table or column, a non-numeric value,
    ///   an input shape the model does not take, or no rows.
    public static func read(_ source: Source, for model: InferenceModel) throws -> Matrix {
        switch source {
        case .idx(let images, let labels):
            let features: Matrix, shape: ImageShape
            if let labels {
                let data = try IDXLoader.load(imagesPath: images, labelsPath: labels, classCount: max(model.classCount, 256))
                (features, shape) = (data.features, data.inputShape)
            } else {
                (features, shape) = try IDXLoader.images(path: images)
            }
            guard shape.count == model.inputCount else {
                throw VeilError(.invalidInput, "\(images) holds images of \(shape); the model takes \(model.inputShape)")
            }
            return features
        case .csv(let path):
            return try readCSV(path: path, columns: try featureColumns(model))
        case .sqlite(let path, let table):
            // Never the training table by default: predictions on it would be exact, uncharged functions of the
            // private training records (docs/design.md §2 rule 7). Name it with --table to do so deliberately.
            guard let table = table ?? model.data?.testTable else {
                throw VeilError(.invalidInput, "name the table to predict on (--table); the model records no test table")
            }
            return try readSQLite(path: path, table: table, columns: try featureColumns(model))
        }
    }

    private static func featureColumns(_ model: InferenceModel) throws -> [String] {
        guard let names = model.featureNames else {
            throw VeilError(.invalidInput, "the model \"\(model.name)\" was trained on images; give an IDX images file")
        }
        return names
    }

    private static func rows(_ values: [Float], columns: Int, source: String) throws -> Matrix {
        guard !values.isEmpty else { throw VeilError(.invalidInput, "\(source) has no data rows") }
        return Matrix(rows: values.count / columns, columns: columns, storage: values)
    }

    static func readCSV(path: String, columns names: [String]) throws -> Matrix {
        let csv = try CSVText(path: path)
        let indices = try names.map { name in
            guard let i = csv.header.firstIndex(of: name) else {
                throw VeilError(.invalidInput, "\(path) has no column \"\(name)\" (columns: \(csv.header.joined(separator: ", ")))")
            }
            return i
        }
        var values: [Float] = []
        values.reserveCapacity(csv.rowCount * names.count)
        for r in 0..<csv.rowCount {
            let row = try csv.fields(ofRow: r)
            for i in indices { values.append(try csv.number(row, row: r, column: i)) }
        }
        return try rows(values, columns: names.count, source: path)
    }

    static func readSQLite(path: String, table: String, columns names: [String]) throws -> Matrix {
        guard FileManager.default.fileExists(atPath: path) else { throw VeilError(.invalidInput, "database file not found: \(path)") }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "veil.prediction-input"
        func quoted(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            return try queue.read { db in
                guard try db.tableExists(table) else { throw VeilError(.invalidInput, "\(path) has no table \"\(table)\"") }
                let present = try db.columns(in: table).map(\.name)
                if let missing = names.first(where: { !present.contains($0) }) {
                    throw VeilError(.invalidInput, "table \"\(table)\" of \(path) has no column \"\(missing)\" "
                                    + "(columns: \(present.joined(separator: ", ")))")
                }
                let sql = "SELECT \(names.map(quoted).joined(separator: ", ")) FROM \(quoted(table)) ORDER BY rowid"
                var values: [Float] = []
                let cursor = try Row.fetchCursor(db, sql: sql)
                var r = 0
                while let row = try cursor.next() {
                    r += 1
                    for (k, name) in names.enumerated() {
                        let value: DatabaseValue = row[k]
                        let number: Double? = switch value.storage {
                        case .int64(let v): Double(v)
                        case .double(let v): v
                        default: nil
                        }
                        guard let number, number.isFinite, Float(number).isFinite else {
                            throw VeilError(.invalidInput, "table \"\(table)\" of \(path), row \(r), column \(name): "
                                            + "not a finite number")
                        }
                        values.append(Float(number))
                    }
                }
                return try rows(values, columns: names.count, source: "table \"\(table)\" of \(path)")
            }
        } catch let error as VeilError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw VeilError(.invalidInput, "\(path) is not a SQLite database")
        } catch let error as DatabaseError {
            throw VeilError(.invalidInput, "cannot read \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }
}
