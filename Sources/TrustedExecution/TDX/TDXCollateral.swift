import Foundation
import X509

/// What a TDX verifier needs beside the quote, as Intel's PCS serves it: TCB info and QE identity with their
/// signing chains, and the PCK and root CRLs.
public struct TDXCollateral: Sendable {
    public let tcbInfoJSON: [UInt8]
    public let tcbInfoIssuerChain: [Certificate]
    public let qeIdentityJSON: [UInt8]
    public let qeIdentityIssuerChain: [Certificate]
    public let pckCRL: CertificateRevocationList
    public let rootCRL: CertificateRevocationList

    /// File names in a collateral folder (those of the PCS responses).
    public enum FileName {
        public static let tcbInfo = "tcb_info.json"
        public static let tcbInfoIssuerChain = "tcb_info_issuer_chain.pem"
        public static let qeIdentity = "qe_identity.json"
        public static let qeIdentityIssuerChain = "qe_identity_issuer_chain.pem"
        public static let pckCRL = "pck_crl.der"
        public static let rootCRL = "root_crl.der"
    }

    public init(tcbInfoJSON: [UInt8], tcbInfoIssuerChain: [Certificate], qeIdentityJSON: [UInt8],
                qeIdentityIssuerChain: [Certificate], pckCRL: CertificateRevocationList, rootCRL: CertificateRevocationList) {
        self.tcbInfoJSON = tcbInfoJSON
        self.tcbInfoIssuerChain = tcbInfoIssuerChain
        self.qeIdentityJSON = qeIdentityJSON
        self.qeIdentityIssuerChain = qeIdentityIssuerChain
        self.pckCRL = pckCRL
        self.rootCRL = rootCRL
    }

    /// Loads a collateral folder (see ``FileName``).
    public init(directory: URL) throws {
        func read(_ name: String) throws -> [UInt8] { try CollateralFile.read(name, in: directory) }
        self.init(
            tcbInfoJSON: try read(FileName.tcbInfo),
            tcbInfoIssuerChain: try CertificateChainCheck.certificates(
                pem: String(decoding: try read(FileName.tcbInfoIssuerChain), as: UTF8.self), what: FileName.tcbInfoIssuerChain),
            qeIdentityJSON: try read(FileName.qeIdentity),
            qeIdentityIssuerChain: try CertificateChainCheck.certificates(
                pem: String(decoding: try read(FileName.qeIdentityIssuerChain), as: UTF8.self), what: FileName.qeIdentityIssuerChain),
            pckCRL: try CertificateRevocationList(derEncoded: try read(FileName.pckCRL)),
            rootCRL: try CertificateRevocationList(derEncoded: try read(FileName.rootCRL)))
    }
}
