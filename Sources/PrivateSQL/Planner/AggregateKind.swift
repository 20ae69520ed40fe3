/// The aggregate functions of Veil's SQL subset, by the names a query may call them.
///
/// `MIN` and `MAX` are known so that they are recognised as aggregates (refused in `WHERE`, never nested) and
/// refused with a pointer to `PERCENTILE`: one unit's value can decide them exactly.
enum AggregateKind: Hashable, Sendable {
    case count
    case sum
    case average
    case variance
    case standardDeviation
    case median
    case percentile
    case minimum
    case maximum

    /// The aggregate a function name (upper case, as the parser gives it) calls, or `nil` for another function.
    init?(name: String) {
        switch name {
        case "COUNT": self = .count
        case "SUM": self = .sum
        case "AVG", "MEAN": self = .average
        case "VARIANCE", "VAR", "VAR_POP": self = .variance
        case "STDDEV", "STDDEV_POP", "STDEV": self = .standardDeviation
        case "MEDIAN": self = .median
        case "PERCENTILE", "PERCENTILE_CONT": self = .percentile
        case "MIN": self = .minimum
        case "MAX": self = .maximum
        default: return nil
        }
    }

    /// Whether Veil answers this aggregate (`MIN` and `MAX` are refused).
    var isSupported: Bool { self != .minimum && self != .maximum }
}

extension Expression {
    /// Whether an aggregate call occurs in this expression.
    var containsAggregate: Bool {
        switch kind {
        case .function(let name, let arguments, _, _):
            AggregateKind(name: name) != nil || arguments.contains { $0.containsAggregate }
        case .unary(_, let e), .isNull(let e, _): e.containsAggregate
        case .binary(_, let l, let r): l.containsAggregate || r.containsAggregate
        case .inList(let e, let list, _): e.containsAggregate || list.contains { $0.containsAggregate }
        case .between(let e, let l, let h, _): e.containsAggregate || l.containsAggregate || h.containsAggregate
        case .like(let e, let p, _): e.containsAggregate || p.containsAggregate
        default: false
        }
    }
}
