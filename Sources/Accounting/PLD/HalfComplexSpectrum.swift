import Foundation

/// Pointwise arithmetic on spectra in GSL's mixed-radix half-complex layout (see
/// ``RealFourierTransform``): the products and powers that turn convolution and repeated
/// convolution of probability mass functions into elementwise operations.
enum HalfComplexSpectrum {
    /// `lhs ← lhs · rhs`, frequency by frequency (the spectrum of the cyclic convolution).
    static func multiply(_ lhs: inout [Double], by rhs: [Double]) {
        let n = lhs.count
        precondition(rhs.count == n, "spectra of different lengths")
        guard n > 0 else { return }
        lhs[0] *= rhs[0]
        var k = 1
        while 2 * k < n {
            let (a, b) = (lhs[2 * k - 1], lhs[2 * k])
            let (c, d) = (rhs[2 * k - 1], rhs[2 * k])
            lhs[2 * k - 1] = a * c - b * d
            lhs[2 * k] = a * d + b * c
            k += 1
        }
        if n % 2 == 0 { lhs[n - 1] *= rhs[n - 1] }
    }

    /// `spectrum ← spectrum^exponent`, frequency by frequency (the spectrum of the
    /// `exponent`-fold cyclic self-convolution). Complex powers are taken through modulus and
    /// argument, `(r e^{iθ})^T = r^T e^{iTθ}`, which costs one `pow` and one `sincos` per
    /// frequency whatever `T` is.
    static func raise(_ spectrum: inout [Double], toPower exponent: Int) {
        let n = spectrum.count
        guard n > 0 else { return }
        let power = Double(exponent)
        spectrum[0] = realPower(spectrum[0], exponent)
        var k = 1
        while 2 * k < n {
            let re = spectrum[2 * k - 1], im = spectrum[2 * k]
            let modulus = (re * re + im * im).squareRoot()
            if modulus == 0 {
                spectrum[2 * k - 1] = 0
                spectrum[2 * k] = 0
            } else {
                let scaledModulus = Foundation.exp(power * Foundation.log(modulus))
                let angle = power * Foundation.atan2(im, re)
                spectrum[2 * k - 1] = scaledModulus * Foundation.cos(angle)
                spectrum[2 * k] = scaledModulus * Foundation.sin(angle)
            }
            k += 1
        }
        if n % 2 == 0 { spectrum[n - 1] = realPower(spectrum[n - 1], exponent) }
    }

    private static func realPower(_ x: Double, _ exponent: Int) -> Double {
        let magnitude = Foundation.pow(Swift.abs(x), Double(exponent))
        return (x < 0 && exponent % 2 == 1) ? -magnitude : magnitude
    }
}
