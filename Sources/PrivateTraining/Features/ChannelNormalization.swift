import LinearAlgebra
import Mechanisms

/// A fixed per-channel affine map `y = (x − shift_c) · scale_c` on channel-last images: the
/// normalisation whose statistics ``DPChannelNormalization`` released under DP. Its shift and scale
/// travel in the layer's specification (``LayerSpecification/channelNormalization(shift:scale:)``), so
/// a model file that holds it normalises raw inputs as training did. Like ``GroupNormalizationLayer``
/// it belongs to the fixed feature layers that open a model and has no backward pass.
public struct ChannelNormalizationLayer: Layer {
    /// Input and output shape.
    public let shape: ImageShape
    /// Subtracted from channel `c`.
    public let shift: [Float]
    /// Then multiplied into channel `c`.
    public let scale: [Float]

    /// A normalisation of `shape` images; `shift` and `scale` have one finite entry per channel, the scales > 0.
    /// - Throws: `VeilError.invalidParameter` otherwise (a model file's specification is checked here).
    public init(shape: ImageShape, shift: [Float], scale: [Float]) throws {
        guard shift.count == shape.channels, scale.count == shape.channels else {
            throw VeilError(.invalidParameter, "channel normalisation has \(shift.count) shifts and \(scale.count) "
                            + "scales for the \(shape.channels) channels of \(shape)")
        }
        guard shift.allSatisfy(\.isFinite), scale.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw VeilError(.invalidParameter, "channel normalisation needs finite shifts and finite scales > 0")
        }
        self.shape = shape
        self.shift = shift
        self.scale = scale
    }

    public var specification: LayerSpecification { .channelNormalization(shift: shift, scale: scale) }
    public var outputShape: ImageShape { shape }

    public mutating func forward(_ x: Matrix) -> Matrix {
        var y = x
        let channels = shape.channels
        let (shift, scale) = (self.shift, self.scale)
        y.storage.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let count = buffer.count
            // Value i belongs to channel i mod channels (rows are whole images, channel-last).
            ParallelSlices.run(count / channels, minimumItems: 4096) { pixels in
                for p in pixels {
                    let row = base + p * channels
                    for c in 0..<channels { row[c] = (row[c] - shift[c]) * scale[c] }
                }
            }
        }
        return y
    }

    public mutating func backward(_ g: Matrix, needsInputGradient: Bool) -> Matrix? {
        precondition(!needsInputGradient, "channel normalisation belongs to the fixed feature layers and has no input gradient")
        return nil
    }
    public mutating func clearCaches() {}
}

/// Per-channel normalisation with statistics of the whole training set released under differential
/// privacy: Tramèr & Boneh 2021 ("Differentially Private Learning Needs Better Features (or Much More
/// Data)", §3 and their code's `scatter_normalization`) normalise scattering features by each channel's
/// mean and variance over the training set, computed with the Gaussian mechanism and composed with
/// DP-SGD.
///
/// For each example, the vector of its channels' means over positions, `m ∈ ℝ^d`, and of its channels'
/// mean squares, `s ∈ ℝ^d`, are clipped to L2 norms ``meanClip`` and ``squareClip`` (a non-finite vector
/// counts as zero, docs/design.md §2 rule 8). Adding or removing one example moves each sum by at most
/// its clip in L2. Each sum is released with the discrete Gaussian on a power-of-two grid `g`
/// (docs/design.md §2 rule 1; ``Granularity``): rounding all `d` coordinates moves the sum by at most
/// `√d·g/2` in L2, so the sensitivity in grid units is `Δ_g = ⌈C/g + √d⌉`, and `σ_g = σ·Δ_g` (rounded
/// up to 12 significant bits) gives each release ρ ≤ 1/(2σ²) (Canonne, Kamath, Steinke 2020, Thm. 14;
/// the term their theorem adds for d > 1 is below 10⁻¹⁰⁰⁰ at σ_g ≈ 2²⁰). The noisy sums are divided by
/// the declared number of examples `N`, never the counted one: `μ_c = M_c/N`, `v_c = max(S_c/N − μ_c², 0)`,
/// and the layer maps `x ↦ (x − μ_c)/√(v_c + 10⁻⁵)`.
///
/// The clips are public settings, chosen without looking at the data (Tramèr & Boneh clip at the
/// median norm of the data, which they note leaks a little; Veil does not). Clipping more than the
/// data needs biases the means towards zero; clipping less adds noise.
public struct DPChannelNormalization: Sendable, Hashable {
    /// σ of each release, in units of its clip.
    public var noiseMultiplier: Double
    /// The L2 clip of an example's vector of channel means.
    public var meanClip: Double
    /// The L2 clip of an example's vector of channel mean squares.
    public var squareClip: Double

