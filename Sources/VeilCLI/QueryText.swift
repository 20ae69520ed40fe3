import Foundation
import Mechanisms
import PrivateSQL

/// Text forms of plans and releases for `veil query` (printing only; the values come from PrivateSQL).
enum QueryText {
    /// `cost: ε …, δ … charged to budget …` and the DP event.
    static func cost(_ plan: QueryPlan) -> String {
        "cost: ε \(amount(plan.budget.epsilon)), δ \(amount(plan.budget.delta)) on budget \(plan.scope) "
            + "(\(plan.noise == .laplace ? "discrete Laplace" : "discrete Gaussian") noise, "
            + "\(plan.quantities.count) noisy quantit\(plan.quantities.count == 1 ? "y" : "ies"))\n"
            + "event: \(eventJSON(plan.cost))"
    }

    /// Each output column's expected half-width at `level`, from the plan alone (``ExpectedHalfWidth``).
    static func expectedAccuracy(_ plan: QueryPlan, level: Double) throws -> String {
        var lines = ["expected \(amount(level * 100))% interval half-widths (noise only, known before the data is read):"]
        for (column, width) in zip(plan.outputs, try plan.expectedHalfWidths(level: level)) {
            switch width {
            case .exact(let h): lines.append("  \(column.name): ±\(amount(h))")
            case .perCount(let h): lines.append("  \(column.name): about ±\(amount(h))/n, n the group's counted values")
            case .dataDependent: lines.append("  \(column.name): depends on the data")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func eventJSON(_ event: DPEvent) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(event)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    }

    /// The plan, its rewritten SQL and its cost.
    static func explanation(_ plan: QueryPlan) -> String {
        var lines: [String] = ["query: \(plan.statement.text.trimmingCharacters(in: .whitespacesAndNewlines))"]
        let unit: String
        switch plan.table.privacyUnit {
        case .row: unit = "one row (row privacy)"
        case .column(let name): unit = name
        }
        lines.append("table \(plan.table.name); privacy unit: \(unit); groups per unit: k = \(plan.effectivePartitionsPerUnit); "
                     + "rows per unit and group: m = \(plan.maxRowsPerPartition)"
                     + (plan.table.maxRowsPerUnit.map { "; rows per unit in all: R = \($0)" } ?? ""))
        switch plan.selection {
        case .single: lines.append("groups: one (no GROUP BY)")
        case .publicKeys(let count): lines.append("groups: \(count) public key combinations, all released (no δ spent)")
        case .thresholding(let q, let threshold, let delta):
            lines.append("groups: from the data; released when the noisy unit count (q\(q)) is ≥ \(threshold) "
                         + "(partition selection, δ \(amount(delta)))")
        }
        switch plan.noise {
        case .laplace:
            lines.append("noise: discrete Laplace; ε \(amount(plan.budget.epsilon)) split over "
                         + "\(plan.quantities.count) quantities by their effect on the answers' error: "
                         + plan.quantities.map { "q\($0.index) \(amount($0.epsilon))" }.joined(separator: ", "))
        case .gaussian:
            lines.append("noise: discrete Gaussian; ρ \(amount(plan.rho ?? 0)) (zCDP, giving ε \(amount(plan.budget.epsilon)) "
                         + "at δ \(amount(plan.noiseDelta))) split over \(plan.quantities.count) quantities by their effect "
                         + "on the answers' error (ρᵢ ∝ √cᵢ)")
        }
        lines.append("quantities (sensitivities and noise in units of the grid g):")
        for q in plan.quantities {
            let noise: String
            switch q.noise {
            case .discreteLaplace(let scale): noise = "discrete Laplace scale \(amount(scale))"
            case .discreteGaussian(let sigma, let l2): noise = "discrete Gaussian σ \(amount(sigma)) for L2 sensitivity \(l2)"
            }
            lines.append("  q\(q.index) \(describe(q.kind)): g = \(amount(q.granularity)), per-group bound "
                         + "\(q.partitionSensitivity), L1 \(q.l1Sensitivity), L2 \(amount(q.l2Sensitivity)); \(noise)")
        }
        lines.append("aggregates:")
        for a in plan.aggregates {
            lines.append("  \(a.text) from " + a.quantities.map { "q\($0)" }.joined(separator: ", "))
        }
        lines.append(cost(plan))
        if let scan = plan.boundedScan {
            var bounding = scan.maxRowsPerUnit.map { "veil_bound keeps \($0) rows per unit chosen at random, then " } ?? "veil_bound "
            bounding += "keeps one total per (unit, group), caps it at m = \(plan.maxRowsPerPartition) rows "
                + "and clamps sums to the bounds"
            if let k = scan.maxGroupsPerUnit { bounding += ", lets each unit keep \(k) of its groups at random" }
            lines.append("statement (run read-only after the cost is reserved; one pass, in which \(bounding), "
                         + "then sums per group):")
            lines.append(scan.sql)
            lines.append("parameters: [" + scan.parameters.map(literal).joined(separator: ", ") + "]")
            lines.append("the same totals as rewritten SQL:")
        } else {
            lines.append("rewritten SQL (run read-only after the cost is reserved):")
        }
        lines.append(plan.sql)
        lines.append("parameters: [" + plan.parameters.map(literal).joined(separator: ", ") + "]")
        for h in plan.histogramQueries {
            lines.append("histogram statement for q\(h.quantity):")
            lines.append(h.sql)
            lines.append("parameters: [" + h.parameters.map(literal).joined(separator: ", ") + "]")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func describe(_ kind: NoisyQuantity.Kind) -> String {
        switch kind {
        case .rowCount: "row count"
        case .nonNullCount(let c): "non-null count of \(c)"
        case .sum(let c): "sum of \(c)"
        case .centeredSum(let c, let center): "sum of \(c) − \(amount(center))"
        case .centeredSumOfSquares(let c, let center): "sum of (\(c) − \(amount(center)))²"
        case .unitCount: "unit count"
        case .histogram(let c, let bins, let lower, let upper):
            "histogram of \(c), \(bins) bins over [\(amount(lower)), \(amount(upper))]"
        }
    }

    static func literal(_ value: SQLValue) -> String {
        if case .text(let s) = value { return "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }
        return value.description
    }

    /// A released value for people: integers as they are, reals with up to 6 significant digits.
    static func display(_ value: SQLValue) -> String {
        switch value {
        case .real(let v): String(format: "%.6g", v)
        default: value.description
        }
    }

    static func display(_ interval: ClosedRange<Double>) -> String {
        "[\(String(format: "%.6g", interval.lowerBound)), \(String(format: "%.6g", interval.upperBound))]"
    }

    /// An aligned table: the columns, and after each noisy column its interval.
    static func table(_ release: PrivateQueryRelease) -> String {
        table(columns: release.result.columns, rows: release.result.rows, intervals: release.confidenceIntervals,
              level: release.confidenceLevel)
    }

    /// The same table from its parts (a release read back from the query service's JSON).
    static func table(columns: [String], rows values: [[SQLValue]], intervals: [[String: ClosedRange<Double>]],
                      level: Double) -> String {
        let percent = String(format: "%g%%", level * 100)
        var header: [String] = []
        var noisy: [Bool] = []
        for column in columns {
            header.append(column)
            let hasInterval = intervals.contains { $0[column] != nil }
            noisy.append(hasInterval)
            if hasInterval { header.append("\(percent) CI") }
        }
        var rows: [[String]] = [header]
        for (r, row) in values.enumerated() {
            var cells: [String] = []
            for (i, value) in row.enumerated() {
                cells.append(display(value))
                if noisy[i] { cells.append((r < intervals.count ? intervals[r][columns[i]] : nil).map(display) ?? "") }
            }
            rows.append(cells)
        }
        let widths = header.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        var text = ""
        for (r, row) in rows.enumerated() {
            text += row.enumerated().map { c, cell in cell.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
            if r == 0 { text += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        if values.isEmpty { text += "(no rows released)\n" }
        return text
    }

    /// CSV: the columns, then `<column>_low,<column>_high` for each noisy column.
    static func csv(_ release: PrivateQueryRelease) -> String {
        let result = release.result
        let noisy = result.columns.map { c in release.confidenceIntervals.contains { $0[c] != nil } }
        var header: [String] = []
        for (i, column) in result.columns.enumerated() {
            header.append(column)
            if noisy[i] { header += ["\(column)_low", "\(column)_high"] }
        }
        var lines = [header.map(field).joined(separator: ",")]
        for (r, row) in result.rows.enumerated() {
            var cells: [String] = []
            for (i, value) in row.enumerated() {
                cells.append(value == .null ? "" : field(value.description))
                if noisy[i] {
                    let interval = release.confidenceIntervals[r][result.columns[i]]
                    cells += [interval.map { "\($0.lowerBound)" } ?? "", interval.map { "\($0.upperBound)" } ?? ""]
                }
            }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func field(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }

    /// The lines under a table: confidence, cost, ledger entry and partition selection.
    static func footer(_ release: PrivateQueryRelease, plan: QueryPlan, ledger: String) -> String {
        var lines = ["\(String(format: "%g%%", release.confidenceLevel * 100)) confidence intervals from the noise "
                     + "distribution (AVG, VARIANCE, STDDEV: for the clamped, bounded values; PERCENTILE: approximate)",
                     "charged ε \(amount(release.epsilon)), δ \(amount(release.delta)) to \(plan.scope) in \(ledger) "
                     + "(reservation \(release.reservationID), \(release.resultDigest))"]
        if let suppression = release.suppression {
            lines.append("partition selection: groups with a noisy unit count below \(suppression.threshold) are not "
                         + "released (δ \(amount(suppression.delta)))")
        }
        return lines.joined(separator: "\n")
    }
}
