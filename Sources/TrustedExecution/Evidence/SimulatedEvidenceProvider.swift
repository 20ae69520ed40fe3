import Foundation
import Crypto

/// The simulated platform: a P-384 signing key kept in a file (PEM, created on first use with mode 0600)
/// signs the measurement and report data. Its evidence says "simulated" in its bytes and its verification
/// report; it protects nothing and is accepted only by a policy that allows simulated evidence.
public struct SimulatedEvidenceProvider: EvidenceProvider {
    public let format = "simulated"
    public let measurement: [UInt8]
    /// The signing key's raw scalar (kept as bytes: swift-crypto keys are not `Sendable`).
    let keyBytes: [UInt8]

    /// Loads the key file, or creates it when it does not exist.
    public init(keyFile: URL, measurement: [UInt8]) throws {
        guard measurement.count == 48 else { throw TrustedExecutionError.invalid("simulated evidence: measurement must be 48 bytes") }
        self.measurement = measurement
        if let data = FileManager.default.contents(atPath: keyFile.path) {
            do {
                let pem = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
                keyBytes = Array(try P384.Signing.PrivateKey(pemRepresentation: pem).rawRepresentation)
            } catch {
                throw TrustedExecutionError.invalid("simulated platform key \(keyFile.path) is not a P-384 private key PEM")
            }
        } else {
            let key = P384.Signing.PrivateKey()
            keyBytes = Array(key.rawRepresentation)
            let text = "# SIMULATED platform key of Veil: a software key, no hardware protection\n" + key.pemRepresentation + "\n"
            guard FileManager.default.createFile(atPath: keyFile.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw TrustedExecutionError(.platform, "cannot create the simulated platform key \(keyFile.path)")
            }
        }
    }

    public func evidence(reportData: [UInt8]) throws -> [UInt8] {
        guard reportData.count == 64 else { throw TrustedExecutionError.invalid("report data must be 64 bytes, got \(reportData.count)") }
        let key = try P384.Signing.PrivateKey(rawRepresentation: keyBytes)
        return try SimulatedEvidence(measurement: measurement, reportData: reportData, key: key).bytes
    }
}
