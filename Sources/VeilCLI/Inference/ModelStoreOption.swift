import Foundation
import ArgumentParser
import LocalInference

/// `--models DIR`: the model store's folder (default `$VEIL_MODELS`, else `~/.veil/models`).
struct ModelStoreOption: ParsableArguments {
    @Option(name: .customLong("models"), help: "The model store's folder (default: $VEIL_MODELS, else ~/.veil/models).")
    var folder: String?

    var store: ModelStore { ModelStore(folder: ModelStore.folder(explicit: folder)) }

    /// The model `reference` names: a path to a `.safetensors` file (contains `/` or ends in
    /// `.safetensors`), else a stored model's name.
    func model(_ reference: String) throws -> InferenceModel {
        if reference.contains("/") || reference.hasSuffix(".safetensors") {
            let name = ((reference as NSString).lastPathComponent as NSString).deletingPathExtension
            return try InferenceModel(path: reference, name: name)
        }
        return try store.load(reference)
    }
}
