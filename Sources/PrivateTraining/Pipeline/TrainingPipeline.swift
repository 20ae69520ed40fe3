import Accounting
import CheckedYAML
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
    /// The declared number of training examples N (`data.size`, required): public, data-independent. It
    /// sets the sampling rate `q = expected_batch_size / N`, the normalisation `q·N` and the steps, and it is
    /// the only size the model's card publishes.
    public var size: Int
    /// Use only the first `limit` training examples.
    public var limit: Int?
    /// Model family: `logistic`, `mlp` or `cnn`.
    public var architecture: String
    /// Activation of hidden layers.
    public var activation: ActivationLayer.Kind
    /// Hidden widths of an MLP.
    public var hidden: [Int]
    /// Fixed features that open the model (`model.features`, `model.normalization`); none by default.
    public var features = FeaturePipelineSettings()
    /// DP settings, or `nil` when the file says `privacy: {non_private: true}`.
    public var privacy: PrivacySettings?
    /// The ledger scope to charge (recorded in the card; the ledger itself is wired by the caller).
    public var ledgerScope: String?
    /// Optimisation settings.
    public var training: TrainingSettings
    /// Augmentation multiplicity (`training.augmentation`): each training image's gradient is the mean over
    /// shifted views of it; none by default.
    public var augmentation: ShiftAugmentation?
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
        do { root = try CheckedYAML.load(yaml) } catch {
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
        let classes = try data.int("classes", default: 10, in: TrainingLimits.classes)
        guard let size = try data.optionalInt("size", in: TrainingLimits.datasetSize) else {
            throw VeilError(.invalidInput, """
                \(name): data.size is required: declare the number of training examples N \
                (a public figure, not counted from the data: q = expected_batch_size / N, and each step's noisy \
                gradient sum is divided by q·N), e.g. `size: 60000` under data
                """)
        }
        let limit = try data.optionalInt("limit", in: TrainingLimits.datasetSize)
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
        let hidden = try model.optionalInts("hidden", in: TrainingLimits.hiddenWidth) ?? [256]
        try TrainingLimits.check(hidden.count, in: TrainingLimits.hiddenLayers, name: "\(name): model.hidden's number of layers")
        let features = try FeaturePipelineSettings(reading: &model, resolve: resolve)
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
        if features.dpNormalization != nil && privacy == nil {
            throw VeilError(.invalidInput, "\(name): model.normalization type dp releases training-set statistics "
                            + "under DP and needs a DP run; without privacy use type: group")
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
            epochs: try trainingSection.int("epochs", in: TrainingLimits.epochs),
            expectedBatchSize: try trainingSection.int("expected_batch_size", in: TrainingLimits.datasetSize),
            maxPhysicalBatchSize: try trainingSection.int("max_physical_batch_size", default: 256,
                                                          in: TrainingLimits.maximumPhysicalBatchSize),
            optimizer: optimizer, learningRate: try trainingSection.double("learning_rate"),
            averageDecay: try trainingSection.optionalDouble("average_decay"))
        let seed = try trainingSection.optionalInt("seed", in: 0...Int.max).map { UInt64($0) }
        var augmentation: ShiftAugmentation? = nil
        if var section = try trainingSection.optionalSection("augmentation") {
            augmentation = try ShiftAugmentation(reading: &section)
            if features.dpNormalization != nil {
                throw VeilError(.invalidInput, "\(name): training.augmentation cannot be combined with model.normalization "
                                + "type dp, whose statistics count each training example once; use type: group")
            }
        }
        try trainingSection.finish()

        let output = resolve(try reader.string("output"))
        try reader.finish()
        var pipeline = TrainingPipeline(data: source, classes: classes, size: size, limit: limit, architecture: architecture,
                                        activation: activation, hidden: hidden, privacy: privacy, ledgerScope: ledgerScope,
                                        training: training, seed: seed, output: output)
        pipeline.features = features
        pipeline.augmentation = augmentation
        return pipeline
    }

    // MARK: Preparing a run

    /// The layers this pipeline's model family has for `classes` classes, after the fixed feature layers
    /// if the pipeline has any (with scattering features, `cnn` is ``ModelArchitecture/scatteringCNN(classes:activation:)``).
    public var layerSpecifications: [LayerSpecification] {
        let head: [LayerSpecification] = switch architecture {
        case "logistic": ModelArchitecture.logisticRegression(classes: classes)
        case "mlp": ModelArchitecture.multilayerPerceptron(hidden: hidden, classes: classes, activation: activation)
        default: features.transform == nil ? ModelArchitecture.mnistCNN(classes: classes, activation: activation)
            : ModelArchitecture.scatteringCNN(classes: classes, activation: activation)
        }
        return features.layers + head
    }

    /// Training and (optional) test data, loaded and checked. For tabular data, columns with declared
    /// bounds are clamped and scaled onto `[-1, 1]` (``DeclaredFeatureScaling``) in both splits; nothing
    /// is fitted on the data. The test split is read with the training split's feature columns, by name.
    public func loadData() throws -> (train: Dataset, test: Dataset?) {
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
            return (train, test)
        case .csv(let trainPath, let testPath, let c):
            columns = c
            (train, test) = try readTabular(.csv, columns: c, train: (trainPath, nil), test: testPath.map { ($0, nil) })
        case .sqlite(let database, let table, let testTable, let c):
            columns = c
            (train, test) = try readTabular(.sqlite, columns: c, train: (database, table),
                                            test: testTable.map { (database, $0) })
        }
        if let limit { train = train.prefix(limit) }
        let scaling = try DeclaredFeatureScaling(bounds: columns.featureBounds, featureNames: train.featureNames ?? [])
        scaling.apply(to: &train.features)
        if test != nil { scaling.apply(to: &test!.features) }
        return (train, test)
    }

    /// Reads the training split and, if any, the test split (with the training split's feature columns, by
    /// name) through ``TrainingDataDescription``'s tabular reader, values as read.
    private func readTabular(_ format: TrainingDataDescription.Format, columns: TabularColumns,
                             train: (path: String, table: String?), test: (path: String, table: String?)?)
        throws -> (Dataset, Dataset?) {
        var description = TrainingDataDescription(format: format, classes: classes, labelColumn: columns.labelColumn,
                                                  featureColumns: columns.featureColumns,
                                                  featureBounds: columns.featureBounds)
        let trainData = try description.readTabular(path: train.path, table: train.table, classCount: classes)
        description.featureColumns = trainData.featureNames
        let testData = try test.map { try description.readTabular(path: $0.path, table: $0.table, classCount: classes) }
        return (trainData, testData)
    }

    /// The data layout for the model file's `veil.data` metadata, so evaluation can read the same
    /// columns: the format, the classes and, for tabular data, the label column, the feature columns
    /// `train` was read with (resolved, also when the pipeline left them to the default: names from the
    /// schema, not values), the declared feature bounds and, for SQLite, the table names.
    public func dataDescription(trainedOn train: Dataset) -> TrainingDataDescription {
        switch data {
        case .idx:
            return TrainingDataDescription(format: .idx, classes: classes)
        case .csv(_, _, let columns):
            return TrainingDataDescription(format: .csv, classes: classes, labelColumn: columns.labelColumn,
                                           featureColumns: train.featureNames ?? columns.featureColumns,
                                           featureBounds: columns.featureBounds.isEmpty ? nil : columns.featureBounds)
        case .sqlite(_, let table, let testTable, let columns):
            return TrainingDataDescription(format: .sqlite, classes: classes, labelColumn: columns.labelColumn,
                                           featureColumns: train.featureNames ?? columns.featureColumns,
                                           featureBounds: columns.featureBounds.isEmpty ? nil : columns.featureBounds,
                                           table: table, testTable: testTable)
        }
    }
}