    /// The smallest noise multiplier: it keeps every clipped sum of up to 10¹⁰ examples below 2⁶² grid
    /// units (`N·C/g ≤ N·2²¹/σ`), so no release can fail on the data's values after the charge.
    public static let minimumNoiseMultiplier = 0.1

    /// A DP channel normalisation.
    /// - Throws: `VeilError.invalidParameter` when a setting is outside `(0, TrainingLimits.largestReal]` (as
    ///   `clip_norm` and DP-SGD's noise multiplier), or the noise multiplier is below ``minimumNoiseMultiplier``.
    public init(noiseMultiplier: Double, meanClip: Double, squareClip: Double) throws {
        guard noiseMultiplier.isFinite, noiseMultiplier >= Self.minimumNoiseMultiplier else {
            throw VeilError.invalidParameter("normalization noise_multiplier", noiseMultiplier,
                                             allowed: "a finite number of at least \(Self.minimumNoiseMultiplier)")
        }
        try TrainingLimits.checkPositive(noiseMultiplier, name: "normalization noise_multiplier")
        try TrainingLimits.checkPositive(meanClip, name: "normalization mean_clip")
        try TrainingLimits.checkPositive(squareClip, name: "normalization square_clip")
        self.noiseMultiplier = noiseMultiplier
        self.meanClip = meanClip
        self.squareClip = squareClip
    }

    /// One of the two releases: its grid, sensitivity and σ in grid units, fixed by the settings and the
    /// number of channels alone.
    struct Release: Sendable {
        let grid: Granularity
        let integerSensitivity: Int
        let integerSigma: Double

        init(clip: Double, noiseMultiplier: Double, channels: Int) throws {
            grid = try Granularity(noiseScale: noiseMultiplier * clip)
            let units = (clip / grid.value + Double(channels).squareRoot()).rounded(.up)
            guard units < 0x1p52 else {
                throw VeilError(.invalidParameter, "normalization clip \(clip) is too large for its grid")
            }
            integerSensitivity = Int(units)
            integerSigma = GaussianCalibration.roundUpToGrid(noiseMultiplier * units)
        }

        var event: DPEvent { .discreteGaussian(sigma: integerSigma, sensitivity: integerSensitivity) }

        /// `g·(round(sum/g) + Y)` per coordinate, `Y` drawn with fixed work per accepted round (no timing channel).
        func noisy<R: RandomSource>(_ sums: [Double], using random: inout R) throws -> [Double] {
            let sampler = try DiscreteGaussianSampler(sigma: integerSigma)
            return try sums.map { sum in
                grid.value(ofIndex: Int(clamping: Int128(try grid.index(of: sum)) + Int128(sampler.sampleWithFixedWork(using: &random))))
            }
        }
    }

    /// The two releases for images of `channels` channels.
    func releases(channels: Int) throws -> (mean: Release, square: Release) {
        (try Release(clip: meanClip, noiseMultiplier: noiseMultiplier, channels: channels),
         try Release(clip: squareClip, noiseMultiplier: noiseMultiplier, channels: channels))
    }

