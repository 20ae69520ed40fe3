import Crypto
import Foundation
import Mechanisms
import Testing
@testable import PrivateTraining

/// Hands out fixed words in order: the ziggurat's known answers on chosen bits.
private struct FixedWords: RandomSource {
    var words: [UInt64]
    var position = 0
    init(_ words: [UInt64]) { self.words = words }
    mutating func next() -> UInt64 {
        defer { position += 1 }
        return words[position]
    }
}

@Suite("Gaussian noise: the ziggurat and the AES-CTR stream")
struct GaussianNoiseTests {
    @Test("AES-256-CTR fast-key-erasure stream with the zero key: known keystream words (OpenSSL `enc -aes-256-ctr`), re-keyed from its own first 32 bytes after 65,504 bytes")
    func keyErasingStreamKnownAnswer() {
        var stream = KeyErasingAESStream(key: SymmetricKey(data: [UInt8](repeating: 0, count: 32)))
        // Keystream bytes 0…31 (dc95c078… = AES-256 of the zero block under the zero key) become the
        // next key; words start at byte 32.
        let words = (0..<(KeyErasingAESStream.wordsPerRefill + 1)).map { _ in stream.next() }
        #expect(words[0] == 0x6e6b_604d_3d40_a7ce)
        #expect(words[1] == 0x189d_f3ba_d3c5_4e07)
        #expect(words[8187] == 0xfd04_529f_7c06_63d5)
        // Word 32 of the keystream under the key dc95c078a2408989ad48a21492842087530f8afbc74536b9a963b4f1c4cb738b.
        #expect(words[8188] == 0x6826_cc70_6ea2_4c9c)
    }

