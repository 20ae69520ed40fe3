import Accounting
import Foundation
import Mechanisms

/// Validates a query against the privacy metadata and plans its private answer.
///
/// Refusals (code ``VeilError/Code/queryRefused``, each saying what to do instead): `SELECT *`, selecting a
/// column that is neither aggregated nor grouped, selecting or grouping by the privacy unit, aggregates over
/// columns without clamping bounds, `MIN`/`MAX`, `COUNT(DISTINCT col)` of anything but the privacy unit,
/// aggregates over expressions, joins, subqueries, several statements, statements other than `SELECT`, and
/// grouping on data-dependent keys with δ = 0.
public struct QueryPlanner: Sendable {
    /// The metadata queries are checked against.
    public let metadata: PrivacyMetadata
    /// Number of equal-width bins of the histogram behind `MEDIAN` and `PERCENTILE`.
    public let histogramBins: Int
    /// Largest number of public key combinations a query may enumerate.
    public static let maxPublicKeyCombinations = 100_000

    /// Creates a planner.
    /// - Parameters:
    ///   - metadata: the tables' privacy metadata.
    ///   - histogramBins: bins of the quantile histogram (2…1000; default 64).
    public init(metadata: PrivacyMetadata, histogramBins: Int = 64) {
        self.metadata = metadata
        self.histogramBins = min(max(histogramBins, 2), 1000)
    }

    /// Parses, validates and plans `query`.
    /// - Parameters:
    ///   - query: one `SELECT` of Veil's SQL subset.
    ///   - budget: the query's ε and δ; ε is split equally across the plan's noisy quantities, δ goes to
    ///     partition selection.
    ///   - sampling: how a unit that touches too many groups chooses the ones it keeps; SQLite's `RANDOM()` by
    ///     default (fastest), or a keyed hash (reproducible).
    ///   - publicValues: key values per column (e.g. read from a keys file) that replace the metadata's
    ///     `public_values` for this query. They must be chosen without looking at the data: every listed key
    ///     is released, and groups with other keys are dropped.
    ///   - noise: discrete Laplace or discrete Gaussian; `nil` (the default) chooses Laplace when δ = 0 and
    ///     Gaussian when δ > 0 (see ``QueryNoise``).
    /// - Returns: the plan.
    /// - Throws: ``QueryError`` (syntax error or refusal, pointing into the query).
    public func plan(_ query: String, budget: QueryBudget,
                     sampling: PartitionSampling = .random,
                     publicValues: [String: [SQLValue]] = [:],
                     noise: QueryNoise? = nil) throws(QueryError) -> QueryPlan {
        let statement = try Parser.parse(query)
        var builder = try PlanBuilder(statement: statement, metadata: metadata, histogramBins: histogramBins)
        for (column, values) in publicValues {
            guard let declared = builder.table.column(named: column) else {
                throw QueryError(.invalidQuery, "public values are given for '\(column)', which is not a column of "
                                 + "table \(builder.table.name)", at: nil, in: query)
            }
            guard !values.isEmpty, Set(values).count == values.count else {
                throw QueryError(.invalidQuery, "the public values of \(declared.name) must be a non-empty list "
                                 + "without repetitions", at: nil, in: query)
            }
            if builder.table.isPrivacyUnit(declared.name) {
                throw QueryError(.queryRefused, "public values cannot be given for the privacy unit \(declared.name)",
                                 at: nil, in: query)
            }
            builder.publicValueOverrides[declared.name] = values
        }
        let noise = noise ?? (budget.delta > 0 ? .gaussian : .laplace)
        if noise == .gaussian, budget.delta == 0 {
            throw QueryError(.invalidQuery, "discrete Gaussian noise needs δ > 0; pass a δ (e.g. 1e-6) or use "
                             + "Laplace noise", at: nil, in: query)
        }
        return try builder.build(budget: budget, sampling: sampling, noise: noise)
    }
}

// MARK: - Builder

/// The mutable state of planning one statement.
struct PlanBuilder {
    let statement: SelectStatement
    let metadata: PrivacyMetadata
    let table: TableMetadata
    let histogramBins: Int

    var keys: [GroupingKey] = []
    var quantityKinds: [NoisyQuantity.Kind] = []
    var aggregateFunctions: [PlannedAggregate.Function] = []
    var aggregateTexts: [String] = []
    var outputs: [OutputColumn] = []
    var whereParameters: [SQLValue] = []
    var publicValueOverrides: [String: [SQLValue]] = [:]

    init(statement: SelectStatement, metadata: PrivacyMetadata, histogramBins: Int) throws(QueryError) {
        self.statement = statement
        self.metadata = metadata
        self.histogramBins = histogramBins
        guard let table = metadata.table(named: statement.from.name) else {
            throw QueryError(.invalidQuery,
                             "unknown table '\(statement.from.name)' (tables in \(metadata.source): "
                             + metadata.tables.map(\.name).joined(separator: ", ") + ")",
                             at: statement.from.location, in: statement.text)
        }
        self.table = table
    }

