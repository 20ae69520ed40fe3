import Foundation
import Crypto
import X509

/// Verifies a TDX DCAP v4 quote: the steps of Intel's Quote Verification Library, then the relying party's
/// policy. Every step becomes a ``VerificationCheck``.
///
/// Steps and sources (Intel TDX DCAP Quoting Library API, Appendix A.3; Intel DCAP Quote Verification
/// Library; Intel SGX PCK Certificate and CRL Profile; Intel PCS API v4):
/// 1. `quote_signature`: ECDSA-P256 over header ‖ TD report body by the attestation key (A.3.8).
/// 2. `qe_report_signature`: ECDSA-P256 over the QE report by the PCK leaf's key (A.3.10).
/// 3. `qe_report_data`: SHA-256(attestation key ‖ QE authentication data) ‖ 32 zero bytes = QE report data.
/// 4. `pck_chain`: PCK leaf → Platform CA → Intel SGX Root CA (pinned), valid at the time, none revoked.
/// 5. `pck_crl`, `root_crl`: signed by the Platform CA and the root, current at the time.
/// 6. `tcb_info`, `qe_identity`: signature by the TCB signing chain, validity window, FMSPC and PCE ID.
/// 7. `tcb_status`, `qe_tcb_status`, `tdx_module`: the first matching TCB level's status must be accepted.
/// 8. `policy.*`: MRTD, RTMR0–3, debug bit, report data.
public enum TDXQuoteVerifier {
    /// The cheap, collateral-free core: quote signature, QE report signature by `pckKey`, QE report-data
    /// binding. Throws a ``VerificationFailure`` naming the first failure. Used by ``verify`` and by tests
    /// that walk every signed byte.
    static func checkSignatures(_ quote: TDXQuote, pckKey: P256.Signing.PublicKey) throws {
        try checkQuoteSignature(quote)
        try checkQEReportSignature(quote, pckKey: pckKey)
        try checkQEReportData(quote)
    }

    static func checkQuoteSignature(_ quote: TDXQuote) throws {
        guard let attestationKey = try? P256.Signing.PublicKey(rawRepresentation: quote.attestationKey),
              let signature = try? P256.Signing.ECDSASignature(rawRepresentation: quote.quoteSignature),
              attestationKey.isValidSignature(signature, for: SHA256.hash(data: quote.signedBytes)) else {
            throw VerificationFailure("quote signature does not verify with the attestation key")
        }
    }

