import LinearAlgebra
import Mechanisms

/// The 2-D scattering transform of order 2 (Bruna & Mallat 2013) of single-channel images: a fixed,
/// data-independent feature map, so computing it costs no privacy.
///
/// For an `H × W` image, `J` scales and `L` orientations the output has
/// `K = 1 + J·L + L²·J(J−1)/2` channels of `⌊H/2^J⌋ × ⌊W/2^J⌋` (81 channels of 7 × 7 for MNIST with
/// J = 2, L = 8), stored channel-last like every image in Veil. Channel order as Kymatio's:
/// - `S₀x = x ⋆ φ_J`,
/// - `S₁x[j₁,θ₁] = |x ⋆ ψ_{j₁,θ₁}| ⋆ φ_J` for `n₁ = j₁·L + θ₁`,
/// - `S₂x[j₁,θ₁,j₂,θ₂] = ||x ⋆ ψ_{j₁,θ₁}| ⋆ ψ_{j₂,θ₂}| ⋆ φ_J` for `j₂ > j₁`, in the order of `(n₁, n₂)`,
/// each subsampled by `2^J`.
///
/// Computation follows Kymatio 0.3 (`kymatio.scattering2d.core.scattering2d`), whose coefficients the
/// tests match to 10⁻⁴ relative: the image is padded by reflection (without repeating the edge) to
/// `H' = (⌊(H + 2^J)/2^J⌋ + 1)·2^J` rows (`⌊(H'−H)/2⌋` above) and likewise columns; convolutions are
/// products in the Fourier domain on that periodic grid (``MorletFilterBank``); subsampling by `k` in the
/// Fourier domain averages the `k × k` aliased copies; after the last low-pass the outer ring of
/// one coefficient is removed. Each image is transformed on its own (double precision, through
/// ``FourierTransform2D``), so a batch splits across the cores (``ParallelSlices``) with results that do
/// not depend on the number of threads.
public struct ScatteringTransform2D: Sendable, Hashable {
    /// The shape of an input image (one channel).
    public let inputShape: ImageShape
    /// Number of scales J.
    public let scales: Int
    /// Number of orientations L.
    public let orientations: Int
    /// The filters, on the padded grid.
    let filters: MorletFilterBank
    let paddedHeight: Int
    let paddedWidth: Int
    let padTop: Int
    let padLeft: Int

    /// Allowed scales J.
    public static let scaleRange = 1...4
    /// Allowed orientations L.
    public static let orientationRange = 1...16

    /// The number of output channels `1 + J·L + L²·J(J−1)/2` of an order-2 transform.
    public static func channelCount(scales J: Int, orientations L: Int) -> Int { 1 + J * L + L * L * J * (J - 1) / 2 }

    /// A transform of `inputShape` images.
    /// - Throws: as ``outputShape(inputShape:scales:orientations:)``.
    public init(inputShape: ImageShape, scales: Int, orientations: Int) throws {
        _ = try Self.outputShape(inputShape: inputShape, scales: scales, orientations: orientations)
        let step = 1 << scales
        self.inputShape = inputShape
        self.scales = scales
        self.orientations = orientations
        paddedHeight = ((inputShape.height + step) / step + 1) * step
        paddedWidth = ((inputShape.width + step) / step + 1) * step
        padTop = (paddedHeight - inputShape.height) / 2
        padLeft = (paddedWidth - inputShape.width) / 2
        filters = MorletFilterBank(height: paddedHeight, width: paddedWidth, scales: scales, orientations: orientations)
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.inputShape == b.inputShape && a.scales == b.scales && a.orientations == b.orientations
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(inputShape); hasher.combine(scales); hasher.combine(orientations)
    }

    /// The largest image side accepted.
    public static let maximumSide = 128

