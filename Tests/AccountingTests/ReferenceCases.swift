import Foundation

/// The accountant reference values shipped as a test resource (see shared/reference/README.md):
/// DP-SGD settings with RDP and PLD epsilons from dp_accounting 0.6.0, Opacus 1.6.0 and a
/// 40-digit computation, plus noise-calibration cases.
struct ReferenceCases: Decodable, Sendable {
    struct Case: Decodable, CustomStringConvertible, Sendable {
        let samplingRate: Double
        let noiseMultiplier: Double
        let steps: Int
        let delta: Double
        let rdpEpsilon: Double
        let rdpEpsilonExact: Double
        let rdpBestOrderExact: Double
        let pldEpsilon: Double?

        var description: String { "q=\(samplingRate) σ=\(noiseMultiplier) T=\(steps) δ=\(delta)" }

        enum CodingKeys: String, CodingKey {
            case samplingRate = "sampling_rate", noiseMultiplier = "noise_multiplier", steps, delta
            case rdpEpsilon = "rdp_epsilon", rdpEpsilonExact = "rdp_epsilon_exact"
            case rdpBestOrderExact = "rdp_best_order_exact", pldEpsilon = "pld_epsilon"
        }
    }

    struct CalibrationCase: Decodable, CustomStringConvertible, Sendable {
        let targetEpsilon: Double
        let samplingRate: Double
        let steps: Int
        let delta: Double
        let rdpNoiseMultiplier: Double

        var description: String { "ε=\(targetEpsilon) q=\(samplingRate) T=\(steps) δ=\(delta)" }

        enum CodingKeys: String, CodingKey {
            case targetEpsilon = "target_epsilon", samplingRate = "sampling_rate", steps, delta
            case rdpNoiseMultiplier = "rdp_noise_multiplier"
        }
    }

    let rdpOrders: [Double]
    let cases: [Case]
    let calibrationCases: [CalibrationCase]

    enum CodingKeys: String, CodingKey {
        case rdpOrders = "rdp_orders", cases, calibrationCases = "calibration_cases"
    }

    static let shared: ReferenceCases = {
        let url = Bundle.module.url(forResource: "accountant_cases", withExtension: "json", subdirectory: "Resources")!
        return try! JSONDecoder().decode(ReferenceCases.self, from: Data(contentsOf: url))
    }()
}
