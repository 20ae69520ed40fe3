import X509
import SwiftASN1

/// The SGX extensions of a PCK certificate (OID 1.2.840.113741.1.13.1): the platform's SGX TCB components,
/// PCE SVN, PCE ID and FMSPC, which select and are compared with the TCB info.
///
/// Source: Intel SGX PCK Certificate and Certificate Revocation List Profile Specification, §1.3.5
/// ("Intel SGX Extensions").
public struct PCKCertificateExtensions: Sendable {
    static let sgxExtensions: ASN1ObjectIdentifier = [1, 2, 840, 113741, 1, 13, 1]
    static let tcb: ASN1ObjectIdentifier = [1, 2, 840, 113741, 1, 13, 1, 2]
    static let pceID: ASN1ObjectIdentifier = [1, 2, 840, 113741, 1, 13, 1, 3]
    static let fmspc: ASN1ObjectIdentifier = [1, 2, 840, 113741, 1, 13, 1, 4]

    /// SGX TCB components 1–16.
    public let sgxTCBComponents: [Int]
    public let pceSVN: Int
    public let pceID: [UInt8]
    public let fmspc: [UInt8]

    init(certificate: Certificate) throws {
        guard let ext = certificate.extensions[oid: Self.sgxExtensions] else {
            throw VerificationFailure("PCK certificate has no SGX extensions (1.2.840.113741.1.13.1)")
        }
        var components = [Int?](repeating: nil, count: 16)
        var pceSVN: Int?
        var pceID: [UInt8]?
        var fmspc: [UInt8]?
        do {
            for (oid, value) in try Self.pairs(DER.parse(ext.value)) {
                switch oid {
                case Self.tcb:
                    for (component, svn) in try Self.pairs(value) {
                        let arcs = Array(component.oidComponents)
                        guard arcs.count == 9, Array(arcs.prefix(8)) == Self.tcb.oidComponents else { continue }
                        switch arcs[8] {
                        case 1...16: components[Int(arcs[8]) - 1] = try Int(derEncoded: svn)
                        case 17: pceSVN = try Int(derEncoded: svn)
                        default: break
                        }
                    }
                case Self.pceID: pceID = Array(try ASN1OctetString(derEncoded: value).bytes)
                case Self.fmspc: fmspc = Array(try ASN1OctetString(derEncoded: value).bytes)
                default: break
                }
            }
        } catch {
            throw VerificationFailure("PCK certificate SGX extensions are malformed: \(error)")
        }
        guard components.allSatisfy({ $0 != nil }), let pceSVN, let pceID, let fmspc else {
            throw VerificationFailure("PCK certificate SGX extensions lack a TCB component, PCESVN, PCE-ID or FMSPC")
        }
        self.sgxTCBComponents = components.map { $0! }
        self.pceSVN = pceSVN
        self.pceID = pceID
        self.fmspc = fmspc
    }

    /// The (OID, value) pairs of a SEQUENCE OF SEQUENCE { OID, ANY }.
    static func pairs(_ node: ASN1Node) throws -> [(ASN1ObjectIdentifier, ASN1Node)] {
        guard case .constructed(let items) = node.content else { throw VerificationFailure("expected a SEQUENCE") }
        return try items.map { item in
            guard case .constructed(let parts) = item.content else { throw VerificationFailure("expected a SEQUENCE") }
            var iterator = parts.makeIterator()
            guard let oidNode = iterator.next(), let value = iterator.next() else { throw VerificationFailure("short pair") }
            return (try ASN1ObjectIdentifier(derEncoded: oidNode), value)
        }
    }
}
