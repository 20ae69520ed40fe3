import ArgumentParser
import BudgetLedger

struct BudgetShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show budgets: total, spent, reserved, remaining and per analyst.",
        discussion: HelpText.reflow("""
        With --json: one object for SCOPE, or an array of objects (one per budget) without SCOPE. \
        Keys: scope, composition, epsilon_total, delta_total, epsilon_spent, delta_spent, \
        epsilon_reserved, delta_reserved, epsilon_remaining, delta_remaining, committed, open, \
        refunded, analysts [{analyst, charges, epsilon, delta}].
        """))

    @Argument(help: "The budget to show (default: every budget).")
    var scope: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let opened = try ledger.open()
        let statuses = try scope.map { [try opened.status(scope: $0)] } ?? opened.statuses()
        if json {
            let objects = statuses.map(Self.json)
            print(scope == nil ? JSONValue.array(objects).rendered : objects[0].rendered)
            return
        }
        if statuses.isEmpty { print("no budgets in \(TerminalText.escaped(opened.path))") }
        for (i, s) in statuses.enumerated() {
            if i > 0 { print("") }
            print(Self.text(s), terminator: "")
        }
    }

    static func json(_ s: BudgetStatus) -> JSONValue {
        .object([
            ("scope", .string(s.budget.scope)), ("composition", .string(s.budget.composition.rawValue)),
            ("epsilon_total", .number(s.budget.epsilon)), ("delta_total", .number(s.budget.delta)),
            ("epsilon_spent", .number(s.epsilonSpent)), ("delta_spent", .number(s.deltaSpent)),
            ("epsilon_reserved", .number(s.epsilonReserved)), ("delta_reserved", .number(s.deltaReserved)),
            ("epsilon_remaining", .number(s.epsilonRemaining)), ("delta_remaining", .number(s.deltaRemaining)),
            ("committed", .number(Double(s.committed))), ("open", .number(Double(s.open))),
            ("refunded", .number(Double(s.refunded))),
            ("analysts", .array(s.analysts.map { a in
                .object([("analyst", .string(a.analyst)), ("charges", .number(Double(a.charges))),
                         ("epsilon", .number(a.epsilon)), ("delta", .number(a.delta))])
            })),
        ])
    }

    static func text(_ s: BudgetStatus) -> String {
        let b = s.budget
        func row(_ label: String, _ e: Double, _ d: Double) -> String {
            label.padding(toLength: 11, withPad: " ", startingAt: 0) + "ε " + amount(e).padding(toLength: 12, withPad: " ", startingAt: 0)
                + "δ " + amount(d) + "\n"
        }
        var out = "\(b.scope) (\(b.composition) composition)\n"
        out += "  " + row("total", b.epsilon, b.delta)
        out += "  " + row("spent", s.epsilonSpent, s.deltaSpent)
        out += "  " + row("reserved", s.epsilonReserved, s.deltaReserved)
        out += "  " + row("remaining", s.epsilonRemaining, s.deltaRemaining)
        out += "  charges: \(s.committed) committed, \(s.open) open, \(s.refunded) refunded\n"
        if !s.analysts.isEmpty {
            out += "  per analyst:\n"
            for a in s.analysts {
                out += "    \(TerminalText.escaped(a.analyst)): \(a.charges) charge\(a.charges == 1 ? "" : "s"), ε \(amount(a.epsilon)), δ \(amount(a.delta))\n"
            }
        }
        return out
    }
}
