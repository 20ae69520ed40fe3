import Foundation

/// Recognises a piece of evidence by its own format and verifies it with the matching verifier: a TDX
/// quote (header version 4, TEE type 0x81), an SEV-SNP report (0x4A0 bytes, version ≥ 2), or Veil's
/// simulated evidence (which says so in its first bytes).
public enum EvidenceVerifier {
    /// File names in a collateral folder for SEV-SNP: the VCEK (DER) and the ASK/ARK chain (PEM), as AMD's
    /// KDS serves them.
    public enum SNPFileName {
        public static let vcek = "vcek.der"
        public static let certificateChain = "cert_chain.pem"
    }

    /// The kind of evidence in `bytes`, judged from its header.
    public static func format(of bytes: [UInt8]) throws -> AttestationPolicy.TEE {
        if SimulatedEvidence.hasMagic(bytes) { return .simulated }
        if bytes.count >= 8, bytes[0] == 4, bytes[1] == 0, bytes[4] == 0x81, bytes[5] == 0, bytes[6] == 0, bytes[7] == 0 {
            return .tdx
        }
        if bytes.count == SNPReport.size { return .sevSNP }
        if bytes.count >= 8, bytes[4...7] == [0x81, 0, 0, 0][...] || bytes[4...7] == [0, 0, 0, 0][...] {
            throw TrustedExecutionError.invalid("evidence looks like a DCAP quote of version \(Int(bytes[0]) | Int(bytes[1]) << 8), TEE type 0x\(String(bytes[4], radix: 16)); only TDX quotes of version 4 are supported")
        }
        throw TrustedExecutionError.invalid("evidence is neither a TDX quote v4, an SEV-SNP report (\(SNPReport.size) bytes) nor Veil simulated evidence (\(bytes.count) bytes)")
    }

    /// Verifies evidence against a policy at a time.
    /// - Parameters:
    ///   - collateralDirectory: for TDX the PCS collateral (``TDXCollateral/FileName``); for SEV-SNP the VCEK
    ///     and ASK/ARK chain (``SNPFileName``). Required for SEV-SNP.
    ///   - expectedReportData: the report data the relying party expects (``ReportDataBinding``).
    /// - Throws: ``TrustedExecutionError`` (`invalidInput`) when the evidence or collateral cannot be parsed;
    ///   a parsed piece of evidence that fails a check gives a report with that check failed.
    public static func verify(evidence bytes: [UInt8], policy: AttestationPolicy, at time: Date,
                              collateralDirectory: URL?, expectedReportData: [UInt8]? = nil) throws -> VerificationReport {
        let kind = try format(of: bytes)
        guard kind == policy.tee else {
            throw TrustedExecutionError.invalid("evidence is \(kind.rawValue) but the policy's tee is \(policy.tee.rawValue)")
        }
        switch kind {
        case .tdx:
            let quote = try TDXQuote(bytes: bytes)
            let collateral = try collateralDirectory.map { try TDXCollateral(directory: $0) }
            return TDXQuoteVerifier.verify(quote, collateral: collateral, policy: policy, at: time, expectedReportData: expectedReportData)
        case .sevSNP:
            let report = try SNPReport(bytes: bytes)
            guard let collateralDirectory else {
                throw TrustedExecutionError.invalid("SEV-SNP evidence needs --collateral DIR with \(SNPFileName.vcek) and \(SNPFileName.certificateChain)")
            }
            func read(_ name: String) throws -> [UInt8] { try CollateralFile.read(name, in: collateralDirectory) }
            let vcek = try AMDCertificate(derEncoded: try read(SNPFileName.vcek), what: SNPFileName.vcek)
            let chain = try AMDCertificate.bundle(pem: String(decoding: try read(SNPFileName.certificateChain), as: UTF8.self),
                                                  what: SNPFileName.certificateChain)
            return SNPReportVerifier.verify(report, vcek: vcek, chain: chain, policy: policy, at: time, expectedReportData: expectedReportData)
        case .simulated:
            let evidence = try SimulatedEvidence(bytes: bytes)
            return evidence.verify(policy: policy, at: time, expectedReportData: expectedReportData)
        }
    }
}
