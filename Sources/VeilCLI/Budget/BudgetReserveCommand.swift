import ArgumentParser
import BudgetLedger

struct BudgetReserveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reserve",
        abstract: "Reserve (ε, δ) before a release made outside Veil; commit or refund it afterwards.",
        discussion: HelpText.reflow("""
        Prints the reservation id alone. Once the release is made, record it with \
        `veil budget resolve ID --commit --result-digest D`; if nothing was released, give the budget \
        back with `veil budget resolve ID --refund --note REASON`. Until then the reservation counts \
        as spent. Budgets with rdp or zcdp composition accept only δ = 0 here (pure ε-DP).

        Exit codes: 0 reserved, 3 refused for lack of budget, 2 bad input.
        """))

    @OptionGroup var release: ExternalReleaseOptions

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let (cost, event) = try release.costAndEvent()
        let opened = try ledger.open()
        let reservation = try opened.reserve(event: event, cost: cost, scope: release.scope,
                                             analyst: release.analyst, purpose: release.purpose)
        print(reservation.id)
    }
}