    func refuse(_ reason: String, at location: SourceLocation) -> QueryError {
        QueryError(.queryRefused, reason, at: location, in: statement.text)
    }

    func invalid(_ reason: String, at location: SourceLocation) -> QueryError {
        QueryError(.invalidQuery, reason, at: location, in: statement.text)
    }

    /// The declared column a reference names, after checking its qualifier.
    func resolveColumn(_ name: String, qualifier: String?, at location: SourceLocation) throws(QueryError) -> ColumnMetadata {
        if let qualifier {
            let matches = qualifier.caseInsensitiveEquals(table.name)
                || (statement.from.alias.map { qualifier.caseInsensitiveEquals($0) } ?? false)
            guard matches else {
                throw invalid("unknown table or alias '\(qualifier)' (the query reads \(table.name)"
                              + (statement.from.alias.map { " AS \($0)" } ?? "") + ")", at: location)
            }
        }
        guard let column = table.column(named: name) else {
            throw invalid("unknown column '\(name)' in table \(table.name) (declared in \(metadata.source): "
                          + table.columns.map(\.name).joined(separator: ", ") + ")", at: location)
        }
        return column
    }

    // MARK: Build

    mutating func build(budget: QueryBudget, sampling: PartitionSampling, noise: QueryNoise) throws(QueryError) -> QueryPlan {
        if statement.distinct, let first = statement.items.first {
            throw refuse("SELECT DISTINCT is refused: it would list raw values; use GROUP BY with an aggregate "
                         + "such as COUNT(*)", at: first.location)
        }
        try planKeys()
        for item in statement.items {
            guard let expression = item.expression else {
                throw refuse("SELECT * is refused: it would output raw rows; select aggregates such as COUNT(*) "
                             + "or AVG(column), optionally with GROUP BY", at: item.location)
            }
            let output = try outputExpression(expression, clause: "SELECT")
            outputs.append(OutputColumn(name: item.alias ?? render(expression), expression: output))
        }
        if aggregateFunctions.isEmpty, keys.isEmpty {
            throw refuse("the query selects no aggregate: add COUNT(*), SUM(column), AVG(column) or another "
                         + "aggregate", at: statement.items[0].location)
        }
        let having = try statement.having.map { e throws(QueryError) in try outputExpression(e, clause: "HAVING") }
        var ordering: [(expression: OutputExpression, descending: Bool)] = []
        for term in statement.orderBy {
            ordering.append((try orderingExpression(term.expression), term.descending))
        }
        let whereSQL = try statement.whereClause.map { e throws(QueryError) in try filterSQL(e) }

        // Partition selection.
        // Saturating product: a count beyond Int.max is refused below like any count above the limit.
        let publicCombinations: Int? = keys.allSatisfy({ $0.publicValues != nil })
            ? keys.reduce(1) { product, key in
                let (next, overflow) = product.multipliedReportingOverflow(by: key.publicValues?.count ?? 1)
                return overflow ? Int.max : next
            } : nil
        if let publicCombinations, publicCombinations > QueryPlanner.maxPublicKeyCombinations {
            throw refuse("the grouping columns' public values give \(publicCombinations) combinations, more than "
                         + "\(QueryPlanner.maxPublicKeyCombinations); group by fewer columns",
                         at: statement.groupBy[0].location)
        }
        let k = table.maxPartitionsPerUnit
        let effectiveK: Int
        if keys.isEmpty {
            effectiveK = 1
        } else if let publicCombinations {
            effectiveK = max(1, min(k, publicCombinations))
        } else {
            effectiveK = k
        }
        let thresholding = !keys.isEmpty && publicCombinations == nil
        var unitCountIndex: Int?
        if thresholding {
            guard budget.delta > 0 else {
                throw refuse("grouping by " + keys.map(\.column).joined(separator: ", ")
                             + " without public values releases keys found in the data, which needs δ > 0 for "
                             + "partition selection; pass a δ (e.g. 1e-6) or declare public_values for "
                             + keys.filter { $0.publicValues == nil }.map(\.column).joined(separator: ", ")
                             + " in \(metadata.source)", at: statement.groupBy[0].location)
            }
            unitCountIndex = quantityIndex(.unitCount)
        }

        // δ: with Laplace noise all of it goes to partition selection; with Gaussian noise half goes to partition
        // selection (when groups come from the data) and the rest to the zCDP-to-(ε, δ) conversion.
        let selectionDelta: Double
        let noiseDelta: Double
        switch (noise, thresholding) {
        case (.laplace, _): (selectionDelta, noiseDelta) = (budget.delta, 0)
        case (.gaussian, true): (selectionDelta, noiseDelta) = (budget.delta / 2, budget.delta / 2)
        case (.gaussian, false): (selectionDelta, noiseDelta) = (0, budget.delta)
        }
        let rho: Double? = noise == .gaussian ? Self.zcdpRho(epsilon: budget.epsilon, delta: noiseDelta) : nil
        let quantities = try makeQuantities(budget: budget, effectiveK: effectiveK, rho: rho)
        var selection = PartitionSelection.single
        if let publicCombinations, !keys.isEmpty { selection = .publicKeys(count: publicCombinations) }
        if let unitCountIndex {
            let q = quantities[unitCountIndex]
            let threshold: Int64
            do {
                switch q.noise {
                case .discreteLaplace(let scale):
                    threshold = try Self.threshold(scale: scale, delta: selectionDelta, k: effectiveK)
                case .discreteGaussian(let sigma, _):
                    threshold = try Self.gaussianThreshold(sigma: sigma, delta: selectionDelta, k: effectiveK)
                }
            } catch {
                throw QueryError(.invalidParameter, "the partition-selection threshold cannot be set at δ "
                                 + "\(selectionDelta) over k = \(effectiveK) groups per unit: \(error)",
                                 at: nil, in: statement.text)
            }
            selection = .thresholding(quantity: unitCountIndex, threshold: threshold, delta: selectionDelta)
        }
        let aggregates = aggregateFunctions.enumerated().map { index, function in
            PlannedAggregate(function: function, quantities: quantityIndices(for: function),
                             bounds: function.column.flatMap { table.column(named: $0)?.bounds },
                             text: aggregateTexts[index])
        }
        let rewriter = SQLRewriter(table: table, keys: keys, quantities: quantities, whereSQL: whereSQL,
                                   whereParameters: whereParameters,
                                   publicKeys: publicCombinations != nil && !keys.isEmpty,
                                   sampling: sampling)
        let (sql, parameters) = rewriter.build()
        let histogramQueries = quantities.filter { $0.dimension > 1 }.map { q in
            let (sql, parameters) = rewriter.histogramStatement(q)
            return HistogramQuery(quantity: q.index, sql: sql, parameters: parameters)
        }
        return QueryPlan(statement: statement, table: table, scope: metadata.scope, budget: budget, keys: keys,
                         selection: selection, effectivePartitionsPerUnit: effectiveK,
                         maxRowsPerPartition: table.maxRowsPerPartition, quantities: quantities,
                         aggregates: aggregates, outputs: outputs, having: having, ordering: ordering,
                         limit: statement.limit, offset: statement.offset, sql: sql, parameters: parameters,
                         boundedScan: rewriter.boundedScan(), histogramQueries: histogramQueries, sampling: sampling, noise: noise, rho: rho,
                         noiseDelta: noiseDelta)
    }

