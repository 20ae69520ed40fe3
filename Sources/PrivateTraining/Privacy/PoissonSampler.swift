import Mechanisms

/// Poisson sampling of a data set: each example joins a batch independently with probability
/// `q`, so the batch size is random with mean `q·N`. This is the sampling that the RDP and PLD
/// analyses of DP-SGD assume (docs/design.md §2 rule 5; Mironov et al. 2019; Abadi et al. 2016).
public struct PoissonSampler: Sendable {
    /// The sampling rate `q ∈ (0, 1]`.
    public let samplingRate: Double
    /// The number of examples `N`.
    public let populationSize: Int
    /// Inclusion threshold: an example is kept when a uniform 64-bit word is below it
    /// (exact to 2⁻⁶⁴; `nil` means always, for q = 1).
    private let threshold: UInt64?

    /// A sampler of rate `samplingRate` over `populationSize` examples.
    /// - Throws: `VeilError.invalidParameter` unless `0 < q ≤ 1` and `N ≥ 1`.
    public init(samplingRate: Double, populationSize: Int) throws {
        guard samplingRate.isFinite, samplingRate > 0, samplingRate <= 1 else {
            throw VeilError.invalidParameter("sampling rate", samplingRate, allowed: "in the interval (0, 1]")
        }
        try ParameterCheck.count(populationSize, name: "data set size", minimum: 1)
        self.samplingRate = samplingRate
        self.populationSize = populationSize
        threshold = samplingRate == 1 ? nil : UInt64((samplingRate * 0x1p64).rounded(.down))
    }

    /// The expected size of a batch of this population, `q` times the number of examples present.
    /// (DP-SGD divides by the plan's `q·N` with the declared `N` instead, a constant of the pipeline.)
    public var expectedBatchSize: Double { samplingRate * Double(populationSize) }

    /// What the privacy card says of where the inclusion decisions come from in training.
    public static let randomnessDescription =
        "one 64-bit word per candidate (example or client) from an AES-256-CTR fast-key-erasure stream keyed "
        + "with 256 bits from the OS CSPRNG, a new stream for each batch"

    /// One batch: the indices of the selected examples in increasing order.
    ///
    /// With the OS CSPRNG (``SecureRandomSource``, what training uses), the `N` words of one batch come
    /// from a ``KeyErasingAESStream`` keyed with four words of `random`, a new stream per call: the
    /// kernel's generator gave 28–55 MB/s here, and reading 8 bytes per example from it took longer
    /// than an MLP step's arithmetic (480 KB per step for MNIST). Any other source (a seeded one in
    /// tests) is read directly, one word per example in order.
    /// - Parameter random: the source of the inclusion decisions (``SecureRandomSource`` for training).
    public func sample<R: RandomSource>(using random: inout R) -> [Int] {
        guard let threshold else { return Array(0..<populationSize) }
        guard R.self == SecureRandomSource.self else { return select(below: threshold, using: &random) }
        var stream = KeyErasingAESStream(keyFrom: &random)
        return select(below: threshold, using: &stream)
    }

    /// The examples whose word of `random` is below `threshold`, in order.
    private func select<R: RandomSource>(below threshold: UInt64, using random: inout R) -> [Int] {
        var selected: [Int] = []
        selected.reserveCapacity(Int(expectedBatchSize * 1.2) + 16)
        for i in 0..<populationSize where random.next() < threshold {
            selected.append(i)
        }
        return selected
    }
}
