import Foundation

/// One DP-SGD setting of `Resources/accountant_cases.json` (see the reference README):
/// `SelfComposed(PoissonSampled(q, Gaussian(σ)), steps)` at δ.
struct PLDReferenceCase: Decodable, CustomStringConvertible, Sendable {
    let samplingRate: Double
    let noiseMultiplier: Double
    let steps: Int
    let delta: Double
    let pldEpsilon: Double?
    let rdpEpsilonExact: Double

    enum CodingKeys: String, CodingKey {
        case samplingRate = "sampling_rate"
        case noiseMultiplier = "noise_multiplier"
        case steps, delta
        case pldEpsilon = "pld_epsilon"
        case rdpEpsilonExact = "rdp_epsilon_exact"
    }

    var description: String { "q=\(samplingRate) σ=\(noiseMultiplier) T=\(steps) δ=\(delta)" }

    /// All cases of the resource file.
    static func all() throws -> [PLDReferenceCase] {
        struct File: Decodable { let cases: [PLDReferenceCase] }
        guard let url = Bundle.module.url(forResource: "accountant_cases", withExtension: "json",
                                          subdirectory: "Resources")
                ?? Bundle.module.url(forResource: "accountant_cases", withExtension: "json") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }
}