    /// The largest total ρ whose ρ-zCDP guarantee converts to (ε, δ)-DP by ``ZCDP/epsilon(rho:delta:)``
    /// (Canonne, Kamath, Steinke 2020, Corollary 13), found by bisection (ε(ρ) increases with ρ) and
    /// rounded down so the conversion of the returned ρ is at most ε.
    static func zcdpRho(epsilon: Double, delta: Double) -> Double {
        func fits(_ rho: Double) -> Bool { ((try? ZCDP.epsilon(rho: rho, delta: delta)) ?? .infinity) <= epsilon }
        // ρ + 2√(ρ log(1/δ)) ≥ ε(ρ), so the classic inversion is a lower bound that fits.
        let l = Foundation.log(1 / delta)
        var low = pow((epsilon + l).squareRoot() - l.squareRoot(), 2) * (1 - 1e-12)
        var high = epsilon
        if !fits(low) { low = 0 }
        while fits(high) { high *= 2 }
        for _ in 0..<100 where high - low > 1e-15 * high {
            let mid = (low + high) / 2
            if fits(mid) { low = mid } else { high = mid }
        }
        return low
    }

    /// The partition-selection threshold for discrete Gaussian noise of parameter σ on unit counts: `1 + t` for
    /// the smallest `t ≥ 1` with `P(Y ≥ t) ≤ δ/k`, `Y ~ N_ℤ(0, σ²)` (tail from ``NoiseQuantile``, exact for
    /// σ ≤ 512 and an upper bound above). A group created by one unit alone (true unit count 1) is then released
    /// with probability at most δ/k, and one unit creates at most k such groups (union bound).
    ///
    /// - Throws: ``VeilError`` (`invalid_parameter`) when δ/k is not in (0, 1) or σ is beyond 2^52.
    static func gaussianThreshold(sigma: Double, delta: Double, k: Int) throws -> Int64 {
        1 + Int64(try NoiseQuantile.discreteGaussianUpperQuantile(sigma: sigma, tailProbability: delta / Double(k)))
    }

