/// The tables of one scope of the ``AuditReport``, in the form both the Markdown and the HTML
/// renderer draw: what goes in which section, row and cell is decided here once; the renderers only
/// choose the markup.
struct ScopeTables {
    /// Limit, spent, reserved and remaining, ε and δ.
    let limits: ReportTable
    /// Per analyst, releases and refunds, open reservations.
    let sections: [ReportSection]

    init(_ scope: ScopeReport) {
        typealias F = ReportFormatting
        let s = scope.status
        let b = s.budget
        limits = ReportTable(
            columns: [.init("", .left), .init("ε", .right), .init("δ", .right)],
            rows: [("limit", b.epsilon, b.delta), ("spent (committed)", s.epsilonSpent, s.deltaSpent),
                   ("reserved (open)", s.epsilonReserved, s.deltaReserved),
                   ("remaining", s.epsilonRemaining, s.deltaRemaining)].map { label, e, d in
                [.label(label), .number(F.amount(e)), .number(F.amount(d))]
            })

        let analysts = ReportTable(
            columns: [.init("analyst", .left), .init("charges", .right), .init("ε", .right), .init("δ", .right)],
            rows: s.analysts.map { a in
                [.text(a.analyst), .number("\(a.charges)"), .number(F.amount(a.epsilon)), .number(F.amount(a.delta))]
            })
        let released = ReportTable(
            columns: [.init("id", .right), .init("time", .left), .init("analyst", .left), .init("purpose", .left),
                      .init("events", .left), .init("ε", .right), .init("δ", .right), .init("state", .left),
                      .init("result digest / note", .left)],
            rows: scope.charges.filter { $0.state != .open }.map { c in
                let r = c.reservation
                return [.number("\(r.id)"), .text(F.time(c.resolvedAt ?? r.time)), .text(r.analyst), .text(r.purpose),
                        .code(c.eventJSON), .number(F.amount(r.cost.epsilon)), .number(F.amount(r.cost.delta)),
                        .text(c.state.rawValue, htmlClass: "state-\(c.state.rawValue)"),
                        .code(c.state == .committed ? (c.resultDigest ?? "") : (c.note ?? ""))]
            })
        let open = ReportTable(
            columns: [.init("id", .right), .init("reserved at", .left), .init("analyst", .left), .init("purpose", .left),
                      .init("events", .left), .init("ε", .right), .init("δ", .right)],
            rows: scope.charges.filter { $0.state == .open }.map { c in
                let r = c.reservation
                return [.number("\(r.id)"), .text(F.time(r.time)), .text(r.analyst), .text(r.purpose), .code(c.eventJSON),
                        .number(F.amount(r.cost.epsilon), htmlClass: "state-open"), .number(F.amount(r.cost.delta))]
            })
        sections = [
            ReportSection(title: "Per analyst", table: analysts, whenEmpty: "No charges."),
            ReportSection(title: "Releases and refunds", table: released, whenEmpty: "None."),
            ReportSection(title: "Open reservations", table: open, whenEmpty: "None.",
                          note: ("These count as spent until an operator resolves them",
                                 "veil budget resolve ID --commit|--refund")),
        ]
    }
}

/// A titled part of a scope's report: a table, or a short text when it has no rows.
struct ReportSection {
    let title: String
    let table: ReportTable
    /// Shown instead of an empty table.
    let whenEmpty: String
    /// A sentence shown before a non-empty table, ending with a command in parentheses.
    var note: (text: String, command: String)?
}

/// A table of the report: columns with their alignment, and rows of cells.
struct ReportTable {
    enum Alignment { case left, right }

    struct Column {
        let title: String
        let alignment: Alignment
        init(_ title: String, _ alignment: Alignment) {
            self.title = title
            self.alignment = alignment
        }
    }

    /// One cell. Text that comes from users (analysts, purposes, events, notes) is escaped by each
    /// renderer for its markup.
    struct Cell {
        enum Kind {
            /// A row's label (a header cell in HTML).
            case label
            /// Plain text.
            case text
            /// A number, right-aligned.
            case number
            /// Machine text: an event's JSON, a digest.
            case code
        }
        let kind: Kind
        let text: String
        /// An extra CSS class for the HTML cell (the state colours).
        var htmlClass: String?

        static func label(_ text: String) -> Cell { Cell(kind: .label, text: text) }
        static func text(_ text: String, htmlClass: String? = nil) -> Cell { Cell(kind: .text, text: text, htmlClass: htmlClass) }
        static func number(_ text: String, htmlClass: String? = nil) -> Cell { Cell(kind: .number, text: text, htmlClass: htmlClass) }
        static func code(_ text: String) -> Cell { Cell(kind: .code, text: text) }
    }

    let columns: [Column]
    let rows: [[Cell]]
}
