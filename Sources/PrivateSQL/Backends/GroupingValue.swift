import GRDBSQLite

/// A privacy unit or grouping key value as SQLite's `GROUP BY` compares it, so that the single-pass aggregation
/// forms exactly the groups (and counts exactly the units) of the SQL form:
/// - an integer-valued real equals the integer of the same value (`1.0` is `1`), over the whole 64-bit range and
///   exactly (SQLite compares an integer with a real without rounding either);
/// - other reals are equal when their values are (NaN is never stored; `-0.0` is the integer 0);
/// - text compares byte by byte (the `BINARY` collation), and is never equal to a number or a blob;
/// - a blob compares byte by byte, and is never equal to text with the same bytes.
///
/// One person written as `1`, `1.0` in an untyped unit column is therefore one unit, as in SQLite; `'1'` (text) is
/// another unit in SQLite's `GROUP BY` as well, so both forms count it as a separate unit.
enum GroupingValue: Hashable {
    case null
    case integer(Int64)
    /// The bit pattern of a real that is not a whole number in the range of `Int64`.
    case real(UInt64)
    case text([UInt8])
    case blob([UInt8])

    /// The value of an SQLite value; `nil` for `NULL`.
    init?(_ value: OpaquePointer?) {
        switch sqlite3_value_type(value) {
        case SQLITE_INTEGER:
            self = .integer(sqlite3_value_int64(value))
        case SQLITE_FLOAT:
            let x = sqlite3_value_double(value)
            self = Self.exactInteger(x).map(GroupingValue.integer) ?? .real(x.bitPattern)
        case SQLITE_TEXT:
            let count = Int(sqlite3_value_bytes(value))
            self = .text(sqlite3_value_text(value).map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? [])
        case SQLITE_BLOB:
            let count = Int(sqlite3_value_bytes(value))
            self = .blob(sqlite3_value_blob(value).map {
                Array(UnsafeRawBufferPointer(start: $0, count: count))
            } ?? [])
        default:
            return nil
        }
    }

    /// The value of a key given as ``SQLValue`` (a public value, or a key read back).
    init(_ value: SQLValue) {
        switch value {
        case .null: self = .null
        case .integer(let v): self = .integer(v)
        case .real(let x): self = Self.exactInteger(x).map(GroupingValue.integer) ?? .real(x.bitPattern)
        case .text(let s): self = .text(Array(s.utf8))
        }
    }

    /// The integer an SQLite integer, or real with a whole value in the range of `Int64`, equals; else `nil`.
    static func exactInteger(_ value: OpaquePointer?) -> Int64? {
        switch sqlite3_value_type(value) {
        case SQLITE_INTEGER: return sqlite3_value_int64(value)
        case SQLITE_FLOAT: return exactInteger(sqlite3_value_double(value))
        default: return nil
        }
    }

    /// `x` as an integer when it is a whole number in [−2⁶³, 2⁶³) (so that the conversion is exact); else `nil`.
    static func exactInteger(_ x: Double) -> Int64? {
        guard x == x.rounded(.towardZero), x >= -9_223_372_036_854_775_808.0, x < 9_223_372_036_854_775_808.0 else {
            return nil
        }
        return Int64(x)
    }
}

extension SQLValue {
    /// The value as a released key or unit: a real with a whole value in the range of `Int64` becomes that integer,
    /// so that a group that SQLite forms from `1984` and `1984.0` has one key whichever row SQLite reads it from
    /// (its spelling depends on its value only, never on which rows hold it).
    var canonicalKey: SQLValue {
        if case .real(let x) = self, let integer = GroupingValue.exactInteger(x) { return .integer(integer) }
        return self
    }
}
