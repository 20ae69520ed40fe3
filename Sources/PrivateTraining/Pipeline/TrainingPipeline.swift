import Foundation
import LinearAlgebra
import Mechanisms
import Yams

/// A training pipeline file (YAML): data, model, privacy, training and output. See
/// `docs/training.md` for every key. Unknown keys are refused, so a misspelt privacy setting
/// can never silently fall back to a default.
public struct TrainingPipeline: Sendable {
    /// Where the examples come from.
    public enum DataSource: Sendable {
        /// IDX files (MNIST, Fashion-MNIST), gzip or plain.
        case idx(trainImages: String, trainLabels: String, testImages: String?, testLabels: String?)
        /// CSV files with a header.
        case csv(train: String, test: String?, columns: TabularColumns)
        /// Tables of one SQLite database (opened read-only).
        case sqlite(database: String, table: String, testTable: String?, columns: TabularColumns)
    }

    /// The data source.
    public var data: DataSource
    /// Number of classes.
    public var classes: Int
    /// Use only the first `limit` training examples.
    public var limit: Int?
    /// Model family: `logistic`, `mlp` or `cnn`.
    public var architecture: String
    /// Activation of hidden layers.
    public var activation: ActivationLayer.Kind
    /// Hidden widths of an MLP.
    public var hidden: [Int]
    /// DP settings, or `nil` when the file says `privacy: {non_private: true}`.
    public var privacy: PrivacySettings?
    /// The ledger scope to charge (recorded in the card; the ledger itself is wired by the caller).
    public var ledgerScope: String?
    /// Optimisation settings.
    public var training: TrainingSettings
    /// Seed of the non-private batch order only (never of sampling, noise or initialisation).
    public var seed: UInt64?
    /// Path of the model file to write.
    public var output: String

    // MARK: Parsing

    /// Parses a pipeline file; relative paths are resolved against the file's folder.
    /// - Throws: `VeilError.invalidInput` on unreadable YAML, unknown keys, missing or mistyped values.
    public static func load(path: String) throws -> TrainingPipeline {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw VeilError(.invalidInput, "pipeline file not found: \(path)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        return try parse(yaml: text, baseDirectory: base.path, name: path)
    }

    /// Parses pipeline YAML text; `baseDirectory` resolves relative paths.
    public static func parse(yaml: String, baseDirectory: String, name: String = "pipeline") throws -> TrainingPipeline {
        let root: Any?
        do { root = try Yams.load(yaml: yaml) } catch {
            throw VeilError(.invalidInput, "\(name) is not valid YAML: \(error)")
        }
        var reader = try Section(root, path: name)
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : URL(fileURLWithPath: baseDirectory).appendingPathComponent(p).standardized.path }

        var data = try reader.section("data")
        let format = try data.string("format", default: "idx")
        let source: DataSource
        switch format {
        case "idx":
            source = .idx(trainImages: resolve(try data.string("train_images")),
                          trainLabels: resolve(try data.string("train_labels")),
                          testImages: try data.optionalString("test_images").map(resolve),
                          testLabels: try data.optionalString("test_labels").map(resolve))
        case "csv":
            source = .csv(train: resolve(try data.string("train")), test: try data.optionalString("test").map(resolve),
                          columns: try TabularColumns(reading: &data))
        case "sqlite":
            source = .sqlite(database: resolve(try data.string("database")), table: try data.string("table"),
                             testTable: try data.optionalString("test_table"), columns: try TabularColumns(reading: &data))
        default:
            throw VeilError(.invalidInput, "\(name): data.format must be idx, csv or sqlite, got \(format)")
        }
        let classes = try data.int("classes", default: 10)
        let limit = try data.optionalInt("limit")
        try data.finish()

        var model = try reader.section("model")
        let architecture = try model.string("architecture")
        guard ["logistic", "mlp", "cnn"].contains(architecture) else {
            throw VeilError(.invalidInput, "\(name): model.architecture must be logistic, mlp or cnn, got \(architecture)")
        }
        let activationName = try model.string("activation", default: "tanh")
        guard let activation = ActivationLayer.Kind(rawValue: activationName) else {
            throw VeilError(.invalidInput, "\(name): model.activation must be tanh or relu, got \(activationName)")
        }
        let hidden = try model.optionalInts("hidden") ?? [256]
        try model.finish()

        var privacySection = try reader.section("privacy")
        var privacy: PrivacySettings? = nil
        var ledgerScope: String? = nil
        if try privacySection.bool("non_private", default: false) {
            try privacySection.finish()
        } else {
            let accountantName = try privacySection.string("accountant", default: "rdp")
            guard let accountant = AccountantKind(rawValue: accountantName) else {
                throw VeilError(.invalidInput, "\(name): privacy.accountant must be rdp or pld, got \(accountantName)")
            }
            privacy = PrivacySettings(targetEpsilon: try privacySection.double("target_epsilon"),
                                      delta: try privacySection.double("delta"),
                                      clipNorm: try privacySection.double("clip_norm"),
                                      accountant: accountant,
                                      noiseMultiplier: try privacySection.optionalDouble("noise_multiplier"))
            ledgerScope = try privacySection.optionalString("ledger_scope")
            try privacySection.finish()
        }

        var trainingSection = try reader.section("training")
        let optimizerName = try trainingSection.string("optimizer", default: "sgd")
        let optimizer: OptimizerKind
        switch optimizerName {
        case "sgd": optimizer = .sgd(momentum: try trainingSection.double("momentum", default: 0))
        case "adam":
            optimizer = .adam(beta1: try trainingSection.double("beta1", default: 0.9),
                              beta2: try trainingSection.double("beta2", default: 0.999),
                              epsilon: try trainingSection.double("adam_epsilon", default: 1e-8))
        default: throw VeilError(.invalidInput, "\(name): training.optimizer must be sgd or adam, got \(optimizerName)")
        }
        let training = TrainingSettings(
            epochs: try trainingSection.int("epochs"),
            expectedBatchSize: try trainingSection.int("expected_batch_size"),
            maxPhysicalBatchSize: try trainingSection.int("max_physical_batch_size", default: 256),
            optimizer: optimizer, learningRate: try trainingSection.double("learning_rate"))
        let seed = try trainingSection.optionalInt("seed").map { UInt64(truncatingIfNeeded: $0) }
        try trainingSection.finish()

        let output = resolve(try reader.string("output"))
        try reader.finish()
        return TrainingPipeline(data: source, classes: classes, limit: limit, architecture: architecture,
                                activation: activation, hidden: hidden, privacy: privacy, ledgerScope: ledgerScope,
                                training: training, seed: seed, output: output)
    }

