import Foundation
import Crypto

/// Evidence from the simulated platform: a P-384 software key signs the measurement and report data.
///
/// It proves nothing about hardware — anyone with the key file can produce it — and says so: its bytes
/// start with `VEIL-SIMULATED-EVIDENCE`, its verification report's format is `simulated`, and a verifier
/// accepts it only under a policy with `tee: simulated` and `allow_simulated: true`. It exists so that the
/// key-release and sealing flows can be developed and tested on machines without a TEE.
public struct SimulatedEvidence: Sendable {
    static let magic = Array("VEIL-SIMULATED-EVIDENCE-v1\n".utf8)
    static let maximumSize = 4096

    public let measurement: [UInt8]
    public let reportData: [UInt8]
    /// The simulated platform's P-384 public key (X9.63).
    public let publicKey: [UInt8]
    /// ECDSA P-384 (raw r ‖ s) over ``signedBytes``.
    public let signature: [UInt8]

    struct Body: Codable {
        let format: String
        let measurement: String
        let report_data: String
        let public_key: String
        let signature: String
    }

    static func hasMagic(_ bytes: [UInt8]) -> Bool { bytes.starts(with: magic) }

    var signedBytes: [UInt8] { Self.magic + measurement + reportData }

    /// Signs `measurement` and `reportData` with the simulated platform key.
    init(measurement: [UInt8], reportData: [UInt8], key: P384.Signing.PrivateKey) throws {
        self.measurement = measurement
        self.reportData = reportData
        self.publicKey = Array(key.publicKey.x963Representation)
        self.signature = Array(try key.signature(for: Self.magic + measurement + reportData).rawRepresentation)
    }

    public init(bytes: [UInt8]) throws {
        guard bytes.count <= Self.maximumSize else { throw TrustedExecutionError.invalid("simulated evidence is larger than \(Self.maximumSize) bytes") }
        guard Self.hasMagic(bytes) else { throw TrustedExecutionError.invalid("simulated evidence: missing VEIL-SIMULATED-EVIDENCE header") }
        let body: Body
        do { body = try JSONDecoder().decode(Body.self, from: Data(bytes[Self.magic.count...])) } catch {
            throw TrustedExecutionError.invalid("simulated evidence: malformed body (\(error))")
        }
        guard body.format == "simulated" else { throw TrustedExecutionError.invalid("simulated evidence: format must be 'simulated'") }
        measurement = try Hex.decode(body.measurement, field: "simulated evidence measurement")
        reportData = try Hex.decode(body.report_data, field: "simulated evidence report_data")
        publicKey = try Hex.decode(body.public_key, field: "simulated evidence public_key")
        signature = try Hex.decode(body.signature, field: "simulated evidence signature")
        guard measurement.count == 48 else { throw TrustedExecutionError.invalid("simulated evidence measurement must be 48 bytes") }
        guard reportData.count == 64 else { throw TrustedExecutionError.invalid("simulated evidence report_data must be 64 bytes") }
    }

    /// The evidence file's bytes.
    public var bytes: [UInt8] {
        let body = Body(format: "simulated", measurement: Hex.encode(measurement), report_data: Hex.encode(reportData),
                        public_key: Hex.encode(publicKey), signature: Hex.encode(signature))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Self.magic + Array(try! encoder.encode(body)) + [0x0A]
    }

    /// Verifies the signature and the policy. The report's format is `simulated`.
    public func verify(policy: AttestationPolicy, at time: Date, expectedReportData: [UInt8]?) -> VerificationReport {
        var report = VerificationReport(evidenceFormat: "simulated", verifiedAt: time)
        report.claim("measurement", Hex.encode(measurement))
        report.claim("report_data", Hex.encode(reportData))
        report.check("tee_type") {
            guard policy.tee == .simulated, policy.allowSimulated else {
                throw VerificationFailure("simulated evidence proves no hardware; the policy does not allow it (tee: simulated, allow_simulated: true)")
            }
            return "SIMULATED evidence, allowed by the policy: no hardware protection"
        }
        report.check("simulated_signature") {
            guard let key = try? P384.Signing.PublicKey(x963Representation: publicKey),
                  let sig = try? P384.Signing.ECDSASignature(rawRepresentation: signature),
                  key.isValidSignature(sig, for: signedBytes) else {
                throw VerificationFailure("simulated evidence signature does not verify")
            }
            return "signed by the simulated platform key (a software key: SIMULATED)"
        }
        if let expected = policy.measurement {
            report.check("policy.measurement") {
                guard expected == measurement else { throw VerificationFailure("measurement \(Hex.encode(measurement)) is not the policy's \(Hex.encode(expected))") }
                return "measurement matches"
            }
        }
        ReportDataCheck.check(actual: reportData, expected: expectedReportData ?? policy.reportData, into: &report)
        return report
    }
}
