#if canImport(Glibc)
import Glibc
#endif
import PrivateTraining

/// A parsed JSON value (RFC 8259), read from bytes by ``JSONDocument/parse(_:)`` without Foundation, so
/// that the server controls every buffer a request's text passes through (see ``ZeroDataRetention``).
///
/// Not `indirect`: arrays and objects already hold their elements in one heap buffer, and a number or
/// Boolean stored inline costs no allocation of its own. A non-empty array of numbers only, such as a
/// tensor's data, is parsed into ``numbers(_:)``: one buffer of doubles, not one node per value.
public enum JSONNode: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONNode])
    /// An array whose items are all numbers (equal to the same ``array(_:)`` of ``number(_:)`` nodes).
    case numbers([Double])
    case object([(String, JSONNode)])

    public static func == (a: JSONNode, b: JSONNode) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.numbers(let x), .numbers(let y)): x == y
        case (.array, .array), (.array, .numbers), (.numbers, .array): a.items! == b.items!
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    /// The items of an array (of either form), or nil for any other value.
    public var items: [JSONNode]? {
        switch self {
        case .array(let items): items
        case .numbers(let values): values.map(JSONNode.number)
        default: nil
        }
    }

    /// The member `key` of an object (the first, when repeated).
    public subscript(key: String) -> JSONNode? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }
}

/// A strict JSON parser with a nesting limit, reporting the byte offset of the first error.
public enum JSONDocument {
    /// The deepest nesting accepted (a request's tensors need a few levels; deeper input is refused
    /// rather than risking the stack).
    public static let maximumDepth = 64

    /// Why a text is not JSON.
    public struct SyntaxError: Error, Sendable, Equatable {
        /// What is wrong.
        public let reason: String
        /// Where, in bytes from the start.
        public let offset: Int
    }

    /// Parses one JSON value filling `bytes` (whitespace around it allowed).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> JSONNode {
        var parser = Parser(bytes: bytes)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.position == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    /// 10⁰ … 10²², the powers of ten that a `Double` holds exactly.
    static let exactPowersOfTen: [Double] = {
        var powers: [Double] = [1]
        for _ in 1...22 { powers.append(powers.last! * 10) }
        return powers
    }()

    /// The "C" locale, so that `strtod` reads `.` as the decimal point whatever the process's locale.
    nonisolated(unsafe) private static let cLocale = newlocale(Int32(1 << LC_NUMERIC), "C", nil)

    /// `strtod` of a number's text (already checked against the JSON grammar), on a NUL-terminated copy
    /// that is zeroed before returning.
    static func correctlyRounded(_ text: Slice<UnsafeRawBufferPointer>) -> Double {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: text.count + 1) { copy in
            defer { zeroBytes(UnsafeMutableRawBufferPointer(copy)) }
            UnsafeMutableRawBufferPointer(copy).copyMemory(from: UnsafeRawBufferPointer(rebasing: text))
            copy[text.count] = 0
            let previous = cLocale.map { uselocale($0) }
            defer { if let previous { uselocale(previous) } }
            return strtod(copy.baseAddress!, nil)
        }
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        func error(_ reason: String) -> SyntaxError { SyntaxError(reason: reason, offset: position) }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        /// Whether a number starts at the current byte (a minus sign or a digit).
        var startsNumber: Bool {
            guard let c = current else { return false }
            return c == UInt8(ascii: "-") || (c >= 0x30 && c <= 0x39)
        }

