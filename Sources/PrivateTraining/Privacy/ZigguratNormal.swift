#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Mechanisms

/// Standard normal values by the ziggurat method of Marsaglia & Tsang ("The Ziggurat Method for
/// Generating Random Variables", Journal of Statistical Software 5(8), 2000), with 256 layers.
///
/// One 64-bit word gives a value in about 99% of draws: its low 8 bits choose the layer `i`, its
/// top 53 bits (bits 11…63) a signed uniform `u` in [−1, 1), and `x = u·xᵢ` is returned when
/// `|x| < xᵢ₊₁`. The layer and the value come from disjoint bits of the word, which avoids the
/// correlation Doornik found in the original 32-bit version ("An Improved Ziggurat Method to
/// Generate Normal Random Samples", 2005). Otherwise `x` is accepted under the density in the
/// layer's wedge with one more uniform, or, in the base layer, a value of the tail beyond `r` is
/// drawn by Marsaglia's exponential rejection (1964). Every uniform of those paths is a 53-bit
/// double in (0, 1], so `log` never sees zero.
public enum ZigguratNormal {
    /// The right end of the base layer's rectangle, `r`, for 256 layers (Marsaglia & Tsang 2000).
    static let tailStart = 3.6541528853610088
    /// The area of each layer, `v` (Marsaglia & Tsang 2000, 256 layers).
    static let layerArea = 4.92867323399e-3

    /// `x₀ … x₂₅₆`: `x₀ = v / f(r)`, `x₁ = r`, `xᵢ₊₁ = f⁻¹(v / xᵢ + f(xᵢ))`, `x₂₅₆ = 0`, with the
    /// unnormalised density `f(x) = exp(−x²/2)`.
    static let layerEdges: [Double] = {
        var x = [Double](repeating: 0, count: 257)
        x[0] = layerArea / density(tailStart)
        x[1] = tailStart
        for i in 2..<256 {
            x[i] = (-2 * log(layerArea / x[i - 1] + density(x[i - 1]))).squareRoot()
        }
        x[256] = 0
        return x
    }()

    /// `f(xᵢ)` for every layer edge.
    static let layerHeights: [Double] = layerEdges.map(density)

    @inline(__always)
    static func density(_ x: Double) -> Double { exp(-0.5 * x * x) }

    /// A uniform double in (0, 1] from the top 53 bits of a word.
    @inline(__always)
    static func openClosedUniform(_ word: UInt64) -> Double { Double((word >> 11) &+ 1) * 0x1p-53 }

    /// One standard normal value from `random`.
    public static func next<R: RandomSource>(using random: inout R) -> Double {
        layerEdges.withUnsafeBufferPointer { edges in
            layerHeights.withUnsafeBufferPointer { heights in
                sample(edges: edges, heights: heights, using: &random)
            }
        }
    }

    /// Writes `values[i] + standardDeviation · zᵢ` for independent standard normal `zᵢ`, in order.
    public static func addNoise<R: RandomSource>(to values: UnsafeMutableBufferPointer<Float>,
                                                 standardDeviation: Double, using random: inout R) {
        layerEdges.withUnsafeBufferPointer { edges in
            layerHeights.withUnsafeBufferPointer { heights in
                for i in values.indices {
                    values[i] += Float(standardDeviation * sample(edges: edges, heights: heights, using: &random))
                }
            }
        }
    }

    @inline(__always)
    static func sample<R: RandomSource>(edges: UnsafeBufferPointer<Double>, heights: UnsafeBufferPointer<Double>,
                                        using random: inout R) -> Double {
        while true {
            let word = random.next()
            let layer = Int(truncatingIfNeeded: word & 0xFF)
            let u = Double(Int64(bitPattern: word) >> 11) * 0x1p-52
            let x = u * edges[layer]
            if abs(x) < edges[layer + 1] { return x }
            if layer == 0 {
                // The tail beyond r (Marsaglia 1964): a = −ln(U₁)/r, accepted when −2 ln(U₂) ≥ a².
                while true {
                    let a = -log(openClosedUniform(random.next())) / tailStart
                    let b = -log(openClosedUniform(random.next()))
                    if 2 * b >= a * a { return u < 0 ? -(tailStart + a) : tailStart + a }
                }
            }
            let y = heights[layer] + openClosedUniform(random.next()) * (heights[layer + 1] - heights[layer])
            if y < density(x) { return x }
        }
    }
}
