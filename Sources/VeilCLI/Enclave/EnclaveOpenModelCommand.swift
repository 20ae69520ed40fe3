import ArgumentParser
import Crypto
import Foundation
import TrustedExecution

struct EnclaveOpenModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open-model",
        abstract: "Inside the enclave: unseal the enclave key, open the released key, decrypt a sealed model.",
        discussion: HelpText.reflow("""
        Example:
          veil enclave open-model model.sealed --wrapped-key wrapped.json \\
            --sealed-key enclave.sealed --platform-secret secret --measurement HEX \\
            --output model.safetensors
        """)
    )

    @Argument(help: "The sealed model.")
    var sealedModel: String

    @Option(help: "The wrapped key the broker released (JSON).")
    var wrappedKey: String

    @Option(help: "The enclave's sealed private key (from veil enclave keygen).")
    var sealedKey: String

    @Option(help: "The simulated platform secret file.")
    var platformSecret: String

    @Option(help: "The enclave measurement (hex).")
    var measurement: String

    @Option(help: "Where to write the decrypted model.")
    var output: String

    func run() throws {
        try EnclaveCLI.run {
            let sealingKey = try EnclaveCLI.sealingKey(platformSecret: platformSecret, measurement: measurement)
            let raw = try SealedSecret.unseal(try EnclaveCLI.read(sealedKey, what: "sealed key", limit: 1 << 16),
                                              label: EnclaveCLI.enclaveKeyLabel, key: sealingKey)
            guard let privateKey = try? P384.KeyAgreement.PrivateKey(rawRepresentation: raw) else {
                throw CLIFailure("the sealed key is not a P-384 private key", exitCode: CLIExitCode.badInput)
            }
            let wrapped: WrappedKey
            do { wrapped = try JSONDecoder().decode(WrappedKey.self, from: Data(try EnclaveCLI.read(wrappedKey, what: "wrapped key", limit: 1 << 16))) } catch let error as CLIFailure {
                throw error
            } catch {
                throw CLIFailure("wrapped key: malformed JSON (\(error))", exitCode: CLIExitCode.badInput)
            }
            let sealed = try EnclaveCLI.read(sealedModel, what: "sealed model", limit: 4 << 30)
            guard try SealedModel.keyID(of: sealed) == wrapped.keyID else {
                throw CLIFailure("the sealed model needs key '\(try SealedModel.keyID(of: sealed))', the wrapped key is '\(wrapped.keyID)'", exitCode: CLIExitCode.badInput)
            }
            try EnclaveCLI.write(try SealedModel.open(sealed, key: try wrapped.open(with: privateKey)), to: output)
            print("model opened to \(output)")
        }
    }
}
