import ArgumentParser
import Foundation
import LocalInference
import PrivateTraining

/// `veil models`: the local model store.
struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "The local model store: list, show, add and remove model files.",
        discussion: HelpText.reflow("""
        The store is a folder of model files written by `veil train` (NAME.safetensors): --models DIR, \
        else $VEIL_MODELS, else ~/.veil/models.

        Examples:
          veil models add models/health-panel-logistic-eps1.safetensors --name health
          veil models list
          veil models show health
          veil models rm health
        """),
        subcommands: [ModelsListCommand.self, ModelsShowCommand.self, ModelsAddCommand.self, ModelsRemoveCommand.self]
    )
}

/// Formatting shared by the `veil models` subcommands.
enum ModelDescription {
    static func epsilonText(_ card: PrivacyCard) -> String {
        guard card.differentiallyPrivate, let e = card.epsilon else { return "none" }
        return String(format: "%.4g", e)
    }

    static func deltaText(_ card: PrivacyCard) -> String {
        guard card.differentiallyPrivate, let d = card.delta else { return "-" }
        return String(format: "%g", d)
    }

    static func sizeText(_ bytes: Int) -> String {
        ByteCountFormatter.string(fromByteCount: Int64(bytes), countStyle: .file)
    }

    static func dateText(_ date: Date?) -> String {
        guard let date else { return "-" }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// Everything `veil models show` prints as JSON: the architecture, the privacy card (as stored),
    /// the training data's layout (column names and declared bounds: public, never data statistics).
    static func jsonObject(_ stored: StoredModel) -> [String: Any] {
        let model = stored.model
        let encoder = JSONEncoder()
        func object<T: Encodable>(_ value: T) -> Any {
            (try? encoder.encode(value)).flatMap { try? JSONSerialization.jsonObject(with: $0) } ?? NSNull()
        }
        return [
            "name": stored.name,
            "file": stored.path,
            "file_size": stored.fileSize,
            "created": dateText(stored.created),
            "architecture": model.architectureName,
            "layers": model.model.architecture.map(\.description),
            "input_shape": [model.inputShape.height, model.inputShape.width, model.inputShape.channels],
            "classes": model.classCount,
            "parameters": model.model.parameterCount,
            "privacy": object(model.card),
            "data": model.data.map { object($0) } ?? NSNull(),
        ]
    }

    static func render(_ object: Any) -> String {
        // Strings, numbers, arrays and dictionaries only: serialisation cannot fail.
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }
}

struct ModelsListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "The stored models: name, architecture, size, ε and δ, created.")

    @OptionGroup var store: ModelStoreOption
    @Flag(help: "Print one JSON array.") var json = false

    func run() throws {
        let (models, invalid) = store.store.list()
        if json {
            print(ModelDescription.render(models.map { m -> [String: Any] in
                ["name": m.name, "architecture": m.model.architectureName, "file_size": m.fileSize,
                 "differentially_private": m.model.card.differentiallyPrivate,
                 "epsilon": m.model.card.epsilon.map { $0 as Any } ?? NSNull(),
                 "delta": m.model.card.delta.map { $0 as Any } ?? NSNull(),
                 "created": ModelDescription.dateText(m.created)]
            }))
        } else {
            let rows = [["NAME", "ARCHITECTURE", "SIZE", "EPSILON", "DELTA", "CREATED"]] + models.map { m in
                [m.name, m.model.architectureName, ModelDescription.sizeText(m.fileSize),
                 ModelDescription.epsilonText(m.model.card), ModelDescription.deltaText(m.model.card),
                 ModelDescription.dateText(m.created)]
            }
            let widths = (0..<6).map { c in rows.map { $0[c].count }.max() ?? 0 }
            for row in rows {
                print(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
        for entry in invalid {
            Veil.printError("skipped \(entry.name): \(entry.reason)")
        }
    }
}

struct ModelsShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "A stored model's architecture and whole privacy card.")

    @Argument(help: "The model's name.") var name: String
    @OptionGroup var store: ModelStoreOption
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let stored = try store.store.entry(name)
        if json {
            print(ModelDescription.render(ModelDescription.jsonObject(stored)))
            return
        }
        let model = stored.model, card = model.card
        print("name          \(stored.name)")
        print("file          \(stored.path) (\(ModelDescription.sizeText(stored.fileSize)))")
        print("created       \(ModelDescription.dateText(stored.created))")
        print("architecture  \(model.architectureName): \(model.model.architecture.map(\.description).joined(separator: " → "))")
        print("input         \(model.inputShape), \(model.classCount) classes, \(model.model.parameterCount) parameters")
        if let names = model.featureNames {
            let bounds = model.data?.featureBounds ?? [:]
            print("features      " + names.map { n in bounds[n].map { "\(n) [\($0.lower), \($0.upper)]" } ?? n }
                .joined(separator: ", "))
        }
        print("privacy card")
        // The card as stored, field by field (it holds no exact statistic of the training data).
        let cardObject = ModelDescription.jsonObject(stored)["privacy"] as? [String: Any] ?? [:]
        for key in cardObject.keys.sorted() {
            let value = cardObject[key].map { $0 is NSNull ? "null" : ModelDescription.render([$0]).dropFirst().dropLast() }
            print("  \(key.padding(toLength: 22, withPad: " ", startingAt: 0)) \(value.map(String.init) ?? "null")")
        }
        if !card.differentiallyPrivate { print("model trained WITHOUT differential privacy") }
    }
}

struct ModelsAddCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Verify a model file and its privacy card, and copy it into the store.")

    @Argument(help: "The model file (safetensors, written by veil train).") var file: String
    @Option(help: "The name in the store (default: the file's name without .safetensors).") var name: String?
    @OptionGroup var store: ModelStoreOption

    func run() throws {
        let added = try store.store.add(file: file, name: name)
        print("added \(added.name) (\(added.model.architectureName), ε = \(ModelDescription.epsilonText(added.model.card))) "
              + "to \(store.store.folder)")
    }
}

struct ModelsRemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove a model from the store.")

    @Argument(help: "The model's name.") var name: String
    @OptionGroup var store: ModelStoreOption

    func run() throws {
        try store.store.remove(name)
        print("removed \(name)")
    }
}