    /// The privacy cost of the statistics of `channels`-channel images: two discrete Gaussian releases,
    /// each with ρ ≤ 1/(2σ²). Known before any data is read.
    public func event(channels: Int) throws -> DPEvent {
        let (mean, square) = try releases(channels: channels)
        return .composed([mean.event, square.event])
    }

    /// The clipped sums `Σ clip(m)` and `Σ clip(s)` over the examples (rows of `features`, channel-last
    /// images of `shape`), before noise.
    func clippedSums(features: Matrix, shape: ImageShape) -> (means: [Double], squares: [Double]) {
        let (channels, positions) = (shape.channels, shape.height * shape.width)
        var meanSum = [Double](repeating: 0, count: channels)
        var squareSum = [Double](repeating: 0, count: channels)
        var m = [Double](repeating: 0, count: channels)
        var s = [Double](repeating: 0, count: channels)
        features.storage.withUnsafeBufferPointer { buffer in
            for r in 0..<features.rows {
                for c in 0..<channels { (m[c], s[c]) = (0, 0) }
                let row = buffer.baseAddress! + r * shape.count
                for p in 0..<positions {
                    for c in 0..<channels {
                        let v = Double(row[p * channels + c])
                        m[c] += v
                        s[c] += v * v
                    }
                }
                let mFactor = Self.clipFactor(&m, divisor: Double(positions), clip: meanClip)
                let sFactor = Self.clipFactor(&s, divisor: Double(positions), clip: squareClip)
                // A factor of 0 (a non-finite vector) adds nothing: ∞ · 0 would add NaN.
                for c in 0..<channels where mFactor > 0 { meanSum[c] += m[c] * mFactor }
                for c in 0..<channels where sFactor > 0 { squareSum[c] += s[c] * sFactor }
            }
        }
        return (meanSum, squareSum)
    }

    /// Divides `v` by `divisor` in place and returns the factor that clips it to L2 norm `clip`
    /// (0 when a value or the norm is not finite).
    private static func clipFactor(_ v: inout [Double], divisor: Double, clip: Double) -> Double {
        var squared = 0.0
        for i in v.indices {
            v[i] /= divisor
            squared += v[i] * v[i]
        }
        guard squared.isFinite else { return 0 }
        let norm = squared.squareRoot()
        return norm > clip ? clip / norm : 1
    }

    /// Releases the statistics of `features` (rows: channel-last images of `shape`) and returns the
    /// layer that normalises with them. Call only once the cost of ``event(channels:)`` is reserved.
    /// - Parameters:
    ///   - declaredSize: the declared number of training examples `N` (public), the divisor of both sums.
    ///   - random: the noise source: ``SecureRandomSource`` outside tests.
    /// - Throws: `VeilError.invalidParameter` when a setting does not fit its grid.
    public func release<R: RandomSource>(features: Matrix, shape: ImageShape, declaredSize: Int,
                                         using random: inout R) throws -> ChannelNormalizationLayer {
        let (meanRelease, squareRelease) = try releases(channels: shape.channels)
        let sums = clippedSums(features: features, shape: shape)
        let n = Double(declaredSize)
        let means = try meanRelease.noisy(sums.means, using: &random).map { $0 / n }
        let squares = try squareRelease.noisy(sums.squares, using: &random).map { $0 / n }
        let scales = zip(means, squares).map { mean, square in
            1 / (max(square - mean * mean, 0) + GroupNormalizationLayer.varianceEpsilon).squareRoot()
        }
        return try ChannelNormalizationLayer(shape: shape, shift: means.map { Float($0) },
                                             scale: scales.map { Float($0) })
    }

    /// The privacy card's description.
    public var cardNote: String {
        "per-channel normalisation: each channel's mean and mean square over the training set, released with "
            + "the discrete Gaussian (σ = \(noiseMultiplier) × clip; L2 clips \(meanClip) and \(squareClip) per "
            + "example), divided by the declared N; its cost is part of this model's ε"
    }
}