    // MARK: Preparing a run

    /// The layers this pipeline's model family has for `classes` classes.
    public var layerSpecifications: [LayerSpecification] {
        switch architecture {
        case "logistic": ModelArchitecture.logisticRegression(classes: classes)
        case "mlp": ModelArchitecture.multilayerPerceptron(hidden: hidden, classes: classes, activation: activation)
        default: ModelArchitecture.mnistCNN(classes: classes, activation: activation)
        }
    }

    /// Training and (optional) test data, loaded and checked; for tabular data with `standardize`,
    /// standardisation is fitted on the training split (after `limit`) and applied to both splits.
    /// The test split is read with the training split's feature columns, by name.
    public func loadData() throws -> (train: Dataset, test: Dataset?, standardization: Standardization?) {
        var train: Dataset
        var test: Dataset?
        let columns: TabularColumns
        switch data {
        case .idx(let trainImages, let trainLabels, let testImages, let testLabels):
            let train = try IDXLoader.load(imagesPath: trainImages, labelsPath: trainLabels, classCount: classes, limit: limit)
            var test: Dataset? = nil
            if let testImages, let testLabels {
                test = try IDXLoader.load(imagesPath: testImages, labelsPath: testLabels, classCount: classes)
            }
            return (train, test, nil)
        case .csv(let trainPath, let testPath, let c):
            columns = c
            train = try CSVLoader.load(path: trainPath, labelColumn: c.labelColumn, featureColumns: c.featureColumns,
                                       classCount: classes)
            test = try testPath.map {
                try CSVLoader.load(path: $0, labelColumn: c.labelColumn, featureColumns: train.featureNames, classCount: classes)
            }
        case .sqlite(let database, let table, let testTable, let c):
            columns = c
            train = try SQLiteLoader.load(databasePath: database, table: table, labelColumn: c.labelColumn,
                                          featureColumns: c.featureColumns, classCount: classes)
            test = try testTable.map {
                try SQLiteLoader.load(databasePath: database, table: $0, labelColumn: c.labelColumn,
                                      featureColumns: train.featureNames, classCount: classes)
            }
        }
        if let limit { train = train.prefix(limit) }
        guard columns.standardize else { return (train, test, nil) }
        let standardization = Standardization(fittedOn: train.features)
        standardization.apply(to: &train.features)
        if test != nil { standardization.apply(to: &test!.features) }
        return (train, test, standardization)
    }

    /// The data layout for the model file's `veil.data` metadata, so evaluation can read the same
    /// columns: the format, the classes and, for tabular data, the label column, the feature columns
    /// `train` was read with (resolved, also when the pipeline left them to the default), whether
    /// features were standardised and, for SQLite, the table names.
    public func dataDescription(trainedOn train: Dataset) -> TrainingDataDescription {
        switch data {
        case .idx:
            return TrainingDataDescription(format: .idx, classes: classes)
        case .csv(_, _, let columns):
            return TrainingDataDescription(format: .csv, classes: classes, labelColumn: columns.labelColumn,
                                           featureColumns: train.featureNames ?? columns.featureColumns,
                                           standardized: columns.standardize)
        case .sqlite(_, let table, let testTable, let columns):
            return TrainingDataDescription(format: .sqlite, classes: classes, labelColumn: columns.labelColumn,
                                           featureColumns: train.featureNames ?? columns.featureColumns,
                                           standardized: columns.standardize, table: table, testTable: testTable)
        }
    }

