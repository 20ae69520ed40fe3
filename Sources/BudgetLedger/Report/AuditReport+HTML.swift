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
            out += "<h2>Scope <code>\(h(b.scope))</code></h2>\n"
            out += "<p class=\"meta\">Composition \(h(F.rule(b.composition))). Created \(h(F.time(b.created))). "
            out += "\(s.committed) committed, \(s.open) open, \(s.refunded) refunded.</p>\n"
            out += "<table><tr><th></th><th>ε</th><th>δ</th></tr>\n"
            for (label, e, d) in [("limit", b.epsilon, b.delta), ("spent (committed)", s.epsilonSpent, s.deltaSpent),
                                  ("reserved (open)", s.epsilonReserved, s.deltaReserved),
                                  ("remaining", s.epsilonRemaining, s.deltaRemaining)] {
                out += "<tr><th>\(label)</th><td class=\"n\">\(F.amount(e))</td><td class=\"n\">\(F.amount(d))</td></tr>\n"
            }
            out += "</table>\n<h3>Cumulative ε over time</h3>\n"
            out += CumulativeEpsilonChart(scope: b.scope, limit: b.epsilon, total: scope.cumulative,
                                          analysts: scope.analystCumulative).svg() + "\n"
            out += "<h3>Per analyst</h3>\n"
            if s.analysts.isEmpty {
                out += "<p class=\"muted\">No charges.</p>\n"
            } else {
                out += "<table><tr><th>analyst</th><th>charges</th><th>ε</th><th>δ</th></tr>\n"
                for a in s.analysts {
                    out += "<tr><td>\(h(a.analyst))</td><td class=\"n\">\(a.charges)</td>"
                    out += "<td class=\"n\">\(F.amount(a.epsilon))</td><td class=\"n\">\(F.amount(a.delta))</td></tr>\n"
                }
                out += "</table>\n"
            }
            out += "<h3>Releases and refunds</h3>\n"
            let released = scope.charges.filter { $0.state != .open }
            if released.isEmpty {
                out += "<p class=\"muted\">None.</p>\n"
            } else {
                out += "<table><tr><th>id</th><th>time</th><th>analyst</th><th>purpose</th><th>events</th>"
                out += "<th>ε</th><th>δ</th><th>state</th><th>result digest / note</th></tr>\n"
                for c in released {
                    let r = c.reservation
                    out += "<tr><td class=\"n\">\(r.id)</td><td>\(h(F.time(c.resolvedAt ?? r.time)))</td>"
                    out += "<td>\(h(r.analyst))</td><td>\(h(r.purpose))</td><td><code>\(h(c.eventJSON))</code></td>"
                    out += "<td class=\"n\">\(F.amount(r.cost.epsilon))</td><td class=\"n\">\(F.amount(r.cost.delta))</td>"
                    out += "<td class=\"state-\(c.state.rawValue)\">\(c.state.rawValue)</td>"
                    out += "<td><code>\(h(c.state == .committed ? (c.resultDigest ?? "") : (c.note ?? "")))</code></td></tr>\n"
                }
                out += "</table>\n"
            }
            out += "<h3>Open reservations</h3>\n"
            let open = scope.charges.filter { $0.state == .open }
            if open.isEmpty {
                out += "<p class=\"muted\">None.</p>\n"
            } else {
                out += "<p>These count as spent until an operator resolves them "
                out += "(<code>veil budget resolve ID --commit|--refund</code>).</p>\n"
                out += "<table><tr><th>id</th><th>reserved at</th><th>analyst</th><th>purpose</th><th>events</th>"
                out += "<th>ε</th><th>δ</th></tr>\n"
                for c in open {
                    let r = c.reservation
                    out += "<tr><td class=\"n\">\(r.id)</td><td>\(h(F.time(r.time)))</td><td>\(h(r.analyst))</td>"
                    out += "<td>\(h(r.purpose))</td><td><code>\(h(c.eventJSON))</code></td>"
                    out += "<td class=\"n state-open\">\(F.amount(r.cost.epsilon))</td><td class=\"n\">\(F.amount(r.cost.delta))</td></tr>\n"
                }
                out += "</table>\n"
            }
        }
        out += "</body></html>\n"
        return out
    }
}
