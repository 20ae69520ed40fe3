import _TestSupport
import Foundation
@testable import TrustedExecution

/// The real TDX and SEV-SNP evidence in `datasets/attestation` (see datasets/PROVENANCE.md), or in
/// `$VEIL_ATTESTATION_REFERENCE`, and the time it verifies at.
enum ReferenceAttestation {
    static let folder: URL = {
        if let override = ProcessInfo.processInfo.environment["VEIL_ATTESTATION_REFERENCE"] {
            return URL(fileURLWithPath: override)
        }
        // Tests/TrustedExecutionTests/ReferenceAttestation.swift → repository root → datasets/attestation
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent("datasets/attestation")
    }()

    static var tdx: URL { folder.appendingPathComponent("tdx") }
    static var snp: URL { folder.appendingPathComponent("snp") }

    /// 2023-07-01T01:00:00Z.
    static let verificationTime = ISO8601DateFormatter().date(from: "2023-07-01T01:00:00Z")!

    static func bytes(_ url: URL) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: url.path)!) }

    static var quoteBytes: [UInt8] { bytes(tdx.appendingPathComponent("quote_v4.dat")) }
    static var snpReportBytes: [UInt8] { bytes(snp.appendingPathComponent("report_milan.bin")) }

    static func vcek() throws -> AMDCertificate {
        try AMDCertificate(derEncoded: bytes(snp.appendingPathComponent("vcek_milan.der")), what: "VCEK")
    }

    static func chain(_ product: String) throws -> [AMDCertificate] {
        try AMDCertificate.bundle(pem: String(decoding: bytes(snp.appendingPathComponent("ask_ark_\(product).pem")), as: UTF8.self),
                                  what: "ASK/ARK")
    }

    static func tdxCollateral() throws -> TDXCollateral { try TDXCollateral(directory: tdx) }

    /// An SNP collateral folder with the file names `veil enclave verify` expects, in a fresh temp folder.
    static func snpCollateralFolder(product: String = "milan") throws -> URL {
        let dir = try TemporaryDirectory.make("snp")
        try Data(bytes(snp.appendingPathComponent("vcek_milan.der"))).write(to: dir.appendingPathComponent(EvidenceVerifier.SNPFileName.vcek))
        try Data(bytes(snp.appendingPathComponent("ask_ark_\(product).pem"))).write(to: dir.appendingPathComponent(EvidenceVerifier.SNPFileName.certificateChain))
        return dir
    }

    /// The MRTD of the reference quote, read by offset (A.3.2: header 48 + TEE_TCB_SVN 16 + MRSEAM 48 +
    /// MRSIGNERSEAM 48 + SEAMATTRIBUTES 8 + TDATTRIBUTES 8 + XFAM 8 = 184).
    static var quoteMRTD: [UInt8] { Array(quoteBytes[184..<232]) }
}
