import ArgumentParser
import Foundation
import TrustedExecution

struct EnclaveSealCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Encrypt a model file under a key the key broker holds (AES-256-GCM).",
        discussion: HelpText.reflow("""
        The sealed model opens only with the key the broker releases to verified evidence \
        (veil enclave keybroker, then veil enclave open-model inside the enclave).

        Example:
          veil enclave seal model.safetensors --key-id model-a --keys broker-keys.json --output model.sealed
        """)
    )

    @Argument(help: "The model file.")
    var model: String

    @Option(help: "The key's id in the key store.")
    var keyId: String

    @Option(help: "The broker's key store (JSON {\"keys\": {\"ID\": \"hex\"}}).")
    var keys: String

    @Option(help: "Where to write the sealed model.")
    var output: String

    func run() throws {
        try EnclaveCLI.run {
            let store = try KeyBroker.keyStore(contentsOf: URL(fileURLWithPath: keys))
            guard let key = store[keyId] else { throw CLIFailure("no key with id '\(keyId)' in \(keys)", exitCode: CLIExitCode.badInput) }
            let sealed = try SealedModel.seal(try EnclaveCLI.read(model, what: "model", limit: 4 << 30), keyID: keyId, key: key)
            try EnclaveCLI.write(sealed, to: output)
            print("model sealed under key '\(keyId)' to \(output)")
        }
    }
}