/// The columns a tabular source (a CSV file or a SQLite table) supplies, and the declared bounds of
/// its features.
public struct TabularColumns: Sendable, Equatable {
    /// The integer label column.
    public var labelColumn: String
    /// The feature columns; `nil` takes every other column in source order.
    public var featureColumns: [String]?
    /// Declared bounds by feature column (`data.feature_bounds`): values are clamped into them and
    /// scaled onto `[-1, 1]` (``DeclaredFeatureScaling``). Columns without bounds are used as read.
    public var featureBounds: [String: FeatureBounds]

    /// Columns as given.
    public init(labelColumn: String, featureColumns: [String]? = nil, featureBounds: [String: FeatureBounds] = [:]) {
        self.labelColumn = labelColumn
        self.featureColumns = featureColumns
        self.featureBounds = featureBounds
    }

    /// Reads `label_column`, `feature_columns` and `feature_bounds` from a pipeline's data section;
    /// refuses `standardize: true` (statistics fitted on the training data would be released).
    init(reading section: inout Section) throws {
        if try section.bool("standardize", default: false) {
            throw VeilError(.invalidInput, "\(section.path).standardize is no longer supported: statistics fitted on the "
                            + "training data would be released with the model; declare data.feature_bounds instead "
                            + "(per column, e.g. age: {lower: 18, upper: 90})")
        }
        var bounds: [String: FeatureBounds] = [:]
        if var mapping = try section.optionalSection("feature_bounds") {
            for column in mapping.keys {
                var entry = try mapping.section(column)
                do {
                    bounds[column] = try FeatureBounds(lower: try entry.double("lower"), upper: try entry.double("upper"),
                                                       column: column)
                } catch let error as VeilError where error.code == .invalidParameter {
                    throw VeilError(.invalidInput, "\(section.path).feature_bounds: \(error.message)")
                }
                try entry.finish()
            }
            try mapping.finish()
        }
        self.init(labelColumn: try section.string("label_column"),
                  featureColumns: try section.optionalStrings("feature_columns"), featureBounds: bounds)
    }
}

