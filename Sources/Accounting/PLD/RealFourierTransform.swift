import CGSL

/// A real discrete Fourier transform of one fixed length, backed by GSL's mixed-radix real FFT.
///
/// This is the only type of the PLD accountant that touches unsafe pointers: it owns the GSL
/// wavetables and workspace and frees them on `deinit`. Spectra use GSL's *half-complex* layout
/// for mixed-radix transforms (GSL manual, "Mixed-radix FFT routines for real data"): for a
/// length `n`, element 0 is the real zero-frequency term; for `1 ≤ k < n − k` the real and
/// imaginary parts of frequency `k` sit at `2k − 1` and `2k`; when `n` is even the real
/// Nyquist term sits at `n − 1`. ``HalfComplexSpectrum`` does arithmetic in that layout.
///
/// Not `Sendable`: one instance serves one computation on one thread.
final class RealFourierTransform {
    /// The transform length `n`.
    let length: Int

    private let realWavetable: UnsafeMutablePointer<gsl_fft_real_wavetable>
    private let halfComplexWavetable: UnsafeMutablePointer<gsl_fft_halfcomplex_wavetable>
    private let workspace: UnsafeMutablePointer<gsl_fft_real_workspace>

    /// Allocates the tables for transforms of `length` points.
    /// - Throws: ``VeilError`` with code `.numerical` if GSL cannot allocate them.
    init(length: Int) throws {
        guard length >= 1 else {
            throw VeilError.invalidParameter("FFT length", length, allowed: "an integer ≥ 1")
        }
        guard let real = gsl_fft_real_wavetable_alloc(length) else {
            throw VeilError(.numerical, "could not allocate an FFT wavetable of length \(length)")
        }
        guard let halfComplex = gsl_fft_halfcomplex_wavetable_alloc(length) else {
            gsl_fft_real_wavetable_free(real)
            throw VeilError(.numerical, "could not allocate an FFT wavetable of length \(length)")
        }
        guard let work = gsl_fft_real_workspace_alloc(length) else {
            gsl_fft_real_wavetable_free(real)
            gsl_fft_halfcomplex_wavetable_free(halfComplex)
            throw VeilError(.numerical, "could not allocate an FFT workspace of length \(length)")
        }
        self.length = length
        self.realWavetable = real
        self.halfComplexWavetable = halfComplex
        self.workspace = work
    }

    deinit {
        gsl_fft_real_wavetable_free(realWavetable)
        gsl_fft_halfcomplex_wavetable_free(halfComplexWavetable)
        gsl_fft_real_workspace_free(workspace)
    }

    /// Replaces the `length` real samples in `data` by their spectrum in half-complex layout.
    func forward(_ data: inout [Double]) throws {
        precondition(data.count == length, "FFT input has \(data.count) points, expected \(length)")
        let status = data.withUnsafeMutableBufferPointer { buffer in
            gsl_fft_real_transform(buffer.baseAddress, 1, length, realWavetable, workspace)
        }
        guard status == GSL_SUCCESS else {
            throw VeilError(.numerical, "GSL real FFT failed with status \(status)")
        }
    }

    /// Replaces a half-complex spectrum in `data` by the real samples it transforms back to
    /// (GSL's inverse includes the `1/n` normalisation).
    func inverse(_ data: inout [Double]) throws {
        precondition(data.count == length, "FFT input has \(data.count) points, expected \(length)")
        let status = data.withUnsafeMutableBufferPointer { buffer in
            gsl_fft_halfcomplex_inverse(buffer.baseAddress, 1, length, halfComplexWavetable, workspace)
        }
        guard status == GSL_SUCCESS else {
            throw VeilError(.numerical, "GSL inverse real FFT failed with status \(status)")
        }
    }

    /// The smallest length `≥ minimum` whose prime factors are 2, 3 and 5 only, for which GSL's
    /// mixed-radix transform runs in `O(n log n)` with its fast radix-2/3/4/5 passes.
    static func efficientLength(atLeast minimum: Int) -> Int {
        guard minimum > 1 else { return 1 }
        var best = Int.max
        var power2 = 1
        while power2 < best {
            var power23 = power2
            while power23 < best {
                var candidate = power23
                while candidate < minimum { candidate *= 5 }
                best = min(best, candidate)
                power23 *= 3
            }
            power2 *= 2
        }
        return best
    }
}
