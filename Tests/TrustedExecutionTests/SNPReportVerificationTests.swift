import Crypto
import Foundation
import Testing
import SwiftASN1
import X509
@testable import TrustedExecution

/// The Milan SEV-SNP report in datasets/attestation with its VCEK and AMD's ASK/ARK chain.
@Suite struct SNPReportVerificationTests {
    static let time = ReferenceAttestation.verificationTime
    /// From the reference README (checked there independently of Veil).
    static let measurement = "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"

    /// The reference guest's policy 0xb0000 sets bit 19 (DEBUG allowed), so a relying party that accepts it
    /// must say so; every other constraint is strict.
    static func policy() throws -> AttestationPolicy {
        var policy = AttestationPolicy(tee: .sevSNP)
        policy.measurement = try Hex.decode(measurement, field: "measurement")
        policy.allowDebug = true
        policy.minimumTCB = SNPTCBVersion(bootloader: 2, tee: 0, snp: 5, microcode: 68)
        policy.product = "Milan"
        return policy
    }

    static func verify(_ policy: AttestationPolicy, chain: String = "milan", at time: Date = time) throws -> VerificationReport {
        SNPReportVerifier.verify(try SNPReport(bytes: ReferenceAttestation.snpReportBytes), vcek: try ReferenceAttestation.vcek(),
                                 chain: try ReferenceAttestation.chain(chain), policy: policy, at: time)
    }

    @Test func parsesTheReport() throws {
        let report = try SNPReport(bytes: ReferenceAttestation.snpReportBytes)
        #expect(report.version == 2)
        #expect(report.policy == 0xB0000)
        #expect(Hex.encode(report.measurement) == Self.measurement)
        #expect(report.reportedTCB == SNPTCBVersion(bootloader: 2, tee: 0, snp: 5, microcode: 68))
        #expect(report.debugAllowed)
        #expect(report.vmpl == 0)
    }

