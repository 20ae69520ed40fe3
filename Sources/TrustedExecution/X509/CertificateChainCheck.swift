import Foundation
import X509
import SwiftASN1

/// Checks an ordered certificate chain (leaf first) up to a pinned trust anchor at a given time, with
/// swift-certificates: each certificate's ECDSA signature by the next one's key, names that chain, every
/// certificate valid at the time, CA basic constraints on every issuer, the last one issued by (or equal to)
/// the anchor, and none of them revoked by the given CRLs.
///
/// The chains of attestation evidence have a fixed shape (PCK → Platform CA → Intel SGX Root CA; TCB signing
/// → root), so the chain is walked as given rather than searched for; a chain that does not link is refused.
/// RFC 5280 §6.1 is the model: signature, validity, name chaining and basic constraints per certificate.
enum CertificateChainCheck {
    /// Parses a PEM bundle into certificates, in file order.
    static func certificates(pem: String, what: String) throws -> [Certificate] {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: pem)
        } catch {
            throw TrustedExecutionError.invalid("\(what): not a PEM certificate bundle (\(error))")
        }
        guard !documents.isEmpty else { throw TrustedExecutionError.invalid("\(what): no certificate in the PEM bundle") }
        return try documents.enumerated().map { index, document in
            do {
                return try Certificate(pemDocument: document)
            } catch {
                throw TrustedExecutionError.invalid("\(what): certificate \(index + 1) is malformed (\(error))")
            }
        }
    }

    /// Verifies `chain` (leaf first) up to `anchor` at `time`; throws a ``VerificationFailure`` naming the
    /// certificate and the reason.
    /// - Returns: a one-line summary (subjects of the chain).
    @discardableResult
    static func verify(_ chain: [Certificate], anchor: Certificate, at time: Date,
                       revocations: [CertificateRevocationList] = []) throws -> String {
        guard !chain.isEmpty else { throw VerificationFailure("empty certificate chain") }
        var full = chain
        if full.last != anchor { full.append(anchor) }
        for (index, certificate) in full.enumerated() {
            let name = describe(certificate)
            guard certificate.notValidBefore <= time, time <= certificate.notValidAfter else {
                throw VerificationFailure("\(name) is not valid at \(iso(time)) (valid \(iso(certificate.notValidBefore)) to \(iso(certificate.notValidAfter)))")
            }
            let issuer = index + 1 < full.count ? full[index + 1] : certificate
            guard certificate.issuer == issuer.subject else {
                throw VerificationFailure("\(name) is not issued by \(describe(issuer)): the chain does not link to the trust anchor")
            }
            guard try signatureBitsAreWholeBytes(certificate), issuer.publicKey.isValidSignature(certificate.signature, for: certificate) else {
                throw VerificationFailure("signature of \(name) by \(describe(issuer)) does not verify")
            }
            if index + 1 < full.count || certificate == anchor {
                let constraints = try? issuer.extensions.basicConstraints
                guard case .isCertificateAuthority = constraints else {
                    throw VerificationFailure("\(describe(issuer)) issues certificates but is not a CA")
                }
            }
            for crl in revocations where crl.issuer == certificate.issuer && crl.isRevoked(certificate.serialNumber) {
                throw VerificationFailure("\(name) (serial \(certificate.serialNumber)) is revoked by the CRL of \(crl.issuerDescription)")
            }
        }
        return full.map(describe).joined(separator: " → ")
    }

    /// DER signatures of ECDSA are whole bytes: a BIT STRING with unused bits is a different value that
    /// swift-certificates would read as the same signature, so it is refused.
    static func signatureBitsAreWholeBytes(_ certificate: Certificate) throws -> Bool {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let root = try DER.parse(serializer.serializedBytes)
        guard case .constructed(let parts) = root.content else { return false }
        let nodes = Array(parts)
        guard nodes.count == 3 else { return false }
        return try ASN1BitString(derEncoded: nodes[2]).paddingBits == 0
    }

    static func describe(_ certificate: Certificate) -> String {
        for rdn in certificate.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                return "'\(attribute.value)'"
            }
        }
        return "'\(certificate.subject)'"
    }

    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }
}
