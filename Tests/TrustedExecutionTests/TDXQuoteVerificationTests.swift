import Crypto
import Foundation
import Testing
import X509
@testable import TrustedExecution

/// The production TDX quote in datasets/attestation (Sapphire Rapids, DCAP v4) against Intel's
/// collateral of June 2023, at the README's time 2023-07-01T01:00:00Z.
@Suite struct TDXQuoteVerificationTests {
    static let time = ReferenceAttestation.verificationTime

    /// The policy a relying party would write for the reference TD: its MRTD, debug forbidden.
    ///
    /// TCB statuses: the reference quote's TEE_TCB_SVN is 03 00 04 …, below both levels of the June 2023 TCB
    /// info (which need a TDX late microcode update SVN of 5), so Intel's algorithm finds no level: the
    /// platform TCB is `Unrecognized`. The sample policy accepts that explicitly; a production policy would not.
    static func policy() -> AttestationPolicy {
        var policy = AttestationPolicy(tee: .tdx)
        policy.measurement = ReferenceAttestation.quoteMRTD
        policy.acceptedTCBStatuses = ["UpToDate", TDXTCBEvaluation.unrecognized]
        return policy
    }

    @Test func parsesTheHeaderAndBody() throws {
        let quote = try TDXQuote(bytes: ReferenceAttestation.quoteBytes)
        #expect(quote.version == 4)
        #expect(quote.teeType == 0x81)
        #expect(quote.attestationKeyType == 2)
        #expect(quote.mrTD == ReferenceAttestation.quoteMRTD)
        #expect(!quote.debugEnabled)
        // The TD quoting enclave (ISVPRODID 2 in Intel's QE identity for TD_QE).
        #expect(quote.qeReport.isvProdID == 2)
        #expect(quote.pckChainPEM.components(separatedBy: "BEGIN CERTIFICATE").count - 1 == 3)
        #expect(quote.trailingByteCount == 39)   // go-tdx-guest's test trailer "extra bytes(only for testing purpose)"
    }

    @Test func theReferenceQuoteVerifiesWithEveryCheck() throws {
        let quote = try TDXQuote(bytes: ReferenceAttestation.quoteBytes)
        let report = TDXQuoteVerifier.verify(quote, collateral: try ReferenceAttestation.tdxCollateral(),
                                             policy: Self.policy(), at: Self.time)
        #expect(report.accepted, "\(report.text)")
        let names = Set(report.checks.map(\.name))
        for name in ["quote_signature", "qe_report_signature", "qe_report_data", "pck_chain", "pck_crl", "root_crl",
                     "tcb_info", "qe_identity", "tcb_status", "tdx_module", "qe_tcb_status", "policy.debug", "policy.mrtd"] {
            #expect(names.contains(name), "missing check \(name)")
        }
        #expect(report.claims["qe_tcb_status"] == "UpToDate")
    }

    @Test func anUnrecognizedTCBIsRefusedByDefault() throws {
        var policy = Self.policy()
        policy.acceptedTCBStatuses = ["UpToDate"]
        let report = TDXQuoteVerifier.verify(try TDXQuote(bytes: ReferenceAttestation.quoteBytes),
                                             collateral: try ReferenceAttestation.tdxCollateral(), policy: policy, at: Self.time)
        #expect(!report.accepted)
        #expect(report.firstFailure?.name == "tcb_status")
    }

    @Test func aTimeAfterTheCollateralsNextUpdateIsRejected() throws {
        // 2023-07-20: the QE identity (next update 07-08) and TCB info (07-18) have expired.
        let late = ISO8601DateFormatter().date(from: "2023-07-20T00:00:00Z")!
        let report = TDXQuoteVerifier.verify(try TDXQuote(bytes: ReferenceAttestation.quoteBytes),
                                             collateral: try ReferenceAttestation.tdxCollateral(), policy: Self.policy(), at: late)
        #expect(!report.accepted)
        let failed = report.checks.filter { !$0.passed }.map(\.name)
        #expect(failed.contains("tcb_info"))
        #expect(failed.contains("qe_identity"))
        #expect(report.checks.first { $0.name == "tcb_info" }?.detail.contains("not valid at 2023-07-20") == true)
        // Before the PCK leaf was issued, the chain itself fails.
        let early = ISO8601DateFormatter().date(from: "2018-01-01T00:00:00Z")!
        let earlyReport = TDXQuoteVerifier.verify(try TDXQuote(bytes: ReferenceAttestation.quoteBytes),
                                                  collateral: try ReferenceAttestation.tdxCollateral(), policy: Self.policy(), at: early)
        #expect(earlyReport.checks.first { $0.name == "pck_chain" }?.passed == false)
    }

