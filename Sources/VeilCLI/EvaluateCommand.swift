import ArgumentParser
import Foundation
import Mechanisms
import PrivateTraining

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Accuracy and loss of a model file on labelled data.",
        discussion: """
        IDX data (MNIST, Fashion-MNIST): --data IMAGES --labels LABELS.
        CSV data: --data FILE; the label and feature columns (and any standardisation) are
        taken from the model file.

        Example:
          veil evaluate model.safetensors --data t10k-images-idx3-ubyte.gz --labels t10k-labels-idx1-ubyte.gz --json
        """
    )

    @Argument(help: "The model file (safetensors, written by veil train).")
    var model: String

    @Option(help: "IDX images file or CSV file.")
    var data: String

    @Option(help: "IDX labels file (IDX data only).")
    var labels: String?

    @Flag(help: "Print one JSON object with accuracy, loss and examples.")
    var json = false

    func run() throws {
        let contents = try SafetensorsFile.read(path: model)
        let description = DataDescription(metadata: contents.metadata)
        let dataset: Dataset
        if let labels {
            dataset = try IDXLoader.load(imagesPath: data, labelsPath: labels, classCount: contents.model.classCount)
        } else if let labelColumn = description.labelColumn {
            var csv = try CSVLoader.load(path: data, labelColumn: labelColumn, featureColumns: description.featureColumns,
                                         classCount: contents.model.classCount)
            if let s = contents.metadata["veil.standardization"],
               let standardization = try? JSONDecoder().decode(Standardization.self, from: Data(s.utf8)) {
                standardization.apply(to: &csv.features)
            }
            dataset = csv
        } else {
            throw VeilError(.invalidInput, "--labels is required for IDX data")
        }
        let result = try Evaluation(model: contents.model, data: dataset)
        let card = contents.card
        if json {
            print(JSONValue.object([
                ("accuracy", .number(result.accuracy)), ("loss", .number(result.loss)),
                ("examples", .number(Double(result.examples))),
                ("differentially_private", .bool(card.differentiallyPrivate)),
                ("epsilon", card.epsilon.map { .number($0) } ?? .null),
                ("delta", card.delta.map { .number($0) } ?? .null),
            ]).rendered)
        } else {
            print(String(format: "accuracy %.4f, loss %.4f on %d examples", result.accuracy, result.loss, result.examples))
            if card.differentiallyPrivate, let e = card.epsilon, let d = card.delta {
                print(String(format: "model trained with DP-SGD: ε = %.4f at δ = %g (%@)", e, d, card.accountant ?? "?"))
            } else {
                print("model trained WITHOUT differential privacy")
            }
        }
    }
}

/// The data layout a model was trained on, from its `veil.data` metadata.
struct DataDescription {
    var labelColumn: String?
    var featureColumns: [String]?

    init(metadata: [String: String]) {
        guard let json = metadata["veil.data"],
              let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return }
        labelColumn = object["label_column"] as? String
        featureColumns = object["feature_columns"] as? [String]
    }
}
