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

    @Option(name: .customLong("rotate-keys-every"),
            help: "With --confidential: make a fresh HPKE key current this often (e.g. 12h, 30m, 90s); the new key is sealed to --sealed-key.")
    var rotateKeysEvery: String?

    @Option(name: .customLong("key-grace"),
            help: "With --rotate-keys-every: how long the previous key is still accepted after a rotation (default: until the next rotation).")
    var keyGrace: String?

    /// The label the gateway's HPKE private key is sealed under.
    static let sealingLabel = "ohttp-gateway-hpke-private-key"

    /// Builds the gateway's routes (nothing without --confidential). Runs in the serving process, after
    /// the allocator restart: the HPKE key exists only here and in its sealed file.
    func routes(service: InferenceService, modelFiles: [String]) throws -> [AdditionalRoute] {
        guard confidential else {
            guard transparencyLog == nil, logHead == nil, simulatedKey == nil, platformSecret == nil, sealedKey == nil, enclaveConfig == nil,
                  rotateKeysEvery == nil, keyGrace == nil else {
                throw ValidationError("--transparency-log, --log-head, --simulated-key, --platform-secret, --sealed-key, --enclave-config, "
                                      + "--rotate-keys-every and --key-grace need --confidential")
            }
            return []
        }
        guard let transparencyLog, let logHead, let platformSecret, let sealedKey else {
            throw ValidationError("--confidential needs --transparency-log, --log-head, --platform-secret and --sealed-key")
        }
        guard keyGrace == nil || rotateKeysEvery != nil else { throw ValidationError("--key-grace needs --rotate-keys-every") }
        return try TransparencyCLI.run {
            let rotation = try rotateKeysEvery.map { every in
                let interval = try GatewayKeyRotation.duration(every, option: "--rotate-keys-every")
                return try GatewayKeyRotation(interval: interval, grace: try keyGrace.map { try GatewayKeyRotation.duration($0, option: "--key-grace") } ?? interval)
            }
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
            let ohttp = ObliviousHTTPGateway(current: .init(keyID: 1, privateKey: privateKey))
            let gateway = ConfidentialGateway(ohttp: ohttp, service: service, evidenceProvider: provider, published: published)
            // Runs for the life of the process; each new key is sealed to --sealed-key before it becomes current.
            _ = rotation?.start(ohttp, persist: { key in try Self.seal(key.privateKey, to: sealedKey, sealing: sealing) },
                                report: { line in FileHandle.standardError.write(Data(("veil serve: " + line + "\n").utf8)) })
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
        try seal(key, to: sealedKey, sealing: sealing)
        return key
    }

    /// Writes `key` sealed to `path` (replacing the file atomically); the raw key is overwritten once sealed.
    static func seal(_ key: Curve25519.KeyAgreement.PrivateKey, to path: String, sealing: SealingKey) throws {
        var raw = Array(key.rawRepresentation)
        defer { raw.withUnsafeMutableBytes { zeroBytes($0) } }
        try EnclaveCLI.write(try SealedSecret.seal(raw, label: sealingLabel, key: sealing), to: path)
    }
}
