import Foundation

extension AuditReport {
    /// The report as pretty-printed JSON with snake_case keys, sorted, and ISO 8601 times with
    /// milliseconds; every control character inside a string escaped as `\u00XX`.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            try container.encode(formatter.string(from: date))
        }
        return TerminalText.escapedJSON(String(decoding: try encoder.encode(self), as: UTF8.self)) + "\n"
    }
}
