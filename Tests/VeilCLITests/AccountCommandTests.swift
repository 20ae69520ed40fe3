import _TestSupport
import Foundation
import Testing

/// Runs the built `veil` binary and checks its output and exit codes.
@Suite("veil account")
struct AccountCommandTests {
    private func json(_ run: VeilRun) throws -> [String: Any] {
        try #require(run.status == 0, "exit \(run.status): \(run.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
        return try #require(object as? [String: Any])
    }

    @Test("dpsgd --json prints ε and the best order of the reference case")
    func dpsgdJSON() throws {
        // Reference: q = 0.004267, σ = 1.1, T = 10⁴, δ = 1e-5 → RDP ε ≈ 2.1618 at α = 9.3
        // (40-digit computation in the accountant reference data).
        let object = try json(runVeil(["account", "dpsgd", "--sampling-rate", "0.004267", "--noise-multiplier", "1.1",
                                       "--steps", "10000", "--delta", "1e-5", "--json"]))
        let epsilon = try #require(object["epsilon"] as? Double)
        #expect(abs(epsilon - 2.1618) < 1e-3)
        #expect(object["order"] as? Double == 9.3)
        #expect(object["accountant"] as? String == "rdp")
    }

    @Test("dpsgd --accountant pld matches dp_accounting's PLD ε and has no order")
    func dpsgdPLD() throws {
        // Reference: dp_accounting 0.6.0 PLDAccountant (discretisation 1e-4) gives ε = 1.978147 here.
        let object = try json(runVeil(["account", "dpsgd", "--sampling-rate", "0.004267", "--noise-multiplier", "1.1",
                                       "--steps", "10000", "--delta", "1e-5", "--accountant", "pld", "--json"]))
        let epsilon = try #require(object["epsilon"] as? Double)
        #expect(abs(epsilon - 1.978147) / 1.978147 < 0.02)
        #expect(object["order"] == nil)
        #expect(object["accountant"] as? String == "pld")
    }

    @Test("calibrate with the PLD accountant needs less noise than with RDP")
    func calibratePLD() throws {
        let arguments = ["account", "calibrate", "--target-epsilon", "3", "--sampling-rate", "0.05",
                         "--steps", "100", "--delta", "1e-5", "--json"]
        let pld = try json(runVeil(arguments + ["--accountant", "pld"]))
        let rdp = try json(runVeil(arguments))
        let sigmaPLD = try #require(pld["noise_multiplier"] as? Double)
        let sigmaRDP = try #require(rdp["noise_multiplier"] as? Double)
        #expect(sigmaPLD < sigmaRDP)
        #expect(try #require(pld["epsilon"] as? Double) <= 3)
    }

    @Test("dpsgd text output names ε, δ and the accountant")
    func dpsgdText() throws {
        let run = try runVeil(["account", "dpsgd", "--sampling-rate", "1", "--noise-multiplier", "1",
                               "--steps", "1", "--delta", "1e-5"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("ε = "))
        #expect(run.stdout.contains("at δ = 1e-05 (rdp accountant, best order α = "))
    }

    @Test("a noise multiplier too small for any bound gives ε = ∞ in words, null in JSON, never nan")
    func unboundedEpsilon() throws {
        let arguments = ["account", "dpsgd", "--sampling-rate", "0.1", "--noise-multiplier", "1e-300",
                         "--steps", "1", "--delta", "1e-5"]
        let run = try runVeil(arguments)
        #expect(run.status == 0)
        #expect(run.stdout == "ε = ∞ (no finite bound: the noise is too small) at δ = 1e-05 (rdp accountant)\n")
        let object = try json(runVeil(arguments + ["--json"]))
        #expect(object["epsilon"] is NSNull && object["order"] is NSNull)
    }

    @Test("calibrate --json prints a σ that meets the target")
    func calibrateJSON() throws {
        let object = try json(runVeil(["account", "calibrate", "--target-epsilon", "3", "--sampling-rate", "0.004267",
                                       "--steps", "1000", "--delta", "1e-5", "--json"]))
        let sigma = try #require(object["noise_multiplier"] as? Double)
        let epsilon = try #require(object["epsilon"] as? Double)
        // dp_accounting's σ for this target is 0.69532 (reference data).
        #expect(abs(sigma - 0.69532) / 0.69532 < 0.01)
        #expect(epsilon <= 3)
    }

    @Test("bad flags: one line on stderr, exit code 2", arguments: [
        (["account", "dpsgd", "--sampling-rate", "2", "--noise-multiplier", "1", "--steps", "1", "--delta", "1e-5"],
         "error: --sampling-rate must be in (0, 1], got 2.0"),
        (["account", "dpsgd", "--sampling-rate", "0.1", "--noise-multiplier", "1", "--steps", "1"],
         "error: Missing expected argument '--delta <delta>'"),
        (["account", "dpsgd", "--sampling-rate", "0.1", "--noise-multiplier", "0", "--steps", "1", "--delta", "1e-5"],
         "error: --noise-multiplier must be a finite number > 0, got 0.0"),
        (["account", "calibrate", "--target-epsilon", "-1", "--sampling-rate", "0.1", "--steps", "1", "--delta", "1e-5"],
         "error: --target-epsilon must be a finite number > 0, got -1.0"),
        (["account", "dpsgd", "--sampling-rate", "0.1", "--noise-multiplier", "1", "--steps", "1", "--delta", "1e-5",
          "--accountant", "moments"],
         "error: The value 'moments' is invalid for '--accountant <accountant>'. Please provide one of 'rdp' and 'pld'."),
    ])
    func badFlags(arguments: [String], message: String) throws {
        let run = try runVeil(arguments)
        #expect(run.status == 2)
        #expect(run.stdout.isEmpty)
        #expect(run.stderr == message + "\n")
    }

    @Test("--help teaches: it explains the event and shows examples")
    func help() throws {
        let run = try runVeil(["account", "--help"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("selfComposed(poissonSampled(q, gaussian(σ)), T)"))
        #expect(run.stdout.contains("veil account calibrate --target-epsilon"))
    }
}