    /// The output shape `⌊H/2^J⌋ × ⌊W/2^J⌋ × K` of a transform, checked without building its filters.
    /// - Throws: `VeilError.invalidParameter` when J or L is outside ``scaleRange`` / ``orientationRange``,
    ///   the image has more than one channel, or a side is not in `2^J + 1 ... 128` (the filters are built by a
    ///   direct transform whose cost grows with the cube of the side; a model file must not be able to make
    ///   loading it take minutes).
    public static func outputShape(inputShape: ImageShape, scales: Int, orientations: Int) throws -> ImageShape {
        guard scaleRange.contains(scales) else {
            throw VeilError.invalidParameter("scattering J", scales, allowed: "in \(scaleRange)")
        }
        guard orientationRange.contains(orientations) else {
            throw VeilError.invalidParameter("scattering L", orientations, allowed: "in \(orientationRange)")
        }
        guard inputShape.channels == 1 else {
            throw VeilError(.invalidParameter, "the scattering transform takes single-channel images, got \(inputShape)")
        }
        let step = 1 << scales
        guard inputShape.height > step, inputShape.width > step, inputShape.height <= maximumSide, inputShape.width <= maximumSide else {
            throw VeilError(.invalidParameter, "the scattering transform with J = \(scales) needs images with sides in "
                            + "\(step + 1)...\(maximumSide), got \(inputShape)")
        }
        return ImageShape(height: inputShape.height / step, width: inputShape.width / step,
                          channels: channelCount(scales: scales, orientations: orientations))
    }

    /// The shape of one output: `⌊H/2^J⌋ × ⌊W/2^J⌋ × K`.
    public var outputShape: ImageShape {
        ImageShape(height: paddedHeight / (1 << scales) - 2, width: paddedWidth / (1 << scales) - 2,
                   channels: Self.channelCount(scales: scales, orientations: orientations))
    }

    /// The coefficients of a batch of images (one per row), one output per row, computed on all cores.
    public func apply(_ images: Matrix) -> Matrix {
        precondition(images.columns == inputShape.count, "images have \(images.columns) values, expected \(inputShape.count)")
        let outputCount = outputShape.count
        var output = Matrix(rows: images.rows, columns: outputCount)
        images.storage.withUnsafeBufferPointer { source in
            output.storage.withUnsafeMutableBufferPointer { destination in
                guard let s0 = source.baseAddress, let d0 = destination.baseAddress else { return }
                // Each image's outputs are written from that image alone: the images split across threads,
                // each with its own FFT plans and buffers.
                ParallelSlices.run(images.rows, minimumItems: 4) { slice in
                    var scratch = ScatteringScratch(transform: self)
                    for i in slice {
                        scratch.transform(image: s0 + i * inputShape.count, into: d0 + i * outputCount)
                    }
                    scratch.erase()
                }
            }
        }
        return output
    }
}

/// One thread's FFT plans and buffers for ``ScatteringTransform2D``.
///
/// Two real signals share one complex FFT wherever the transform has them (the moduli `|x ⋆ ψ|` before
/// their forward transform, and the low-pass outputs before their inverse one): for real `a`, `b`,
/// `F(a + ib) = A + iB` with `A[k] = (Z[k] + Z̄[−k])/2`, `B[k] = (Z[k] − Z̄[−k])/(2i)`, and the inverse
/// of `A + iB` for Hermitian `A`, `B` is `a + ib`. This halves those transforms.
private struct ScatteringScratch {
    let t: ScatteringTransform2D
    let fft: FourierTransform2D
    /// The padded image's spectrum `x̂` (full resolution).
    var spectrum: [Double]
    /// `|x ⋆ ψ₁|`, then its spectrum (resolution j₁), for two first-order wavelets at once.
    var firstOrder: ([Double], [Double])
    /// The same for two second-order wavelets (resolution j₂).
    var secondOrder: ([Double], [Double])
    /// A low-pass output in the Fourier domain (resolution J), and one waiting for a partner.
    var low: [Double]
    var pendingLow: [Double]
    var pendingChannel: Int?

    init(transform: ScatteringTransform2D) {
        t = transform
        var lengths: Set<Int> = []
        for r in 0...transform.scales {
            lengths.insert(transform.paddedHeight >> r)
            lengths.insert(transform.paddedWidth >> r)
        }
        fft = FourierTransform2D(lengths: lengths)
        let full = [Double](repeating: 0, count: 2 * transform.paddedHeight * transform.paddedWidth)
        spectrum = full
        firstOrder = (full, full)
        secondOrder = (full, full)
        low = full
        pendingLow = full
    }

    /// Overwrites the buffers (they held an image's transforms) with zeros.
    mutating func erase() {
        for i in spectrum.indices {
            spectrum[i] = 0; firstOrder.0[i] = 0; firstOrder.1[i] = 0
            secondOrder.0[i] = 0; secondOrder.1[i] = 0; low[i] = 0; pendingLow[i] = 0
        }
    }

