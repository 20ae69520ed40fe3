import Foundation

/// The randomised Hadamard rotation x ↦ H·D·x / √d of Kairouz, Liu, Steinke 2021 (§4, "flattening"):
/// D is a diagonal of random signs drawn from a seed every client shares, H the d × d Walsh–Hadamard
/// matrix (d a power of two; shorter vectors are padded with zeros). The map is orthonormal, so it
/// keeps L2 norms, and it spreads a vector's energy evenly: each coordinate of the result is
/// sub-Gaussian with variance ‖x‖²/d, which keeps the modular sum away from wrapping around.
public struct RandomizedHadamard: Sendable {
    /// The input dimension.
    public let dimension: Int
    /// The rotated dimension: the smallest power of two ≥ dimension.
    public let paddedDimension: Int
    private let signs: [Double]

    public init(dimension: Int, seed: [UInt8]) {
        precondition(dimension >= 1)
        self.dimension = dimension
        var padded = 1
        while padded < dimension { padded <<= 1 }
        paddedDimension = padded
        var source = SeededKeystreamSource(seed: seed)
        var signs: [Double] = []
        signs.reserveCapacity(padded)
        while signs.count < padded {
            let word = source.next()
            for bit in 0..<min(64, padded - signs.count) { signs.append((word >> UInt64(bit)) & 1 == 0 ? 1 : -1) }
        }
        self.signs = signs
    }

    /// H·D·x / √d of `x` (length `dimension`), of length `paddedDimension`.
    public func rotate(_ x: [Double]) -> [Double] {
        precondition(x.count == dimension)
        var y = [Double](repeating: 0, count: paddedDimension)
        for i in 0..<dimension { y[i] = x[i] * signs[i] }
        Self.walshHadamard(&y)
        let scale = 1 / Double(paddedDimension).squareRoot()
        for i in y.indices { y[i] *= scale }
        return y
    }

    /// The inverse D·H·y / √d (H is symmetric and H·H = d·I), truncated to `dimension`.
    public func unrotate(_ y: [Double]) -> [Double] {
        precondition(y.count == paddedDimension)
        var x = y
        Self.walshHadamard(&x)
        let scale = 1 / Double(paddedDimension).squareRoot()
        return (0..<dimension).map { x[$0] * signs[$0] * scale }
    }

    /// In-place fast Walsh–Hadamard transform (unnormalised), O(d log d).
    static func walshHadamard(_ v: inout [Double]) {
        var h = 1
        let n = v.count
        v.withUnsafeMutableBufferPointer { p in
            while h < n {
                var i = 0
                while i < n {
                    for j in i..<(i + h) {
                        let a = p[j], b = p[j + h]
                        p[j] = a + b
                        p[j + h] = a - b
                    }
                    i += 2 * h
                }
                h <<= 1
            }
        }
    }
}
