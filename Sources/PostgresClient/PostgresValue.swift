import Foundation
import PostgresNIO

/// One value sent to or read from PostgreSQL: the few types Veil's statements bind and read.
///
/// Reading maps the server's types onto these cases: `int2/int4/int8` → ``integer``, `float4/float8` → ``real``,
/// `numeric` → ``text`` with its exact decimal digits, `bool` → ``boolean``, `bytea` → ``bytes``, and every
/// other type → ``text`` in the server's own text form.
public enum PostgresValue: Sendable, Equatable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case boolean(Bool)
    case bytes([UInt8])

    /// The integer, if this is one.
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The number as a `Double`, if this is an integer, a real or a decimal's text.
    public var double: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .real(let value): value
        case .text(let text): Double(text)
        default: nil
        }
    }

    /// The text, if this is text.
    public var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    init(_ cell: PostgresCell) throws {
        guard cell.bytes != nil else {
            self = .null
            return
        }
        switch cell.dataType {
        case .int2, .int4, .int8: self = .integer(try cell.decode(Int64.self))
        case .float4, .float8: self = .real(try cell.decode(Double.self))
        case .numeric: self = .text(try cell.decode(Decimal.self).description)
        case .bool: self = .boolean(try cell.decode(Bool.self))
        case .bytea: self = .bytes(Array(try cell.decode(ByteBuffer.self).readableBytesView))
        default: self = .text(try cell.decode(String.self))
        }
    }
}

extension PostgresBindings {
    /// Appends `value` as the next `$n` parameter.
    mutating func append(_ value: PostgresValue) {
        switch value {
        case .null: appendNull()
        case .integer(let integer): append(integer)
        case .real(let real): append(real)
        case .text(let text): append(text)
        case .boolean(let boolean): append(boolean)
        case .bytes(let bytes): append(ByteBuffer(bytes: bytes))
        }
    }
}