    @Test func theReferenceReportVerifiesWithEveryCheck() throws {
        let report = try Self.verify(try Self.policy())
        #expect(report.accepted, "\(report.text)")
        #expect(report.checks.map(\.name) == ["tee_type", "report_signature", "amd_chain", "vcek_tcb", "vcek_chip_id",
                                              "policy.debug", "policy.measurement", "policy.minimum_tcb", "policy.vmpl",
                                              "policy.product", "policy.report_data"])
        #expect(report.claims["product"] == "Milan-B0")
    }

    @Test func theGenoaChainIsRejectedForAMilanReport() throws {
        let report = try Self.verify(try Self.policy(), chain: "genoa")
        #expect(report.checks.filter { !$0.passed }.map(\.name) == ["amd_chain"])
        #expect(report.firstFailure?.detail.contains("not AMD's root key for Milan") == true)
    }

    @Test func aTimeOutsideTheCertificatesIsRejected() throws {
        // Before the VCEK was issued (2022-09-24).
        let report = try Self.verify(try Self.policy(), at: ISO8601DateFormatter().date(from: "2022-01-01T00:00:00Z")!)
        #expect(report.checks.filter { !$0.passed }.map(\.name) == ["amd_chain"])
        #expect(report.firstFailure?.detail.contains("is not valid at 2022-01-01") == true)
    }

    @Test func aDebugGuestBreachesAPolicyThatForbidsDebug() throws {
        var policy = try Self.policy()
        policy.allowDebug = false
        let report = try Self.verify(policy)
        #expect(report.checks.filter { !$0.passed }.map(\.name) == ["policy.debug"])
        #expect(report.firstFailure?.detail.contains("allows debugging (bit 19)") == true)
    }

    @Test func aMinimumTCBAboveTheReportedOneIsRejected() throws {
        var policy = try Self.policy()
        policy.minimumTCB = SNPTCBVersion(bootloader: 2, tee: 0, snp: 8, microcode: 115)
        #expect(try Self.verify(policy).checks.filter { !$0.passed }.map(\.name) == ["policy.minimum_tcb"])
    }

    /// Every byte of the signed region (0x000–0x29F) and of the signature's r and s scalars (48 bytes each;
    /// the 24 zero-padding bytes of each and the reserved tail are refused by the parser) is flipped in turn:
    /// each change must be rejected. One parse and one P-384 verification per trial (768 in all).
    @Test func everySignedByteOfTheReportIsCovered() throws {
        let original = ReferenceAttestation.snpReportBytes
        let key = try #require(P384.Signing.PublicKey(try ReferenceAttestation.vcek().certificate.publicKey))
        try SNPReportVerifier.checkSignature(try SNPReport(bytes: original), vcekKey: key)
        let indices = Array(0..<SNPReport.signedSize) + Array(0x2A0..<0x2D0) + Array(0x2E8..<0x318)
        var accepted: [Int] = []
        for index in indices {
            var mutated = original
            mutated[index] ^= 0x01
            do {
                try SNPReportVerifier.checkSignature(try SNPReport(bytes: mutated), vcekKey: key)
                accepted.append(index)
            } catch {}
        }
        #expect(indices.count == 0x2A0 + 96)
        #expect(accepted.isEmpty, "mutations accepted at offsets \(accepted)")
        // The padding of r and s and the reserved tail are not signed: the parser refuses any non-zero byte.
        for index in Array(0x2D0..<0x2E8) + Array(0x318..<SNPReport.size) {
            var mutated = original
            mutated[index] ^= 0x01
            #expect((try? SNPReport(bytes: mutated)) == nil, "offset \(index)")
        }
    }

    /// The AMD certificates are signed with RSASSA-PSS: a flipped byte anywhere in the VCEK's DER (signed by
    /// the ASK) or the ASK's (signed by the pinned ARK) must break the signature check, including the PSS
    /// parameters outside the TBS. One RSA-4096 PSS verification per trial.
    @Test func everyByteOfTheVCEKAndASKIsSigned() throws {
        let chain = try ReferenceAttestation.chain("milan")
        let vcek = ReferenceAttestation.bytes(ReferenceAttestation.snp.appendingPathComponent("vcek_milan.der"))
        let askPEM = String(decoding: ReferenceAttestation.bytes(ReferenceAttestation.snp.appendingPathComponent("ask_ark_milan.pem")), as: UTF8.self)
        let ask = try PEMDocument.parseMultiple(pemString: askPEM)[0].derBytes
        for (name, der, issuer) in [("VCEK", vcek, chain[0]), ("ASK", ask, chain[1])] {
            #expect(try AMDCertificate(derEncoded: der, what: name).isSigned(by: issuer))
            var accepted: [Int] = []
            for index in der.indices {
                var mutated = der
                mutated[index] ^= 0x01
                if let certificate = try? AMDCertificate(derEncoded: mutated, what: name), certificate.isSigned(by: issuer) {
                    accepted.append(index)
                }
            }
            #expect(accepted.isEmpty, "\(name): mutations accepted at DER offsets \(accepted)")
        }
    }

    @Test func badReportsNameTheField() throws {
        let original = ReferenceAttestation.snpReportBytes
        #expect(throws: TrustedExecutionError.invalid("SNP report is 1183 bytes; expected 1184 (0x4A0)")) {
            try SNPReport(bytes: Array(original.dropLast()))
        }
        var v1 = original
        v1[0] = 1
        #expect(throws: TrustedExecutionError.invalid("SNP report version is 1; versions 2 to 5 are supported")) {
            try SNPReport(bytes: v1)
        }
        var algorithm = original
        algorithm[0x34] = 2
        #expect(throws: TrustedExecutionError.invalid("SNP report signature_algo is 2; only 1 (ECDSA P-384 SHA-384) is supported")) {
            try SNPReport(bytes: algorithm)
        }
    }
}
