import Mechanisms

/// The mechanisms `veil audit mechanism` knows, by name, each with its worst-case neighbouring inputs.
public enum MechanismCatalog {
    /// One mechanism of the catalogue.
    public struct Entry: Sendable {
        /// The name on the command line, e.g. `discrete-laplace`.
        public let name: String
        /// Whether the mechanism claims (ε, δ) with δ > 0 (and so needs a δ), rather than pure ε.
        public let needsDelta: Bool
        /// One line on what is audited.
        public let summary: String
        let make: @Sendable (_ epsilon: Double, _ delta: Double) throws -> any AuditTarget
    }

    /// Every mechanism, in the order `--help` lists them.
    public static let entries: [Entry] = [
        Entry(name: "discrete-laplace", needsDelta: false, summary: "integer Laplace noise on a count (0 vs 1)") {
            epsilon, _ in try DiscreteLaplaceAuditTarget(epsilon: epsilon)
        },
        Entry(name: "discrete-gaussian", needsDelta: true, summary: "integer Gaussian noise on a count (0 vs 1)") {
            epsilon, delta in try DiscreteGaussianAuditTarget(epsilon: epsilon, delta: delta)
        },
        Entry(name: "granular-laplace", needsDelta: false, summary: "Laplace noise on a grid for a real sum (0 vs 1)") {
            epsilon, _ in try GranularLaplaceAuditTarget(epsilon: epsilon)
        },
        Entry(name: "granular-gaussian", needsDelta: true, summary: "Gaussian noise on a grid for a real sum (0 vs 1)") {
            epsilon, delta in try GranularGaussianAuditTarget(epsilon: epsilon, delta: delta)
        },
        Entry(name: "report-noisy-max", needsDelta: false, summary: "selection of the largest noisy score") {
            epsilon, _ in try ReportNoisyMaxAuditTarget(epsilon: epsilon)
        },
        Entry(name: "permute-and-flip", needsDelta: false, summary: "selection by permute-and-flip") {
            epsilon, _ in try PermuteAndFlipAuditTarget(epsilon: epsilon)
        },
        Entry(name: "sparse-vector", needsDelta: false, summary: "the first query above a noisy threshold") {
            epsilon, _ in try SparseVectorAuditTarget(epsilon: epsilon)
        },
        Entry(name: "partition-selection", needsDelta: true,
              summary: "release of a group of one unit past the threshold") {
            epsilon, delta in try PartitionSelectionAuditTarget(epsilon: epsilon, delta: delta)
        },
        Entry(name: "randomized-response", needsDelta: false, summary: "binary randomised response (local)") {
            epsilon, _ in try BinaryRandomizedResponseAuditTarget(epsilon: epsilon)
        },
        Entry(name: "kary-randomized-response", needsDelta: false, summary: "4-ary randomised response (local)") {
            epsilon, _ in try KaryRandomizedResponseAuditTarget(epsilon: epsilon)
        },
    ]

    /// The names, in catalogue order.
    public static var names: [String] { entries.map(\.name) }

    /// The audit target for `name` at the claimed (ε, δ).
    ///
    /// - Parameters:
    ///   - name: a name from ``names``.
    ///   - epsilon: the claimed ε, finite and > 0.
    ///   - delta: the claimed δ: in (0, 1) for a mechanism that ``Entry/needsDelta``, else 0.
    /// - Throws: ``VeilError`` (`invalid_parameter`) for an unknown name, a δ missing or not applicable, or a
    ///   parameter the mechanism refuses.
    public static func target(named name: String, epsilon: Double, delta: Double = 0) throws -> any AuditTarget {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw VeilError.invalidParameter("mechanism", name, allowed: "one of \(names.joined(separator: ", "))")
        }
        if entry.needsDelta {
            try ParameterCheck.delta(delta)
        } else if delta != 0 {
            throw VeilError(.invalidParameter, "\(name) is ε-DP (δ = 0): a delta does not apply, got \(delta)")
        }
        return try entry.make(epsilon, delta)
    }
}
