import Accounting
import Foundation
import Mechanisms

/// The mutable state of planning one statement: the grouping keys, the aggregates and the noisy quantities
/// they need, the output columns and the row filter, then the partition selection and the budget split
/// (``build(budget:sampling:noise:)``).
struct PlanBuilder {
    let statement: SelectStatement
    let metadata: PrivacyMetadata
    /// The table read, or for a join the joined relation seen as one table (``RelationResolver``).
    let table: TableMetadata
    let histogramBins: Int
    /// The tables the statements read.
    let relation: QueryRelation
    /// The names the query may use for the joined relation's columns (`nil` for one table).
    let scope: RelationResolver.Scope?
    /// The conditions of the `FROM` subqueries' `WHERE` clauses.
    let relationFilter: RowFilter?
    /// The relation's names of the unit columns of all its private tables.
    let unitColumns: Set<String>

    var keys: [GroupingKey] = []
    var quantityKinds: [NoisyQuantity.Kind] = []
    var aggregates: [PlannedAggregate] = []
    var outputs: [OutputColumn] = []
    var publicValueOverrides: [String: [SQLValue]] = [:]

    init(statement: SelectStatement, metadata: PrivacyMetadata, histogramBins: Int) throws(QueryError) {
        self.statement = statement
        self.metadata = metadata
        self.histogramBins = histogramBins
        guard statement.source.isSingleTable else {
            let resolution = try RelationResolver.resolve(statement.source, metadata: metadata, query: statement.text)
            table = resolution.table
            var relation = resolution.relation
            for index in relation.sources.indices {
                relation.sources[index].condition = try relation.sources[index].condition?
                    .asCondition(query: statement.text) { [table] in table.column(named: $0)?.type }
            }
            self.relation = relation
            scope = resolution.scope
            relationFilter = resolution.filter
            unitColumns = resolution.unitColumns
            return
        }
        guard let table = metadata.table(named: statement.from.name) else {
            throw QueryError(.invalidQuery,
                             "unknown table '\(statement.from.name)' (tables in \(metadata.source): "
                             + metadata.tables.map(\.name).joined(separator: ", ") + ")",
                             at: statement.from.location, in: statement.text)
        }
        if table.isPublic {
            throw QueryError(.queryRefused, "table \(table.name) is public (public: true in \(metadata.source)): it "
                             + "protects no one and is only joined to a private table, e.g. FROM visits JOIN "
                             + "\(table.name) ON …", at: statement.from.location, in: statement.text)
        }
        self.table = table
        relation = .single(table)
        scope = nil
        relationFilter = nil
        unitColumns = []
    }

    func refuse(_ reason: String, at location: SourceLocation) -> QueryError {
        QueryError(.queryRefused, reason, at: location, in: statement.text)
    }

    func invalid(_ reason: String, at location: SourceLocation) -> QueryError {
        QueryError(.invalidQuery, reason, at: location, in: statement.text)
    }

    /// The declared column a reference names, after checking its qualifier.
    func resolveColumn(_ name: String, qualifier: String?, at location: SourceLocation) throws(QueryError) -> ColumnMetadata {
        if let scope {
            let resolved = try scope.resolve(name, qualifier: qualifier, at: location, query: statement.text)
            return table.column(named: resolved)!
        }
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

    mutating func build(budget: PrivacyParameters, sampling: PartitionSampling, noise: QueryNoise,
                        weights: [Double]? = nil) throws(QueryError) -> QueryPlan {
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
        if aggregates.isEmpty, keys.isEmpty {
            throw refuse("the query selects no aggregate: add COUNT(*), SUM(column), AVG(column) or another "
                         + "aggregate", at: statement.items[0].location)
        }
        let having = try statement.having.map { e throws(QueryError) in try outputExpression(e, clause: "HAVING") }
        var ordering: [(expression: OutputExpression, descending: Bool)] = []
        for term in statement.orderBy {
            ordering.append((try orderingExpression(term.expression), term.descending))
        }
        let filter = try RowFilter.both(relationFilter,
                                        try statement.whereClause.map { e throws(QueryError) in try rowFilter(e) })?
            .asCondition(query: statement.text) { table.column(named: $0)?.type }

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
        let rho: Double? = noise == .gaussian ? ZCDP.largestRho(epsilon: budget.epsilon, delta: noiseDelta) : nil
        if let weights {
            guard weights.count == aggregates.count, weights.allSatisfy({ $0.isFinite && $0 > 0 && $0 <= 1e6 }) else {
                throw QueryError(.invalidParameter, "the accuracy weights must be \(aggregates.count) number(s) in "
                                 + "(0, 1e6], one per aggregate in order of appearance ("
                                 + aggregates.map(\.text).joined(separator: ", ") + "); got \(weights.count)",
                                 at: nil, in: statement.text)
            }
        }
        let quantities = try makeQuantities(budget: budget, effectiveK: effectiveK, rho: rho, weights: weights)
        var selection = PartitionSelection.single
        if let publicCombinations, !keys.isEmpty { selection = .publicKeys(count: publicCombinations) }
        if let unitCountIndex {
            let threshold = try selectionThreshold(quantities[unitCountIndex], delta: selectionDelta, k: effectiveK)
            selection = .thresholding(quantity: unitCountIndex, threshold: threshold, delta: selectionDelta)
        }
        let rewriter = SQLRewriter(table: table, keys: keys, quantities: quantities, filter: filter,
                                   publicKeys: publicCombinations != nil && !keys.isEmpty,
                                   sampling: sampling, relation: relation)
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
                         noiseDelta: noiseDelta, rewriter: rewriter)
    }

    /// The partition-selection threshold on the noisy unit count `unitCount` (``PartitionSelectionThreshold``).
    func selectionThreshold(_ unitCount: NoisyQuantity, delta: Double, k: Int) throws(QueryError) -> Int64 {
        do {
            switch unitCount.noise {
            case .discreteLaplace(let scale):
                return try PartitionSelectionThreshold.discreteLaplace(scale: scale, delta: delta, k: k)
            case .discreteGaussian(let sigma, _):
                return try PartitionSelectionThreshold.discreteGaussian(sigma: sigma, delta: delta, k: k)
            }
        } catch {
            throw QueryError(.invalidParameter, "the partition-selection threshold cannot be set at δ "
                             + "\(delta) over k = \(k) groups per unit: \(error)", at: nil, in: statement.text)
        }
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
            if table.isPrivacyUnit(column.name) || unitColumns.contains(column.name) {
                throw refuse("grouping by the privacy unit \(column.name) is refused: each group would describe one "
                             + "unit; group by another column, or count units with COUNT(DISTINCT \(column.name))",
                             at: expression.location)
            }
            if keys.contains(where: { $0.column == column.name }) { continue }
            keys.append(GroupingKey(column: column.name, type: column.type,
                                    publicValues: publicValueOverrides[column.name] ?? column.publicValues))
        }
    }

    mutating func quantityIndex(_ kind: NoisyQuantity.Kind) -> Int {
        if let index = quantityKinds.firstIndex(of: kind) { return index }
        quantityKinds.append(kind)
        return quantityKinds.count - 1
    }
}
