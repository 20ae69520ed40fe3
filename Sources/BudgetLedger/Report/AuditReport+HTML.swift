import Foundation

extension AuditReport {
    /// The report as one self-contained HTML file (inline CSS and SVG charts, no scripts, no network):
    /// the chain verification result and head hash, then per scope its limits, an SVG chart of
    /// cumulative ε over time (scope and analysts), per-analyst totals, releases and open reservations.
    public func html() -> String {
        typealias F = ReportFormatting
        func h(_ s: String) -> String { F.html(s) }
        var out = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>Privacy budget audit report</title>
        <style>
        body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 16px}
        h1{font-size:24px;margin-bottom:4px}h2{margin-top:36px;border-bottom:2px solid #ddd;padding-bottom:4px}
        h3{font-size:15px;margin:20px 0 6px}
        table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}
        th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
        th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
        code{font-family:Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
        .ok{color:#116611;font-weight:bold}.bad{color:#b00020;font-weight:bold}
        .meta{color:#555;font-size:13px}.muted{color:#777}
        .state-open{color:#b36b00;font-weight:bold}.state-refunded{color:#777}
        </style></head><body>
        <h1>Privacy budget audit report</h1>
        <p class="meta">Ledger <code>\(h(ledgerPath))</code> · generated \(h(F.time(generated)))</p>

        """
        if verification.isValid {
            out += "<p>Hash chain: <span class=\"ok\">verified</span> — \(verification.entryCount) entries.</p>\n"
        } else {
            out += "<p>Hash chain: <span class=\"bad\">BROKEN</span> — \(h(verification.problem ?? "unknown problem"))"
            out += " (\(verification.entryCount) entries verified before it).</p>\n"
        }
        out += "<p>Head: entry \(head.id), <code>\(h(head.hash))</code><br><span class=\"muted\">Keep this hash "
        out += "elsewhere; a later report with an earlier head means entries were removed.</span></p>\n"
        for problem in problems { out += "<p><span class=\"bad\">Unreadable:</span> \(h(problem))</p>\n" }

        for scope in scopes {
            let s = scope.status
            let b = s.budget
            let tables = ScopeTables(scope)
            out += "<h2>Scope <code>\(h(b.scope))</code></h2>\n"
            out += "<p class=\"meta\">Composition \(h(F.rule(b.composition))). Created \(h(F.time(b.created))). "
            out += "\(s.committed) committed, \(s.open) open, \(s.refunded) refunded.</p>\n"
            out += Self.html(tables.limits)
            out += "<h3>Cumulative ε over time</h3>\n"
            out += CumulativeEpsilonChart(scope: b.scope, limit: b.epsilon, total: scope.cumulative,
                                          analysts: scope.analystCumulative).svg() + "\n"
            for section in tables.sections {
                out += "<h3>\(h(section.title))</h3>\n"
                if section.table.rows.isEmpty {
                    out += "<p class=\"muted\">\(h(section.whenEmpty))</p>\n"
                    continue
                }
                if let note = section.note {
                    out += "<p>\(h(note.text)) (<code>\(h(note.command))</code>).</p>\n"
                }
                out += Self.html(section.table)
            }
        }
        out += "</body></html>\n"
        return out
    }

    /// A table as HTML: header cells, then one row per line; user text escaped.
    private static func html(_ table: ReportTable) -> String {
        typealias F = ReportFormatting
        var out = "<table><tr>" + table.columns.map { "<th>\(F.html($0.title))</th>" }.joined() + "</tr>\n"
        for row in table.rows {
            out += "<tr>"
            for cell in row {
                let text = F.html(cell.text)
                switch cell.kind {
                case .label: out += "<th>\(text)</th>"
                case .text: out += cell.htmlClass.map { "<td class=\"\($0)\">" } ?? "<td>"
                    out += "\(text)</td>"
                case .number: out += "<td class=\"n\(cell.htmlClass.map { " " + $0 } ?? "")\">\(text)</td>"
                case .code: out += "<td><code>\(text)</code></td>"
                }
            }
            out += "</tr>\n"
        }
        return out + "</table>\n"
    }
}
