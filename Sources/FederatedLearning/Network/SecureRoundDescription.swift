import Foundation
import Mechanisms
import PrivateTraining
import SecureAggregation

/// The public parameters of one network round of secure aggregation, sent to the round's clients with its model
/// (metadata key ``metadataKey``): the SecAgg+ configuration and round identifier, and how a client turns its update
/// into an input modulo 2^b — the grid of ``UpdateQuantizer`` (`aggregation: secagg`) or the calibrated distributed
/// discrete Gaussian with the round's rotation seed (`aggregation: ddg`). It holds declared figures and the round's
/// public randomness only.
///
/// The client's encoding and the server's decoding are those of ``SecureAggregationAggregator`` and
/// ``DistributedGaussianAggregator`` (the simulation): ``encode(_:using:)`` and ``decode(_:)``.
public struct SecureRoundDescription: Sendable, Codable, Equatable {
    /// The metadata key of the description in the round's model.
    public static let metadataKey = "veil.federated.secure_aggregation"

    /// How a client encodes its update.
    public enum Encoding: Sendable, Codable, Equatable {
        /// Clip to C, quantise to the grid (``UpdateQuantizer``): the server adds the noise to the unmasked sum.
        case quantized(clipNorm: Double, bitWidth: Int, maximumClients: Int)
        /// The distributed discrete Gaussian (Kairouz, Liu, Steinke 2021): clip, rotate, round, add the client's share
        /// of the noise; the fields are those of ``DistributedDiscreteGaussianParameters``.
        case distributedGaussian(dimension: Int, clipNorm: Double, granularity: Double, beta: Double, noiseStddev: Double,
                                 clients: Int, bitWidth: Int, overflowProbability: Double, rotationSeed: [UInt8])
    }

    /// The round's SecAgg+ configuration; decoding it checks it again (a client trusts no field of a message without
    /// its checks: ``SecAggConfiguration/init(from:)``).
    public let configuration: SecAggConfiguration
    public let roundID: UInt64
    public let encoding: Encoding

    public init(configuration: SecAggConfiguration, roundID: UInt64, encoding: Encoding) {
        self.configuration = configuration
        self.roundID = roundID
        self.encoding = encoding
    }

    /// The description of a round with the quantiser's grid.
    public static func quantized(_ quantizer: UpdateQuantizer, configuration: SecAggConfiguration,
                                 roundID: UInt64) -> SecureRoundDescription {
        SecureRoundDescription(configuration: configuration, roundID: roundID,
                               encoding: .quantized(clipNorm: quantizer.clipNorm, bitWidth: quantizer.bitWidth,
                                                    maximumClients: quantizer.maximumClients))
    }

    /// The description of a round with the distributed discrete Gaussian `p` and the round's rotation seed.
    public static func distributedGaussian(_ p: DistributedDiscreteGaussianParameters, rotationSeed: [UInt8],
                                           configuration: SecAggConfiguration, roundID: UInt64) -> SecureRoundDescription {
        SecureRoundDescription(configuration: configuration, roundID: roundID, encoding: .distributedGaussian(
            dimension: p.dimension, clipNorm: p.clipNorm, granularity: p.granularity, beta: p.beta,
            noiseStddev: p.noiseStddev, clients: p.clients, bitWidth: p.bitWidth,
            overflowProbability: p.overflowProbability, rotationSeed: rotationSeed))
    }

    /// The client's input to SecAgg+: its raw update `Δ`, clipped and encoded (values in 0 ..< 2^b).
    /// - Throws: `invalid_parameter` for parameters a checked initialiser refuses, `invalid_input` for an update of
    ///   the wrong length.
    public func encode<R: RandomSource>(_ update: [Float], using random: inout R) throws -> [UInt64] {
        switch encoding {
        case .quantized(let clipNorm, let bits, let maximumClients):
            guard update.count == configuration.vectorLength else {
                throw VeilError(.invalidInput, "the update has \(update.count) values, the round expects \(configuration.vectorLength)")
            }
            let quantizer = try UpdateQuantizer(clipNorm: clipNorm, bitWidth: bits, maximumClients: maximumClients)
            let clipped = UpdateClipping.clip(update, clipNorm: clipNorm).update
            return quantizer.residues(quantizer.quantize(clipped, using: &random))
        case .distributedGaussian(_, _, _, _, _, _, _, _, let seed):
            let encoder = try DistributedDiscreteGaussian(parameters: try distributedGaussianParameters())
            guard update.count == encoder.parameters.dimension else {
                throw VeilError(.invalidInput, "the update has \(update.count) values, the round expects "
                                + "\(encoder.parameters.dimension)")
            }
            // The encoder clips to C itself (a non-finite norm clips to zero). Rounding and noise read a stream keyed
            // with 256 bits of `random`, as in the simulation (``DistributedGaussianAggregator``).
            var stream = KeyErasingAESStream(keyFrom: &random)
            return try encoder.encode(update.map { Double($0) }, rotationSeed: seed, using: &stream)
        }
    }

    /// The server's decoding of the unmasked sum: the sum of the clipped updates (secagg) or the noisy sum (ddg).
    public func decode(_ sum: [UInt64]) throws -> [Double] {
        switch encoding {
        case .quantized(let clipNorm, let bits, let maximumClients):
            return try UpdateQuantizer(clipNorm: clipNorm, bitWidth: bits, maximumClients: maximumClients).decode(sum)
        case .distributedGaussian(_, _, _, _, _, _, _, _, let seed):
            return try DistributedDiscreteGaussian(parameters: try distributedGaussianParameters())
                .decode(sum, rotationSeed: seed)
        }
    }

    /// Whether the decoded sum already carries the round's noise (the clients added it).
    public var noiseFromClients: Bool {
        if case .distributedGaussian = encoding { return true }
        return false
    }

    private func distributedGaussianParameters() throws -> DistributedDiscreteGaussianParameters {
        guard case .distributedGaussian(let d, let c, let gamma, let beta, let sigma, let n, let bits, let p, _) = encoding else {
            throw VeilError(.invalidParameter, "the round does not use the distributed discrete Gaussian")
        }
        return try DistributedDiscreteGaussianParameters(dimension: d, clipNorm: c, granularity: gamma, beta: beta,
                                                         noiseStddev: sigma, clients: n, bitWidth: bits,
                                                         overflowProbability: p)
    }
}
