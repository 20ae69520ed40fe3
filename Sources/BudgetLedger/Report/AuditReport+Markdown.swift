import Foundation

extension AuditReport {
    /// The report as Markdown: a section per scope with tables of limits, analysts, releases and
    /// open reservations, after the chain verification result and head hash.
    public func markdown() -> String {
        typealias F = ReportFormatting
        var md = "# Privacy budget audit report\n\n"
        md += "- Ledger: `\(F.markdown(ledgerPath))`\n"
        md += "- Generated: \(F.time(generated))\n"
        if verification.isValid {
            md += "- Hash chain: **verified**, \(verification.entryCount) entries\n"
        } else {
            md += "- Hash chain: **BROKEN** — \(F.markdown(verification.problem ?? "unknown problem")) "
            md += "(\(verification.entryCount) entries verified before it)\n"
        }
        md += "- Head: entry \(head.id), `\(head.hash)`\n\n"
        md += "Keep the head hash somewhere else: if a later report shows an earlier head, entries were removed.\n"
        for problem in problems { md += "\n**Unreadable:** \(F.markdown(problem))\n" }
        for scope in scopes {
            let s = scope.status
            let b = s.budget
            let tables = ScopeTables(scope)
            md += "\n## Scope `\(b.scope)`\n\n"
            md += "Composition \(F.rule(b.composition)). Created \(F.time(b.created)).\n\n"
            md += Self.markdown(tables.limits) + "\n"
            md += "\(s.committed) committed, \(s.open) open, \(s.refunded) refunded.\n\n"
            md += tables.sections.map { section in
                var part = "### \(section.title)\n\n"
                if section.table.rows.isEmpty { return part + section.whenEmpty + "\n" }
                if let note = section.note { part += "\(note.text) (`\(note.command)`).\n\n" }
                return part + Self.markdown(section.table)
            }.joined(separator: "\n")
        }
        return md
    }

    /// A table as Markdown: a header row, the alignment row, then one row per line; user text
    /// escaped for a table cell, machine text (events, digests) as code.
    private static func markdown(_ table: ReportTable) -> String {
        typealias F = ReportFormatting
        var md = "|" + table.columns.map { $0.title.isEmpty ? " " : " \($0.title) " }.joined(separator: "|") + "|\n"
        md += "| " + table.columns.map { $0.alignment == .left ? "---" : "---:" }.joined(separator: " | ") + " |\n"
        for row in table.rows {
            md += "| " + row.map { cell in
                switch cell.kind {
                case .label, .number: cell.text
                case .text: F.markdownCell(cell.text)
                case .code: cell.text.isEmpty ? "" : "`\(F.markdownCell(cell.text))`"
                }
            }.joined(separator: " | ") + " |\n"
        }
        return md
    }
}
