import Foundation
import Crypto
import _CryptoExtras
import X509
import SwiftASN1

/// A certificate of AMD's SEV key hierarchy (ARK, ASK, VCEK), signed with RSASSA-PSS (SHA-384, MGF1-SHA-384,
/// salt 48).
///
/// swift-certificates parses X.509 but refuses the RSASSA-PSS signature algorithm, so the outer
/// `Certificate` SEQUENCE is split here with SwiftASN1: the TBS bytes and signature are kept as they are,
/// and the TBS fields (names, validity, key, extensions) are read by swift-certificates from a copy whose
/// outer algorithm identifier names RSA (it is never used to verify anything). The PSS signature is then
/// checked with swift-crypto's `_RSA` on the untouched TBS bytes.
/// Source: AMD "VCEK Certificate and KDS Interface Specification" §2–3; RFC 4055 (RSASSA-PSS).
public struct AMDCertificate: Sendable {
    static let rsassaPSS: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 10]
    /// AlgorithmIdentifier { sha384WithRSAEncryption, NULL }.
    static let sha384WithRSAIdentifier: [UInt8] = [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0C, 0x05, 0x00]

    public let certificate: Certificate
    let tbsBytes: [UInt8]
    let signature: [UInt8]

    public init(derEncoded bytes: [UInt8], what: String) throws {
        do {
            let root = try DER.parse(bytes)
            guard root.identifier == .sequence, case .constructed(let parts) = root.content else { throw VerificationFailure("not a SEQUENCE") }
            var iterator = parts.makeIterator()
            guard let tbs = iterator.next(), let algorithm = iterator.next(), let signatureNode = iterator.next() else {
                throw VerificationFailure("Certificate needs tbsCertificate, signatureAlgorithm, signatureValue")
            }
            try Self.requireRSASSAPSSWithSHA384(algorithm)
            // RFC 5280 §4.1.1.2: the outer algorithm must equal the signed one inside the TBS (its second
            // field, after the [0] version and the serial number).
            guard case .constructed(let tbsFields) = tbs.content else { throw VerificationFailure("tbsCertificate is not a SEQUENCE") }
            let innerAlgorithm = Array(tbsFields.dropFirst(2).prefix(1))
            guard innerAlgorithm.count == 1, innerAlgorithm[0].encodedBytes == algorithm.encodedBytes else {
                throw VerificationFailure("signatureAlgorithm differs from the TBS certificate's signature field")
            }
            tbsBytes = Array(tbs.encodedBytes)
            let bits = try ASN1BitString(derEncoded: signatureNode)
            guard bits.paddingBits == 0 else { throw VerificationFailure("signature BIT STRING has unused bits") }
            signature = Array(bits.bytes)
            var body = tbsBytes + Self.sha384WithRSAIdentifier
            body += Array(signatureNode.encodedBytes)
            certificate = try Certificate(derEncoded: [0x30] + Self.derLength(body.count) + body)
        } catch {
            throw TrustedExecutionError.invalid("\(what): malformed AMD certificate (\(error))")
        }
    }

    /// Requires RSASSA-PSS-params of SHA-384, MGF1 with SHA-384 and a 48-byte salt (RFC 4055 §3.1), the
    /// parameters swift-crypto's PSS verification uses for a SHA-384 digest.
    static func requireRSASSAPSSWithSHA384(_ algorithm: ASN1Node) throws {
        let sha384: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 2]
        let mgf1: ASN1ObjectIdentifier = [1, 2, 840, 113549, 1, 1, 8]
        guard algorithm.identifier == .sequence, case .constructed(let parts) = algorithm.content else {
            throw VerificationFailure("malformed signature algorithm")
        }
        var iterator = parts.makeIterator()
        guard let oidNode = iterator.next(), try ASN1ObjectIdentifier(derEncoded: oidNode) == rsassaPSS,
              let params = iterator.next(), case .constructed(let fields) = params.content else {
            throw VerificationFailure("signature algorithm is not RSASSA-PSS with parameters")
        }
        var hashOK = false, mgfOK = false, saltOK = false
        for field in fields {
            guard case .constructed(let inner) = field.content, let value = inner.first(where: { _ in true }) else { continue }
            switch field.identifier {
            case ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific):
                hashOK = try Self.firstOID(value: value) == sha384
            case ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific):
                guard case .constructed(let mgfParts) = value.content else { break }
                let items = Array(mgfParts)
                guard items.count == 2 else { break }
                let function = try ASN1ObjectIdentifier(derEncoded: items[0])
                let hash = try Self.firstOID(value: items[1])
                mgfOK = function == mgf1 && hash == sha384
            case ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific):
                saltOK = try Int(derEncoded: value) == 48
            case ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific):
                guard try Int(derEncoded: value) == 1 else { throw VerificationFailure("RSASSA-PSS trailer field must be 1") }
            default:
                throw VerificationFailure("unknown RSASSA-PSS parameter")
            }
        }
        guard hashOK, mgfOK, saltOK else { throw VerificationFailure("RSASSA-PSS parameters are not SHA-384, MGF1-SHA-384, salt 48") }
    }

    private static func firstOID(value node: ASN1Node) throws -> ASN1ObjectIdentifier {
        guard case .constructed(let parts) = node.content, let first = parts.first(where: { _ in true }) else {
            throw VerificationFailure("malformed AlgorithmIdentifier")
        }
        return try ASN1ObjectIdentifier(derEncoded: first)
    }

    /// Splits a PEM bundle (ASK then ARK, as the KDS serves `cert_chain`).
    public static func bundle(pem: String, what: String = "ASK/ARK chain") throws -> [AMDCertificate] {
        let documents: [PEMDocument]
        do { documents = try PEMDocument.parseMultiple(pemString: pem) } catch {
            throw TrustedExecutionError.invalid("\(what): not a PEM certificate bundle (\(error))")
        }
        return try documents.enumerated().map { try AMDCertificate(derEncoded: $1.derBytes, what: "\(what) certificate \($0 + 1)") }
    }

    /// Whether `issuer`'s RSA key signed this certificate with RSASSA-PSS/SHA-384.
    func isSigned(by issuer: AMDCertificate) -> Bool {
        guard let key = _RSA.Signing.PublicKey(issuer.certificate.publicKey) else { return false }
        return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature),
                                    for: SHA384.hash(data: tbsBytes), padding: .PSS)
    }

    var commonName: String { CertificateChainCheck.describe(certificate) }

    static func derLength(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        var bytes: [UInt8] = []
        var v = n
        while v > 0 { bytes.insert(UInt8(v & 0xFF), at: 0); v >>= 8 }
        return [0x80 | UInt8(bytes.count)] + bytes
    }
}

