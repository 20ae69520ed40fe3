import Mechanisms

extension VeilError.Code {
    /// A federated client or server could not complete its exchange (unreachable peer, an unexpected answer, a
    /// timeout).
    public static let federatedNetwork = VeilError.Code("federated_network", category: VeilError.Category.failure)
}
