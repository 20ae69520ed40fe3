import ArgumentParser
import BudgetLedger

struct BudgetReserveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reserve",
        abstract: "Reserve (ε, δ) before a release made outside Veil; commit or refund it afterwards.",
        discussion: """
        Prints the reservation id alone. Once the release is made, record it with \
        `veil budget resolve ID --commit --result-digest D`; if nothing was released, give the budget \
        back with `veil budget resolve ID --refund --note REASON`. Until then the reservation counts \
        as spent. Budgets with rdp or zcdp composition accept only δ = 0 here (pure ε-DP).

        Exit codes: 0 reserved, 3 refused for lack of budget, 2 bad input.
        """)

    @Argument(help: "The budget to charge.")
    var scope: String

    @Option(parsing: .unconditional, help: "ε of the release (finite, ≥ 0).")
    var epsilon: Double

    @Option(parsing: .unconditional, help: "δ of the release, in [0, 1).")
    var delta: Double = 0

    @Option(help: "Who makes the release.")
    var analyst: String

    @Option(help: "Why.")
    var purpose: String

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let cost = try PrivacyCost(epsilon: epsilon, delta: delta)
        let event = DPEvent.epsilonDelta(epsilon: epsilon, delta: delta)
        try event.validate()
        let opened = try ledger.open()
        let reservation = try opened.reserve(event: event, cost: cost, scope: scope, analyst: analyst, purpose: purpose)
        print(reservation.id)
    }
}