    @Test func aWrongMRTDIsRejectedByThePolicy() throws {
        var policy = Self.policy()
        policy.measurement = [UInt8](repeating: 0xAB, count: 48)
        let report = TDXQuoteVerifier.verify(try TDXQuote(bytes: ReferenceAttestation.quoteBytes),
                                             collateral: try ReferenceAttestation.tdxCollateral(), policy: policy, at: Self.time)
        #expect(report.checks.filter { !$0.passed }.map(\.name) == ["policy.mrtd"])
    }

    @Test func withoutCollateralTheVerdictIsRejectedUnlessThePolicySaysOtherwise() throws {
        let quote = try TDXQuote(bytes: ReferenceAttestation.quoteBytes)
        let report = TDXQuoteVerifier.verify(quote, collateral: nil, policy: Self.policy(), at: Self.time)
        #expect(report.checks.filter { !$0.passed }.map(\.name) == ["collateral"])
        var relaxed = Self.policy()
        relaxed.requireCollateral = false
        #expect(TDXQuoteVerifier.verify(quote, collateral: nil, policy: relaxed, at: Self.time).accepted)
    }

    @Test func rtmrsAndTheDebugBitAreJudgedByThePolicy() throws {
        let quote = try TDXQuote(bytes: ReferenceAttestation.quoteBytes)
        var policy = Self.policy()
        var otherRTMR3 = quote.rtmrs[3]
        otherRTMR3[0] ^= 0x01
        policy.rtmrs = [0: quote.rtmrs[0], 3: otherRTMR3]
        let report = TDXQuoteVerifier.verify(quote, collateral: try ReferenceAttestation.tdxCollateral(), policy: policy, at: Self.time)
        #expect(report.checks.first { $0.name == "policy.rtmr0" }?.passed == true)
        #expect(report.checks.filter { !$0.passed }.map(\.name) == ["policy.rtmr3"])

        // A debug TD (attributes bit 0, offset 48 + 120): its signature no longer holds, but the policy
        // check on its own names the breach.
        var debugBytes = ReferenceAttestation.quoteBytes
        debugBytes[168] |= 0x01
        let debugQuote = try TDXQuote(bytes: debugBytes)
        #expect(debugQuote.debugEnabled)
        var checks = VerificationReport(evidenceFormat: "tdx", verifiedAt: Self.time)
        TDXQuoteVerifier.checkPolicy(debugQuote, policy: Self.policy(), expectedReportData: nil, into: &checks)
        #expect(checks.firstFailure?.name == "policy.debug")
        var allowing = Self.policy()
        allowing.allowDebug = true
        var allowed = VerificationReport(evidenceFormat: "tdx", verifiedAt: Self.time)
        TDXQuoteVerifier.checkPolicy(debugQuote, policy: allowing, expectedReportData: nil, into: &allowed)
        #expect(allowed.accepted)
    }

