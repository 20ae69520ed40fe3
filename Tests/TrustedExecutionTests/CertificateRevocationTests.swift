import Crypto
import Foundation
import SwiftASN1
import Testing
import X509
@testable import TrustedExecution

/// Revocation: a three-level test PKI (root → CA → leaf, P-256) made with swift-certificates, and CRLs
/// built here in DER (RFC 5280 §5.1) and signed by the CA.
@Suite struct CertificateRevocationTests {
    static let now = ISO8601DateFormatter().date(from: "2023-07-01T01:00:00Z")!

    struct PKI {
        let rootKey = P256.Signing.PrivateKey()
        let caKey = P256.Signing.PrivateKey()
        let leafKey = P256.Signing.PrivateKey()
        let root: Certificate
        let ca: Certificate
        let leaf: Certificate

        init() throws {
            let start = CertificateRevocationTests.now.addingTimeInterval(-86_400)
            let end = CertificateRevocationTests.now.addingTimeInterval(86_400 * 365)
            let rootName = try DistinguishedName { CommonName("Test Root CA") }
            let caName = try DistinguishedName { CommonName("Test Platform CA") }
            let leafName = try DistinguishedName { CommonName("Test PCK") }
            func caExtensions() throws -> Certificate.Extensions {
                try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    KeyUsage(keyCertSign: true, cRLSign: true)
                }
            }
            root = try Certificate(version: .v3, serialNumber: .init(1), publicKey: .init(rootKey.publicKey),
                                   notValidBefore: start, notValidAfter: end, issuer: rootName, subject: rootName,
                                   signatureAlgorithm: .ecdsaWithSHA256, extensions: try caExtensions(),
                                   issuerPrivateKey: .init(rootKey))
            ca = try Certificate(version: .v3, serialNumber: .init(2), publicKey: .init(caKey.publicKey),
                                 notValidBefore: start, notValidAfter: end, issuer: rootName, subject: caName,
                                 signatureAlgorithm: .ecdsaWithSHA256, extensions: try caExtensions(),
                                 issuerPrivateKey: .init(rootKey))
            leaf = try Certificate(version: .v3, serialNumber: .init(0x1234), publicKey: .init(leafKey.publicKey),
                                   notValidBefore: start, notValidAfter: end, issuer: caName, subject: leafName,
                                   signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(),
                                   issuerPrivateKey: .init(caKey))
        }

        /// A DER CRL issued by the CA, revoking `serials`.
        func crl(revoking serials: [Int], signer: P256.Signing.PrivateKey? = nil) throws -> [UInt8] {
            func utc(_ date: Date) throws -> UTCTime {
                let c = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: date)
                return try UTCTime(year: c.year!, month: c.month!, day: c.day!, hours: c.hour!, minutes: c.minute!, seconds: c.second!)
            }
            var tbs = DER.Serializer()
            try tbs.appendConstructedNode(identifier: .sequence) { coder in
                try coder.serialize(1)   // v2
                try coder.appendConstructedNode(identifier: .sequence) { try $0.serialize(ASN1ObjectIdentifier("1.2.840.10045.4.3.2")) }
                try coder.serialize(ca.subject)
                try coder.serialize(try utc(CertificateRevocationTests.now.addingTimeInterval(-3600)))
                try coder.serialize(try utc(CertificateRevocationTests.now.addingTimeInterval(86_400 * 30)))
                try coder.appendConstructedNode(identifier: .sequence) { list in
                    for serial in serials {
                        try list.appendConstructedNode(identifier: .sequence) { entry in
                            try entry.serialize(serial)
                            try entry.serialize(try utc(CertificateRevocationTests.now.addingTimeInterval(-3600)))
                        }
                    }
                }
            }
            let tbsBytes = tbs.serializedBytes
            let signature = try (signer ?? caKey).signature(for: tbsBytes).derRepresentation
            var crl = DER.Serializer()
            try crl.appendConstructedNode(identifier: .sequence) { coder in
                coder.serializeRawBytes(tbsBytes)
                try coder.appendConstructedNode(identifier: .sequence) { try $0.serialize(ASN1ObjectIdentifier("1.2.840.10045.4.3.2")) }
                try coder.serialize(ASN1BitString(bytes: Array(signature)[...]))
            }
            return crl.serializedBytes
        }
    }

    @Test func aRevokedLeafIsRejectedWithItsOwnReason() throws {
        let pki = try PKI()
        let clean = try CertificateRevocationList(derEncoded: try pki.crl(revoking: [0x77]))
        #expect(try CertificateChainCheck.verify([pki.leaf, pki.ca], anchor: pki.root, at: Self.now, revocations: [clean]).contains("Test PCK"))
        let crl = try CertificateRevocationList(derEncoded: try pki.crl(revoking: [0x77, 0x1234]))
        #expect(try crl.check(signedBy: pki.ca, at: Self.now, name: "PCK CRL").contains("2 revoked"))
        #expect(throws: VerificationFailure.self) {
            try CertificateChainCheck.verify([pki.leaf, pki.ca], anchor: pki.root, at: Self.now, revocations: [crl])
        }
        do {
            try CertificateChainCheck.verify([pki.leaf, pki.ca], anchor: pki.root, at: Self.now, revocations: [crl])
        } catch {
            #expect("\(error)".contains("'Test PCK'") && "\(error)".contains("is revoked"))
        }
    }

    @Test func aCRLSignedByAnotherKeyOrOutOfDateIsRefused() throws {
        let pki = try PKI()
        let forged = try CertificateRevocationList(derEncoded: try pki.crl(revoking: [], signer: P256.Signing.PrivateKey()))
        #expect(throws: VerificationFailure.self) { try forged.check(signedBy: pki.ca, at: Self.now, name: "PCK CRL") }
        let good = try CertificateRevocationList(derEncoded: try pki.crl(revoking: []))
        #expect(throws: VerificationFailure.self) {
            try good.check(signedBy: pki.ca, at: Self.now.addingTimeInterval(86_400 * 60), name: "PCK CRL")
        }
    }

    @Test func theRealIntelCRLsParse() throws {
        let pck = try CertificateRevocationList(derEncoded: ReferenceAttestation.bytes(ReferenceAttestation.tdx.appendingPathComponent("pck_crl.der")))
        #expect(pck.isRevoked(Certificate.SerialNumber(bytes: try Hex.decode("6fc34e5023e728923435d61aa4b83c618166ad35", field: "serial"))))
        let root = try CertificateRevocationList(derEncoded: ReferenceAttestation.bytes(ReferenceAttestation.tdx.appendingPathComponent("root_crl.der")))
        #expect(root.revokedSerialNumbers.isEmpty)
        #expect(try root.check(signedBy: IntelSGXRootCA.certificate, at: ReferenceAttestation.verificationTime, name: "root CRL").contains("0 revoked"))
    }
}
