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
            md += "\n## Scope `\(b.scope)`\n\n"
            md += "Composition \(F.rule(b.composition)). Created \(F.time(b.created)).\n\n"
            md += "| | ε | δ |\n| --- | ---: | ---: |\n"
            md += "| limit | \(F.amount(b.epsilon)) | \(F.amount(b.delta)) |\n"
            md += "| spent (committed) | \(F.amount(s.epsilonSpent)) | \(F.amount(s.deltaSpent)) |\n"
            md += "| reserved (open) | \(F.amount(s.epsilonReserved)) | \(F.amount(s.deltaReserved)) |\n"
            md += "| remaining | \(F.amount(s.epsilonRemaining)) | \(F.amount(s.deltaRemaining)) |\n\n"
            md += "\(s.committed) committed, \(s.open) open, \(s.refunded) refunded.\n\n"
            md += "### Per analyst\n\n"
            if s.analysts.isEmpty {
                md += "No charges.\n"
            } else {
                md += "| analyst | charges | ε | δ |\n| --- | ---: | ---: | ---: |\n"
                for a in s.analysts {
                    md += "| \(F.markdownCell(a.analyst)) | \(a.charges) | \(F.amount(a.epsilon)) | \(F.amount(a.delta)) |\n"
                }
            }
            md += "\n### Releases and refunds\n\n"
            let released = scope.charges.filter { $0.state != .open }
            if released.isEmpty {
                md += "None.\n"
            } else {
                md += "| id | time | analyst | purpose | events | ε | δ | state | result digest / note |\n"
                md += "| ---: | --- | --- | --- | --- | ---: | ---: | --- | --- |\n"
                for c in released {
                    let r = c.reservation
                    md += "| \(r.id) | \(F.time(c.resolvedAt ?? r.time)) | \(F.markdownCell(r.analyst)) | "
                    md += "\(F.markdownCell(r.purpose)) | `\(F.markdownCell(c.eventJSON))` | \(F.amount(r.cost.epsilon)) | "
                    md += "\(F.amount(r.cost.delta)) | \(c.state.rawValue) | "
                    md += "\(F.markdownCell(c.state == .committed ? (c.resultDigest ?? "") : (c.note ?? ""))) |\n"
                }
            }
            md += "\n### Open reservations\n\n"
            let open = scope.charges.filter { $0.state == .open }
            if open.isEmpty {
                md += "None.\n"
            } else {
                md += "They count as spent until an operator resolves them (`veil budget resolve ID --commit|--refund`).\n\n"
                md += "| id | reserved at | analyst | purpose | events | ε | δ |\n| ---: | --- | --- | --- | --- | ---: | ---: |\n"
                for c in open {
                    let r = c.reservation
                    md += "| \(r.id) | \(F.time(r.time)) | \(F.markdownCell(r.analyst)) | \(F.markdownCell(r.purpose)) | "
                    md += "`\(F.markdownCell(c.eventJSON))` | \(F.amount(r.cost.epsilon)) | \(F.amount(r.cost.delta)) |\n"
                }
            }
        }
        return md
    }
}
