import LinearAlgebra
import Mechanisms

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The update rule applied to the (noisy, averaged) gradient.
public enum OptimizerKind: Sendable, Hashable, Codable {
    /// SGD with heavy-ball momentum `μ` (0 for plain SGD): `v ← μv + g`, `θ ← θ − ηv`.
    case sgd(momentum: Double)
    /// Adam (Kingma & Ba 2015) with the usual bias correction; DP-Adam when the gradient is noisy.
    case adam(beta1: Double, beta2: Double, epsilon: Double)

    /// A short name for reports.
    public var name: String {
        switch self {
        case .sgd(let m): m == 0 ? "sgd" : "sgd(momentum \(m))"
        case .adam: "adam"
        }
    }
}

/// Optimizer state over a list of parameter tensors. Updates only read the privatised gradient,
/// so they are post-processing and cost no privacy.
public struct Optimizer: Sendable {
    /// The update rule.
    public let kind: OptimizerKind
    /// The learning rate η.
    public var learningRate: Float
    private var first: [[Float]] = []
    private var second: [[Float]] = []
    private var step = 0

    /// An optimizer with zero state.
    /// - Throws: `VeilError.invalidParameter` on a learning rate ≤ 0, momentum or Adam betas outside `[0, 1)`, or
    ///   an Adam epsilon outside `(0, 1]`.
    public init(kind: OptimizerKind, learningRate: Double) throws {
        try ParameterCheck.positive(learningRate, name: "learning rate")
        switch kind {
        case .sgd(let m):
            guard m >= 0, m < 1 else { throw VeilError.invalidParameter("momentum", m, allowed: "in [0, 1)") }
        case .adam(let b1, let b2, let e):
            guard b1 >= 0, b1 < 1, b2 >= 0, b2 < 1, e > 0, e <= 1 else {
                throw VeilError(.invalidParameter, "adam needs 0 ≤ beta1, beta2 < 1 and 0 < epsilon ≤ 1")
            }
        }
        self.kind = kind
        self.learningRate = Float(learningRate)
    }

    /// Applies one update to `parameters` from `gradients` (same shapes).
    public mutating func update(_ parameters: inout [Matrix], gradients: [Matrix]) {
        precondition(parameters.count == gradients.count, "one gradient per parameter")
        if first.isEmpty {
            first = gradients.map { [Float](repeating: 0, count: $0.count) }
            if case .adam = kind { second = first }
        }
        step += 1
        switch kind {
        case .sgd(let momentum):
            for i in parameters.indices {
                if momentum == 0 {
                    parameters[i].add(gradients[i], scaledBy: -learningRate)
                } else {
                    Vector.scale(&first[i], by: Float(momentum))
                    Vector.axpy(1, gradients[i].storage, &first[i])
                    Vector.axpy(-learningRate, first[i], &parameters[i].storage)
                }
            }
        case .adam(let beta1, let beta2, let epsilon):
            let b1 = Float(beta1), b2 = Float(beta2), eps = Float(epsilon)
            let correction1 = 1 - Float(pow(beta1, Double(step)))
            let correction2 = 1 - Float(pow(beta2, Double(step)))
            let stepSize = learningRate / correction1
            for i in parameters.indices {
                let g = gradients[i].storage
                var m = first[i], v = second[i], p = parameters[i].storage
                for j in 0..<g.count {
                    m[j] = b1 * m[j] + (1 - b1) * g[j]
                    v[j] = b2 * v[j] + (1 - b2) * g[j] * g[j]
                    p[j] -= stepSize * m[j] / ((v[j] / correction2).squareRoot() + eps)
                }
                first[i] = m
                second[i] = v
                parameters[i].storage = p
            }
        }
    }
}
