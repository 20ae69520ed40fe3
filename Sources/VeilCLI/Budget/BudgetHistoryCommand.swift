import ArgumentParser
import BudgetLedger
import Foundation

struct BudgetHistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List a budget's ledger entries in order: creation, reservations, commits, refunds.",
        discussion: "With --json: an array of entries with the fields that are hashed (see docs/budget-ledger.md) and `hash`.")

    @Argument(help: "The budget.")
    var scope: String

    @Flag(help: "Print a JSON array instead of text.")
    var json = false

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        let opened = try ledger.open()
        let entries = try opened.entries(scope: scope)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(TerminalText.escapedJSON(String(decoding: try encoder.encode(entries), as: UTF8.self)))
            return
        }
        for e in entries { print(TerminalText.escaped(Self.line(e))) }
    }

    static func line(_ e: LedgerEntry) -> String {
        var line = "#\(e.id) \(timestamp(e.time)) \(e.kind.rawValue)"
        switch e.kind {
        case .budget:
            line += " ε \(amount(e.epsilon ?? 0)), δ \(amount(e.delta ?? 0)), \(e.composition ?? "?") composition"
        case .reserve:
            line += " by \(e.analyst ?? "?"): ε \(amount(e.epsilon ?? 0)), δ \(amount(e.delta ?? 0)) "
            line += "for \"\(e.purpose ?? "")\" \(e.event ?? "")"
        case .commit:
            line += " of #\(e.reservation ?? 0), result \(e.digest ?? "")"
            if let note = e.note { line += " (\(note))" }
        case .refund:
            line += " of #\(e.reservation ?? 0): \(e.note ?? "")"
        }
        return line
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