    /// The partition-selection threshold for discrete Laplace noise of `scale` on unit counts (see
    /// ``PartitionSelection/thresholding(quantity:threshold:delta:)``).
    ///
    /// - Throws: ``VeilError`` (`invalid_parameter`) when δ/k is so small that the threshold is not below 2^62
    ///   (e.g. a subnormal δ).
    static func threshold(scale: Double, delta: Double, k: Int) throws -> Int64 {
        let r = exp(-1 / scale)
        let perPartitionDelta = delta / Double(k)
        let t = (scale * log(1 / (perPartitionDelta * (1 + r)))).rounded(.up)
        guard perPartitionDelta > 0, t.isFinite, t < 0x1p62 else {
            throw VeilError.invalidParameter("delta / k", perPartitionDelta,
                                             allowed: "large enough for a finite threshold (e.g. δ ≥ 1e-100)")
        }
        return 1 + Int64(max(1, t))
    }

    // MARK: Keys

    mutating func planKeys() throws(QueryError) {
        for expression in statement.groupBy {
            guard case .column(let name, let qualifier) = expression.kind else {
                if case .integer = expression.kind {
                    throw refuse("GROUP BY by position is not supported: name the column", at: expression.location)
                }
                throw refuse("GROUP BY accepts columns only: '\(render(expression))' is an expression",
                             at: expression.location)
            }
            let column = try resolveColumn(name, qualifier: qualifier, at: expression.location)
            if table.isPrivacyUnit(column.name) {
                throw refuse("grouping by the privacy unit \(column.name) is refused: each group would describe one "
                             + "unit; group by another column, or count units with COUNT(DISTINCT \(column.name))",
                             at: expression.location)
            }
            if keys.contains(where: { $0.column == column.name }) { continue }
            keys.append(GroupingKey(column: column.name, type: column.type,
                                    publicValues: publicValueOverrides[column.name] ?? column.publicValues))
        }
    }

    // MARK: Output expressions

    mutating func outputExpression(_ expression: Expression, clause: String) throws(QueryError) -> OutputExpression {
        switch expression.kind {
        case .column(let name, let qualifier):
            // An output alias (HAVING and ORDER BY may name one).
            if clause != "SELECT", qualifier == nil,
               let position = statement.items.firstIndex(where: { $0.alias?.caseInsensitiveEquals(name) ?? false }),
               position < outputs.count {
                return outputs[position].expression
            }
            let column = try resolveColumn(name, qualifier: qualifier, at: expression.location)
            if let index = keys.firstIndex(where: { $0.column == column.name }) { return .key(index) }
            if table.isPrivacyUnit(column.name) {
                throw refuse("selecting the privacy unit \(column.name) is refused: it would reveal who is in the "
                             + "data; count units with COUNT(DISTINCT \(column.name)) instead", at: expression.location)
            }
            throw refuse("column \(column.name) is used in \(clause) without an aggregate, which would output raw "
                         + "values; wrap it in an aggregate such as "
                         + (column.type.isNumeric ? "AVG(\(column.name))" : "COUNT(\(column.name))")
                         + " or add it to GROUP BY", at: expression.location)
        case .integer(let v): return .literal(.integer(v))
        case .real(let v): return .literal(.real(v))
        case .string(let v): return .literal(.text(v))
        case .boolean(let v): return .literal(.integer(v ? 1 : 0))
        case .null: return .literal(.null)
        case .unary(let op, let operand):
            let inner = try outputExpression(operand, clause: clause)
            switch op {
            case .negate: return .negate(inner)
            case .plus: return inner
            case .not: return .not(inner)
            }
        case .binary(let op, let l, let r):
            if op == .concatenate {
                throw refuse("'||' is not supported on results", at: expression.location)
            }
            return .binary(op, try outputExpression(l, clause: clause), try outputExpression(r, clause: clause))
        case .function:
            return .aggregate(try aggregate(expression))
        case .isNull(let operand, let negated):
            return .isNull(try outputExpression(operand, clause: clause), negated: negated)
        case .inList(let operand, let list, let negated):
            var items: [OutputExpression] = []
            for item in list { items.append(try outputExpression(item, clause: clause)) }
            return .inList(try outputExpression(operand, clause: clause), items, negated: negated)
        case .between(let operand, let low, let high, let negated):
            return .between(try outputExpression(operand, clause: clause), try outputExpression(low, clause: clause),
                            try outputExpression(high, clause: clause), negated: negated)
        case .like:
            throw refuse("LIKE is supported in WHERE only; filter rows there instead", at: expression.location)
        case .subquery:
            throw refuse("subqueries are not supported yet", at: expression.location)
        }
    }

