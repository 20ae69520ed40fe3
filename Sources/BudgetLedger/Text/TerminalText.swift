/// Text from the ledger or the command line made safe to print on a terminal.
///
/// Analyst names, purposes, notes, digests, table and file names are chosen by whoever runs a
/// command; printed raw, an escape sequence among them could rewrite the screen, retitle the window
/// or hide lines of an error or an audit trail. Every control character is shown as `\xHH` (its
/// code point in hexadecimal): C0 (U+0000–U+001F, including ESC, tab and newline), DEL (U+007F)
/// and C1 (U+0080–U+009F). Everything else, including non-ASCII letters and emoji, is kept as is.
public enum TerminalText {
    /// `text` with every control character replaced by `\xHH`.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out.append(contentsOf: ("\\x" + (hex.count < 2 ? "0" : "") + hex).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// JSON text with every control character written as a `\u00XX` escape. `JSONEncoder` escapes
    /// C0 but writes DEL and C1 raw; outside strings valid JSON has no control characters but
    /// whitespace, which is kept, so this changes only how strings are spelled, never what they say.
    public static func escapedJSON(_ json: String) -> String {
        let isRaw = { (s: Unicode.Scalar) in isControl(s) && s != "\n" && s != "\r" && s != "\t" }
        guard json.unicodeScalars.contains(where: isRaw) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if isRaw(scalar) {
                let hex = String(scalar.value, radix: 16)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// Whether `scalar` is a C0 or C1 control character or DEL.
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value <= 0x9F)
    }
}
