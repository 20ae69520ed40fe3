import ArgumentParser
import Foundation
import TrustedExecution

struct EnclaveKeyBrokerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keybroker",
        abstract: "Release a key to evidence that satisfies the policy, HPKE-wrapped to the key the evidence binds.",
        discussion: HelpText.reflow("""
        The broker verifies the evidence (as veil enclave verify) expecting report data that binds \
        --nonce and --enclave-public-key; only then is the key wrapped (HPKE, RFC 9180: DHKEM(P-384), \
        HKDF-SHA384, AES-256-GCM) to that public key and written to --output. Nothing is written otherwise.

        Exit codes: 0 released, 1 evidence rejected (nothing released), 2 bad input.

        Example:
          veil enclave keybroker --keys broker-keys.json --key-id model-a \\
            --evidence evidence.bin --nonce 00112233445566778899aabbccddeeff \\
            --enclave-public-key enclave.pub --policy policy.yaml --output wrapped.json
        """)
    )

    @Option(help: "The broker's key store (JSON {\"keys\": {\"ID\": \"hex\"}}).")
    var keys: String

    @Option(help: "The key to release.")
    var keyId: String

    @Option(help: "The enclave's evidence.")
    var evidence: String

    @Option(help: "The nonce the broker issued (hex, at least 16 bytes).")
    var nonce: String

    @Option(help: "The enclave's public key file (X9.63 P-384).")
    var enclavePublicKey: String

    @Option(help: "The broker's policy (YAML).")
    var policy: String

    @Option(help: "Collateral folder (as for veil enclave verify).")
    var collateral: String?

    @Option(help: "Judge certificates and collateral at this time (ISO 8601; default now).")
    var at: String?

    @Option(help: "Where to write the wrapped key (JSON).")
    var output: String

    @Flag(help: "Print the verification report as JSON.")
    var json = false

    func run() throws {
        try EnclaveCLI.run {
            let policy = try AttestationPolicy(yaml: String(decoding: try EnclaveCLI.read(self.policy, what: "policy", limit: 1 << 16), as: UTF8.self))
            let broker = KeyBroker(keys: try KeyBroker.keyStore(contentsOf: URL(fileURLWithPath: keys)), policy: policy,
                                   collateralDirectory: collateral.map { URL(fileURLWithPath: $0) })
            let (report, wrapped) = try broker.release(
                keyID: keyId, evidence: try EnclaveCLI.read(evidence, what: "evidence", limit: 1 << 20),
                nonce: try EnclaveCLI.hex(nonce, option: "--nonce"),
                enclavePublicKey: try EnclaveCLI.read(enclavePublicKey, what: "enclave public key", limit: 1 << 16),
                at: try EnclaveCLI.time(at))
            print(json ? report.json : report.text)
            guard let wrapped else {
                throw CLIFailure("key '\(keyId)' not released: \(report.firstFailure.map { "\($0.name): \($0.detail)" } ?? "no checks")")
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try EnclaveCLI.write(Array(try encoder.encode(wrapped)), to: output)
            if !json { print("key '\(keyId)' released, wrapped to the enclave key, in \(output)") }
        }
    }
}
