import _TestSupport
import Crypto
import Foundation
import Testing
@testable import TrustedExecution

/// Key release over HPKE to the key bound in evidence, sealing under the measurement, and the simulated
/// platform, end to end in the library.
@Suite struct KeyReleaseTests {
    static func tempFolder() throws -> URL {
        let dir = try TemporaryDirectory.make("tee")
        return dir
    }

    static let measurement = Array(SHA384.hash(data: Array("a Veil enclave".utf8)))

    static func simulatedPolicy() -> AttestationPolicy {
        var policy = AttestationPolicy(tee: .simulated)
        policy.allowSimulated = true
        policy.measurement = measurement
        return policy
    }

    @Test func aKeyIsReleasedOnlyToFreshEvidenceForTheBoundKey() throws {
        let dir = try Self.tempFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let provider = try SimulatedEvidenceProvider(keyFile: dir.appendingPathComponent("platform.pem"), measurement: Self.measurement)
        let enclaveKey = P384.KeyAgreement.PrivateKey()
        let publicKey = Array(enclaveKey.publicKey.x963Representation)
        let nonce = Array(repeating: UInt8(7), count: 32)
        let evidence = try provider.evidence(reportData: ReportDataBinding.reportData(nonce: nonce, publicKey: publicKey))
        let modelKey = Array(repeating: UInt8(0x42), count: 32)
        let broker = KeyBroker(keys: ["model-a": modelKey], policy: Self.simulatedPolicy(), collateralDirectory: nil)

        let (report, wrapped) = try broker.release(keyID: "model-a", evidence: evidence, nonce: nonce, enclavePublicKey: publicKey)
        #expect(report.accepted)
        #expect(report.evidenceFormat == "simulated")
        #expect(report.text.contains("SIMULATED"))
        #expect(try #require(wrapped).open(with: enclaveKey) == modelKey)
        // Another enclave key cannot open it.
        #expect(throws: TrustedExecutionError.self) { try wrapped!.open(with: P384.KeyAgreement.PrivateKey()) }

        // Stale nonce: the same evidence against the broker's next nonce is refused, with its own reason.
        let stale = try broker.release(keyID: "model-a", evidence: evidence, nonce: Array(repeating: 8, count: 32), enclavePublicKey: publicKey)
        #expect(stale.wrapped == nil)
        #expect(stale.report.checks.filter { !$0.passed }.map(\.name) == ["policy.report_data"])
        #expect(stale.report.firstFailure?.detail.contains("stale") == true)
        // Evidence for one key presented with another key: refused.
        let other = Array(P384.KeyAgreement.PrivateKey().publicKey.x963Representation)
        #expect(try broker.release(keyID: "model-a", evidence: evidence, nonce: nonce, enclavePublicKey: other).wrapped == nil)
        // A policy that does not allow simulated evidence releases nothing.
        var strict = AttestationPolicy(tee: .tdx)
        strict.measurement = Self.measurement
        #expect(throws: TrustedExecutionError.invalid("evidence is simulated but the policy's tee is tdx")) {
            try KeyBroker(keys: ["model-a": modelKey], policy: strict, collateralDirectory: nil)
                .release(keyID: "model-a", evidence: evidence, nonce: nonce, enclavePublicKey: publicKey)
        }
        // Unknown key id: bad input, nothing released.
        #expect(throws: TrustedExecutionError.invalid("key broker: no key with id 'model-b'")) {
            try broker.release(keyID: "model-b", evidence: evidence, nonce: nonce, enclavePublicKey: publicKey)
        }
    }

    @Test func aSealedModelOpensOnlyWithItsKey() throws {
        let model = Array("safetensors bytes".utf8)
        let key = Array(repeating: UInt8(1), count: 32)
        let sealed = try SealedModel.seal(model, keyID: "model-a", key: key)
        #expect(try SealedModel.keyID(of: sealed) == "model-a")
        #expect(try SealedModel.open(sealed, key: key) == model)
        #expect(throws: TrustedExecutionError.self) { try SealedModel.open(sealed, key: Array(repeating: 2, count: 32)) }
        var altered = sealed
        altered[altered.count - 20] ^= 1
        #expect(throws: TrustedExecutionError.self) { try SealedModel.open(altered, key: key) }
    }

    @Test func theMeasurementDoesNotDependOnModelOrderOrFolders() throws {
        let one = try Self.tempFolder(), two = try Self.tempFolder()
        defer { for dir in [one, two] { try? FileManager.default.removeItem(at: dir) } }
        for dir in [one, two] {
            try Data("veil".utf8).write(to: dir.appendingPathComponent("veil"))
            try Data("A".utf8).write(to: dir.appendingPathComponent("a.safetensors"))
            try Data("B".utf8).write(to: dir.appendingPathComponent("b.safetensors"))
        }
        let first = try EnclaveMeasurement(binary: one.appendingPathComponent("veil"),
                                           models: [one.appendingPathComponent("a.safetensors"), one.appendingPathComponent("b.safetensors")],
                                           configuration: nil)
        let second = try EnclaveMeasurement(binary: two.appendingPathComponent("veil"),
                                            models: [two.appendingPathComponent("b.safetensors"), two.appendingPathComponent("a.safetensors")],
                                            configuration: nil)
        #expect(first == second)
        #expect(first.value == Array(SHA384.hash(data: Array(first.manifest.utf8))))
        let renamed = two.appendingPathComponent("c.safetensors")
        try FileManager.default.moveItem(at: two.appendingPathComponent("b.safetensors"), to: renamed)
        let third = try EnclaveMeasurement(binary: two.appendingPathComponent("veil"),
                                           models: [two.appendingPathComponent("a.safetensors"), renamed], configuration: nil)
        #expect(third != first)
        #expect(throws: TrustedExecutionError.self) {
            try EnclaveMeasurement(binary: two.appendingPathComponent("missing"), models: [], configuration: nil)
        }
    }

    @Test func aChangedMeasurementCannotUnseal() throws {
        let dir = try Self.tempFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let secretFile = dir.appendingPathComponent("platform-secret")
        let secret = try SimulatedPlatformSecret.load(secretFile)
        #expect(try SimulatedPlatformSecret.load(secretFile) == secret)   // the same file gives the same secret
        #expect(String(decoding: FileManager.default.contents(atPath: secretFile.path)!, as: UTF8.self).contains("SIMULATED"))
        let enclaveKey = P384.KeyAgreement.PrivateKey()
        let sealed = try SealedSecret.seal(Array(enclaveKey.rawRepresentation), label: "enclave-hpke-key",
                                           key: try SealingKey(platformSecret: secret, measurement: Self.measurement))
        let reopened = try SealedSecret.unseal(sealed, label: "enclave-hpke-key",
                                               key: try SealingKey(platformSecret: secret, measurement: Self.measurement))
        #expect(reopened == Array(enclaveKey.rawRepresentation))
        var changed = Self.measurement
        changed[0] ^= 1
        #expect(throws: TrustedExecutionError.self) {
            try SealedSecret.unseal(sealed, label: "enclave-hpke-key", key: try SealingKey(platformSecret: secret, measurement: changed))
        }
        #expect(throws: TrustedExecutionError.self) {
            try SealedSecret.unseal(sealed, label: "token", key: try SealingKey(platformSecret: secret, measurement: Self.measurement))
        }
    }
}
