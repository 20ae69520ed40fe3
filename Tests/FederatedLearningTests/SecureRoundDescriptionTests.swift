import FederatedLearning
import Foundation
import Mechanisms
import PrivateTraining
import SecureAggregation
import Testing
import _TestSupport

/// A network client encodes its update exactly as a simulated client does, from the parameters the server publishes.
@Suite("Secure round description")
struct SecureRoundDescriptionTests {
    static let update: [Float] = [0.9, -0.7, 0.3, 0, 1.5, -2, 0.01, 0.25, 0.5]

    /// The description after its trip through the model's metadata (JSON).
    static func published(_ description: SecureRoundDescription) throws -> SecureRoundDescription {
        try JSONDecoder().decode(SecureRoundDescription.self, from: try JSONEncoder().encode(description))
    }

    @Test("secagg: clipped to C and quantised on the grid, as SecureAggregationAggregator's clients do")
    func quantized() throws {
        let quantizer = try UpdateQuantizer(clipNorm: 1, bitWidth: 32, maximumClients: 50)
        let configuration = try SecAggConfiguration.secAggPlus(clientCount: 10, vectorLength: Self.update.count, bitWidth: 32)
        let description = try Self.published(.quantized(quantizer, configuration: configuration, roundID: 77))
        #expect(description.configuration == configuration && description.roundID == 77 && !description.noiseFromClients)
        var a = InsecureSeededRandomSource(seed: 3), b = InsecureSeededRandomSource(seed: 3)
        let encoded = try description.encode(Self.update, using: &a)
        let expected = quantizer.residues(quantizer.quantize(UpdateClipping.clip(Self.update, clipNorm: 1).update, using: &b))
        #expect(encoded == expected)
        #expect(try description.decode(encoded) == quantizer.decode(expected))
        #expect(throws: VeilError.self) { try description.encode([1, 2], using: &a) }
    }

    @Test("ddg: rotated, rounded and noised with the published parameters and rotation seed, as the simulation's clients do")
    func distributedGaussian() throws {
        let parameters = try DistributedDiscreteGaussianParameters(dimension: Self.update.count, clipNorm: 1,
                                                                   granularity: 1.0 / 1024, noiseStddev: 0.5, clients: 10,
                                                                   bitWidth: 32)
        let configuration = try SecAggConfiguration.secAggPlus(clientCount: 10, vectorLength: parameters.paddedDimension,
                                                               bitWidth: 32)
        let seed = [UInt8](repeating: 9, count: 32)
        let description = try Self.published(.distributedGaussian(parameters, rotationSeed: seed, configuration: configuration,
                                                                  roundID: 5))
        #expect(description.noiseFromClients)
        var a = InsecureSeededRandomSource(seed: 4), b = InsecureSeededRandomSource(seed: 4)
        let encoded = try description.encode(Self.update, using: &a)
        let encoder = try DistributedDiscreteGaussian(parameters: parameters)
        // A client's rounding and noise read a stream keyed from its source, in the simulation as over the network.
        var stream = KeyErasingAESStream(keyFrom: &b)
        let expected = try encoder.encode(Self.update.map { Double($0) }, rotationSeed: seed, using: &stream)
        #expect(encoded == expected && encoded.count == parameters.paddedDimension)
        #expect(try description.decode(encoded) == encoder.decode(expected, rotationSeed: seed))
    }
}
