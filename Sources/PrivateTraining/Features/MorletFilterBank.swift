import Foundation

/// The Fourier-domain filters of a 2-D scattering transform: Morlet wavelets ψ_{j,θ} at `J` scales
/// and `L` orientations and a Gaussian low-pass φ, on a periodic grid of `height × width` samples
/// (the padded image).
///
/// The filters follow Oyallon & Mallat's construction as Kymatio 0.3 defines it
/// (`kymatio.scattering2d.filter_bank`), so that the transform's coefficients can be checked against
/// Kymatio's:
/// - a Gabor filter `g(u) = exp(−uᵀ A u + i ξ (u₁ cos θ + u₂ sin θ)) / (2 · 3.1415 · σ² / s)` with
///   `A = R_θ diag(1, s²) R_θᵀ / (2σ²)`, summed over the 5 × 5 nearest periods of the grid;
/// - a Morlet wavelet `ψ = g_ξ − K g_0` with `K = Σ g_ξ / Σ g_0`, so that ψ has zero mean;
/// - ψ_{j,θ} with `σ = 0.8 · 2^j`, `θ = (⌊L − L/2 − 1⌋ − θ_index) π / L`, `ξ = 3π / (4 · 2^j)`,
///   slant `s = 4 / L`; φ is the Gabor filter with `σ = 0.8 · 2^(J−1)`, `ξ = 0`, `s = 1`;
/// - each filter's 2-D DFT, real part kept (the filters are symmetric, the imaginary part is
///   rounding), and, for a signal already subsampled by `2^r`, the filter periodised to
///   `height/2^r × width/2^r`: the frequencies that alias are masked, then the `2^r × 2^r` copies are summed.
///
/// Sources: J. Bruna, S. Mallat, "Invariant Scattering Convolution Networks", IEEE TPAMI 2013;
/// E. Oyallon, S. Mallat, "Deep Roto-Translation Scattering for Object Classification", CVPR 2015;
/// M. Andreux et al., "Kymatio: Scattering Transforms in Python", JMLR 2020.
public struct MorletFilterBank: Sendable {
    /// Rows of the grid the filters live on (the padded image).
    public let height: Int
    /// Columns of the grid.
    public let width: Int
    /// Number of scales J.
    public let scales: Int
    /// Number of orientations L.
    public let orientations: Int
    /// `wavelets[n][r]`: wavelet `n = j·L + θ` periodised to resolution `r` (`height/2^r × width/2^r`,
    /// row-major, real), for `r` in `0 ..< min(j + 1, max(J − 1, 1))`.
    public let wavelets: [[[Double]]]
    /// `lowPass[r]`: φ periodised to resolution `r`, for `r` in `0 ..< J`.
    public let lowPass: [[Double]]

    /// The scale j of wavelet `n`.
    public func scale(ofWavelet n: Int) -> Int { n / orientations }

    /// Builds the filters for a `height × width` grid (both divisible by `2^scales`).
    public init(height: Int, width: Int, scales: Int, orientations: Int) {
        precondition(scales >= 1 && orientations >= 1, "a filter bank needs J ≥ 1 and L ≥ 1")
        precondition(height % (1 << scales) == 0 && width % (1 << scales) == 0, "grid not divisible by 2^J")
        self.height = height
        self.width = width
        self.scales = scales
        self.orientations = orientations
        let L = Double(orientations)
        let firstAngle = Double(Int(L - L / 2 - 1))
        var wavelets: [[[Double]]] = []
        for j in 0..<scales {
            for theta in 0..<orientations {
                let sigma = 0.8 * pow(2, Double(j))
                let angle = (firstAngle - Double(theta)) * Double.pi / L
                let xi = 3.0 / 4.0 * Double.pi / pow(2, Double(j))
                let spatial = Self.morlet(height: height, width: width, sigma: sigma, theta: angle, xi: xi, slant: 4 / L)
                let fourier = Self.realPartOfDFT(spatial, height: height, width: width)
                let levels = min(j + 1, max(scales - 1, 1))
                wavelets.append((0..<levels).map { Self.periodise(fourier, height: height, width: width, resolution: $0) })
            }
        }
        let phi = Self.gabor(height: height, width: width, sigma: 0.8 * pow(2, Double(scales - 1)), theta: 0, xi: 0, slant: 1)
        let phiFourier = Self.realPartOfDFT(phi, height: height, width: width)
        self.wavelets = wavelets
        lowPass = (0..<scales).map { Self.periodise(phiFourier, height: height, width: width, resolution: $0) }
    }

    // MARK: Spatial filters