// MARK: - YAML mapping reader

/// Reads one YAML mapping, remembering which keys were used so that leftovers can be refused. Public so that
/// pipeline formats built on this one (federated pipelines) read their own sections with the same rules.
public struct Section {
    private let values: [String: Any]
    /// Where this mapping is (`pipeline.yaml: data`), for messages.
    public let path: String
    private var used: Set<String> = []

    public init(_ node: Any?, path: String) throws {
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

    /// The keys of this mapping, sorted.
    public var keys: [String] { values.keys.sorted() }

    public mutating func section(_ key: String) throws -> Section {
        guard let v = raw(key) else { throw missing(key) }
        return try Section(v, path: "\(path): \(key)")
    }

    public mutating func optionalSection(_ key: String) throws -> Section? {
        guard let v = raw(key) else { return nil }
        return try Section(v, path: "\(path): \(key)")
    }

    public mutating func optionalString(_ key: String) throws -> String? {
        guard let v = raw(key) else { return nil }
        if let s = v as? String { return s }
        throw mistyped(key, "a string")
    }

    public mutating func string(_ key: String, default value: String? = nil) throws -> String {
        if let s = try optionalString(key) { return s }
        if let value { return value }
        throw missing(key)
    }

    public mutating func optionalDouble(_ key: String) throws -> Double? {
        guard let v = raw(key) else { return nil }
        if let d = v as? Double { return d }
        if let i = v as? Int { return Double(i) }
        if let s = v as? String, let d = Double(s) { return d }
        throw mistyped(key, "a number")
    }

    public mutating func double(_ key: String, default value: Double? = nil) throws -> Double {
        if let d = try optionalDouble(key) { return d }
        if let value { return value }
        throw missing(key)
    }

    /// An integer in `range`; a number written with a fraction or an exponent (`1e9`), or one outside
    /// `Int`, is refused rather than converted.
    public mutating func optionalInt(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let v = raw(key) else { return nil }
        let integer: Int
        if let i = v as? Int {
            integer = i
        } else if let s = v as? String, let i = Int(s) {
            integer = i
        } else {
            throw mistyped(key, "an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        guard range.contains(integer) else { throw mistyped(key, "an integer in \(range.lowerBound)...\(range.upperBound)") }
        return integer
    }

    public mutating func int(_ key: String, default value: Int? = nil, in range: ClosedRange<Int>) throws -> Int {
        if let i = try optionalInt(key, in: range) { return i }
        if let value { return value }
        throw missing(key)
    }

    public mutating func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let v = raw(key) else { return value }
        if let b = v as? Bool { return b }
        throw mistyped(key, "true or false")
    }

    public mutating func optionalStrings(_ key: String) throws -> [String]? {
        guard let v = raw(key) else { return nil }
        if let a = v as? [Any] {
            return try a.map { item in
                guard let s = item as? String else { throw mistyped(key, "a list of strings") }
                return s
            }
        }
        throw mistyped(key, "a list of strings")
    }

    public mutating func optionalInts(_ key: String, in range: ClosedRange<Int>) throws -> [Int]? {
        guard let v = raw(key) else { return nil }
        let expected = "a list of integers in \(range.lowerBound)...\(range.upperBound)"
        if let a = v as? [Any] {
            return try a.map { item in
                guard let i = item as? Int, range.contains(i) else { throw mistyped(key, expected) }
                return i
            }
        }
        throw mistyped(key, expected)
    }

    /// Refuses keys that were never read.
    public func finish() throws {
        let unknown = Set(values.keys).subtracting(used).sorted()
        guard unknown.isEmpty else {
            throw VeilError(.invalidInput, "\(path): unknown key\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", "))")
        }
    }
}
