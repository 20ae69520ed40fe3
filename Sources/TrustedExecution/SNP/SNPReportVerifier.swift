import Foundation
import Crypto
import X509
import _CryptoExtras

/// Verifies an SEV-SNP attestation report against its VCEK, AMD's ASK/ARK chain and a policy.
///
/// Checks and sources (AMD SEV-SNP Firmware ABI Specification, ATTESTATION_REPORT and TCB_VERSION; AMD
/// VCEK Certificate and KDS Interface Specification):
/// 1. `report_signature`: ECDSA P-384/SHA-384 over bytes 0x000–0x29F by the VCEK.
/// 2. `amd_chain`: VCEK ← ASK ← ARK with RSASSA-PSS, all valid at the time; the ARK is the pinned key of
///    the VCEK's product (so a Genoa chain for a Milan VCEK is refused).
/// 3. `vcek_tcb`, `vcek_chip_id`: the VCEK's TCB extensions equal the report's REPORTED_TCB and its hwID
///    equals CHIP_ID (the VCEK was derived for this chip at this TCB).
/// 4. `policy.*`: debug, measurement, minimum TCB, VMPL, product, report data.
public enum SNPReportVerifier {
    /// The cheap core used by ``verify`` and the byte-walk tests: the report's signature by `vcekKey`.
    static func checkSignature(_ report: SNPReport, vcekKey: P384.Signing.PublicKey) throws {
        guard let signature = try? P384.Signing.ECDSASignature(rawRepresentation: report.rawSignature),
              vcekKey.isValidSignature(signature, for: SHA384.hash(data: report.signedBytes)) else {
            throw VerificationFailure("report signature does not verify with the VCEK")
        }
    }

    /// Checks only the report's signature by the VCEK's key (no chain, no policy): the part of a
    /// verification that needs no collateral beyond the VCEK.
    public static func verifySignature(_ report: SNPReport, vcek: AMDCertificate) throws {
        guard let key = P384.Signing.PublicKey(vcek.certificate.publicKey) else {
            throw TrustedExecutionError(.verificationFailed, "the VCEK's key is not a P-384 key")
        }
        do { try checkSignature(report, vcekKey: key) } catch {
            throw TrustedExecutionError(.verificationFailed, "\(error)")
        }
    }

