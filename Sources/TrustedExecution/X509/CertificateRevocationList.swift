import Foundation
import X509
import SwiftASN1

/// An X.509 certificate revocation list (RFC 5280 §5), parsed with SwiftASN1: issuer, update times, the
/// revoked serial numbers, and the signature over `tbsCertList`.
///
/// swift-certificates parses certificates but not CRLs; this type reads the few fields a verifier needs and
/// checks the signature with the issuer certificate's key through swift-certificates.
public struct CertificateRevocationList: Sendable {
    public let issuer: DistinguishedName
    public let thisUpdate: Date
    public let nextUpdate: Date?
    public let revokedSerialNumbers: Set<Certificate.SerialNumber>
    let tbsBytes: ArraySlice<UInt8>
    let signatureAlgorithm: Certificate.SignatureAlgorithm
    let signatureBytes: [UInt8]

    var issuerDescription: String { "'\(issuer)'" }

    /// Parses a DER CRL.
    public init(derEncoded bytes: [UInt8]) throws {
        do {
            let root = try DER.parse(bytes)
            guard case .constructed(let top) = root.content else { throw VerificationFailure("not a SEQUENCE") }
            var topIterator = top.makeIterator()
            guard let tbs = topIterator.next(), let algorithm = topIterator.next(), let signature = topIterator.next(),
                  case .constructed(let tbsFields) = tbs.content else {
                throw VerificationFailure("CertificateList needs tbsCertList, signatureAlgorithm, signatureValue")
            }
            tbsBytes = tbs.encodedBytes
            signatureAlgorithm = try Self.ecdsaAlgorithm(algorithm)
            signatureBytes = Array(try ASN1BitString(derEncoded: signature).bytes)

            var fields = Array(tbsFields)
            if let first = fields.first, first.identifier == .integer { fields.removeFirst() }  // version
            guard fields.count >= 3 else { throw VerificationFailure("tbsCertList is too short") }
            // fields[0]: signature algorithm (repeated), fields[1]: issuer, fields[2]: thisUpdate.
            issuer = try DistinguishedName(derEncoded: fields[1])
            thisUpdate = try Self.time(fields[2])
            var rest = fields.dropFirst(3)
            if let next = rest.first, next.identifier == .utcTime || next.identifier == .generalizedTime {
                nextUpdate = try Self.time(next)
                rest = rest.dropFirst()
            } else {
                nextUpdate = nil
            }
            var revoked = Set<Certificate.SerialNumber>()
            if let list = rest.first, list.identifier == .sequence, case .constructed(let entries) = list.content {
                for entry in entries {
                    guard case .constructed(let entryFields) = entry.content,
                          let serial = entryFields.first(where: { _ in true }), case .primitive(let serialBytes) = serial.content else {
                        throw VerificationFailure("malformed revoked certificate entry")
                    }
                    revoked.insert(Certificate.SerialNumber(bytes: serialBytes))
                }
            }
            revokedSerialNumbers = revoked
        } catch let error as TrustedExecutionError {
            throw error
        } catch {
            throw TrustedExecutionError.invalid("CRL is malformed: \(error)")
        }
    }

    public func isRevoked(_ serial: Certificate.SerialNumber) -> Bool { revokedSerialNumbers.contains(serial) }

    /// Checks the CRL's signature by `issuerCertificate` and that `time` lies in [thisUpdate, nextUpdate].
    func check(signedBy issuerCertificate: Certificate, at time: Date, name: String) throws -> String {
        guard issuerCertificate.subject == issuer else {
            throw VerificationFailure("\(name) is issued by '\(issuer)', not by \(CertificateChainCheck.describe(issuerCertificate))")
        }
        guard issuerCertificate.publicKey.isValidSignature(signatureBytes, for: tbsBytes, signatureAlgorithm: signatureAlgorithm) else {
            throw VerificationFailure("\(name) signature by \(CertificateChainCheck.describe(issuerCertificate)) does not verify")
        }
        guard thisUpdate <= time, nextUpdate.map({ time <= $0 }) ?? true else {
            throw VerificationFailure("\(name) is not current at \(CertificateChainCheck.iso(time)) (this update \(CertificateChainCheck.iso(thisUpdate)), next update \(nextUpdate.map(CertificateChainCheck.iso) ?? "none"))")
        }
        return "\(name) signed by \(CertificateChainCheck.describe(issuerCertificate)), current, \(revokedSerialNumbers.count) revoked"
    }

    static func time(_ node: ASN1Node) throws -> Date {
        var components = DateComponents()
        components.timeZone = TimeZone(identifier: "UTC")
        if node.identifier == .utcTime {
            let t = try UTCTime(derEncoded: node)
            (components.year, components.month, components.day) = (t.year, t.month, t.day)
            (components.hour, components.minute, components.second) = (t.hours, t.minutes, t.seconds)
        } else {
            let t = try GeneralizedTime(derEncoded: node)
            (components.year, components.month, components.day) = (t.year, t.month, t.day)
            (components.hour, components.minute, components.second) = (t.hours, t.minutes, t.seconds)
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: components) else { throw VerificationFailure("invalid time") }
        return date
    }

    /// The ECDSA signature algorithm named by an AlgorithmIdentifier (RFC 5758 §3.2); Intel signs its
    /// CRLs with ECDSA.
    static func ecdsaAlgorithm(_ node: ASN1Node) throws -> Certificate.SignatureAlgorithm {
        guard case .constructed(let parts) = node.content, let oidNode = parts.first(where: { _ in true }) else {
            throw VerificationFailure("malformed AlgorithmIdentifier")
        }
        let oid = try ASN1ObjectIdentifier(derEncoded: oidNode)
        switch oid {
        case [1, 2, 840, 10045, 4, 3, 2]: return .ecdsaWithSHA256
        case [1, 2, 840, 10045, 4, 3, 3]: return .ecdsaWithSHA384
        default: throw VerificationFailure("unsupported CRL signature algorithm \(oid)")
        }
    }
}
