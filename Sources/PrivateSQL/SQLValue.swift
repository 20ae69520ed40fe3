import Foundation
import Mechanisms

/// A value that crosses the boundary to the database: a bound parameter, a public key value, or a
/// grouping key read back.
public enum SQLValue: Hashable, Sendable, Codable, CustomStringConvertible {
    /// SQL `NULL`.
    case null
    /// A 64-bit integer (booleans are 0 and 1).
    case integer(Int64)
    /// A double-precision real.
    case real(Double)
    /// UTF-8 text.
    case text(String)

    public var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let v): String(v)
        case .real(let v): String(v)
        case .text(let v): v
        }
    }

    /// A blob read from the database, as Veil represents it: text of its lowercase hexadecimal digits, two per byte.
    public static func hexText(of bytes: some Sequence<UInt8>) -> SQLValue {
        .text(LowercaseHex.encode(bytes))
    }

    /// The value as a number, when it is one.
    public var number: Double? {
        switch self {
        case .integer(let v): Double(v)
        case .real(let v): v
        default: nil
        }
    }
}

extension SQLValue: Comparable {
    /// SQLite's order: NULL < numbers (compared by value) < text (compared by code points).
    public static func < (lhs: SQLValue, rhs: SQLValue) -> Bool {
        func rank(_ v: SQLValue) -> Int {
            switch v {
            case .null: 0
            case .integer, .real: 1
            case .text: 2
            }
        }
        let (l, r) = (rank(lhs), rank(rhs))
        if l != r { return l < r }
        switch (lhs, rhs) {
        case (.integer(let a), .integer(let b)): return a < b
        case (.text(let a), .text(let b)): return Array(a.unicodeScalars.map(\.value)).lexicographicallyPrecedes(b.unicodeScalars.map(\.value))
        default: return (lhs.number ?? 0) < (rhs.number ?? 0)
        }
    }
}
