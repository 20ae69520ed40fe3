import ArgumentParser
import BudgetLedger
import Foundation

struct BudgetReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the budget audit report (Markdown, self-contained HTML, or JSON).",
        discussion: HelpText.reflow("""
        Per scope: limits, spent and remaining under its composition rule, per-analyst totals, every \
        release (time, analyst, purpose, events, ε/δ, result digest), open reservations; then the \
        chain verification result and the head hash. The HTML file has inline SVG charts of \
        cumulative ε over time and needs no network.
        """))

    enum Format: String, ExpressibleByArgument, CaseIterable { case md, html, json }

    @Argument(help: "The budget (default: every budget).")
    var scope: String?

    @Option(help: "md, html or json.")
    var format: Format = .md

    @Option(help: "Write to this file instead of standard output.")
    var output: String?

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        // Refuse a destination that is not a regular file before reading anything.
        let writer = try output.map { try AtomicFileWriter(path: $0) }
        let opened = try ledger.open()
        let report = try AuditReport(ledger: opened, scope: scope)
        let text: String
        switch format {
        case .md: text = report.markdown()
        case .html: text = report.html()
        case .json: text = try report.json()
        }
        if let writer {
            try writer.write(Data(text.utf8))
            FileHandle.standardError.write(Data("wrote \(TerminalText.escaped(writer.path))\n".utf8))
        } else {
            print(text, terminator: "")
        }
    }
}
