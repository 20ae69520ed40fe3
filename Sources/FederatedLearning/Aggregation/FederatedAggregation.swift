import Mechanisms

/// How a federated run turns the round's clipped client updates into their sum (the `federated.aggregation`
/// key of a pipeline). See docs/federated.md, "Secure aggregation".
public enum FederatedAggregation: Sendable, Equatable {
    /// The server receives every clipped update and sums them (``PlainSumAggregator``); it adds the Gaussian noise.
    case plain
    /// Each client quantises its clipped update to a grid modulo 2^`bitWidth` (``UpdateQuantizer``) and masks it
    /// with SecAgg+ (Bell et al. 2020); the server unmasks only the sum (``SecureAggregationAggregator``) and adds
    /// the Gaussian noise as with `plain`.
    case secureAggregation(bitWidth: Int)
    /// The distributed discrete Gaussian (Kairouz, Liu, Steinke 2021): each client encodes its clipped update with
    /// its own share of the noise (``DistributedGaussianAggregator``), SecAgg+ sums the encodings, and the server
    /// decodes a sum that is already noisy; it adds no noise and never sees an unnoised sum.
    case distributedDiscreteGaussian(bitWidth: Int)

    /// The bit widths accepted for the modulus 2^b of secure aggregation.
    public static let bitWidthLimit = 16...62
    /// The default bit width, as in Kairouz, Liu, Steinke 2021 (§6) and Flower's SecAgg+.
    public static let defaultBitWidth = 32

    /// The aggregation named `name` (`plain`, `secagg` or `ddg`) with modulus 2^`bitWidth`.
    /// - Throws: `VeilError.invalidInput` for another name, `invalidParameter` for a bit width out of range.
    public init(name: String, bitWidth: Int = defaultBitWidth) throws {
        guard Self.bitWidthLimit.contains(bitWidth) else {
            throw VeilError.invalidParameter("aggregation bit width", bitWidth, allowed: "in \(Self.bitWidthLimit)")
        }
        switch name {
        case "plain": self = .plain
        case "secagg": self = .secureAggregation(bitWidth: bitWidth)
        case "ddg": self = .distributedDiscreteGaussian(bitWidth: bitWidth)
        default: throw VeilError(.invalidInput, "aggregation must be plain, secagg or ddg, got \(name)")
        }
    }

    /// The name used in pipelines, progress lines and JSON summaries.
    public var name: String {
        switch self {
        case .plain: "plain"
        case .secureAggregation: "secagg"
        case .distributedDiscreteGaussian: "ddg"
        }
    }

    /// What the aggregation means for the operator: who sees what.
    public var description: String {
        switch self {
        case .plain: "plain sum on the server"
        case .secureAggregation(let b): "secure aggregation (SecAgg+, modulus 2^\(b)); the server sees only the sum"
        case .distributedDiscreteGaussian(let b):
            "distributed discrete Gaussian with secure aggregation (SecAgg+, modulus 2^\(b)); the server sees only a noisy sum"
        }
    }
}
