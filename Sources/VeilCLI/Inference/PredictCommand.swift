import ArgumentParser
import Foundation
import LocalInference
import Mechanisms

/// `veil predict`: batch prediction of a stored model on a file.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Class and probabilities of every example of a file, from a stored model.",
        discussion: HelpText.reflow("""
        IDX images (for a model trained on images): --input IMAGES; --labels LABELS is optional (checked \
        against the images, not used). CSV: --input FILE with a header. SQLite: --input DATABASE \
        [--table TABLE] (default: the model's test table; never its training table); opened read-only.

        Tabular inputs are read by the feature column names stored in the model and clamped and scaled \
        with its declared feature bounds, exactly as `veil evaluate` does; other columns are ignored.

        Output: CSV (row,class,p_0,…) or JSON on standard output or --output FILE. Progress goes to \
        standard error for inputs of more than 10,000 examples.

        Examples:
          veil predict health --input datasets/health_panel_training.sqlite --table test --format json
          veil predict models/mnist.safetensors --input t10k-images-idx3-ubyte.gz
        """)
    )

    @Argument(help: "A stored model's name, or the path of a model file.") var model: String
    @Option(help: "IDX images file, CSV file, or SQLite database.") var input: String
    @Option(help: "IDX labels file to check against the images (IDX input only; optional).") var labels: String?
    @Option(help: "The table to predict on (SQLite input only).") var table: String?
    @Option(help: "Output format: csv or json.") var format: String = "csv"
    @Option(help: "Write to this file instead of standard output.") var output: String?
    @Option(help: "Examples per forward pass (1 to 65,536).") var batchSize = BatchPredictor.defaultBatchSize
    @OptionGroup var store: ModelStoreOption

    func validate() throws {
        guard PredictionWriter.Format(rawValue: format) != nil else {
            throw ValidationError("--format must be csv or json, got \"\(format.prefix(40))\"")
        }
        guard (1...65_536).contains(batchSize) else { throw ValidationError("--batch-size must be 1 to 65536") }
        if labels != nil, table != nil { throw ValidationError("--table applies to SQLite input, --labels to IDX input") }
    }

    func run() throws {
        let loaded = try store.model(model)
        let source: PredictionInput.Source
        if labels != nil || loaded.featureNames == nil {
            guard table == nil else { throw VeilError(.invalidInput, "--table applies to SQLite input, not to IDX images") }
            source = .idx(images: input, labels: labels)
        } else if PredictionInput.isSQLite(path: input) {
            source = .sqlite(path: input, table: table)
        } else {
            guard table == nil else { throw VeilError(.invalidInput, "--table applies to SQLite input; \(input) is not a SQLite database") }
            source = .csv(path: input)
        }
        var features = try PredictionInput.read(source, for: loaded)
        try loaded.prepare(&features)
        let predictor = BatchPredictor(model: loaded, batchSize: batchSize)

        let sink: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil) , let handle = FileHandle(forWritingAtPath: output) else {
                throw VeilError(.invalidInput, "cannot write \(output)")
            }
            sink = handle
        } else {
            sink = FileHandle.standardOutput
        }
        defer { if output != nil { try? sink.close() } }
        var writer = PredictionWriter(format: PredictionWriter.Format(rawValue: format)!, modelName: loaded.name,
                                      classCount: loaded.classCount) { text in
            do { try sink.write(contentsOf: Data(text.utf8)) } catch {
                throw VeilError(.fileNotWritten, "cannot write the predictions: \(error.localizedDescription)")
            }
        }
        let total = features.rows
        let step = max(predictor.batchSize, total / 10)
        var nextReport = step
        try writer.begin()
        try predictor.forEachBatch(features) { rows, probabilities in
            try writer.write(rows: rows, probabilities: probabilities)
            if total > 10_000, rows.upperBound >= nextReport || rows.upperBound == total {
                FileHandle.standardError.write(Data("predict: \(rows.upperBound) of \(total) examples\n".utf8))
                nextReport = rows.upperBound + step
            }
        }
        try writer.end()
    }
}
