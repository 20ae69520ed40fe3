/// A numeric column as a noisy quantity reads it: its declared name and the bounds every value is clamped to.
///
/// A quantity carries its column rather than a name to look up again, so the SQL rewriter, the single-pass
/// aggregator and the sensitivities all read the same bounds the planner checked.
public struct ClampedColumn: Hashable, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The column's declared spelling.
    public let name: String
    /// The clamping bounds `[L, U]` from the metadata.
    public let bounds: ClosedRange<Double>
    /// Whether every clamped value is an integer: a column that is not `real`, with integer bounds.
    public let integerValued: Bool

    /// The column `column` with its declared bounds, or `nil` when it declares none.
    init?(_ column: ColumnMetadata) {
        guard let bounds = column.bounds else { return nil }
        name = column.name
        self.bounds = bounds
        integerValued = column.type != .real && bounds.lowerBound == bounds.lowerBound.rounded()
            && bounds.upperBound == bounds.upperBound.rounded()
    }

    /// The middle of the bounds, `(L + U)/2`.
    public var center: Double { (bounds.lowerBound + bounds.upperBound) / 2 }

    /// Half the width of the bounds, `(U − L)/2`.
    public var halfWidth: Double { (bounds.upperBound - bounds.lowerBound) / 2 }

    /// The column's name.
    public var description: String { name }

    /// The column's name as a quoted string (as a quantity's kind prints it).
    public var debugDescription: String { name.debugDescription }
}
