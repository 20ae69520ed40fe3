import Mechanisms

extension VeilError.Code {
    /// A query could not be tokenized or parsed (a syntax error).
    public static let invalidQuery = VeilError.Code("invalid_query", category: .badInput)
    /// A query is well formed but would break a privacy rule or uses a feature Veil does not answer privately.
    public static let queryRefused = VeilError.Code("query_refused", category: .badInput)
    /// The privacy metadata file is malformed or inconsistent.
    public static let invalidMetadata = VeilError.Code("invalid_metadata", category: .badInput)
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

    /// The most characters of the query line shown with an error; a longer line is cut to a window around the
    /// error's column, marked with `…` at the cut ends.
    public static let maximumShownLine = 120

    /// The text of the line the error points at (a window of it around the column when the line is long).
    public var sourceLine: String? { shownLine?.text }

    /// A line of spaces with `^` under the error's column.
    public var caretLine: String? {
        guard let shownLine else { return nil }
        return String(repeating: " ", count: shownLine.caretColumn - 1) + "^"
    }

    /// The line shown and the 1-based column of the caret in it.
    private var shownLine: (text: String, caretColumn: Int)? {
        guard let location else { return nil }
        let lines = query.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        guard location.line >= 1, location.line <= lines.count else { return nil }
        let line = Array(String(lines[location.line - 1]).replacingTabs())
        let column = min(max(1, location.column), line.count + 1)
        let width = Self.maximumShownLine
        guard line.count > width else { return (String(line), column) }
        let start = min(max(0, column - 1 - width / 2), line.count - width)
        let end = start + width
        let text = (start > 0 ? "…" : "") + String(line[start..<end]) + (end < line.count ? "…" : "")
        return (text, column - start + (start > 0 ? 1 : 0))
    }

    public var description: String {
        guard let location, let sourceLine, let caretLine else { return reason }
        return "\(location): \(reason)\n  \(sourceLine)\n  \(caretLine)"
    }

    /// The same error as a ``VeilError`` (code and the full description with the caret), this error its cause.
    public var veilError: VeilError { VeilError(self) }
}

extension VeilError {
    /// The one conversion of a ``QueryError``: its code, its full description with the caret, and the
    /// ``QueryError`` itself (with its location) as the cause.
    public init(_ error: QueryError) {
        self.init(error.code, error.description, cause: error)
    }
}

extension String {
    /// Tabs become one space, so a caret counted in characters lines up.
    fileprivate func replacingTabs() -> String {
        String(self.map { $0 == "\t" ? " " : $0 })
    }
}
