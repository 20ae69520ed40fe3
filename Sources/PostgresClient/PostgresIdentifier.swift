/// Identifiers and literals in PostgreSQL's SQL text.
public enum PostgresIdentifier {
    /// `name` as a quoted identifier: wrapped in double quotes, inner double quotes doubled (PostgreSQL
    /// documentation, §4.1.1). The result names exactly `name`, whatever characters it holds, and keeps its case.
    public static func quote(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// COPY's text format (PostgreSQL documentation, COPY, "Text Format"): fields separated by tabs, rows by newlines,
/// NULL as `\N`, and backslash, tab, newline and carriage return escaped inside a field.
public enum PostgresCopyText {
    /// One row: `fields` (nil for NULL) escaped and joined, ending in a newline.
    public static func row(_ fields: [String?]) -> String {
        var line = ""
        for (index, field) in fields.enumerated() {
            if index > 0 { line.append("\t") }
            guard let field else {
                line.append("\\N")
                continue
            }
            for character in field.unicodeScalars {
                switch character {
                case "\\": line.append("\\\\")
                case "\t": line.append("\\t")
                case "\n": line.append("\\n")
                case "\r": line.append("\\r")
                default: line.unicodeScalars.append(character)
                }
            }
        }
        line.append("\n")
        return line
    }
}