    /// Notes for the card about data-dependent steps outside the DP guarantee.
    public var cardNotes: [String] {
        switch data {
        case .csv(_, _, let columns) where columns.standardize, .sqlite(_, _, _, let columns) where columns.standardize:
            return ["features standardised with means and deviations fitted on the training split: "
                    + "this step reads private data outside the DP guarantee; use public or DP statistics in production"]
        default:
            return []
        }
    }
}

/// The columns a tabular source (a CSV file or a SQLite table) supplies, and whether its features
/// are standardised.
public struct TabularColumns: Sendable, Equatable {
    /// The integer label column.
    public var labelColumn: String
    /// The feature columns; `nil` takes every other column in source order.
    public var featureColumns: [String]?
    /// Fit per-feature standardisation on the training split (a data-dependent step outside the DP
    /// guarantee; see ``Standardization``).
    public var standardize: Bool

    /// Columns as given.
    public init(labelColumn: String, featureColumns: [String]? = nil, standardize: Bool = false) {
        self.labelColumn = labelColumn
        self.featureColumns = featureColumns
        self.standardize = standardize
    }

    /// Reads `label_column`, `feature_columns` and `standardize` from a pipeline's data section.
    init(reading section: inout Section) throws {
        self.init(labelColumn: try section.string("label_column"),
                  featureColumns: try section.optionalStrings("feature_columns"),
                  standardize: try section.bool("standardize", default: false))
    }
}

// MARK: - YAML mapping reader

/// Reads one YAML mapping, remembering which keys were used so that leftovers can be refused.
struct Section {
    private let values: [String: Any]
    private let path: String
    private var used: Set<String> = []

    init(_ node: Any?, path: String) throws {
        self.path = path
        if let d = node as? [String: Any] {
            values = d
        } else if let d = node as? [AnyHashable: Any] {
            var converted: [String: Any] = [:]
            for (k, v) in d { converted["\(k)"] = v }
            values = converted
        } else {
            throw VeilError(.invalidInput, "\(path) must be a mapping of keys to values")
        }
    }

    private mutating func raw(_ key: String) -> Any? {
        used.insert(key)
        guard let v = values[key], !(v is NSNull) else { return nil }
        return v
    }

    private func mistyped(_ key: String, _ expected: String) -> VeilError {
        VeilError(.invalidInput, "\(path).\(key) must be \(expected)")
    }

    private func missing(_ key: String) -> VeilError {
        VeilError(.invalidInput, "\(path) lacks the required key \(key)")
    }

    mutating func section(_ key: String) throws -> Section {
        guard let v = raw(key) else { throw missing(key) }
        return try Section(v, path: "\(path): \(key)")
    }

    mutating func optionalString(_ key: String) throws -> String? {
        guard let v = raw(key) else { return nil }
        if let s = v as? String { return s }
        throw mistyped(key, "a string")
    }

    mutating func string(_ key: String, default value: String? = nil) throws -> String {
        if let s = try optionalString(key) { return s }
        if let value { return value }
        throw missing(key)
    }

    mutating func optionalDouble(_ key: String) throws -> Double? {
        guard let v = raw(key) else { return nil }
        if let d = v as? Double { return d }
        if let i = v as? Int { return Double(i) }
        if let s = v as? String, let d = Double(s) { return d }
        throw mistyped(key, "a number")
    }

    mutating func double(_ key: String, default value: Double? = nil) throws -> Double {
        if let d = try optionalDouble(key) { return d }
        if let value { return value }
        throw missing(key)
    }

    mutating func optionalInt(_ key: String) throws -> Int? {
        guard let v = raw(key) else { return nil }
        if let i = v as? Int { return i }
        if let s = v as? String, let i = Int(s) { return i }
        throw mistyped(key, "an integer")
    }

    mutating func int(_ key: String, default value: Int? = nil) throws -> Int {
        if let i = try optionalInt(key) { return i }
        if let value { return value }
        throw missing(key)
    }

    mutating func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let v = raw(key) else { return value }
        if let b = v as? Bool { return b }
        throw mistyped(key, "true or false")
    }

    mutating func optionalStrings(_ key: String) throws -> [String]? {
        guard let v = raw(key) else { return nil }
        if let a = v as? [Any] {
            return try a.map { item in
                guard let s = item as? String else { throw mistyped(key, "a list of strings") }
                return s
            }
        }
        throw mistyped(key, "a list of strings")
    }

    mutating func optionalInts(_ key: String) throws -> [Int]? {
        guard let v = raw(key) else { return nil }
        if let a = v as? [Any] {
            return try a.map { item in
                guard let i = item as? Int else { throw mistyped(key, "a list of integers") }
                return i
            }
        }
        throw mistyped(key, "a list of integers")
    }

    /// Refuses keys that were never read.
    func finish() throws {
        let unknown = Set(values.keys).subtracting(used).sorted()
        guard unknown.isEmpty else {
            throw VeilError(.invalidInput, "\(path): unknown key\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", "))")
        }
    }
}