    mutating func orderingExpression(_ expression: Expression) throws(QueryError) -> OutputExpression {
        if case .integer(let position) = expression.kind {
            guard position >= 1, position <= outputs.count else {
                throw invalid("ORDER BY position \(position) is out of range: the query has \(outputs.count) "
                              + "output column\(outputs.count == 1 ? "" : "s")", at: expression.location)
            }
            return outputs[Int(position) - 1].expression
        }
        return try outputExpression(expression, clause: "ORDER BY")
    }

    // MARK: Aggregates

    /// Registers the aggregate call `expression` and returns its index in the plan's aggregates.
    mutating func aggregate(_ expression: Expression) throws(QueryError) -> Int {
        guard case .function(let name, let arguments, let distinct, let star) = expression.kind else {
            preconditionFailure("aggregate(_:) needs a function call")
        }
        let location = expression.location
        let known = ["COUNT", "SUM", "AVG", "MEAN", "VARIANCE", "VAR", "VAR_POP", "STDDEV", "STDDEV_POP", "STDEV",
                     "MEDIAN", "PERCENTILE", "PERCENTILE_CONT"]
        if name == "MIN" || name == "MAX" {
            throw refuse("\(name) is refused: one unit's value can decide it exactly; use "
                         + (name == "MIN" ? "PERCENTILE(column, 0.05)" : "PERCENTILE(column, 0.95)")
                         + " for a private estimate of an extreme", at: location)
        }
        guard known.contains(name) else {
            throw refuse("function \(name) is not supported; the aggregates are COUNT, SUM, AVG, VARIANCE, STDDEV, "
                         + "MEDIAN and PERCENTILE(column, p)", at: location)
        }
        for argument in arguments where argument.containsAggregate {
            throw refuse("aggregates cannot be nested: \(render(expression))", at: argument.location)
        }

        let function: PlannedAggregate.Function
        if name == "COUNT" {
            // COUNT(1), COUNT('x'): a non-null constant counts rows, as COUNT(*) does.
            let constant = arguments.count == 1 && !distinct && {
                switch arguments[0].kind {
                case .integer, .real, .string, .boolean: true
                default: false
                }
            }()
            if star || constant {
                function = table.privacyUnit == .row ? .countDistinctUnits : .countRows
            } else {
                guard arguments.count == 1 else {
                    throw invalid("COUNT takes one argument or *", at: location)
                }
                let column = try aggregateColumn(arguments[0], function: name)
                if distinct {
                    guard table.isPrivacyUnit(column.name) else {
                        throw refuse("COUNT(DISTINCT \(column.name)) is refused: only the privacy unit can be counted "
                                     + "distinctly" + (unitName.map { " (COUNT(DISTINCT \($0)))" } ?? "")
                                     + "; group by \(column.name) with public values to count keys", at: location)
                    }
                    function = .countDistinctUnits
                } else {
                    function = .countColumn(column.name)
                }
            }
        } else {
            if star {
                throw invalid("\(name)(*) is not meaningful: name a column", at: location)
            }
            if distinct {
                throw refuse("\(name)(DISTINCT …) is not supported: drop DISTINCT", at: location)
            }
            let isPercentile = name == "PERCENTILE" || name == "PERCENTILE_CONT"
            guard arguments.count == (isPercentile ? 2 : 1) else {
                throw invalid(isPercentile ? "\(name) takes a column and a fraction p in [0, 1], e.g. PERCENTILE(income, 0.9)"
                                           : "\(name) takes one column", at: location)
            }
            let column = try aggregateColumn(arguments[0], function: name)
            guard column.type.isNumeric else {
                throw refuse("\(name)(\(column.name)) is refused: \(column.name) is a text column", at: arguments[0].location)
            }
            guard column.bounds != nil else {
                throw refuse("\(name)(\(column.name)) needs clamping bounds: \(metadata.source), table \(table.name), "
                             + "column \(column.name) declares no lower/upper; add e.g. `lower: 0, upper: 100` "
                             + "(bounds chosen without looking at the data)", at: arguments[0].location)
            }
            switch name {
            case "SUM": function = .sum(column.name)
            case "AVG", "MEAN": function = .average(column.name)
            case "VARIANCE", "VAR", "VAR_POP": function = .variance(column.name)
            case "STDDEV", "STDDEV_POP", "STDEV": function = .standardDeviation(column.name)
            case "MEDIAN": function = .percentile(column.name, 0.5)
            default:
                let pExpression = arguments[1]
                let p: Double
                switch pExpression.kind {
                case .integer(let v): p = Double(v)
                case .real(let v): p = v
                default:
                    throw invalid("the second argument of \(name) must be a number p in [0, 1]", at: pExpression.location)
                }
                guard p >= 0, p <= 1 else {
                    throw invalid("the percentile p must be in [0, 1] (e.g. 0.9 for the 90th), got \(p)",
                                  at: pExpression.location)
                }
                function = .percentile(column.name, p)
            }
        }
        if let existing = aggregateFunctions.firstIndex(of: function) { return existing }
        for kind in requiredQuantities(function) { _ = quantityIndex(kind) }
        aggregateFunctions.append(function)
        aggregateTexts.append(render(expression))
        return aggregateFunctions.count - 1
    }

