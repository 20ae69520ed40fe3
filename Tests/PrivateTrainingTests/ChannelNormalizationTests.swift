import _TestSupport
import Accounting
import Foundation
import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

@Suite struct ChannelNormalizationTests {
    @Test func layerKnownAnswer() throws {
        // Two positions × three channels, channel-last: (x − shift_c) · scale_c.
        var layer = try ChannelNormalizationLayer(shape: ImageShape(height: 1, width: 2, channels: 3),
                                                  shift: [1, 2, 3], scale: [2, 0.5, 1])
        let y = layer.forward(Matrix(rows: 1, columns: 6, storage: [1, 2, 3, 4, 5, 6]))
        #expect(y.storage == [0, 0, 0, 6, 1.5, 3])
    }

    @Test func specificationRoundTripsAndBadStatisticsAreRefused() throws {
        let specification = LayerSpecification.channelNormalization(shift: [0.125, -3.5e-7], scale: [316.2, 1 / 3])
        let decoded = try JSONDecoder().decode(LayerSpecification.self, from: JSONEncoder().encode(specification))
        #expect(decoded == specification)
        var random = InsecureSeededRandomSource(seed: 1)
        let shape = ImageShape(height: 2, width: 2, channels: 2)
        #expect(throws: VeilError(.invalidParameter, "channel normalisation has 3 shifts and 3 scales for the 2 channels of \(shape)")) {
            try LayerSpecification.channelNormalization(shift: [0, 0, 0], scale: [1, 1, 1]).makeLayer(inputShape: shape, random: &random)
        }
        for (shift, scale): ([Float], [Float]) in [([.nan, 0], [1, 1]), ([0, 0], [1, 0]), ([0, 0], [.infinity, 1])] {
            #expect(throws: VeilError(.invalidParameter, "channel normalisation needs finite shifts and finite scales > 0")) {
                try LayerSpecification.channelNormalization(shift: shift, scale: scale).makeLayer(inputShape: shape, random: &random)
            }
        }
        #expect(throws: VeilError(.invalidParameter, "channel normalisation of 3 channels does not fit the 2 channels of 2x2x2")) {
            try ArchitectureFootprint(architecture: [.channelNormalization(shift: [0, 0, 0], scale: [1, 1, 1]), .flatten,
                                                     .dense(units: 2)], inputShape: shape)
        }
    }

    /// One example moves each clipped sum by at most its clip, whatever its values; a non-finite one by nothing.
    @Test func clippedSumsBoundEveryExample() throws {
        let normalization = try DPChannelNormalization(noiseMultiplier: 1, meanClip: 1, squareClip: 0.5)
        let shape = ImageShape(height: 1, width: 2, channels: 2)
        let typical: [Float] = [0.1, 0.2, 0.3, 0.4]  // m = (0.2, 0.3), s = (0.05, 0.1): inside both clips
        let huge = [Float](repeating: 1e30, count: 4)
        let infinite: [Float] = [.infinity, 0, 0, 0]
        let nan: [Float] = [0, .nan, 0, 0]
        func sums(_ rows: [[Float]]) -> (means: [Double], squares: [Double]) {
            normalization.clippedSums(features: Matrix(rows: rows.count, columns: 4, storage: rows.flatMap { $0 }), shape: shape)
        }
        let alone = sums([typical])
        #expect(zip(alone.means, [0.2, 0.3]).allSatisfy { abs($0 - $1) < 1e-7 })
        #expect(zip(alone.squares, [0.05, 0.1]).allSatisfy { abs($0 - $1) < 1e-7 })
        let withHuge = sums([typical, huge])
        let meanStep = zip(withHuge.means, alone.means).map { $0 - $1 }
        let squareStep = zip(withHuge.squares, alone.squares).map { $0 - $1 }
        #expect(abs(hypot(meanStep[0], meanStep[1]) - 1) < 1e-9)
        #expect(abs(hypot(squareStep[0], squareStep[1]) - 0.5) < 1e-9)
        let withBroken = sums([typical, infinite, nan])
        #expect(withBroken.means == alone.means && withBroken.squares == alone.squares)
    }

    /// The noise of one release: σ·(clip + g·√d) in real units up to the 12-bit rounding of σ_g, zero mean,
    /// and an event of ρ ≤ 1/(2σ²). 4,000 draws: the sample standard deviation is within 10% of σ with
    /// probability 1 − 10⁻¹⁸ (its relative standard error is 1.1%), the mean within 6 standard errors
    /// (false failure 2·10⁻⁹).
    @Test func releaseNoiseIsCalibrated() throws {
        let (sigma, clip, channels) = (8.0, 0.25, 4000)
        let release = try DPChannelNormalization.Release(clip: clip, noiseMultiplier: sigma, channels: channels)
        let realSigma = release.integerSigma * release.grid.value
        #expect(realSigma >= sigma * clip)
        #expect(realSigma <= sigma * (clip + release.grid.value * (Double(channels).squareRoot() + 1)) * 1.001)
        let rho = Double(release.integerSensitivity * release.integerSensitivity) / (2 * release.integerSigma * release.integerSigma)
        #expect(rho <= 1 / (2 * sigma * sigma) && rho >= 0.999 / (2 * sigma * sigma))
        var random = InsecureSeededRandomSource(seed: 7)
        let noisy = try release.noisy([Double](repeating: 0.5, count: channels), using: &random)
        let mean = noisy.reduce(0, +) / Double(channels)
        let sd = (noisy.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(channels - 1)).squareRoot()
        #expect(abs(sd / realSigma - 1) < 0.1, "sample sd \(sd) against σ \(realSigma)")
        #expect(abs(mean - 0.5) < 6 * realSigma / Double(channels).squareRoot())
        // Every released value is on the grid.
        #expect(noisy.allSatisfy { ($0 / release.grid.value).rounded() == $0 / release.grid.value })
    }

    /// The layer released from 20,000 examples of two channels (means 2 and −1, standard deviations 0.5 and
    /// 3) shifts by the means and scales by 1/standard deviation, from noisy sums over the declared N. The
    /// noise on the means is σ·clip/N = 5·10⁻⁴ and on the mean squares 10⁻², so the tolerances below are
    /// more than 10 noise standard deviations plus the sampling error of the data.
    @Test func releasedLayerNormalisesWithTheNoisyStatistics() throws {
        let n = 20_000
        var random = InsecureSeededRandomSource(seed: 3)
        var sampler = GaussianNoiseSampler()
        var values: [Float] = []
        for _ in 0..<n {
            values.append(Float(2 + 0.5 * sampler.next(using: &random)))
            values.append(Float(-1 + 3 * sampler.next(using: &random)))
        }
        let shape = ImageShape(height: 1, width: 1, channels: 2)
        let normalization = try DPChannelNormalization(noiseMultiplier: 0.5, meanClip: 20, squareClip: 400)
        let layer = try normalization.release(features: Matrix(rows: n, columns: 2, storage: values), shape: shape,
                                              declaredSize: n, using: &random)
        #expect(abs(layer.shift[0] - 2) < 0.02 && abs(layer.shift[1] + 1) < 0.06)
        #expect(abs(layer.scale[0] * 0.5 - 1) < 0.03 && abs(layer.scale[1] * 3 - 1) < 0.03)
        // The divisor is the declared N: declaring twice as many halves the mean.
        let halved = try normalization.release(features: Matrix(rows: n, columns: 2, storage: values), shape: shape,
                                               declaredSize: 2 * n, using: &random)
        #expect(abs(halved.shift[0] - 1) < 0.02)
    }

    /// σ is calibrated for the statistics and the steps together, and the plan's event holds both.
    @Test func planChargesTheStatisticsWithTheSteps() throws {
        let normalization = try DPChannelNormalization(noiseMultiplier: 8, meanClip: 0.3, squareClip: 0.1)
        let statistics = try normalization.event(channels: 81)
        let training = TrainingSettings(epochs: 10, expectedBatchSize: 4096, learningRate: 4)
        let privacy = PrivacySettings(targetEpsilon: 3, delta: 1e-5, clipNorm: 0.1)
        let alone = try TrainingPlan(datasetSize: 60_000, training: training, privacy: privacy)
        let both = try TrainingPlan(datasetSize: 60_000, training: training, privacy: privacy, preprocessing: statistics)
        let accountant = try AccountantKind.rdp.makeAccountant()
        #expect(both.noiseMultiplier! > alone.noiseMultiplier!)
        #expect(both.plannedEpsilon! <= 3 && both.plannedEpsilon! > 2.99)
        let event = try #require(both.event(stepsTaken: both.steps))
        #expect(event == .composed([statistics, NoiseCalibration.dpsgdEvent(samplingRate: both.samplingRate,
                                                                           noiseMultiplier: both.noiseMultiplier!,
                                                                           steps: both.steps)]))
        #expect(abs(try accountant.epsilon(for: event, delta: 1e-5) - both.plannedEpsilon!) < 1e-12)
        // The statistics alone cost something, and the steps of the composed plan alone cost less than 3.
        #expect(try accountant.epsilon(for: statistics, delta: 1e-5) > 0.1)
        #expect(try accountant.epsilon(for: NoiseCalibration.dpsgdEvent(samplingRate: both.samplingRate,
                                                                        noiseMultiplier: both.noiseMultiplier!,
                                                                        steps: both.steps), delta: 1e-5) < 2.9)
        #expect(throws: VeilError(.invalidParameter, "a release under DP before training needs a DP training run (a privacy section)")) {
            try TrainingPlan(datasetSize: 60_000, training: training, privacy: nil, preprocessing: statistics)
        }
        #expect(throws: VeilError(.invalidParameter, "normalization noise_multiplier must be a finite number of at least 0.1, got 0.05")) {
            try DPChannelNormalization(noiseMultiplier: 0.05, meanClip: 0.3, squareClip: 0.1)
        }
        let greedy = try DPChannelNormalization(noiseMultiplier: 0.2, meanClip: 0.3, squareClip: 0.1)
        #expect(throws: VeilError.self) {
            try TrainingPlan(datasetSize: 60_000, training: training, privacy: privacy,
                             preprocessing: greedy.event(channels: 81))
        }
    }
}
