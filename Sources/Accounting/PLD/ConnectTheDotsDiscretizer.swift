import Foundation

/// Turns a base mechanism pair, Poisson-subsampled at some rate in one direction, into a
/// pessimistic PLD on the grid `k·Δ` by the connect-the-dots construction (Doroshenko, Ghazi,
/// Kamath, Kumar, Manurangsi 2022, "Connect the dots: tighter discrete approximations of privacy
/// loss distributions", PoPETs 2022(4)).
///
/// The outcome space is cut into cells whose loss lies in one grid interval `[kΔ, (k+1)Δ]`;
/// a cell with `P`-mass `a` and `Q`-mass `b` is replaced by `p_lo` at `kΔ` and `p_hi` at
/// `(k+1)Δ` with `p_lo + p_hi = a` and `p_lo e^{−kΔ} + p_hi e^{−(k+1)Δ} = b`, i.e.
/// `p_hi = (a − b e^{kΔ})/(1 − e^{−Δ})`. Both are non-negative because the cell's loss lies in
/// the interval, and the two-point pair has the cell as a post-processing, so the result
/// dominates the mechanism (its δ(ε) is never smaller, and equals the true δ at every grid ε
/// when cells align with the grid). Atoms are split the
/// same way between the grid points around their loss.
///
/// For the continuous part the loss is monotone in the outcome, so each grid value `kΔ` is mapped
/// back to its threshold `ℓ_k = g⁻¹(kΔ)` (``SubsampledLossTransform``) and cell masses are
/// differences of cumulative distribution values at consecutive thresholds. Where the loss is
/// unbounded the outcome space is cut at tail quantiles of `P` (mass ≤ `tailMass`), moved out to
/// the next grid value: the tail on the low-loss side is added to the lowest grid value (a higher
/// loss than its own) and the tail on the high-loss side to `m_∞`, both pessimistic.
struct ConnectTheDotsDiscretizer {
    let interval: Double
    let transform: SubsampledLossTransform
    let tailMass: Double

    private struct Split {
        let index: Int
        let lower: Double
        let upper: Double
    }

    func discretize<C: ContinuousLossPart>(_ pair: BaseMechanismPair<C>) throws -> PrivacyLossDistribution {
        var infinity = pair.omittedMass
        var splits: [Split] = []
        for atom in pair.atoms {
            let (a, b) = transform.pairMasses(base0: atom.mass0, base1: atom.mass1)
            guard a > 0 else { continue }
            guard b > 0 else { infinity += a; continue }
            let loss = atom.loss.isFinite ? transform.subsampledLoss(atom.loss) : Foundation.log(a) - Foundation.log(b)
            guard loss.isFinite else { infinity += a; continue }
            splits.append(try splitAtom(mass: a, loss: loss))
        }

        var cellsStart = 0
        var cellLower: [Double] = []
        var cellUpper: [Double] = []
        if let part = pair.continuous {
            let cells = try continuousCells(part, infinity: &infinity, extraSplits: &splits)
            cellsStart = cells.firstIndex
            cellLower = cells.lower
            cellUpper = cells.upper
        }

        // Dense grid covering every split and cell.
        var lowest = Int.max, highest = Int.min
        for s in splits { lowest = Swift.min(lowest, s.index); highest = Swift.max(highest, s.index + 1) }
        if !cellLower.isEmpty {
            lowest = Swift.min(lowest, cellsStart)
            highest = Swift.max(highest, cellsStart + cellLower.count)
        }
        guard lowest <= highest else {
            return PrivacyLossDistribution(unchecked: interval, lowestIndex: 0, probabilities: [],
                                           infinityMass: Swift.min(1, infinity))
        }
        guard highest - lowest + 1 <= PrivacyLossDistribution.maximumGridLength else {
            throw PrivacyLossDistribution.gridTooLarge(highest - lowest + 1)
        }
        var grid = [Double](repeating: 0, count: highest - lowest + 1)
        for (m, lower) in cellLower.enumerated() {
            grid[cellsStart + m - lowest] += lower
            grid[cellsStart + m + 1 - lowest] += cellUpper[m]
        }
        for s in splits {
            grid[s.index - lowest] += s.lower
            grid[s.index + 1 - lowest] += s.upper
        }
        return PrivacyLossDistribution(unchecked: interval, lowestIndex: lowest, probabilities: grid,
                                       infinityMass: Swift.min(1, infinity))
    }

    // MARK: - Continuous part

    private struct Cells {
        let firstIndex: Int
        let lower: [Double]
        let upper: [Double]
    }