    var unitName: String? {
        if case .column(let name) = table.privacyUnit { return name }
        return nil
    }

    func aggregateColumn(_ argument: Expression, function: String) throws(QueryError) -> ColumnMetadata {
        guard case .column(let name, let qualifier) = argument.kind else {
            throw refuse("\(function) accepts a column only: '\(render(argument))' is an expression without declared "
                         + "bounds; aggregate the column and do arithmetic on the result, e.g. \(function)(x) * 2",
                         at: argument.location)
        }
        let column = try resolveColumn(name, qualifier: qualifier, at: argument.location)
        if table.isPrivacyUnit(column.name), function != "COUNT" {
            throw refuse("\(function)(\(column.name)) is refused: \(column.name) is the privacy unit; "
                         + "count units with COUNT(DISTINCT \(column.name))", at: argument.location)
        }
        return column
    }

    func requiredQuantities(_ function: PlannedAggregate.Function) -> [NoisyQuantity.Kind] {
        func center(_ column: String) -> Double {
            let bounds = table.column(named: column)!.bounds!
            return (bounds.lowerBound + bounds.upperBound) / 2
        }
        switch function {
        case .countRows: return [.rowCount]
        case .countColumn(let c): return [.nonNullCount(column: c)]
        case .countDistinctUnits: return [.unitCount]
        case .sum(let c): return [.sum(column: c)]
        case .average(let c): return [.nonNullCount(column: c), .centeredSum(column: c, center: center(c))]
        case .variance(let c), .standardDeviation(let c):
            return [.nonNullCount(column: c), .centeredSum(column: c, center: center(c)),
                    .centeredSumOfSquares(column: c, center: center(c))]
        case .percentile(let c, _):
            let bounds = table.column(named: c)!.bounds!
            return [.histogram(column: c, bins: histogramBins, lower: bounds.lowerBound, upper: bounds.upperBound)]
        }
    }

    func quantityIndices(for function: PlannedAggregate.Function) -> [Int] {
        requiredQuantities(function).map { kind in quantityKinds.firstIndex(of: kind)! }
    }

    mutating func quantityIndex(_ kind: NoisyQuantity.Kind) -> Int {
        if let index = quantityKinds.firstIndex(of: kind) { return index }
        quantityKinds.append(kind)
        return quantityKinds.count - 1
    }

    // MARK: Sensitivities and budget split