/// The VCEK's AMD extensions: product name, hardware ID, and the TCB the key was derived for.
/// Source: AMD "VCEK Certificate and KDS Interface Specification", Table "VCEK Certificate Extensions"
/// (1.3.6.1.4.1.3704.1.2 productName, .1.3.1 blSPL, .1.3.2 teeSPL, .1.3.3 snpSPL, .1.3.8 ucodeSPL, .1.4 hwID).
struct VCEKExtensions {
    let productName: String
    let tcb: SNPTCBVersion
    let hardwareID: [UInt8]

    init(_ certificate: Certificate) throws {
        func node(_ arcs: [UInt]) throws -> ASN1Node {
            let oid = try ASN1ObjectIdentifier(elements: [1, 3, 6, 1, 4, 1, 3704, 1] + arcs)
            guard let ext = certificate.extensions[oid: oid] else {
                throw VerificationFailure("VCEK has no extension \(oid)")
            }
            return try DER.parse(ext.value)
        }
        func spl(_ arc: UInt, _ name: String) throws -> UInt8 {
            let value = try Int(derEncoded: try node([3, arc]))
            guard (0...255).contains(value) else { throw VerificationFailure("VCEK \(name) SPL \(value) is out of range") }
            return UInt8(value)
        }
        let nameNode = try node([2])
        productName = String(try ASN1IA5String(derEncoded: nameNode))
        tcb = SNPTCBVersion(bootloader: try spl(1, "bootloader"), tee: try spl(2, "TEE"),
                            snp: try spl(3, "SNP"), microcode: try spl(8, "microcode"))
        // KDS writes hwID as the 64 raw bytes of the extension value (some tools wrap them in an OCTET STRING).
        let oid = try ASN1ObjectIdentifier(elements: [1, 3, 6, 1, 4, 1, 3704, 1, 4] as [UInt])
        guard let raw = certificate.extensions[oid: oid]?.value else { throw VerificationFailure("VCEK has no hwID extension") }
        if raw.count == 64 {
            hardwareID = Array(raw)
        } else {
            hardwareID = Array(try ASN1OctetString(derEncoded: raw).bytes)
        }
    }
}
