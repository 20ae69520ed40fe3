/// Which accountant computes ε: the one choice shared by training pipelines (`privacy.accountant`) and
/// `veil account --accountant`.
public enum AccountantKind: String, Sendable, Codable, CaseIterable {
    /// Rényi DP (Mironov 2017; subsampled Gaussian: Mironov, Talwar & Zhang 2019). The default.
    case rdp
    /// Privacy loss distributions (Koskela et al. 2020; Doroshenko et al. 2022): tighter, slower.
    case pld

    /// The accountant.
    public func makeAccountant() throws -> any PrivacyAccountant {
        switch self {
        case .rdp: RDPAccountant()
        case .pld: try PLDAccountant()
        }
    }
}