    /// Every signed byte of the quote outside the certificate chain — header and TD report body (signed by
    /// the attestation key), the attestation key and QE authentication data (bound by the QE report data),
    /// the QE report (signed by the PCK) and both signatures — is flipped in turn; each change must be
    /// rejected. Each trial runs the parser and the collateral-free signature core (`checkSignatures`,
    /// which the full verifier also runs), about 1,250 P-256 verifications. The certificate chain's bytes are
    /// walked by ``everyByteOfThePCKCertificatesIsSigned``.
    @Test func everySignedByteOfTheQuoteIsCovered() throws {
        let original = ReferenceAttestation.quoteBytes
        let quote = try TDXQuote(bytes: original)
        let chain = try CertificateChainCheck.certificates(pem: quote.pckChainPEM, what: "PCK chain")
        let pckKey = try #require(P256.Signing.PublicKey(chain[0].publicKey))
        try TDXQuoteVerifier.checkSignatures(quote, pckKey: pckKey)   // the untouched quote passes

        let signatureData = TDXQuote.headerSize + TDXQuote.bodySize + 4
        let qeReportStart = signatureData + 64 + 64 + 6
        let authStart = qeReportStart + SGXReportBody.size + 64 + 2
        let regions: [(String, Range<Int>)] = [
            ("header and TD report body", 0..<(TDXQuote.headerSize + TDXQuote.bodySize)),
            ("quote signature and attestation key", signatureData..<(signatureData + 128)),
            ("QE report and its signature", qeReportStart..<(qeReportStart + SGXReportBody.size + 64)),
            ("QE authentication data", authStart..<(authStart + quote.qeAuthenticationData.count)),
        ]
        var accepted: [Int] = []
        var trials = 0
        for (_, region) in regions {
            for index in region {
                var mutated = original
                mutated[index] ^= 0x01
                trials += 1
                do {
                    try TDXQuoteVerifier.checkSignatures(try TDXQuote(bytes: mutated), pckKey: pckKey)
                    accepted.append(index)
                } catch {}
            }
        }
        #expect(trials == 632 + 128 + 448 + 32)
        #expect(accepted.isEmpty, "mutations accepted at offsets \(accepted)")
    }

    /// The PCK chain's certificates are signed by their issuers: flipping any byte of a certificate's DER
    /// (TBS, algorithm or signature) must make the chain check fail. One P-256 verification per byte.
    @Test func everyByteOfThePCKCertificatesIsSigned() throws {
        let quote = try TDXQuote(bytes: ReferenceAttestation.quoteBytes)
        let chain = try CertificateChainCheck.certificates(pem: quote.pckChainPEM, what: "PCK chain")
        try CertificateChainCheck.verify(chain, anchor: IntelSGXRootCA.certificate, at: Self.time)
        for position in 0..<(chain.count - 1) {   // the root is pinned, not taken from the quote
            let der = try Array(chain[position].serializeAsPEM().derBytes)
            var accepted: [Int] = []
            for index in der.indices {
                var mutated = der
                mutated[index] ^= 0x01
                do {
                    var candidate = chain
                    candidate[position] = try X509.Certificate(derEncoded: mutated)
                    try CertificateChainCheck.verify(candidate, anchor: IntelSGXRootCA.certificate, at: Self.time)
                    accepted.append(index)
                } catch {}
            }
            #expect(accepted.isEmpty, "certificate \(position): mutations accepted at DER offsets \(accepted)")
        }
    }

    /// Intel signs the exact bytes of `tcbInfo` and `enclaveIdentity`: flipping any byte of either value
    /// must break the signature (one P-256 verification per byte, about 2,700 in all).
    @Test func everySignedByteOfTheCollateralIsCovered() throws {
        let collateral = try ReferenceAttestation.tdxCollateral()
        for (json, member, chain) in [(collateral.tcbInfoJSON, "tcbInfo", collateral.tcbInfoIssuerChain),
                                      (collateral.qeIdentityJSON, "enclaveIdentity", collateral.qeIdentityIssuerChain)] {
            let key = try #require(P256.Signing.PublicKey(chain[0].publicKey))
            #expect(try SignedCollateral(json: json, member: member, what: member).isValid(by: key))
            let range = try #require(RawJSONMember.valueRange(of: member, in: json))
            var accepted: [Int] = []
            for index in range {
                var mutated = json
                mutated[index] ^= 0x01
                if let signed = try? SignedCollateral(json: mutated, member: member, what: member), signed.isValid(by: key) {
                    accepted.append(index)
                }
            }
            #expect(accepted.isEmpty, "\(member): mutations accepted at offsets \(accepted)")
        }
    }

    @Test func truncatedOversizedAndForeignQuotesNameTheField() throws {
        let original = ReferenceAttestation.quoteBytes
        #expect(throws: TrustedExecutionError.invalid("TDX quote is truncated: field body.report_data needs 64 bytes at offset 568, 32 left")) {
            try TDXQuote(bytes: Array(original[0..<600]))
        }
        var v3 = original
        v3[0] = 3
        #expect(throws: TrustedExecutionError.self) { try TDXQuote(bytes: v3) }
        var sgx = original
        sgx[4] = 0
        #expect((try? TDXQuote(bytes: sgx)) == nil)
        #expect((try? TDXQuote(bytes: original + [UInt8](repeating: 0, count: TDXQuote.maximumSize))) == nil)
    }
}
