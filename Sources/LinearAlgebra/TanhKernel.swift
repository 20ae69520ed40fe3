/// `tanh` over contiguous `Float`s, eight at a time, by a rational approximation instead of one
/// `tanhf` call per value.
///
/// The approximation is Eigen's `generic_fast_tanh_float` (Eigen 3.4, `MathFunctionsImpl.h`): an
/// odd degree-13 polynomial over an even degree-6 one, fitted on [−7.90531, 7.90531]; inputs are
/// clamped to that interval (where it rounds to ±1) and |x| < 0.0004 returns x. It is within
/// 10⁻⁶ of the exact value, never above 1 in magnitude, and keeps NaN (tested against the exact
/// function on a dense grid).
public enum TanhKernel {
    private static let clamp: Float = 7.90531110763549805
    private static let tiny: Float = 0.0004
    private static let alpha: [Float] = [4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05,
                                         5.12229709037114e-08, -8.60467152213735e-11, 2.00018790482477e-13,
                                         -2.76076847742355e-16]
    private static let beta: [Float] = [4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
                                        1.19825839466702e-06]

    /// tanh of eight values.
    @inline(__always)
    static func tanh8(_ a: SIMD8<Float>, _ al: (Float, Float, Float, Float, Float, Float, Float),
                      _ be: (Float, Float, Float, Float)) -> SIMD8<Float> {
        let c = SIMD8<Float>(repeating: clamp)
        // A NaN lane stays NaN (a comparison with NaN is false). Lane-wise replacement compiles to blends;
        // the generic pointwiseMin/Max stayed calls, a third of this kernel's time.
        var x = a.replacing(with: c, where: a .> c)
        x.replace(with: -c, where: x .< -c)
        let x2 = x * x
        var p = x2 * al.6 + al.5
        p = x2 * p + al.4
        p = x2 * p + al.3
        p = x2 * p + al.2
        p = x2 * p + al.1
        p = x2 * p + al.0
        p = x * p
        var q = x2 * be.3 + be.2
        q = x2 * q + be.1
        q = x2 * q + be.0
        // |x| < tiny, and NaN (for which every comparison is false), return the input.
        let t = SIMD8<Float>(repeating: tiny)
        let keep = .!((a .>= t) .| (a .<= -t))
        return (p / q).replacing(with: a, where: keep)
    }

    /// Replaces every value of `values` by its tanh.
    public static func apply(_ values: UnsafeMutableBufferPointer<Float>) {
        guard let base = values.baseAddress else { return }
        apply(UnsafePointer(base), into: base, count: values.count)
    }

    /// Writes the tanh of `count` values from `source` to `destination` (the same memory, or disjoint).
    public static func apply(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count n: Int) {
        let al = (alpha[0], alpha[1], alpha[2], alpha[3], alpha[4], alpha[5], alpha[6])
        let be = (beta[0], beta[1], beta[2], beta[3])
        var i = 0
        let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(destination)
        while i + 8 <= n {
            let v = from.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            to.storeBytes(of: tanh8(v, al, be), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        if i < n {
            var v = SIMD8<Float>(repeating: 0)
            for j in 0..<(n - i) { v[j] = source[i + j] }
            let y = tanh8(v, al, be)
            for j in 0..<(n - i) { destination[i + j] = y[j] }
        }
    }
}
