/// Clamping bounds whose arithmetic stays finite in every backend.
///
/// PostgreSQL's `float8` arithmetic raises an error on overflow ("value out of range: overflow") where SQLite's gives
/// ±Infinity. Such an error would come after the charge and only on extreme data: a data-dependent failure
/// (DESIGN §2 rule 3). Sums cannot overflow: the calibration limit (a sensitivity below 2^62 grid units, on a grid of
/// at most 2^60) keeps every summed value below 2^122 in absolute value, and no statement adds up 2^64 values. The
/// histogram of `MEDIAN` and `PERCENTILE`, whose sensitivity does not depend on the bounds, computes each value's
/// bin from x − L, which overflows when U − L does (`lower: -1e308, upper: 1e308`); such bounds are refused here.
enum FiniteArithmeticBounds {
    /// The refusal for `kind` when its arithmetic on values within the column's bounds could overflow, else `nil`.
    static func refusal(for kind: NoisyQuantity.Kind) -> String? {
        guard case .histogram(let column, _, let lower, let upper) = kind, !(upper - lower).isFinite else { return nil }
        return "the bounds of \(column.name) are too wide for MEDIAN or PERCENTILE: upper − lower (\(upper) − "
            + "(\(lower))) is beyond the range of a double, and the histogram's bins are computed from it; declare "
            + "bounds whose width is finite (below about 1.8e308)"
    }
}
