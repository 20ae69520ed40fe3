import Mechanisms

extension VeilError.Code {
    /// A query could not be tokenized or parsed (a syntax error).
    public static let invalidQuery = VeilError.Code(rawValue: "invalid_query")
    /// A query is well formed but would break a privacy rule or uses a feature Veil does not answer privately.
    public static let queryRefused = VeilError.Code(rawValue: "query_refused")
    /// The privacy metadata file is malformed or inconsistent.
    public static let invalidMetadata = VeilError.Code(rawValue: "invalid_metadata")
}

/// A position in the query text: 1-based line and column (in characters) and the 0-based character offset.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    /// 1-based line number.
    public let line: Int
    /// 1-based column, counted in characters (extended grapheme clusters) from the start of the line.
    public let column: Int
    /// 0-based character offset from the start of the query.
    public let offset: Int

    /// Creates a location.
    public init(line: Int, column: Int, offset: Int) {
        self.line = line
        self.column = column
        self.offset = offset
    }

    public var description: String { "line \(line), column \(column)" }
}

/// An error about a query, pointing at the place in the text it concerns.
///
/// Its ``description`` is the message followed by the offending line of the query and a caret under
/// the position, e.g.
/// ```
/// line 1, column 8: SELECT * is refused: it would output raw rows; select aggregates such as COUNT(*) instead
///   SELECT * FROM visits
///          ^
/// ```
/// ``veilError`` carries the same text with code ``VeilError/Code/invalidQuery`` (syntax) or
/// ``VeilError/Code/queryRefused`` (privacy refusal or unsupported feature).
public struct QueryError: Error, Hashable, Sendable, CustomStringConvertible {
    /// ``VeilError/Code/invalidQuery`` or ``VeilError/Code/queryRefused``.
    public let code: VeilError.Code
    /// What is wrong and, for refusals, what to do instead.
    public let reason: String
    /// Where in the query the problem is, when it can be pointed at.
    public let location: SourceLocation?
    /// The full query text.
    public let query: String

    /// Creates an error about `query` at `location`.
    public init(_ code: VeilError.Code, _ reason: String, at location: SourceLocation?, in query: String) {
        self.code = code
        self.reason = reason
        self.location = location
        self.query = query
    }

    /// The text of the line the error points at.
    public var sourceLine: String? {
        guard let location else { return nil }
        let lines = query.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        guard location.line >= 1, location.line <= lines.count else { return nil }
        return String(lines[location.line - 1]).replacingTabs()
    }

    /// A line of spaces with `^` under the error's column.
    public var caretLine: String? {
        guard let location, sourceLine != nil else { return nil }
        return String(repeating: " ", count: max(0, location.column - 1)) + "^"
    }

    public var description: String {
        guard let location, let sourceLine, let caretLine else { return reason }
        return "\(location): \(reason)\n  \(sourceLine)\n  \(caretLine)"
    }

    /// The same error as a ``VeilError`` (code and the full description with the caret).
    public var veilError: VeilError { VeilError(code, description) }
}

extension String {
    /// Tabs become one space, so a caret counted in characters lines up.
    fileprivate func replacingTabs() -> String {
        String(self.map { $0 == "\t" ? " " : $0 })
    }
}
