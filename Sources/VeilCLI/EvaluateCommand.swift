import ArgumentParser
import Foundation
import Mechanisms
import PrivateTraining

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Accuracy and loss of a model file on labelled data.",
        discussion: HelpText.reflow("""
        IDX data (MNIST, Fashion-MNIST): --data IMAGES --labels LABELS.

        CSV data: --data FILE.

        SQLite data: --data DATABASE --table TABLE. Without --table, the test table that the \
        training pipeline named (data.test_table), if it named one. The database is opened read-only.

        For CSV and SQLite data the label and feature columns (read by name) and the declared \
        feature bounds are taken from the model file.

        The accuracy and loss are exact statistics of the data evaluated on, printed for the \
        operator: evaluating on private data releases them outside any privacy guarantee.

        Examples:
          veil evaluate model.safetensors --data t10k-images-idx3-ubyte.gz --labels t10k-labels-idx1-ubyte.gz --json
          veil evaluate models/health-panel-logistic-eps1.safetensors \\
            --data datasets/health_panel_training.sqlite --table test
        """)
    )

    @Argument(help: "The model file (safetensors, written by veil train).")
    var model: String

    @Option(help: "IDX images file, CSV file, or SQLite database.")
    var data: String

    @Option(help: "IDX labels file (IDX data only).")
    var labels: String?

    @Option(help: "The table to evaluate on (SQLite data only; default: the pipeline's test_table).")
    var table: String?

    @Flag(help: "Print one JSON object with accuracy, loss and examples.")
    var json = false

    func run() throws {
        let contents = try SafetensorsFile.read(path: model)
        let description = try TrainingDataDescription(metadata: contents.metadata)
        let dataset: Dataset
        if let labels {
            guard table == nil else { throw ValidationError("--table applies to SQLite data, --labels to IDX data") }
            dataset = try IDXLoader.load(imagesPath: data, labelsPath: labels, classCount: contents.model.classCount)
        } else if let description, description.format != .idx {
            dataset = try description.loadTabular(path: data, table: table, classCount: contents.model.classCount)
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
                // The card's privacy unit says which guarantee: per example (DP-SGD) or per client (federated).
                print(String(format: "model trained with differential privacy: ε = %.4f at δ = %g per %@ (%@)", e, d,
                             card.privacyUnit, card.accountant ?? "?"))
            } else {
                print("model trained WITHOUT differential privacy")
            }
        }
    }
}