    static func checkQEReportSignature(_ quote: TDXQuote, pckKey: P256.Signing.PublicKey) throws {
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: quote.qeReportSignature),
              pckKey.isValidSignature(signature, for: SHA256.hash(data: quote.qeReportRaw)) else {
            throw VerificationFailure("QE report signature does not verify with the PCK certificate's key")
        }
    }

    static func checkQEReportData(_ quote: TDXQuote) throws {
        let expected = Array(SHA256.hash(data: quote.attestationKey + quote.qeAuthenticationData)) + [UInt8](repeating: 0, count: 32)
        guard expected == quote.qeReport.reportData else {
            throw VerificationFailure("QE report data is not SHA-256(attestation key ‖ QE authentication data) ‖ zeros")
        }
    }

    /// Verifies `quote` against `policy` at `time`.
    /// - Parameters:
    ///   - collateral: TCB info, QE identity and CRLs; without it the collateral checks fail unless the
    ///     policy says `require_collateral: false`.
    ///   - expectedReportData: the report data the relying party expects (its nonce and the enclave key
    ///     bound by ``ReportDataBinding``); overrides the policy's `report_data`.
    public static func verify(_ quote: TDXQuote, collateral: TDXCollateral?, policy: AttestationPolicy,
                              at time: Date, expectedReportData: [UInt8]? = nil) -> VerificationReport {
        var report = VerificationReport(evidenceFormat: "tdx", verifiedAt: time)
        report.claim("mrtd", Hex.encode(quote.mrTD))
        for (i, rtmr) in quote.rtmrs.enumerated() { report.claim("rtmr\(i)", Hex.encode(rtmr)) }
        report.claim("report_data", Hex.encode(quote.reportData))
        report.claim("td_attributes", Hex.encode(quote.tdAttributes))
        report.claim("tee_tcb_svn", Hex.encode(quote.teeTCBSVN))
        if quote.trailingByteCount > 0 { report.claim("ignored_trailing_bytes", String(quote.trailingByteCount)) }
        report.check("tee_type") {
            guard policy.tee == .tdx else { throw VerificationFailure("policy expects \(policy.tee.rawValue) evidence, got a TDX quote") }
            return "TDX quote v4, ECDSA-P256 attestation key"
        }

        // PCK chain from the quote's certification data.
        var pckChain: [Certificate] = []
        let chainParsed = report.check("pck_chain_parse") {
            pckChain = try CertificateChainCheck.certificates(pem: quote.pckChainPEM, what: "PCK certificate chain")
            guard pckChain.count >= 2 else { throw VerificationFailure("PCK chain has \(pckChain.count) certificate(s); expected leaf, CA, root") }
            return "\(pckChain.count) certificates"
        }
        let pckLeaf = pckChain.first
        report.check("quote_signature") {
            try checkQuoteSignature(quote)
            return "ECDSA-P256 over header and TD report body by the attestation key"
        }
        report.check("qe_report_signature") {
            guard let pckLeaf, let pckKey = P256.Signing.PublicKey(pckLeaf.publicKey) else {
                throw VerificationFailure("not reached: no P-256 PCK certificate")
            }
            try checkQEReportSignature(quote, pckKey: pckKey)
            return "ECDSA-P256 over the QE report by the PCK"
        }
        report.check("qe_report_data") {
            try checkQEReportData(quote)
            return "binds the attestation key and QE authentication data"
        }
        let root = IntelSGXRootCA.certificate
        report.check("pck_chain") {
            guard chainParsed else { throw VerificationFailure("not reached: PCK chain did not parse") }
            guard pckChain.last == root else { throw VerificationFailure("PCK chain does not end at the Intel SGX Root CA") }
            let crls = collateral.map { [$0.pckCRL, $0.rootCRL] } ?? []
            return try CertificateChainCheck.verify(pckChain, anchor: root, at: time, revocations: crls)
                + (crls.isEmpty ? " (no CRLs given)" : ", not revoked")
        }

        guard let collateral else {
            report.record("collateral", !policy.requireCollateral,
                          policy.requireCollateral ? "no collateral given: TCB status cannot be judged (--collateral DIR)"
                                                   : "not checked: the policy does not require collateral")
            checkPolicy(quote, policy: policy, expectedReportData: expectedReportData, into: &report)
            return report
        }

        report.check("pck_crl") {
            guard pckChain.count >= 2 else { throw VerificationFailure("not reached: no PCK issuer") }
            return try collateral.pckCRL.check(signedBy: pckChain[1], at: time, name: "PCK CRL")
        }
        report.check("root_crl") { try collateral.rootCRL.check(signedBy: root, at: time, name: "root CRL") }

        var tcbInfo: TDXTCBInfo?
        report.check("tcb_info") {
            let info = try CollateralJSON.decode(TDXTCBInfo.self, from: collateral.tcbInfoJSON, member: "tcbInfo", what: "TCB info")
            try checkSigned(collateral.tcbInfoJSON, member: "tcbInfo", chain: collateral.tcbInfoIssuerChain,
                            rootCRL: collateral.rootCRL, at: time, what: "TCB info")
            guard info.id == "TDX", info.version == 3 else {
                throw VerificationFailure("TCB info id \(info.id) version \(info.version); expected TDX version 3")
            }
            try window(issue: info.issueDate, next: info.nextUpdate, at: time, what: "TCB info")
            tcbInfo = info
            return "signed by \(CertificateChainCheck.describe(collateral.tcbInfoIssuerChain[0])), valid \(CertificateChainCheck.iso(info.issueDate)) to \(CertificateChainCheck.iso(info.nextUpdate))"
        }
        var qeIdentity: QEIdentity?
        report.check("qe_identity") {
            let identity = try CollateralJSON.decode(QEIdentity.self, from: collateral.qeIdentityJSON, member: "enclaveIdentity", what: "QE identity")
            try checkSigned(collateral.qeIdentityJSON, member: "enclaveIdentity", chain: collateral.qeIdentityIssuerChain,
                            rootCRL: collateral.rootCRL, at: time, what: "QE identity")
            guard identity.id == "TD_QE", identity.version == 2 else {
                throw VerificationFailure("QE identity id \(identity.id) version \(identity.version); expected TD_QE version 2")
            }
            try window(issue: identity.issueDate, next: identity.nextUpdate, at: time, what: "QE identity")
            qeIdentity = identity
            return "signed by \(CertificateChainCheck.describe(collateral.qeIdentityIssuerChain[0])), valid \(CertificateChainCheck.iso(identity.issueDate)) to \(CertificateChainCheck.iso(identity.nextUpdate))"
        }
        var platformStatus: String?
        report.check("tcb_status") {
            guard let tcbInfo, let pckLeaf else { throw VerificationFailure("not reached: TCB info or PCK certificate unavailable") }
            let pck = try PCKCertificateExtensions(certificate: pckLeaf)
            guard Hex.encode(pck.fmspc) == tcbInfo.fmspc.lowercased(), Hex.encode(pck.pceID) == tcbInfo.pceId.lowercased() else {
                throw VerificationFailure("TCB info is for FMSPC \(tcbInfo.fmspc) PCE \(tcbInfo.pceId); the PCK certificate has \(Hex.encode(pck.fmspc)) \(Hex.encode(pck.pceID))")
            }
            let level = try TDXTCBEvaluation.platformStatus(tcbInfo, pck: pck, teeTCBSVN: quote.teeTCBSVN)
            platformStatus = level.status
            let described = level.date.map { "platform TCB status \(level.status) (level of \($0))" }
                ?? "platform TCB is below every level of the TCB info (status \(level.status); TEE_TCB_SVN \(Hex.encode(quote.teeTCBSVN)))"
            guard policy.acceptedTCBStatuses.contains(level.status) else {
                throw VerificationFailure("\(described) is not accepted by the policy")
            }
            return described
        }
        if let platformStatus { report.claim("tcb_status", platformStatus) }
        report.check("tdx_module") {
            guard let tcbInfo else { throw VerificationFailure("not reached: TCB info unavailable") }
            guard let module = tcbInfo.tdxModule else { return "TCB info names no TDX module identity" }
            let signer = try Hex.decode(module.mrsigner, field: "tdxModule.mrsigner")
            let attributes = try Hex.decode(module.attributes, field: "tdxModule.attributes")
            let mask = try Hex.decode(module.attributesMask, field: "tdxModule.attributesMask")
            guard signer == quote.mrSignerSeam else { throw VerificationFailure("MRSIGNERSEAM does not match the TCB info's TDX module signer") }
            guard mask.count == quote.seamAttributes.count, attributes.count == mask.count,
                  zip(quote.seamAttributes, mask).map({ $0 & $1 }) == attributes else {
                throw VerificationFailure("SEAM attributes do not match the TCB info's TDX module attributes under its mask")
            }
            return "MRSIGNERSEAM and SEAM attributes match the TCB info"
        }
        var qeStatus: String?
        report.check("qe_tcb_status") {
            guard let qeIdentity else { throw VerificationFailure("not reached: QE identity unavailable") }
            let status = try TDXTCBEvaluation.quotingEnclaveStatus(qeIdentity, report: quote.qeReport)
            qeStatus = status
            guard policy.acceptedTCBStatuses.contains(status) else {
                throw VerificationFailure("QE TCB status \(status) is not accepted by the policy")
            }
            return "QE identity matches; QE TCB status \(status)"
        }
        if let qeStatus { report.claim("qe_tcb_status", qeStatus) }
        checkPolicy(quote, policy: policy, expectedReportData: expectedReportData, into: &report)
        return report
    }

    static func checkSigned(_ json: [UInt8], member: String, chain: [Certificate], rootCRL: CertificateRevocationList,
                            at time: Date, what: String) throws {
        let signed = try SignedCollateral(json: json, member: member, what: what)
        guard let leaf = chain.first, let key = P256.Signing.PublicKey(leaf.publicKey) else {
            throw VerificationFailure("\(what) issuer chain has no P-256 signing certificate")
        }
        try CertificateChainCheck.verify(chain, anchor: IntelSGXRootCA.certificate, at: time, revocations: [rootCRL])
        guard signed.isValid(by: key) else { throw VerificationFailure("\(what) signature does not verify with \(CertificateChainCheck.describe(leaf))") }
    }

    static func window(issue: Date, next: Date, at time: Date, what: String) throws {
        guard issue <= time, time <= next else {
            throw VerificationFailure("\(what) is not valid at \(CertificateChainCheck.iso(time)) (issued \(CertificateChainCheck.iso(issue)), next update \(CertificateChainCheck.iso(next)))")
        }
    }

    static func checkPolicy(_ quote: TDXQuote, policy: AttestationPolicy, expectedReportData: [UInt8]?,
                            into report: inout VerificationReport) {
        report.check("policy.debug") {
            guard !quote.debugEnabled || policy.allowDebug else {
                throw VerificationFailure("TD attributes have the debug bit set; the policy forbids debug TDs")
            }
            return quote.debugEnabled ? "debug TD, allowed by the policy" : "debug bit clear"
        }
        if let mrtd = policy.measurement {
            report.check("policy.mrtd") {
                guard mrtd == quote.mrTD else { throw VerificationFailure("MRTD \(Hex.encode(quote.mrTD)) is not the policy's \(Hex.encode(mrtd))") }
                return "MRTD matches"
            }
        }
        for (i, expected) in policy.rtmrs.sorted(by: { $0.key < $1.key }) {
            report.check("policy.rtmr\(i)") {
                guard expected == quote.rtmrs[i] else { throw VerificationFailure("RTMR\(i) \(Hex.encode(quote.rtmrs[i])) is not the policy's \(Hex.encode(expected))") }
                return "RTMR\(i) matches"
            }
        }
        ReportDataCheck.check(actual: quote.reportData, expected: expectedReportData ?? policy.reportData, into: &report)
    }
}

/// The report-data check shared by every evidence format.
enum ReportDataCheck {
    static func check(actual: [UInt8], expected: [UInt8]?, into report: inout VerificationReport) {
        report.check("policy.report_data") {
            guard let expected else { return "not constrained by the policy" }
            guard expected == actual else {
                throw VerificationFailure("report data does not bind the expected nonce and key (stale or foreign evidence)")
            }
            return "report data binds the expected nonce and key"
        }
    }
}