    private func continuousCells<C: ContinuousLossPart>(_ part: C, infinity: inout Double,
                                                        extraSplits: inout [Split]) throws -> Cells {
        let range = part.lossRange
        let quantiles = part.lossQuantiles(tailMass: tailMass)
        // Tail quantiles (in ℓ) of P, the distribution the PLD is taken under.
        let upperMeasure: (lower: Double, upper: Double)
        switch (transform.direction, transform.samplingRate == 1) {
        case (.remove, true): upperMeasure = quantiles.p1
        case (.remove, false): upperMeasure = (Swift.min(quantiles.p0.lower, quantiles.p1.lower),
                                               Swift.max(quantiles.p0.upper, quantiles.p1.upper))
        case (.add, _): upperMeasure = quantiles.p0
        }
        let increasing = transform.isIncreasing
        var ellStart = range.lower, ellEnd = range.upper

        // Low-ℓ end: cut only where the subsampled loss is unbounded there.
        if !transform.subsampledLoss(ellStart).isFinite && upperMeasure.lower > ellStart {
            let cutLoss = transform.subsampledLoss(upperMeasure.lower)
            let k = try gridIndex(cutLoss, rounding: increasing ? .down : .up)
            let cut = transform.baseLoss(Double(k) * interval)
            let tail = part.masses(from: part.position(atLoss: ellStart), to: part.position(atLoss: cut))
            let a = transform.pairMasses(base0: tail.mass0, base1: tail.mass1).upper
            if increasing {
                extraSplits.append(Split(index: k, lower: a, upper: 0))
            } else {
                infinity += a
            }
            ellStart = cut
        }
        // High-ℓ end.
        if !transform.subsampledLoss(ellEnd).isFinite && upperMeasure.upper < ellEnd {
            let cutLoss = transform.subsampledLoss(upperMeasure.upper)
            let k = try gridIndex(cutLoss, rounding: increasing ? .up : .down)
            let cut = transform.baseLoss(Double(k) * interval)
            let tail = part.masses(from: part.position(atLoss: cut), to: part.position(atLoss: ellEnd))
            let a = transform.pairMasses(base0: tail.mass0, base1: tail.mass1).upper
            if increasing {
                infinity += a
            } else {
                extraSplits.append(Split(index: k, lower: a, upper: 0))
            }
            ellEnd = cut
        }

        // Loss range of the kept part, in grid units. An end within rounding of a grid value is
        // moved onto it only outward (low end down, high end up), which avoids an empty cell and
        // never lets a cell hold losses outside its interval.
        let startLoss = transform.subsampledLoss(ellStart) / interval
        let endLoss = transform.subsampledLoss(ellEnd) / interval
        let lowUnits = Self.snapped(Swift.min(startLoss, endLoss), rounding: .down)
        let highUnits = Self.snapped(Swift.max(startLoss, endLoss), rounding: .up)
        guard lowUnits.isFinite, highUnits.isFinite,
              Swift.abs(lowUnits) < Double(1 << 52), Swift.abs(highUnits) < Double(1 << 52),
              highUnits - lowUnits < Double(PrivacyLossDistribution.maximumGridLength) else {
            throw PrivacyLossDistribution.gridTooLarge(Int(exactly: (highUnits - lowUnits).rounded(.up)).map(String.init) ?? "too many")
        }
        let kFirst = Int(lowUnits.rounded(.down))
        let kLast = Swift.max(kFirst, Int(highUnits.rounded(.up)) - 1)

        // Breakpoints in increasing loss order: the low-loss end, thresholds, the high-loss end.
        var positions: [C.Position] = []
        positions.reserveCapacity(kLast - kFirst + 2)
        positions.append(part.position(atLoss: increasing ? ellStart : ellEnd))
        if kLast > kFirst {
            for k in (kFirst + 1)...kLast {
                positions.append(part.position(atLoss: transform.baseLoss(Double(k) * interval)))
            }
        }
        positions.append(part.position(atLoss: increasing ? ellEnd : ellStart))

        let cellCount = positions.count - 1
        var lower = [Double](repeating: 0, count: cellCount)
        var upper = [Double](repeating: 0, count: cellCount)
        for m in 0..<cellCount {
            let base = increasing ? part.masses(from: positions[m], to: positions[m + 1])
                                  : part.masses(from: positions[m + 1], to: positions[m])
            let (a, b) = transform.pairMasses(base0: base.mass0, base1: base.mass1)
            guard a > 0 else { continue }
            let high = splitCell(upperMass: a, lowerMass: b, index: kFirst + m)
            lower[m] = a - high
            upper[m] = high
        }
        return Cells(firstIndex: kFirst, lower: lower, upper: upper)
    }

    // MARK: - Splitting

    /// `p_hi = (a − b e^{kΔ})/(1 − e^{−Δ})`, clamped to `[0, a]` against rounding.
    private func splitCell(upperMass a: Double, lowerMass b: Double, index k: Int) -> Double {
        let gridLoss = Double(k) * interval
        let scaledLower = b > 0 ? Foundation.exp(Foundation.log(b) + gridLoss) : 0
        let high = (a - scaledLower) / -Foundation.expm1(-interval)
        return Swift.min(a, Swift.max(0, high))
    }

    /// An atom of mass `a` at loss `L` split between `kΔ ≤ L` and `(k+1)Δ`:
    /// `p_hi = a (1 − e^{kΔ − L})/(1 − e^{−Δ})`.
    private func splitAtom(mass a: Double, loss: Double) throws -> Split {
        let k = try gridIndex(loss, rounding: .down)
        let high = a * -Foundation.expm1(Double(k) * interval - loss) / -Foundation.expm1(-interval)
        let clamped = Swift.min(a, Swift.max(0, high))
        return Split(index: k, lower: a - clamped, upper: clamped)
    }

    /// The grid index of `loss` rounded as asked, refusing values the grid cannot index.
    private func gridIndex(_ loss: Double, rounding: FloatingPointRoundingRule) throws -> Int {
        let units = (loss / interval).rounded(rounding)
        guard units.isFinite, Swift.abs(units) < Double(1 << 52) else {
            throw PrivacyLossDistribution.gridTooLarge("too many")
        }
        return Int(units)
    }

    private static func snapped(_ units: Double, rounding: FloatingPointRoundingRule) -> Double {
        let nearest = units.rounded()
        let outward = rounding == .down ? nearest <= units : nearest >= units
        return outward && Swift.abs(units - nearest) <= 1e-9 * Swift.max(1, Swift.abs(units)) ? nearest : units
    }
}