        mutating func skipSpace() {
            while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 }
        }

        mutating func expect(_ literal: StaticString) throws(SyntaxError) {
            let count = literal.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw error("truncated literal") }
            for k in 0..<count where bytes[position + k] != literal.utf8Start[k] { throw error("invalid literal") }
            position += count
        }

        mutating func value(depth: Int) throws(SyntaxError) -> JSONNode {
            guard depth < JSONDocument.maximumDepth else { throw error("nesting deeper than \(JSONDocument.maximumDepth)") }
            guard let c = current else { throw error("unexpected end of the document") }
            switch c {
            case UInt8(ascii: "{"):
                position += 1
                var members: [(String, JSONNode)] = []
                skipSpace()
                if current == UInt8(ascii: "}") { position += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard current == UInt8(ascii: "\"") else { throw error("expected a member name") }
                    let key = try string()
                    skipSpace()
                    guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
                    position += 1
                    skipSpace()
                    members.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    if current == UInt8(ascii: ",") { position += 1; continue }
                    if current == UInt8(ascii: "}") { position += 1; return .object(members) }
                    throw error("expected ',' or '}'")
                }
            case UInt8(ascii: "["):
                position += 1
                var items: [JSONNode] = []
                skipSpace()
                if current == UInt8(ascii: "]") { position += 1; return .array(items) }
                if startsNumber {
                    // Numbers gathered flat while the array holds numbers only (a tensor's data).
                    var values: [Double] = []
                    while true {
                        values.append(try number())
                        skipSpace()
                        if current == UInt8(ascii: "]") { position += 1; return .numbers(values) }
                        guard current == UInt8(ascii: ",") else { throw error("expected ',' or ']'") }
                        position += 1
                        skipSpace()
                        guard startsNumber else { break }
                    }
                    items = values.map(JSONNode.number)  // another kind of item follows: the general form
                }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    if current == UInt8(ascii: ",") { position += 1; continue }
                    if current == UInt8(ascii: "]") { position += 1; return .array(items) }
                    throw error("expected ',' or ']'")
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default: return .number(try number())
            }
        }

        /// A number per the JSON grammar, converted to the nearest `Double` (correctly rounded, as
        /// `strtod`). Up to 19 significant digits are gathered into an integer on the way; when that
        /// integer is at most 2⁵³ and the decimal exponent at most 22 in magnitude, both are exact
        /// doubles and one multiplication or division rounds correctly (Clinger, "How to read floating
        /// point numbers accurately", PLDI 1990: the fast path). Other numbers (more digits, larger
        /// exponents) go to the C library's `strtod` in the "C" locale, on a copy of the number's text
        /// that is zeroed afterwards. Magnitudes beyond `Double`'s range give ±infinity (refused by the
        /// request's checks), below it ±0.
        mutating func number() throws(SyntaxError) -> Double {
            // The common case first: `-?digits(.digits)?` without an exponent, at most 19 digits in all (so the
            // wrapping accumulation below cannot have wrapped) forming an integer of at most 2⁵³, with at most 22
            // after the point; anything else is read again by `numberCarefully()`.
            let count = bytes.count
            if let text = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), position < count {
                var i = position
                let negative = text[i] == UInt8(ascii: "-")
                if negative { i += 1 }
                var mantissa: UInt64 = 0
                var digits = 0
                if i < count, text[i] &- 0x30 < 10 {
                    if text[i] == 0x30 { i += 1; digits = 1 } else {
                        while i < count, case let d = text[i] &- 0x30, d < 10 { mantissa = mantissa &* 10 &+ UInt64(d); i += 1 }
                        digits = i - position - (negative ? 1 : 0)
                    }
                    var fraction = 0
                    if i < count, text[i] == UInt8(ascii: ".") {
                        let first = i + 1
                        i = first
                        while i < count, case let d = text[i] &- 0x30, d < 10 { mantissa = mantissa &* 10 &+ UInt64(d); i += 1 }
                        fraction = i - first
                    }
                    let exponentFollows = i < count && text[i] | 0x20 == UInt8(ascii: "e")
                    let pointWithoutDigits = fraction == 0 && i > 0 && text[i - 1] == UInt8(ascii: ".")
                    if !exponentFollows, !pointWithoutDigits, digits + fraction <= 19, mantissa <= 1 << 53, fraction <= 22 {
                        position = i
                        let value = Double(mantissa) / JSONDocument.exactPowersOfTen[fraction]
                        return negative ? -value : value
                    }
                }
            }
            return try numberCarefully()
        }

        /// ``number()`` for every number of the grammar, digit by digit.
        mutating func numberCarefully() throws(SyntaxError) -> Double {
            let start = position
            var negative = false
            if current == UInt8(ascii: "-") { negative = true; position += 1 }
            var mantissa: UInt64 = 0
            var significant = 0
            var dropped = false  // a digit did not fit in `mantissa`: the fast path does not apply
            var exponent = 0
            guard let first = current, first >= 0x30, first <= 0x39 else { throw error("invalid value") }
            if first == 0x30 { position += 1 } else {
                while let c = current, c >= 0x30, c <= 0x39 {
                    if significant < 19 { mantissa = mantissa * 10 + UInt64(c - 0x30); significant += mantissa > 0 ? 1 : 0 }
                    else { exponent += 1; dropped = true }
                    position += 1
                }
            }
            if current == UInt8(ascii: ".") {
                position += 1
                guard let c = current, c >= 0x30, c <= 0x39 else { throw error("expected a digit after '.'") }
                while let c = current, c >= 0x30, c <= 0x39 {
                    if significant < 19 {
                        mantissa = mantissa * 10 + UInt64(c - 0x30)
                        if mantissa > 0 { significant += 1 }
                        exponent -= 1
                    } else {
                        dropped = true
                    }
                    position += 1
                }
            }
            if let c = current, c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                position += 1
                var negativeExponent = false
                if let s = current, s == UInt8(ascii: "+") || s == UInt8(ascii: "-") {
                    negativeExponent = s == UInt8(ascii: "-")
                    position += 1
                }
                guard let d = current, d >= 0x30, d <= 0x39 else { throw error("expected a digit in the exponent") }
                var e = 0
                while let c = current, c >= 0x30, c <= 0x39 {
                    if e < 100_000 { e = e * 10 + Int(c - 0x30) }
                    position += 1
                }
                exponent += negativeExponent ? -e : e
            }
            if mantissa == 0 && !dropped { return negative ? -0.0 : 0 }
            if !dropped, mantissa <= 1 << 53, abs(exponent) <= 22 {
                let value = exponent >= 0 ? Double(mantissa) * JSONDocument.exactPowersOfTen[exponent]
                                          : Double(mantissa) / JSONDocument.exactPowersOfTen[-exponent]
                return negative ? -value : value
            }
            return JSONDocument.correctlyRounded(bytes[start..<position])
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[position]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw error("invalid \\u escape")
                }
                v = v << 4 | d
                position += 1
            }
            return v
        }

        mutating func string() throws(SyntaxError) -> String {
            position += 1  // opening quote
            var scalars = String.UnicodeScalarView()
            var utf8: [UInt8] = []
            func flush() {
                if !utf8.isEmpty {
                    scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
                    utf8.withUnsafeMutableBytes { zeroBytes($0) }
                    utf8.removeAll(keepingCapacity: true)
                }
            }
            defer { utf8.withUnsafeMutableBytes { zeroBytes($0) } }
            while true {
                guard let c = current else { throw error("unterminated string") }
                position += 1
                switch c {
                case UInt8(ascii: "\""):
                    flush()
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    guard let e = current else { throw error("unterminated string") }
                    position += 1
                    switch e {
                    case UInt8(ascii: "\""): utf8.append(0x22)
                    case UInt8(ascii: "\\"): utf8.append(0x5C)
                    case UInt8(ascii: "/"): utf8.append(0x2F)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        flush()
                        var code = try hex4()
                        if (0xD800..<0xDC00).contains(code), position + 6 <= bytes.count,
                           bytes[position] == 0x5C, bytes[position + 1] == UInt8(ascii: "u") {
                            position += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("invalid surrogate pair") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                        scalars.append(scalar)
                    default: throw error("invalid escape")
                    }
                case 0..<0x20: throw error("control character in a string")
                default: utf8.append(c)
                }
            }
        }
    }
}