    /// Writes the `K` channels of one image (channel-last) to `output`.
    mutating func transform(image: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>) {
        let (H, W) = (t.paddedHeight, t.paddedWidth)
        let (h, w) = (t.inputShape.height, t.inputShape.width)
        let bank = t.filters
        let wavelets = t.scales * t.orientations
        // Reflection padding (NumPy's "reflect": the edge is not repeated).
        func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }
        for r in 0..<H {
            let sr = reflect(r - t.padTop, h)
            for c in 0..<W {
                spectrum[2 * (r * W + c)] = Double(image[sr * w + reflect(c - t.padLeft, w)])
                spectrum[2 * (r * W + c) + 1] = 0
            }
        }
        spectrum.withUnsafeMutableBufferPointer { fft.forward($0.baseAddress!, rows: H, columns: W) }

        // S₀
        lowPass(spectrum, resolution: 0, channel: 0, output: output)
        var secondChannel = 1 + wavelets
        var n1 = 0
        while n1 < wavelets {
            let j1 = bank.scale(ofWavelet: n1)
            let paired = n1 + 1 < wavelets && bank.scale(ofWavelet: n1 + 1) == j1
            let (h1, w1) = (H >> j1, W >> j1)
            // U₁ = |x ⋆ ψ_{n₁}| at resolution j₁, and its spectrum (two wavelets at once).
            Self.multiplySubsample(spectrum, rows: H, columns: W, filter: bank.wavelets[n1][0], factor: 1 << j1,
                                   into: &firstOrder.0)
            if paired {
                Self.multiplySubsample(spectrum, rows: H, columns: W, filter: bank.wavelets[n1 + 1][0], factor: 1 << j1,
                                       into: &firstOrder.1)
            }
            modulusSpectra(&firstOrder, paired: paired, rows: h1, columns: w1)
            for member in 0..<(paired ? 2 : 1) {
                let u1 = member == 0 ? firstOrder.0 : firstOrder.1
                // S₁
                lowPass(u1, resolution: j1, channel: 1 + n1 + member, output: output)
                // S₂ for every wavelet of a coarser scale, two at once.
                var n2 = 0
                while n2 < wavelets {
                    let j2 = bank.scale(ofWavelet: n2)
                    guard j2 > j1 else { n2 += 1; continue }
                    let pairedSecond = n2 + 1 < wavelets && bank.scale(ofWavelet: n2 + 1) == j2
                    Self.multiplySubsample(u1, rows: h1, columns: w1, filter: bank.wavelets[n2][j1],
                                           factor: 1 << (j2 - j1), into: &secondOrder.0)
                    if pairedSecond {
                        Self.multiplySubsample(u1, rows: h1, columns: w1, filter: bank.wavelets[n2 + 1][j1],
                                               factor: 1 << (j2 - j1), into: &secondOrder.1)
                    }
                    modulusSpectra(&secondOrder, paired: pairedSecond, rows: H >> j2, columns: W >> j2)
                    lowPass(secondOrder.0, resolution: j2, channel: secondChannel, output: output)
                    if pairedSecond { lowPass(secondOrder.1, resolution: j2, channel: secondChannel + 1, output: output) }
                    secondChannel += pairedSecond ? 2 : 1
                    n2 += pairedSecond ? 2 : 1
                }
            }
            n1 += paired ? 2 : 1
        }
        flushLowPass(output: output)
    }

    /// `|F⁻¹ x|` and then its forward transform, in place, for `x.0` and (when `paired`) `x.1`
    /// (`rows × columns` complex values each); the two real moduli share one forward FFT.
    private func modulusSpectra(_ x: inout ([Double], [Double]), paired: Bool, rows: Int, columns: Int) {
        let count = rows * columns
        x.0.withUnsafeMutableBufferPointer { first in
            x.1.withUnsafeMutableBufferPointer { second in
                let a = first.baseAddress!, b = second.baseAddress!
                fft.inverse(a, rows: rows, columns: columns)
                if paired { fft.inverse(b, rows: rows, columns: columns) }
                // z = |a| + i|b| (|b| = 0 alone).
                for k in 0..<count {
                    let magnitude = (a[2 * k] * a[2 * k] + a[2 * k + 1] * a[2 * k + 1]).squareRoot()
                    a[2 * k + 1] = paired ? (b[2 * k] * b[2 * k] + b[2 * k + 1] * b[2 * k + 1]).squareRoot() : 0
                    a[2 * k] = magnitude
                }
                fft.forward(a, rows: rows, columns: columns)
                guard paired else { return }
                // Z = A + iB: A[k] = (Z[k] + Z̄[−k])/2, B[k] = (Z[k] − Z̄[−k])/(2i). B first, from the untouched Z.
                for r in 0..<rows {
                    let mr = (rows - r) % rows
                    for c in 0..<columns {
                        let (k, m) = (r * columns + c, mr * columns + (columns - c) % columns)
                        b[2 * k] = (a[2 * k + 1] + a[2 * m + 1]) / 2
                        b[2 * k + 1] = -(a[2 * k] - a[2 * m]) / 2
                    }
                }
                // A is Hermitian: A[k] = (Re, Im) with Re even and Im odd; each pair (k, −k) is updated together.
                for r in 0..<rows {
                    let mr = (rows - r) % rows
                    for c in 0..<columns {
                        let (k, m) = (r * columns + c, mr * columns + (columns - c) % columns)
                        guard k <= m else { continue }
                        let real = (a[2 * k] + a[2 * m]) / 2
                        let imaginary = (a[2 * k + 1] - a[2 * m + 1]) / 2
                        a[2 * k] = real; a[2 * k + 1] = imaginary
                        a[2 * m] = real; a[2 * m + 1] = -imaginary
                    }
                }
            }
        }
    }

    /// `x̂ · φ̂` at `resolution`, subsampled to resolution J; back to space (two outputs per inverse
    /// FFT: the real part is one channel's, the imaginary part the next one's), outer ring removed,
    /// written to `channel` of the channel-last output.
    private mutating func lowPass(_ x: [Double], resolution r: Int, channel: Int, output: UnsafeMutablePointer<Float>) {
        let (rows, columns) = (t.paddedHeight >> r, t.paddedWidth >> r)
        let J = t.scales
        guard let waiting = pendingChannel else {
            Self.multiplySubsample(x, rows: rows, columns: columns, filter: t.filters.lowPass[r], factor: 1 << (J - r),
                                   into: &pendingLow)
            pendingChannel = channel
            return
        }
        Self.multiplySubsample(x, rows: rows, columns: columns, filter: t.filters.lowPass[r], factor: 1 << (J - r),
                               into: &low)
        // pendingLow + i · low
        let count = (t.paddedHeight >> J) * (t.paddedWidth >> J)
        for k in 0..<count {
            let (re, im) = (low[2 * k], low[2 * k + 1])
            pendingLow[2 * k] -= im
            pendingLow[2 * k + 1] += re
        }
        writeLowPass(output: output, realChannel: waiting, imaginaryChannel: channel)
        pendingChannel = nil
    }

    /// Inverts a low-pass output left without a partner.
    private mutating func flushLowPass(output: UnsafeMutablePointer<Float>) {
        guard let waiting = pendingChannel else { return }
        writeLowPass(output: output, realChannel: waiting, imaginaryChannel: nil)
        pendingChannel = nil
    }

    private mutating func writeLowPass(output: UnsafeMutablePointer<Float>, realChannel: Int, imaginaryChannel: Int?) {
        let J = t.scales
        let (lh, lw) = (t.paddedHeight >> J, t.paddedWidth >> J)
        let channels = t.outputShape.channels
        pendingLow.withUnsafeMutableBufferPointer { fft.inverse($0.baseAddress!, rows: lh, columns: lw) }
        let outputWidth = lw - 2
        for row in 1..<(lh - 1) {
            for column in 1..<(lw - 1) {
                let index = ((row - 1) * outputWidth + column - 1) * channels
                output[index + realChannel] = Float(pendingLow[2 * (row * lw + column)])
                if let imaginaryChannel { output[index + imaginaryChannel] = Float(pendingLow[2 * (row * lw + column) + 1]) }
            }
        }
    }

    /// `y[a,b] = (1/k²) Σ_{i,j<k} (x · f)[a + i·R/k, b + j·C/k]`: the product with a real filter, then
    /// subsampling by `k` in the Fourier domain (Kymatio's `subsample_fourier`).
    private static func multiplySubsample(_ x: [Double], rows: Int, columns: Int, filter: [Double], factor k: Int,
                                          into y: inout [Double]) {
        let (outRows, outColumns) = (rows / k, columns / k)
        let scale = 1 / Double(k * k)
        for a in 0..<outRows {
            for b in 0..<outColumns {
                var (re, im) = (0.0, 0.0)
                for i in 0..<k {
                    let row = a + i * outRows
                    for j in 0..<k {
                        let index = row * columns + b + j * outColumns
                        re += x[2 * index] * filter[index]
                        im += x[2 * index + 1] * filter[index]
                    }
                }
                y[2 * (a * outColumns + b)] = re * scale
                y[2 * (a * outColumns + b) + 1] = im * scale
            }
        }
    }
}
