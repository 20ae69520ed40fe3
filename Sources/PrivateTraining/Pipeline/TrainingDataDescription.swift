import Foundation
import Mechanisms

/// The data layout a model was trained on, stored as JSON in its model file under `veil.data`, so that
/// evaluation reads the same label and feature columns (and applies the same standardisation).
public struct TrainingDataDescription: Sendable, Codable, Equatable {
    /// The metadata key of the model file that holds this description.
    public static let metadataKey = "veil.data"

    /// How the training data was stored.
    public enum Format: String, Sendable, Codable {
        /// IDX image files.
        case idx
        /// A CSV file with a header.
        case csv
        /// A table of a SQLite database.
        case sqlite
    }

    /// The training data's format.
    public var format: Format
    /// Number of classes.
    public var classes: Int
    /// Tabular data: the label column.
    public var labelColumn: String?
    /// Tabular data: the feature columns, in the model's input order.
    public var featureColumns: [String]?
    /// Tabular data: whether features were standardised (the statistics are stored under
    /// ``Standardization/metadataKey``).
    public var standardized: Bool?
    /// SQLite: the training table.
    public var table: String?
    /// SQLite: the test table named by the pipeline, if any.
    public var testTable: String?

    enum CodingKeys: String, CodingKey {
        case format, classes, standardized, table
        case labelColumn = "label_column"
        case featureColumns = "feature_columns"
        case testTable = "test_table"
    }

    /// A description; see the properties.
    public init(format: Format, classes: Int, labelColumn: String? = nil, featureColumns: [String]? = nil,
                standardized: Bool? = nil, table: String? = nil, testTable: String? = nil) {
        self.format = format
        self.classes = classes
        self.labelColumn = labelColumn
        self.featureColumns = featureColumns
        self.standardized = standardized
        self.table = table
        self.testTable = testTable
    }

    /// The description in a model file's metadata, or `nil` when the file has none.
    /// - Throws: `VeilError.invalidInput` when the entry exists but is not a valid description.
    public init?(metadata: [String: String]) throws {
        guard let json = metadata[Self.metadataKey] else { return nil }
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(json.utf8))
        } catch {
            throw VeilError(.invalidInput, "the model's \(Self.metadataKey) metadata is not a valid data description: \(error)")
        }
    }

    /// Reads labelled tabular data with this description's label and feature columns (by name) and
    /// applies `standardization` (the training split's statistics stored in the model file).
    /// - Parameters:
    ///   - path: a CSV file, or a SQLite database for a model trained on a SQLite table.
    ///   - table: SQLite only: the table to read; `nil` takes the pipeline's test table, if it named one.
    ///   - classCount: the model's number of classes.
    ///   - standardization: the statistics to apply, if the features were standardised.
    /// - Throws: `VeilError.invalidInput` for IDX models (they need images and labels files), for a SQLite
    ///   model without a table, a table given for a CSV model, or anything the loaders refuse.
    public func loadTabular(path: String, table: String?, classCount: Int,
                            standardization: Standardization?) throws -> Dataset {
        guard let labelColumn else {
            throw VeilError(.invalidInput, "the model was trained on \(format.rawValue) data, which has no label column; "
                            + "IDX data needs an images file and a labels file")
        }
        var data: Dataset
        switch format {
        case .sqlite:
            guard let table = table ?? testTable else {
                throw VeilError(.invalidInput, "the model was trained on the SQLite table \"\(self.table ?? "?")\"; "
                                + "name the table to evaluate on")
            }
            data = try SQLiteLoader.load(databasePath: path, table: table, labelColumn: labelColumn,
                                         featureColumns: featureColumns, classCount: classCount)
        case .csv, .idx:
            guard table == nil else {
                throw VeilError(.invalidInput, "the model was trained on \(format.rawValue) data; a table applies to SQLite data only")
            }
            data = try CSVLoader.load(path: path, labelColumn: labelColumn, featureColumns: featureColumns,
                                      classCount: classCount)
        }
        if let standardization {
            guard standardization.means.count == data.features.columns else {
                throw VeilError(.invalidInput, "the model's standardisation has \(standardization.means.count) features, "
                                + "the data \(data.features.columns)")
            }
            standardization.apply(to: &data.features)
        }
        return data
    }

    /// Compact JSON with sorted keys (optional fields that are `nil` are left out).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a struct of strings, numbers and Booleans cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}
