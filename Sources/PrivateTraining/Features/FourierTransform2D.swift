import CGSL

/// In-place 2-D discrete Fourier transforms of complex `rows × columns` arrays (interleaved re, im,
/// row-major) through GSL's mixed-radix FFT (`gsl_fft_complex_forward` / `_inverse`), for side lengths
/// planned up front.
///
/// Conventions as NumPy's `fft2`/`ifft2`: forward `X[k,l] = Σ x[m,n] e^{−2πi(km/M + ln/N)}`, inverse
/// with the factor `1/(MN)`. One instance owns GSL's wavetables and workspaces, which are mutable
/// scratch space: use one instance per thread.
final class FourierTransform2D {
    private struct Plan {
        let wavetable: UnsafeMutablePointer<gsl_fft_complex_wavetable>
        let workspace: UnsafeMutablePointer<gsl_fft_complex_workspace>
    }
    private var plans: [Int: Plan] = [:]

    /// Plans transforms of every length in `lengths`.
    init(lengths: Set<Int>) {
        for n in lengths {
            guard let wavetable = gsl_fft_complex_wavetable_alloc(n), let workspace = gsl_fft_complex_workspace_alloc(n) else {
                fatalError("GSL could not allocate an FFT plan of length \(n)")
            }
            plans[n] = Plan(wavetable: wavetable, workspace: workspace)
        }
    }

    deinit {
        for plan in plans.values {
            gsl_fft_complex_wavetable_free(plan.wavetable)
            gsl_fft_complex_workspace_free(plan.workspace)
        }
    }

    /// Forward transform of `data` (`2 · rows · columns` values) in place.
    func forward(_ data: UnsafeMutablePointer<Double>, rows: Int, columns: Int) {
        transform(data, rows: rows, columns: columns, inverse: false)
    }

    /// Inverse transform (with `1/(rows · columns)`) of `data` in place.
    func inverse(_ data: UnsafeMutablePointer<Double>, rows: Int, columns: Int) {
        transform(data, rows: rows, columns: columns, inverse: true)
    }

    private func transform(_ data: UnsafeMutablePointer<Double>, rows: Int, columns: Int, inverse: Bool) {
        guard let rowPlan = plans[columns], let columnPlan = plans[rows] else {
            preconditionFailure("no FFT plan for \(rows) × \(columns)")
        }
        // A length-1 transform is the identity (and GSL refuses n = 1 plans on some versions).
        if columns > 1 {
            for r in 0..<rows {
                let row = data + 2 * r * columns
                if inverse {
                    gsl_fft_complex_inverse(row, 1, columns, rowPlan.wavetable, rowPlan.workspace)
                } else {
                    gsl_fft_complex_forward(row, 1, columns, rowPlan.wavetable, rowPlan.workspace)
                }
            }
        }
        if rows > 1 {
            for c in 0..<columns {
                let column = data + 2 * c
                if inverse {
                    gsl_fft_complex_inverse(column, columns, rows, columnPlan.wavetable, columnPlan.workspace)
                } else {
                    gsl_fft_complex_forward(column, columns, rows, columnPlan.wavetable, columnPlan.workspace)
                }
            }
        }
    }
}