    /// Sensitivities from the bounds, granularity, and an equal share of ε for each quantity.
    ///
    /// With `rho` (Gaussian noise), each quantity receives ρ/n and σ = ⌈Δ₂⌉/√(2ρ/n) in grid units, rounded up to
    /// 12 significant bits (``DiscreteGaussianMechanism/init(rho:sensitivity:confidenceLevel:)``).
    func makeQuantities(budget: QueryBudget, effectiveK: Int, rho: Double?) throws(QueryError) -> [NoisyQuantity] {
        let m = Double(table.maxRowsPerPartition)
        let epsilonShare = budget.epsilon / Double(quantityKinds.count)
        let rhoShare = rho.map { $0 / Double(quantityKinds.count) }
        return try quantityKinds.enumerated().map { (index, kind) throws(QueryError) -> NoisyQuantity in
            var bound: Double          // per-partition bound in value units
            var integral = true        // contributions are integers (granularity 1)
            var dimension = 1
            switch kind {
            case .rowCount, .nonNullCount: bound = m
            case .unitCount: bound = 1
            case .sum(let c):
                let column = table.column(named: c)!
                let b = column.bounds!
                bound = m * max(abs(b.lowerBound), abs(b.upperBound))
                integral = column.type != .real && b.lowerBound == b.lowerBound.rounded() && b.upperBound == b.upperBound.rounded()
            case .centeredSum(let c, _):
                let b = table.column(named: c)!.bounds!
                bound = m * (b.upperBound - b.lowerBound) / 2
                integral = false
            case .centeredSumOfSquares(let c, _):
                let b = table.column(named: c)!.bounds!
                let half = (b.upperBound - b.lowerBound) / 2
                bound = m * half * half
                integral = false
            case .histogram(_, let bins, _, _):
                bound = m
                dimension = bins
            }
            let granularity: Double
            if integral {
                granularity = 1
            } else if let rhoShare {
                // The grid is at most 1/1024 of σ in value units (√k · bound / √(2ρᵢ)).
                granularity = Self.granularity(l1Bound: Double(effectiveK).squareRoot() * bound,
                                               epsilon: (2 * rhoShare).squareRoot())
            } else {
                granularity = Self.granularity(l1Bound: Double(effectiveK) * bound, epsilon: epsilonShare)
            }
            // Sensitivities in grid units, checked: a bound (or k·m·bound) of 2^62 grid units or more cannot be
            // calibrated and is refused rather than converted or multiplied with overflow.
            let uncalibrated = QueryError(.invalidParameter, "the noise for \(kind) cannot be calibrated: its "
                                          + "sensitivity (k = \(effectiveK) groups × m = \(table.maxRowsPerPartition) "
                                          + "rows × the column's bounds) is 2^62 grid units or more; declare tighter "
                                          + "bounds or contribution limits in \(metadata.source)",
                                          at: nil, in: statement.text)
            let units = (bound / granularity).rounded(.up)
            guard units < 0x1p62 else { throw uncalibrated }
            let partitionSensitivity = max(1, Int(units))
            let (l1, overflow) = effectiveK.multipliedReportingOverflow(by: partitionSensitivity)
            guard !overflow, let l2 = Self.integerL2Sensitivity(k: effectiveK, partitionSensitivity: partitionSensitivity)
            else { throw uncalibrated }
            // The mechanisms calibrate exactly (scale rounded up so that Δ/b ≤ ε holds); a share they cannot
            // calibrate refuses the query rather than fall back to an unrounded scale.
            let laplaceScale: Double
            let noise: NoisyQuantity.Noise
            do {
                laplaceScale = try DiscreteLaplaceMechanism(epsilon: epsilonShare, sensitivity: l1).scale
                if let rhoShare {
                    let sigma = try DiscreteGaussianMechanism(rho: rhoShare, sensitivity: l2).sigma
                    noise = .discreteGaussian(sigma: sigma, sensitivity: l2)
                } else {
                    noise = .discreteLaplace(scale: laplaceScale)
                }
            } catch {
                throw QueryError(.invalidParameter, "the noise for \(kind) cannot be calibrated at ε share "
                                 + "\(epsilonShare): \(error)", at: nil, in: statement.text)
            }
            return NoisyQuantity(index: index, kind: kind, dimension: dimension, granularity: granularity,
                                 partitionSensitivity: partitionSensitivity,
                                 l1Sensitivity: l1,
                                 l2Sensitivity: Double(effectiveK).squareRoot() * Double(partitionSensitivity),
                                 epsilon: epsilonShare, laplaceScale: laplaceScale, noise: noise)
        }
    }

    /// ⌈√k · s⌉ computed exactly: the smallest integer D with D² ≥ k·s² (in 128-bit arithmetic), or `nil` when
    /// k·s overflows or D is 2^62 or more.
    static func integerL2Sensitivity(k: Int, partitionSensitivity s: Int) -> Int? {
        guard k >= 1, s >= 1, !k.multipliedReportingOverflow(by: s).overflow else { return nil }
        let square = Int128(k) * Int128(s) * Int128(s)     // below 2^126
        var d = Int128(Double(square).squareRoot())
        while d * d < square { d += 1 }
        while d > 1 && (d - 1) * (d - 1) >= square { d -= 1 }
        return d < 1 << 62 ? max(1, Int(d)) : nil
    }

    /// The grid for a real-valued quantity: the largest power of two at most 1/1024 of the Laplace scale
    /// `l1Bound / ε` (exponent kept in [−60, 60]), so rounding moves a value by at most 1/2048 of the noise scale.
    static func granularity(l1Bound: Double, epsilon: Double) -> Double {
        let scale = l1Bound / epsilon
        guard scale > 0, scale.isFinite else { return 1 }
        let exponent = min(60, max(-60, Int((log2(scale) - 10).rounded(.down))))
        return exp2(Double(exponent))
    }

    // MARK: WHERE

