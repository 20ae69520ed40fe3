import CGSL

/// Upper-tail probability `P(X ≥ statistic)` of a chi-squared variable with `degreesOfFreedom`
/// degrees of freedom (GSL's `gsl_cdf_chisq_Q`).
public func chiSquaredPValue(statistic: Double, degreesOfFreedom: Int) -> Double {
    gsl_cdf_chisq_Q(statistic, Double(degreesOfFreedom))
}

/// Pearson's chi-squared goodness-of-fit test of observed counts against expected probabilities.
///
/// Cells whose expected count is below `minimumExpected` are pooled into one cell (the usual rule
/// for the chi-squared approximation to hold). Returns the p-value; reject at level α when the
/// p-value is below α. `probabilities` need not sum to one: the remainder `1 - Σp` is treated as
/// one more cell with observed count `sampleCount - Σobserved`.
public func chiSquaredGoodnessOfFit(
    observed: [Int], probabilities: [Double], sampleCount: Int, minimumExpected: Double = 5
) -> (pValue: Double, statistic: Double, degreesOfFreedom: Int) {
    precondition(observed.count == probabilities.count)
    let n = Double(sampleCount)
    var cells: [(obs: Double, exp: Double)] = []
    var pooled = (obs: Double(sampleCount - observed.reduce(0, +)),
                  exp: n * max(0, 1 - probabilities.reduce(0, +)))
    for (o, p) in zip(observed, probabilities) {
        let e = n * p
        if e >= minimumExpected { cells.append((Double(o), e)) } else { pooled.obs += Double(o); pooled.exp += e }
    }
    if pooled.exp > 0 || pooled.obs > 0 { cells.append(pooled) }
    var statistic = 0.0
    for cell in cells where cell.exp > 0 {
        let d = cell.obs - cell.exp
        statistic += d * d / cell.exp
    }
    if cells.contains(where: { $0.exp == 0 && $0.obs > 0 }) { statistic = .infinity }
    let dof = max(1, cells.count - 1)
    return (chiSquaredPValue(statistic: statistic, degreesOfFreedom: dof), statistic, dof)
}