    @Test("ziggurat layers for 256 layers match the published table (x₀ = 3.910757959537090, x₁ = r, x₂, x₃, x₂₅₄, x₂₅₅) and each layer has area v")
    func zigguratTable() {
        let x = ZigguratNormal.layerEdges
        let published: [(Int, Double)] = [(0, 3.910757959537090045), (1, 3.654152885361008796), (2, 3.449278298560964462),
                                          (3, 3.320244733839166074), (254, 0.286174591792071), (255, 0.215241895984720)]
        for (i, value) in published { #expect(abs(x[i] - value) < 1e-9, "x[\(i)] = \(x[i])") }
        #expect(x[256] == 0)
        for i in 1..<256 {
            let area = x[i] * (ZigguratNormal.density(x[i + 1]) - ZigguratNormal.density(x[i]))
            #expect(abs(area / ZigguratNormal.layerArea - 1) < 1e-6, "layer \(i)")
        }
    }

    @Test("ziggurat on fixed words: fast path, wedge accepted and refused, tail on both sides (independent reference values)")
    func zigguratKnownAnswers() {
        func draw(_ words: [UInt64], consumed: Int) -> Double {
            var source = FixedWords(words)
            let value = ZigguratNormal.next(using: &source)
            #expect(source.position == consumed)
            return value
        }
        // Layer 5, u = 0.5 (top 53 bits of 2⁶²): 0.5·x₅.
        #expect(draw([0x4000_0000_0000_0005], consumed: 1) == 1.573944644758575)
        // Layer 128, u = −0.5.
        #expect(draw([0xC000_0000_0000_0080], consumed: 1) == -0.7676712857194216)
        // Layer 255 has no rectangle under the curve: the wedge test with U = 2⁻⁵³ accepts 0.5·x₂₅₅ …
        #expect(draw([0x4000_0000_0000_00FF, 0], consumed: 2) == 0.1076209479566369)
        // … and with U = 1 refuses it, so the next word is drawn.
        #expect(draw([0x4000_0000_0000_00FF, .max, 0x4000_0000_0000_0005], consumed: 3) == 1.573944644758575)
        // Base layer beyond r, U₁ = U₂ = 1/2: r + ln 2 / r, with the sign of u.
        let half: UInt64 = ((1 << 52) - 1) << 11
        let tail = ZigguratNormal.tailStart + log(2) / ZigguratNormal.tailStart
        #expect(abs(draw([0x7FFF_FFFF_FFFF_F800, half, half], consumed: 3) - tail) < 1e-15)
        #expect(abs(draw([0x8000_0000_0000_0000, half, half], consumed: 3) + tail) < 1e-15)
    }

    /// Φ, the standard normal distribution function.
    private static func normalCDF(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    @Test("seeded ziggurat, 2¹⁷ values: Kolmogorov–Smirnov distance to N(0, 1) below 2.69/√n (false failure < 1e-6)")
    func kolmogorovSmirnov() {
        let n = 1 << 17
        var values = [Float](repeating: 0, count: n)
        var random = InsecureSeededRandomSource(seed: 21)
        var noise = GaussianNoiseSampler()
        noise.addNoise(to: &values, standardDeviation: 1, using: &random)
        let sorted = values.map(Double.init).sorted()
        var distance = 0.0
        for (i, x) in sorted.enumerated() {
            let f = Self.normalCDF(x)
            distance = max(distance, abs(f - Double(i) / Double(n)), abs(Double(i + 1) / Double(n) - f))
        }
        // P(√n·D > t) ≤ 2·exp(−2t²) = 1e-6 at t = 2.693.
        #expect(distance * Double(n).squareRoot() < 2.693)
    }

    /// Counts beyond 3, r, 4 and 4.5 standard deviations on each side, against the normal tail
    /// probabilities, within 5.5 binomial standard deviations each (16 counts: false failure < 1e-6).
    private static func checkTails(_ values: [Float]) {
        let n = Double(values.count)
        let thresholds = [3.0, ZigguratNormal.tailStart, 4.0, 4.5]
        var above = [Int](repeating: 0, count: thresholds.count), below = above
        for value in values {
            let x = Double(value)
            guard abs(x) > thresholds[0] else { continue }
            for (k, threshold) in thresholds.enumerated() {
                if x > threshold { above[k] += 1 }
                if x < -threshold { below[k] += 1 }
            }
        }
        for (k, threshold) in thresholds.enumerated() {
            let p = Self.normalCDF(-threshold)
            let expected = n * p, deviation = (n * p * (1 - p)).squareRoot()
            #expect(abs(Double(above[k]) - expected) < 5.5 * deviation, "above \(threshold): \(above[k]), expected \(expected)")
            #expect(abs(Double(below[k]) - expected) < 5.5 * deviation, "below −\(threshold): \(below[k]), expected \(expected)")
        }
    }

    @Test("seeded ziggurat, 2²² values: counts beyond 3σ, r, 4σ and 4.5σ on each side at the normal rate (false failure < 1e-6)")
    func seededTails() {
        var values = [Float](repeating: 0, count: 1 << 22)
        var random = InsecureSeededRandomSource(seed: 22)
        var noise = GaussianNoiseSampler()
        noise.addNoise(to: &values, standardDeviation: 1, using: &random)
        Self.checkTails(values)
    }

    @Test("OS-CSPRNG noise through AES-CTR streams on both cores, 2²² values: tails at the normal rate (false failure < 1e-6)")
    func secureTails() {
        var values = [Float](repeating: 0, count: 1 << 22)
        var random = SecureRandomSource()
        var noise = GaussianNoiseSampler()
        noise.addNoise(to: &values, standardDeviation: 1, using: &random)
        Self.checkTails(values)
    }

    @Test("the model card names the method: ziggurat, AES-256-CTR fast-key-erasure streams keyed from the OS CSPRNG")
    func cardDescription() {
        let text = GaussianNoiseSampler.methodDescription
        for part in ["ziggurat", "Marsaglia & Tsang 2000", "AES-256-CTR", "fast-key-erasure", "Bernstein 2017", "OS CSPRNG"] {
            #expect(text.contains(part), "\(part)")
        }
    }
}
