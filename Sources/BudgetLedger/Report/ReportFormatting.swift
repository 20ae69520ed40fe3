import Foundation

/// Number, time and text formatting shared by the report renderers.
enum ReportFormatting {
    /// Up to 6 significant digits, without trailing zeros (`0.1`, `10`, `1e-06`).
    static func amount(_ value: Double) -> String {
        value == 0 ? "0" : String(format: "%.6g", value)
    }

    /// `2026-11-27 05:40:12.123 UTC`.
    static func time(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .nanosecond], from: date)
        let ms = (c.nanosecond ?? 0) / 1_000_000
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%03d UTC",
                      c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0, ms)
    }

    /// A one-line description of what a composition rule does, with its source.
    static func rule(_ rule: CompositionRule) -> String {
        switch rule {
        case .basic:
            "basic: declared (ε, δ) are summed exactly (Dwork & Roth 2014, Theorem 3.16)"
        case .rdp:
            "rdp: events composed as Rényi DP (Mironov 2017) and converted at the budget's δ (Balle et al. 2020)"
        case .zcdp:
            "zcdp: zCDP ρ of the events summed (Bun & Steinke 2016) and converted at the budget's δ (Canonne, Kamath & Steinke 2020)"
        }
    }

    /// Text safe inside HTML: markup characters as entities, control characters as `\xHH`.
    static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for c in TerminalText.escaped(text) {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// Text safe inside a Markdown table cell: pipes escaped, newlines as spaces, other control
    /// characters as `\xHH` (the report is often read with `cat` on a terminal).
    static func markdownCell(_ text: String) -> String {
        markdown(text.replacingOccurrences(of: "\\", with: "\\\\")
            .replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\r", with: " ")
            .replacingOccurrences(of: "\n", with: " "))
    }

    /// Text for Markdown outside a table: control characters as `\xHH`.
    static func markdown(_ text: String) -> String {
        TerminalText.escaped(text)
    }
}
