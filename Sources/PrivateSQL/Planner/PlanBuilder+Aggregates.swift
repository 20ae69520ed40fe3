/// The aggregates of a query: validating each call, and registering it with the noisy quantities it needs
/// (shared between aggregates: `AVG(x)` and `COUNT(x)` use the same non-null count).
extension PlanBuilder {
    /// Registers the aggregate call `expression` and returns its index in the plan's aggregates.
    mutating func aggregate(_ expression: Expression) throws(QueryError) -> Int {
        guard case .function(let name, let arguments, let distinct, let star) = expression.kind else {
            preconditionFailure("aggregate(_:) needs a function call")
        }
        let location = expression.location
        let kind = AggregateKind(name: name)
        if let kind, !kind.isSupported {
            throw refuse("\(name) is refused: one unit's value can decide it exactly; use "
                         + (kind == .minimum ? "PERCENTILE(column, 0.05)" : "PERCENTILE(column, 0.95)")
                         + " for a private estimate of an extreme", at: location)
        }
        guard let kind else {
            throw refuse("function \(name) is not supported; the aggregates are COUNT, SUM, AVG, VARIANCE, STDDEV, "
                         + "MEDIAN and PERCENTILE(column, p)", at: location)
        }
        for argument in arguments where argument.containsAggregate {
            throw refuse("aggregates cannot be nested: \(render(expression))", at: argument.location)
        }

        let function: PlannedAggregate.Function
        let quantities: [NoisyQuantity.Kind]
        var bounds: ClosedRange<Double>?
        if kind == .count {
            // COUNT(1), COUNT('x'): a non-null constant counts rows, as COUNT(*) does.
            let constant = arguments.count == 1 && !distinct && {
                switch arguments[0].kind {
                case .integer, .real, .string, .boolean: true
                default: false
                }
            }()
            if star || constant {
                function = table.privacyUnit == .row ? .countDistinctUnits : .countRows
                quantities = table.privacyUnit == .row ? [.unitCount] : [.rowCount]
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
                    quantities = [.unitCount]
                } else {
                    function = .countColumn(column.name)
                    quantities = [.nonNullCount(column: column.name)]
                    bounds = column.bounds
                }
            }
        } else {
            if star {
                throw invalid("\(name)(*) is not meaningful: name a column", at: location)
            }
            if distinct {
                throw refuse("\(name)(DISTINCT …) is not supported: drop DISTINCT", at: location)
            }
            let isPercentile = kind == .percentile
            guard arguments.count == (isPercentile ? 2 : 1) else {
                throw invalid(isPercentile ? "\(name) takes a column and a fraction p in [0, 1], e.g. PERCENTILE(income, 0.9)"
                                           : "\(name) takes one column", at: location)
            }
            let column = try aggregateColumn(arguments[0], function: name)
            guard column.type.isNumeric else {
                throw refuse("\(name)(\(column.name)) is refused: \(column.name) is a text column", at: arguments[0].location)
            }
            guard let clamped = ClampedColumn(column) else {
                throw refuse("\(name)(\(column.name)) needs clamping bounds: \(metadata.source), table \(table.name), "
                             + "column \(column.name) declares no lower/upper; add e.g. `lower: 0, upper: 100` "
                             + "(bounds chosen without looking at the data)", at: arguments[0].location)
            }
            bounds = clamped.bounds
            let moments: [NoisyQuantity.Kind] = [.nonNullCount(column: clamped.name),
                                                 .centeredSum(column: clamped, center: clamped.center),
                                                 .centeredSumOfSquares(column: clamped, center: clamped.center)]
            let histogram = NoisyQuantity.Kind.histogram(column: clamped, bins: histogramBins,
                                                         lower: clamped.bounds.lowerBound,
                                                         upper: clamped.bounds.upperBound)
            switch kind {
            case .sum: (function, quantities) = (.sum(clamped.name), [.sum(column: clamped)])
            case .average: (function, quantities) = (.average(clamped.name), Array(moments.prefix(2)))
            case .variance: (function, quantities) = (.variance(clamped.name), moments)
            case .standardDeviation: (function, quantities) = (.standardDeviation(clamped.name), moments)
            case .median: (function, quantities) = (.percentile(clamped.name, 0.5), [histogram])
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
                (function, quantities) = (.percentile(clamped.name, p), [histogram])
            }
        }
        if let existing = aggregates.firstIndex(where: { $0.function == function }) { return existing }
        var indices: [Int] = []
        for quantity in quantities { indices.append(quantityIndex(quantity)) }
        aggregates.append(PlannedAggregate(function: function, quantities: indices, bounds: bounds,
                                           text: render(expression)))
        return aggregates.count - 1
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
}
