import ArgumentParser
import ConfidentialInference
import Crypto
import Foundation
import LocalInference
import PrivateTraining
import TransparencyLog
import TrustedExecution

/// `veil serve --confidential`: the Oblivious HTTP gateway in the inference server's process.
struct ConfidentialServeOptions: ParsableArguments {
    @Flag(help: "Also run the Oblivious HTTP gateway (docs/confidential-inference.md): /confidential/evidence and /confidential/ohttp.")
    var confidential = false

    @Option(name: .customLong("transparency-log"), help: "With --confidential: the transparency log holding this enclave's measurement.")
    var transparencyLog: String?

    @Option(name: .customLong("log-head"), help: "With --confidential: the log's signed tree head (veil transparency head --output).")
    var logHead: String?

    @Option(name: .customLong("simulated-key"), help: "With --confidential: the simulated platform key for evidence (else configfs-tsm hardware).")
    var simulatedKey: String?

    @Option(name: .customLong("platform-secret"), help: "With --confidential: the (simulated) platform secret that seals the gateway's key.")
    var platformSecret: String?

    @Option(name: .customLong("sealed-key"), help: "With --confidential: the sealed HPKE key file (created, sealed, when missing).")
    var sealedKey: String?

    @Option(name: .customLong("enclave-config"), help: "With --confidential: the serving configuration file that is part of the measurement.")
    var enclaveConfig: String?

    /// The label the gateway's HPKE private key is sealed under.
    static let sealingLabel = "ohttp-gateway-hpke-private-key"

    /// Builds the gateway's routes (nothing without --confidential). Runs in the serving process, after
    /// the allocator restart: the HPKE key exists only here and in its sealed file.
    func routes(service: InferenceService, modelFiles: [String]) throws -> [AdditionalRoute] {
        guard confidential else {
            guard transparencyLog == nil, logHead == nil, simulatedKey == nil, platformSecret == nil, sealedKey == nil, enclaveConfig == nil else {
                throw ValidationError("--transparency-log, --log-head, --simulated-key, --platform-secret, --sealed-key and --enclave-config need --confidential")
            }
            return []
        }
        guard let transparencyLog, let logHead, let platformSecret, let sealedKey else {
            throw ValidationError("--confidential needs --transparency-log, --log-head, --platform-secret and --sealed-key")
        }
        return try TransparencyCLI.run {
            let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            let measurement = try EnclaveMeasurement(binary: binary, models: modelFiles.map { URL(fileURLWithPath: $0) },
                                                     configuration: enclaveConfig.map { URL(fileURLWithPath: $0) })
            let log = try LogFile(path: transparencyLog, readOnly: true)
            let head = try TransparencyCLI.decode(SignedTreeHead.self, from: logHead, what: "log head")
            let published = try PublishedMeasurement(entry: try MeasurementEntry(manifest: measurement.manifest), tree: log.tree, head: head)
            let sealing = try SealingKey(platformSecret: try SimulatedPlatformSecret.load(URL(fileURLWithPath: platformSecret)),
                                         measurement: measurement.value)
            let privateKey = try Self.gatewayKey(sealedKey: sealedKey, sealing: sealing)
            let provider: any EvidenceProvider
            if let simulatedKey {
                provider = try SimulatedEvidenceProvider(keyFile: URL(fileURLWithPath: simulatedKey), measurement: measurement.value)
            } else {
                provider = try ConfigfsTSMProvider()
            }
            let gateway = ConfidentialGateway(ohttp: ObliviousHTTPGateway(current: .init(keyID: 1, privateKey: privateKey)),
                                              service: service, evidenceProvider: provider, published: published)
            return gateway.routes
        }
    }

    /// Unseals the gateway's HPKE key, or makes one and writes it sealed (never in the clear).
    static func gatewayKey(sealedKey: String, sealing: SealingKey) throws -> Curve25519.KeyAgreement.PrivateKey {
        if FileManager.default.fileExists(atPath: sealedKey) {
            var raw = try SealedSecret.unseal(try EnclaveCLI.read(sealedKey, what: "sealed key", limit: 4096), label: sealingLabel, key: sealing)
            defer { raw.withUnsafeMutableBytes { zeroBytes($0) } }
            guard let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw) else {
                throw CLIFailure("the sealed key \(sealedKey) is not an X25519 key", exitCode: CLIExitCode.badInput)
            }
            return key
        }
        let key = Curve25519.KeyAgreement.PrivateKey()
        try EnclaveCLI.write(try SealedSecret.seal(Array(key.rawRepresentation), label: sealingLabel, key: sealing), to: sealedKey)
        return key
    }
}
