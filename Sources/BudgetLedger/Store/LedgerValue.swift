/// One value of a ledger row or statement parameter, whichever store holds the ledger (SQLite or PostgreSQL).
///
/// The ledger's statements bind and read only these four kinds; each store converts to and from its own types.
enum LedgerValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    /// `value`, or ``null`` when nil.
    init(_ value: Int64?) { self = value.map(LedgerValue.integer) ?? .null }
    /// `value`, or ``null`` when nil.
    init(_ value: Double?) { self = value.map(LedgerValue.real) ?? .null }
    /// `value`, or ``null`` when nil.
    init(_ value: String?) { self = value.map(LedgerValue.text) ?? .null }

    var isNull: Bool { self == .null }

    /// The integer; a real only when it is a whole number in range (as SQLite returns `REAL` columns).
    var int64: Int64? {
        switch self {
        case .integer(let value): value
        case .real(let value): Int64(exactly: value)
        default: nil
        }
    }

    /// The number as a `Double` (an integer converts).
    var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .real(let value): value
        default: nil
        }
    }

    /// The text, if this is text.
    var string: String? {
        if case .text(let value) = self { return value }
        return nil
    }
}

/// One row, its columns in the order the statement selected them.
typealias LedgerRow = [LedgerValue]