    /// A Gabor filter on the periodic grid, interleaved complex values (re, im), row-major.
    static func gabor(height: Int, width: Int, sigma: Double, theta: Double, xi: Double, slant: Double) -> [Double] {
        // Kymatio builds the rotation in single precision; the rounding is below the tests' tolerance either way.
        let c = Double(Float(cos(theta))), s = Double(Float(sin(theta)))
        let d = slant * slant
        // curv = R · diag(1, s²) · R⁻¹ / (2σ²)
        let a00 = (c * c + s * s * d) / (2 * sigma * sigma)
        let a01 = (c * s - s * c * d) / (2 * sigma * sigma)
        let a10 = (s * c - c * s * d) / (2 * sigma * sigma)
        let a11 = (s * s + c * c * d) / (2 * sigma * sigma)
        let normalisation = 2 * 3.1415 * sigma * sigma / slant
        var out = [Double](repeating: 0, count: 2 * height * width)
        for ex in -2...2 {
            for ey in -2...2 {
                for row in 0..<height {
                    let x = Double(row + ex * height)
                    for column in 0..<width {
                        let y = Double(column + ey * width)
                        let real = -(a00 * x * x + (a01 + a10) * x * y + a11 * y * y)
                        let imaginary = x * xi * cos(theta) + y * xi * sin(theta)
                        let magnitude = exp(real)
                        let index = 2 * (row * width + column)
                        out[index] += magnitude * cos(imaginary)
                        out[index + 1] += magnitude * sin(imaginary)
                    }
                }
            }
        }
        for i in out.indices { out[i] /= normalisation }
        return out
    }

    /// A Morlet wavelet: the Gabor filter at `xi` minus `K` times its envelope, `K` making the sum zero.
    static func morlet(height: Int, width: Int, sigma: Double, theta: Double, xi: Double, slant: Double) -> [Double] {
        let wave = gabor(height: height, width: width, sigma: sigma, theta: theta, xi: xi, slant: slant)
        let envelope = gabor(height: height, width: width, sigma: sigma, theta: theta, xi: 0, slant: slant)
        var (wr, wi, er, ei) = (0.0, 0.0, 0.0, 0.0)
        for k in 0..<(height * width) {
            wr += wave[2 * k]; wi += wave[2 * k + 1]
            er += envelope[2 * k]; ei += envelope[2 * k + 1]
        }
        // K = (wr + i wi) / (er + i ei)
        let denominator = er * er + ei * ei
        let kr = (wr * er + wi * ei) / denominator
        let ki = (wi * er - wr * ei) / denominator
        var out = wave
        for k in 0..<(height * width) {
            out[2 * k] -= kr * envelope[2 * k] - ki * envelope[2 * k + 1]
            out[2 * k + 1] -= kr * envelope[2 * k + 1] + ki * envelope[2 * k]
        }
        return out
    }

    // MARK: Fourier domain

    /// The real part of the 2-D DFT `X[k,l] = Σ x[m,n] e^{−2πi(km/H + ln/W)}` (direct sums; done once per filter).
    static func realPartOfDFT(_ x: [Double], height: Int, width: Int) -> [Double] {
        // Rows first, then columns, each a direct DFT with exact twiddle indices.
        func twiddles(_ n: Int) -> (cos: [Double], sin: [Double]) {
            ((0..<n).map { cos(2 * Double.pi * Double($0) / Double(n)) }, (0..<n).map { sin(2 * Double.pi * Double($0) / Double(n)) })
        }
        let (cw, sw) = twiddles(width), (ch, sh) = twiddles(height)
        var rows = [Double](repeating: 0, count: 2 * height * width)
        for m in 0..<height {
            for l in 0..<width {
                var (re, im) = (0.0, 0.0)
                for n in 0..<width {
                    let t = (l * n) % width
                    let (xr, xi) = (x[2 * (m * width + n)], x[2 * (m * width + n) + 1])
                    re += xr * cw[t] + xi * sw[t]
                    im += xi * cw[t] - xr * sw[t]
                }
                rows[2 * (m * width + l)] = re
                rows[2 * (m * width + l) + 1] = im
            }
        }
        var out = [Double](repeating: 0, count: height * width)
        for k in 0..<height {
            for l in 0..<width {
                var re = 0.0
                for m in 0..<height {
                    let t = (k * m) % height
                    re += rows[2 * (m * width + l)] * ch[t] + rows[2 * (m * width + l) + 1] * sh[t]
                }
                out[k * width + l] = re
            }
        }
        return out
    }

    /// The filter for a signal subsampled by `2^resolution`: frequencies that would alias are set to zero
    /// (rows `⌊H·2^{−r−1}⌋ ..< +⌊H(1 − 2^{−r})⌋`, likewise columns), then the `2^r × 2^r` periods are summed.
    static func periodise(_ x: [Double], height: Int, width: Int, resolution r: Int) -> [Double] {
        let factor = 1 << r
        let (h, w) = (height / factor, width / factor)
        let maskedRows = Int(Double(height) * pow(2, Double(-r - 1)))..<(Int(Double(height) * pow(2, Double(-r - 1)))
            + Int(Double(height) * (1 - pow(2, Double(-r)))))
        let maskedColumns = Int(Double(width) * pow(2, Double(-r - 1)))..<(Int(Double(width) * pow(2, Double(-r - 1)))
            + Int(Double(width) * (1 - pow(2, Double(-r)))))
        var out = [Double](repeating: 0, count: h * w)
        for row in 0..<height where !maskedRows.contains(row) {
            for column in 0..<width where !maskedColumns.contains(column) {
                out[(row % h) * w + column % w] += x[row * width + column]
            }
        }
        return out
    }
}
