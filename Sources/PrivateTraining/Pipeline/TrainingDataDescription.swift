import Foundation
import Mechanisms

/// The data layout a model was trained on, stored as JSON in its model file under `veil.data`, so that
/// evaluation reads the same label and feature columns and applies the same declared feature bounds.
/// Everything here comes from the pipeline or the data's schema (column names), never from the values.
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
    /// Tabular data: the declared bounds of the feature columns that have them (see ``DeclaredFeatureScaling``).
    public var featureBounds: [String: FeatureBounds]?
    /// Set by model files of earlier versions whose features were standardised with statistics fitted on
    /// the training data; such files are refused (their statistics were released outside the guarantee).
    public var standardized: Bool?
    /// SQLite: the training table.
    public var table: String?
    /// SQLite: the test table named by the pipeline, if any.
    public var testTable: String?

    enum CodingKeys: String, CodingKey {
        case format, classes, standardized, table
        case labelColumn = "label_column"
        case featureColumns = "feature_columns"
        case featureBounds = "feature_bounds"
        case testTable = "test_table"
    }

    /// A description; see the properties.
    public init(format: Format, classes: Int, labelColumn: String? = nil, featureColumns: [String]? = nil,
                featureBounds: [String: FeatureBounds]? = nil, table: String? = nil, testTable: String? = nil) {
        self.format = format
        self.classes = classes
        self.labelColumn = labelColumn
        self.featureColumns = featureColumns
        self.featureBounds = featureBounds
        self.table = table
        self.testTable = testTable
    }

    /// The description in a model file's metadata, or `nil` when the file has none.
    /// - Throws: `VeilError.invalidInput` when the entry exists but is not a valid description, or
    ///   describes features standardised with statistics fitted on the training data (earlier versions).
    public init?(metadata: [String: String]) throws {
        guard let json = metadata[Self.metadataKey] else { return nil }
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(json.utf8))
        } catch {
            throw VeilError(.invalidInput, "the model's \(Self.metadataKey) metadata is not a valid data description: \(error)")
        }
        guard standardized != true else {
            throw VeilError(.invalidInput, "the model was trained on features standardised with statistics fitted on its "
                            + "training data (an earlier Veil version); retrain it with declared data.feature_bounds")
        }
    }

    /// Reads labelled tabular data with this description's label and feature columns (by name) and
    /// applies its declared feature bounds.
    /// - Parameters:
    ///   - path: a CSV file, or a SQLite database for a model trained on a SQLite table.
    ///   - table: SQLite only: the table to read; `nil` takes the pipeline's test table, if it named one.
    ///   - classCount: the model's number of classes.
    /// - Throws: `VeilError.invalidInput` for IDX models (they need images and labels files), for a SQLite
    ///   model without a table, a table given for a CSV model, or anything the loaders refuse.
    public func loadTabular(path: String, table: String?, classCount: Int) throws -> Dataset {
        var data = try readTabular(path: path, table: table, classCount: classCount)
        do {
            try DeclaredFeatureScaling(bounds: featureBounds ?? [:], featureNames: data.featureNames ?? [])
                .apply(to: &data.features)
        } catch let error as VeilError {
            throw VeilError(.invalidInput, "the model's \(Self.metadataKey) metadata: \(error.message)")
        }
        return data
    }

    /// The rows of a CSV file or SQLite table with this description's label and feature columns, values as
    /// read (not scaled): the one place the tabular loaders are called, for training and for evaluation.
    /// Parameters and errors as ``loadTabular(path:table:classCount:)``.
    func readTabular(path: String, table: String?, classCount: Int) throws -> Dataset {
        guard let labelColumn else {
            throw VeilError(.invalidInput, "the model was trained on \(format.rawValue) data, which has no label column; "
                            + "IDX data needs an images file and a labels file")
        }
        let bounded = Set((featureBounds ?? [:]).keys)
        switch format {
        case .sqlite:
            guard let table = table ?? testTable else {
                throw VeilError(.invalidInput, "the model was trained on the SQLite table \"\(self.table ?? "?")\"; "
                                + "name the table to evaluate on")
            }
            return try SQLiteLoader.load(databasePath: path, table: table, labelColumn: labelColumn,
                                         featureColumns: featureColumns, classCount: classCount, boundedColumns: bounded)
        case .csv, .idx:
            guard table == nil else {
                throw VeilError(.invalidInput, "the model was trained on \(format.rawValue) data; a table applies to SQLite data only")
            }
            return try CSVLoader.load(path: path, labelColumn: labelColumn, featureColumns: featureColumns,
                                      classCount: classCount, boundedColumns: bounded)
        }
    }

    /// Compact JSON with sorted keys (optional fields that are `nil` are left out).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a struct of strings, numbers and Booleans cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }
}
