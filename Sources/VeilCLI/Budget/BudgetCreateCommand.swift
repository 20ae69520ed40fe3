import ArgumentParser
import BudgetLedger

struct BudgetCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a budget: a named scope with a total (ε, δ) and a composition rule.")

    @Argument(help: "Name of the budget (letters, digits, '_', '-', '.').")
    var scope: String

    @Option(parsing: .unconditional, help: "Total ε (> 0).", transform: DecimalArgument.parse)
    var epsilon: Double

    @Option(parsing: .unconditional, help: "Total δ in [0, 1) for basic; the conversion δ in (0, 1) for rdp and zcdp.", transform: DecimalArgument.parse)
    var delta: Double = 0

    @Option(help: "How charges add up: basic (sum of ε and δ), rdp (Rényi DP of the events), zcdp (sum of ρ).")
    var composition: CompositionRule = .basic

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        // Validate before opening, so that bad values never create or touch the file.
        _ = try Budget(scope: scope, epsilon: epsilon, delta: delta, composition: composition)
        let opened = try ledger.open(.createIfMissing)
        let budget = try opened.createBudget(scope: scope, epsilon: epsilon, delta: delta, composition: composition)
        print("created budget \(budget.scope): ε \(amount(budget.epsilon)), δ \(amount(budget.delta)), "
              + "\(budget.composition) composition, in \(TerminalText.escaped(opened.path))")
    }
}

extension CompositionRule: ExpressibleByArgument {}