    /// The `WHERE` condition as SQL over quoted, declared identifiers, with every literal bound as a parameter.
    mutating func filterSQL(_ expression: Expression) throws(QueryError) -> String {
        switch expression.kind {
        case .column(let name, let qualifier):
            let column = try resolveColumn(name, qualifier: qualifier, at: expression.location)
            return SQLRewriter.quote(column.name)
        case .integer(let v):
            whereParameters.append(.integer(v))
            return "?"
        case .real(let v):
            whereParameters.append(.real(v))
            return "?"
        case .string(let v):
            whereParameters.append(.text(v))
            return "?"
        case .boolean(let v):
            whereParameters.append(.integer(v ? 1 : 0))
            return "?"
        case .null:
            return "NULL"
        case .unary(let op, let operand):
            let inner = try filterSQL(operand)
            switch op {
            case .negate: return "(-\(inner))"
            case .plus: return inner
            case .not: return "(NOT \(inner))"
            }
        case .binary(let op, let l, let r):
            let left = try filterSQL(l)
            let right = try filterSQL(r)
            return "(\(left) \(op.rawValue) \(right))"
        case .function(let name, _, _, _):
            throw refuse(Self.aggregateNames.contains(name)
                         ? "aggregates are not allowed in WHERE (it filters rows); use HAVING to filter groups"
                         : "function \(name) is not supported in WHERE; compare columns with literals",
                         at: expression.location)
        case .isNull(let operand, let negated):
            return "(\(try filterSQL(operand)) IS \(negated ? "NOT " : "")NULL)"
        case .inList(let operand, let list, let negated):
            let left = try filterSQL(operand)
            var items: [String] = []
            for item in list { items.append(try filterSQL(item)) }
            return "(\(left) \(negated ? "NOT " : "")IN (\(items.joined(separator: ", "))))"
        case .between(let operand, let low, let high, let negated):
            let value = try filterSQL(operand)
            let lowSQL = try filterSQL(low)
            let highSQL = try filterSQL(high)
            return "(\(value) \(negated ? "NOT " : "")BETWEEN \(lowSQL) AND \(highSQL))"
        case .like(let operand, let pattern, let negated):
            let value = try filterSQL(operand)
            let patternSQL = try filterSQL(pattern)
            return "(\(value) \(negated ? "NOT " : "")LIKE \(patternSQL))"
        case .subquery:
            throw refuse("subqueries are not supported yet", at: expression.location)
        }
    }

    static let aggregateNames: Set<String> = ["COUNT", "SUM", "AVG", "MEAN", "VARIANCE", "VAR", "VAR_POP", "STDDEV",
                                              "STDDEV_POP", "STDEV", "MEDIAN", "PERCENTILE", "PERCENTILE_CONT",
                                              "MIN", "MAX"]

    // MARK: Rendering

    /// A normalised text form of an expression, used as the default output column name.
    func render(_ expression: Expression) -> String {
        switch expression.kind {
        case .column(let name, let qualifier):
            let column = table.column(named: name)?.name ?? name
            return qualifier == nil ? column : "\(qualifier!).\(column)"
        case .integer(let v): return String(v)
        case .real(let v): return String(v)
        case .string(let v): return "'\(v.replacingOccurrences(of: "'", with: "''"))'"
        case .boolean(let v): return v ? "TRUE" : "FALSE"
        case .null: return "NULL"
        case .unary(let op, let operand):
            return op == .not ? "NOT \(render(operand))" : "\(op.rawValue)\(render(operand))"
        case .binary(let op, let l, let r): return "\(render(l)) \(op.rawValue) \(render(r))"
        case .function(let name, let arguments, let distinct, let star):
            if star { return "\(name)(*)" }
            return "\(name)(\(distinct ? "DISTINCT " : "")\(arguments.map(render).joined(separator: ", ")))"
        case .isNull(let e, let negated): return "\(render(e)) IS \(negated ? "NOT " : "")NULL"
        case .inList(let e, let list, let negated):
            return "\(render(e)) \(negated ? "NOT " : "")IN (\(list.map(render).joined(separator: ", ")))"
        case .between(let e, let low, let high, let negated):
            return "\(render(e)) \(negated ? "NOT " : "")BETWEEN \(render(low)) AND \(render(high))"
        case .like(let e, let pattern, let negated):
            return "\(render(e)) \(negated ? "NOT " : "")LIKE \(render(pattern))"
        case .subquery: return "(SELECT …)"
        }
    }
}

extension PlannedAggregate.Function {
    /// The column the aggregate reads, if any.
    var column: String? {
        switch self {
        case .countRows, .countDistinctUnits: nil
        case .countColumn(let c), .sum(let c), .average(let c), .variance(let c), .standardDeviation(let c),
             .percentile(let c, _): c
        }
    }
}

extension Expression {
    /// Whether an aggregate call occurs in this expression.
    var containsAggregate: Bool {
        switch kind {
        case .function(let name, let arguments, _, _):
            PlanBuilder.aggregateNames.contains(name) || arguments.contains { $0.containsAggregate }
        case .unary(_, let e), .isNull(let e, _): e.containsAggregate
        case .binary(_, let l, let r): l.containsAggregate || r.containsAggregate
        case .inList(let e, let list, _): e.containsAggregate || list.contains { $0.containsAggregate }
        case .between(let e, let l, let h, _): e.containsAggregate || l.containsAggregate || h.containsAggregate
        case .like(let e, let p, _): e.containsAggregate || p.containsAggregate
        default: false
        }
    }
}