    /// Verifies `report`.
    /// - Parameters:
    ///   - vcek: the VCEK certificate (DER, from AMD's KDS for this chip and reported TCB).
    ///   - chain: the ASK and ARK of the product (KDS `cert_chain`).
    ///   - expectedReportData: overrides the policy's `report_data` (a nonce and key binding).
    public static func verify(_ report: SNPReport, vcek: AMDCertificate, chain: [AMDCertificate],
                              policy: AttestationPolicy, at time: Date, expectedReportData: [UInt8]? = nil) -> VerificationReport {
        var result = VerificationReport(evidenceFormat: "sev-snp", verifiedAt: time)
        result.claim("measurement", Hex.encode(report.measurement))
        result.claim("report_data", Hex.encode(report.reportData))
        result.claim("policy", "0x" + String(report.policy, radix: 16))
        result.claim("reported_tcb", report.reportedTCB.description)
        result.claim("vmpl", String(report.vmpl))
        result.check("tee_type") {
            guard policy.tee == .sevSNP else { throw VerificationFailure("policy expects \(policy.tee.rawValue) evidence, got an SEV-SNP report") }
            return "SEV-SNP report version \(report.version), ECDSA P-384 signature by the VCEK"
        }
        result.check("report_signature") {
            guard let key = P384.Signing.PublicKey(vcek.certificate.publicKey) else {
                throw VerificationFailure("the VCEK's key is not a P-384 key")
            }
            try checkSignature(report, vcekKey: key)
            return "ECDSA P-384/SHA-384 over 0x000–0x29F by the VCEK"
        }
        var extensions: VCEKExtensions?
        result.check("amd_chain") {
            let ext = try VCEKExtensions(vcek.certificate)
            extensions = ext
            guard let product = SNPProduct(vcekProductName: ext.productName) else {
                throw VerificationFailure("VCEK product '\(ext.productName)' is not a known product")
            }
            guard chain.count == 2 else { throw VerificationFailure("expected the ASK and ARK, got \(chain.count) certificate(s)") }
            let (ask, ark) = (chain[0], chain[1])
            guard let arkRSA = _RSA.Signing.PublicKey(ark.certificate.publicKey) else {
                throw VerificationFailure("ARK \(ark.commonName) has no RSA key")
            }
            let arkKey = Hex.encode(SHA256.hash(data: arkRSA.derRepresentation))
            guard arkKey == product.arkPublicKeySHA256 else {
                throw VerificationFailure("ARK \(ark.commonName) is not AMD's root key for \(product.rawValue) (the VCEK's product)")
            }
            for (certificate, issuer) in [(vcek, ask), (ask, ark), (ark, ark)] {
                guard certificate.certificate.notValidBefore <= time, time <= certificate.certificate.notValidAfter else {
                    throw VerificationFailure("\(certificate.commonName) is not valid at \(CertificateChainCheck.iso(time)) (valid \(CertificateChainCheck.iso(certificate.certificate.notValidBefore)) to \(CertificateChainCheck.iso(certificate.certificate.notValidAfter)))")
                }
                guard certificate.certificate.issuer == issuer.certificate.subject, certificate.isSigned(by: issuer) else {
                    throw VerificationFailure("\(certificate.commonName) is not signed (RSASSA-PSS) by \(issuer.commonName)")
                }
                guard case .isCertificateAuthority = try? issuer.certificate.extensions.basicConstraints else {
                    throw VerificationFailure("\(issuer.commonName) issues certificates but is not a CA")
                }
            }
            return "\(vcek.commonName) ← \(ask.commonName) ← \(ark.commonName) (RSASSA-PSS, pinned \(product.rawValue) ARK)"
        }
        if let extensions { result.claim("product", extensions.productName) }
        result.check("vcek_tcb") {
            guard let extensions else { throw VerificationFailure("not reached: VCEK extensions unavailable") }
            guard extensions.tcb == report.reportedTCB else {
                throw VerificationFailure("VCEK was issued for TCB (\(extensions.tcb)) but the report's REPORTED_TCB is (\(report.reportedTCB))")
            }
            return "VCEK TCB extensions equal REPORTED_TCB (\(report.reportedTCB))"
        }
        result.check("vcek_chip_id") {
            guard let extensions else { throw VerificationFailure("not reached: VCEK extensions unavailable") }
            guard extensions.hardwareID == report.chipID else { throw VerificationFailure("VCEK hwID is not the report's CHIP_ID") }
            return "VCEK hwID equals CHIP_ID"
        }
        result.check("policy.debug") {
            guard !report.debugAllowed || policy.allowDebug else {
                throw VerificationFailure("guest policy 0x\(String(report.policy, radix: 16)) allows debugging (bit 19); the policy forbids debug guests")
            }
            return report.debugAllowed ? "guest policy allows debugging, allowed by the policy" : "guest policy forbids debugging"
        }
        if let measurement = policy.measurement {
            result.check("policy.measurement") {
                guard measurement == report.measurement else {
                    throw VerificationFailure("MEASUREMENT \(Hex.encode(report.measurement)) is not the policy's \(Hex.encode(measurement))")
                }
                return "MEASUREMENT matches"
            }
        }
        if let floor = policy.minimumTCB {
            result.check("policy.minimum_tcb") {
                guard report.reportedTCB.isAtLeast(floor) else {
                    throw VerificationFailure("REPORTED_TCB (\(report.reportedTCB)) is below the policy's minimum (\(floor))")
                }
                return "REPORTED_TCB at least (\(floor))"
            }
        }
        result.check("policy.vmpl") {
            guard report.vmpl <= policy.maxVMPL else { throw VerificationFailure("VMPL \(report.vmpl) is above the policy's maximum \(policy.maxVMPL)") }
            return "VMPL \(report.vmpl)"
        }
        if let product = policy.product {
            result.check("policy.product") {
                guard let name = extensions?.productName, SNPProduct(vcekProductName: name)?.rawValue == product else {
                    throw VerificationFailure("VCEK product is not the policy's \(product)")
                }
                return "product \(product)"
            }
        }
        ReportDataCheck.check(actual: report.reportData, expected: expectedReportData ?? policy.reportData, into: &result)
        return result
    }
}
