import Accounting
import ArgumentParser
import Foundation

struct AccountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account",
        abstract: "Privacy accountants: ε of a DP-SGD run, or the noise multiplier for a target ε.",
        discussion: HelpText.reflow("""
        A DP-SGD run of T steps that samples each example with probability q (Poisson sampling)
        and adds Gaussian noise of standard deviation σ·C to gradients clipped to norm C is the
        event selfComposed(poissonSampled(q, gaussian(σ)), T). Two accountants analyse it:

          rdp  Rényi DP over dp_accounting's orders with the improved conversion of
               Balle et al. 2020 (fast; slightly loose).
          pld  Privacy-loss distributions, pessimistically discretised and composed
               by FFT (tight; a little slower).

        Examples:
          veil account dpsgd --sampling-rate 0.004267 --noise-multiplier 1.1 --steps 10000 --delta 1e-5
          veil account calibrate --target-epsilon 3 --sampling-rate 0.004267 --steps 14060 --delta 1e-5 --json
        """),
        subcommands: [DPSGDEpsilon.self, CalibrateNoise.self]
    )
}

/// `--accountant rdp|pld`.
extension AccountantKind: ExpressibleByArgument {}

/// Options shared by the DP-SGD accounting commands.
struct DPSGDOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Poisson sampling rate q = expected batch size / data-set size, in (0, 1].", transform: DecimalArgument.parse)
    var samplingRate: Double

    @Option(parsing: .unconditional, help: "Number of DP-SGD steps (≥ 1).")
    var steps: Int

    @Option(parsing: .unconditional, help: "Target δ, in (0, 1); well below 1/N for N examples.", transform: DecimalArgument.parse)
    var delta: Double

    @Option(help: "Accountant: \(AccountantKind.allValueStrings.joined(separator: " or ")).")
    var accountant: AccountantKind = .rdp

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    /// The run's setting as JSON fields, after the command's own.
    var settingFields: [(String, JSONValue)] {
        [("delta", .number(delta)), ("accountant", .string(accountant.rawValue)),
         ("sampling_rate", .number(samplingRate)), ("steps", .number(Double(steps)))]
    }

    func validate() throws {
        guard samplingRate.isFinite, samplingRate > 0, samplingRate <= 1 else {
            throw ValidationError("--sampling-rate must be in (0, 1], got \(samplingRate)")
        }
        guard steps >= 1 else { throw ValidationError("--steps must be ≥ 1, got \(steps)") }
        guard delta.isFinite, delta > 0, delta < 1 else {
            throw ValidationError("--delta must be in the open interval (0, 1), got \(delta)")
        }
    }
}

struct DPSGDEpsilon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpsgd",
        abstract: "Print the ε of a DP-SGD run (and the best Rényi order with --accountant rdp).")

    @OptionGroup var options: DPSGDOptions

    @Option(parsing: .unconditional, help: "Noise multiplier σ: noise standard deviation divided by the clipping norm (> 0).", transform: DecimalArgument.parse)
    var noiseMultiplier: Double

    func validate() throws {
        guard noiseMultiplier.isFinite, noiseMultiplier > 0 else {
            throw ValidationError("--noise-multiplier must be a finite number > 0, got \(noiseMultiplier)")
        }
    }

    func run() throws {
        let event = NoiseCalibration.dpsgdEvent(
            samplingRate: options.samplingRate, noiseMultiplier: noiseMultiplier, steps: options.steps)
        let epsilon: Double, order: Double?
        switch options.accountant {
        case .rdp:
            (epsilon, order) = try RDPAccountant().epsilonAndOrder(for: event, delta: options.delta)
        case .pld:
            (epsilon, order) = (try options.accountant.makeAccountant().epsilon(for: event, delta: options.delta), nil)
        }
        if options.json {
            let orderField: [(String, JSONValue)] = order.map { [("order", .number($0))] } ?? []
            print(JSONValue.object([("epsilon", .number(epsilon))] + orderField
                                   + [("noise_multiplier", .number(noiseMultiplier))] + options.settingFields).rendered)
        } else {
            // No finite bound at any order (a noise multiplier too small for any guarantee): ε is unbounded, and
            // there is no best order to name.
            let bound = epsilon.isFinite ? format(epsilon) : "∞ (no finite bound: the noise is too small)"
            let line = "ε = \(bound) at δ = \(options.delta) (\(options.accountant.rawValue) accountant"
                + (order.flatMap { $0.isFinite ? ", best order α = \(format($0))" : nil } ?? "")
            print(line + ")")
        }
    }
}

struct CalibrateNoise: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Print the smallest noise multiplier σ whose DP-SGD ε stays within a target.")

    @OptionGroup var options: DPSGDOptions

    @Option(parsing: .unconditional, help: "Target ε (> 0).", transform: DecimalArgument.parse)
    var targetEpsilon: Double

    func validate() throws {
        guard targetEpsilon.isFinite, targetEpsilon > 0 else {
            throw ValidationError("--target-epsilon must be a finite number > 0, got \(targetEpsilon)")
        }
    }

    func run() throws {
        let (sigma, epsilon) = try NoiseCalibration.noiseMultiplier(
            targetEpsilon: targetEpsilon, samplingRate: options.samplingRate, steps: options.steps,
            delta: options.delta, accountant: options.accountant.makeAccountant())
        if options.json {
            print(JSONValue.object([("noise_multiplier", .number(sigma)), ("epsilon", .number(epsilon)),
                                    ("target_epsilon", .number(targetEpsilon))] + options.settingFields).rendered)
        } else {
            print("σ = \(format(sigma)) gives ε = \(format(epsilon)) ≤ \(format(targetEpsilon)) at δ = \(options.delta) "
                  + "(\(options.accountant.rawValue) accountant, q = \(options.samplingRate), \(options.steps) steps)")
        }
    }
}

/// Six significant digits for people; JSON output keeps full precision.
func format(_ value: Double) -> String { String(format: "%.6g", value) }
