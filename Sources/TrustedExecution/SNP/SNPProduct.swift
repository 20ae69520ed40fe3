/// An AMD EPYC product line whose ARK (AMD Root Key) anchors SEV-SNP evidence.
///
/// The ARK is pinned by the SHA-256 of its SubjectPublicKeyInfo (from AMD's Key Distribution Service,
/// `/vcek/v1/{product}/cert_chain`); a chain that ends at any other key is refused.
public enum SNPProduct: String, Sendable, CaseIterable {
    case milan = "Milan"
    case genoa = "Genoa"

    /// SHA-256 of the ARK's DER SubjectPublicKeyInfo.
    var arkPublicKeySHA256: String {
        switch self {
        case .milan: "9f056bee44377e29308cb5ffa895bdfb62d18881fa6bed8d6f075b0204089cb9"
        case .genoa: "429a69c9422aa258ee4d8db5fcda9c6470ef15f8cd5a9cebd6cbc7d90b863831"
        }
    }

    /// The product named by a VCEK's `productName` extension (`Milan-B0` → Milan).
    init?(vcekProductName: String) {
        let family = vcekProductName.split(separator: "-").first.map(String.init) ?? vcekProductName
        self.init(rawValue: family)
    }
}
