/// The largest clamping bounds whose sums stay finite in every backend.
///
/// SQLite sums reals with `TOTAL`, which overflows to ±Infinity; PostgreSQL's `float8` `SUM`, `AVG` and products
/// raise an error instead ("value out of range: overflow"). Either happens only after the budget was charged and
/// only when the data is extreme, so it would be a data-dependent failure (DESIGN §2 rule 3), and an infinite
/// `AVG` would escape the per-unit bound (rule 8). The planner makes both impossible: every value a statement adds
/// up is at most ``largestMagnitude`` in absolute value, so a sum of up to 2^64 of them (more rows than either
/// engine can count, or scan within any time limit) stays below 2^1022, far from `Double.greatestFiniteMagnitude`.
enum FiniteSumBounds {
    /// 2^958 (about 2.4e288): the largest |value| a summed column or squared deviation may have.
    static let largestMagnitude = 0x1p958

    /// The refusal for `kind` when its column's bounds allow a value whose sum could overflow, else `nil`:
    /// max(|L|, |U|) for every aggregate of a column (`AVG` sums the clamped values), and the squared half-width
    /// for the centred sum of squares of `VARIANCE` and `STDDEV`.
    static func refusal(for kind: NoisyQuantity.Kind) -> String? {
        let column: ClampedColumn
        var squares = false
        switch kind {
        case .sum(let c), .centeredSum(let c, _): column = c
        case .centeredSumOfSquares(let c, _):
            column = c
            squares = true
        case .rowCount, .nonNullCount, .unitCount, .histogram: return nil
        }
        let magnitude = max(abs(column.bounds.lowerBound), abs(column.bounds.upperBound))
        if magnitude > largestMagnitude {
            return "the bounds of \(column.name) are too large to sum: a sum of many values up to \(magnitude) could "
                + "overflow the database's floating point; declare bounds within ±2^958 (about 2.4e288)"
        }
        if squares, column.halfWidth * column.halfWidth > largestMagnitude {
            return "the bounds of \(column.name) are too wide for VARIANCE or STDDEV: squared deviations up to "
                + "\((column.halfWidth * column.halfWidth)) could overflow the database's floating point when summed; "
                + "declare bounds whose half-width is at most 2^479 (about 1.5e144)"
        }
        return nil
    }
}
