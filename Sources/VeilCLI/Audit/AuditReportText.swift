import Foundation
import PrivacyAudit

/// The text and JSON forms of audit reports.
enum AuditReportText {
    /// The verdict line.
    static func verdict(epsilonLowerBound: Double, claimed: Double) -> String {
        epsilonLowerBound > claimed
            ? "verdict: VIOLATION — the runs prove ε ≥ \(amount(epsilonLowerBound)) > claimed ε \(amount(claimed))"
            : "verdict: no violation found (an audit bounds ε from below; it cannot prove privacy)"
    }

    /// `veil audit mechanism`'s report.
    static func text(_ audit: MechanismAudit) -> String {
        let bound = audit.result.bound
        return """
        \(audit.mechanism): \(audit.neighbours)
        claimed: ε \(amount(audit.claim.epsilon)), δ \(amount(audit.claim.delta))
        audited: ε ≥ \(amount(audit.epsilonLowerBound)) at \(percent(audit.confidence)) confidence \
        (\(audit.trials) runs on each input; half choose the event, half bound it)
        event: \(audit.result.event.description)
        held-out frequencies: \(bound.pCount)/\(bound.trials) vs \(bound.qCount)/\(bound.trials) \
        (p ≥ \(amount(bound.pLower)), q ≤ \(amount(bound.qUpper)))
        \(verdict(epsilonLowerBound: audit.epsilonLowerBound, claimed: audit.claim.epsilon))

        """
    }

    /// `veil audit mechanism --json`.
    static func json(_ audit: MechanismAudit) -> JSONValue {
        .object([
            ("mechanism", .string(audit.mechanism)),
            ("neighbours", .string(audit.neighbours)),
            ("claimed_epsilon", .number(audit.claim.epsilon)),
            ("claimed_delta", .number(audit.claim.delta)),
            ("trials", .number(Double(audit.trials))),
            ("confidence", .number(audit.confidence)),
            ("epsilon_lower_bound", .number(audit.epsilonLowerBound)),
            ("event", event(audit.result)),
            ("exceeds_claim", .bool(audit.exceedsClaim)),
        ])
    }

    /// `veil audit query`'s report: per output column, the largest cell bound; no released values, no thresholds.
    static func text(_ audit: QueryAudit) -> String {
        var lines = ["query audit: D vs D' without the \(audit.removed.rawValue) privacy unit",
                     "claimed: ε \(amount(audit.claim.epsilon)), δ \(amount(audit.claim.delta)) per run",
                     "audited: ε ≥ \(amount(audit.epsilonLowerBound)) at \(percent(audit.confidence)) confidence "
                        + "(\(audit.trials) runs on each database; \(audit.cells.count) released cells, "
                        + "Bonferroni over the cells)"]
        for (column, cells) in byColumn(audit) {
            let best = cells.map(\.result.epsilon).max() ?? 0
            lines.append("  \(column): ε ≥ \(amount(best)) (largest of \(cells.count) cell\(cells.count == 1 ? "" : "s"))")
        }
        lines.append(verdict(epsilonLowerBound: audit.epsilonLowerBound, claimed: audit.claim.epsilon))
        return lines.joined(separator: "\n") + "\n"
    }

    /// `veil audit query --json`.
    static func json(_ audit: QueryAudit) -> JSONValue {
        .object([
            ("removed_unit", .string(audit.removed.rawValue)),
            ("claimed_epsilon", .number(audit.claim.epsilon)),
            ("claimed_delta", .number(audit.claim.delta)),
            ("trials", .number(Double(audit.trials))),
            ("confidence", .number(audit.confidence)),
            ("cells", .number(Double(audit.cells.count))),
            ("epsilon_lower_bound", .number(audit.epsilonLowerBound)),
            ("columns", .array(byColumn(audit).map { column, cells in
                .object([("column", .string(column)),
                         ("cells", .number(Double(cells.count))),
                         ("epsilon_lower_bound", .number(cells.map(\.result.epsilon).max() ?? 0))])
            })),
            ("exceeds_claim", .bool(audit.exceedsClaim)),
        ])
    }

    /// `veil audit training`'s report: counts of canaries and guesses, and the bound.
    static func text(_ audit: TrainingAudit) -> String {
        let result = audit.result
        return """
        training audit: \(result.canaries) canaries (wrong-label test examples), \(audit.includedCanaries) trained on \
        (each with probability ½); \(audit.steps) steps in \(String(format: "%.1f", audit.trainingSeconds)) s
        claimed: ε \(amount(audit.claim.epsilon)), δ \(amount(audit.claim.delta))
        \(oneRunVerdict(audit))

        """
    }

    /// The bound of a one-run audit with the counts behind it, and the verdict.
    static func oneRunVerdict(_ audit: some OneRunAuditReport) -> String {
        let result = audit.result
        return """
        audited: ε ≥ \(amount(audit.epsilonLowerBound)) at \(percent(result.confidence)) confidence \
        (\(result.correct) of \(result.guesses) guesses right; a coin gets half)
        \(verdict(epsilonLowerBound: audit.epsilonLowerBound, claimed: audit.claim.epsilon))
        """
    }

    /// `veil audit training --json`.
    static func json(_ audit: TrainingAudit) -> JSONValue {
        .object(oneRunFields(audit, canaries: "canaries") + [
            ("steps", .number(Double(audit.steps))),
            ("training_seconds", .number(audit.trainingSeconds)),
        ])
    }

    /// The fields every one-run audit report has, the canaries counted under the name `canaries`.
    static func oneRunFields(_ audit: some OneRunAuditReport, canaries: String) -> [(String, JSONValue)] {
        [
            ("claimed_epsilon", .number(audit.claim.epsilon)),
            ("claimed_delta", .number(audit.claim.delta)),
            (canaries, .number(Double(audit.result.canaries))),
            ("canaries_included", .number(Double(audit.includedCanaries))),
            ("guesses", .number(Double(audit.result.guesses))),
            ("correct_guesses", .number(Double(audit.result.correct))),
            ("confidence", .number(audit.result.confidence)),
            ("epsilon_lower_bound", .number(audit.epsilonLowerBound)),
            ("exceeds_claim", .bool(audit.exceedsClaim)),
        ]
    }

    /// `veil audit federated`'s report: counts of canary clients and guesses, and the bound.
    static func text(_ audit: FederatedAudit) -> String {
        let result = audit.result
        return """
        federated audit: \(result.canaries) canary clients of \(audit.examplesPerCanary) wrong-label test examples, \
        \(audit.includedCanaries) took part (each with probability ½); \(audit.rounds) rounds in \
        \(String(format: "%.1f", audit.trainingSeconds)) s
        claimed: client-level ε \(amount(audit.claim.epsilon)), δ \(amount(audit.claim.delta))
        \(oneRunVerdict(audit))

        """
    }

    /// `veil audit federated --json`.
    static func json(_ audit: FederatedAudit) -> JSONValue {
        .object(oneRunFields(audit, canaries: "canary_clients") + [
            ("examples_per_canary", .number(Double(audit.examplesPerCanary))),
            ("rounds", .number(Double(audit.rounds))),
            ("training_seconds", .number(audit.trainingSeconds)),
        ])
    }

    /// The chosen event without its threshold for queries (it would sit near a true value), with it for mechanisms.
    static func event(_ result: EventSelectionAudit) -> JSONValue {
        .object([
            ("threshold", .number(result.event.threshold)),
            ("direction", .string(result.event.direction == .atLeast ? "at_least" : "at_most")),
            ("favoured", .string(result.event.favoured.rawValue)),
            ("favoured_count", .number(Double(result.bound.pCount))),
            ("other_count", .number(Double(result.bound.qCount))),
            ("held_out_trials", .number(Double(result.bound.trials))),
            ("favoured_lower_bound", .number(result.bound.pLower)),
            ("other_upper_bound", .number(result.bound.qUpper)),
        ])
    }

    static func byColumn(_ audit: QueryAudit) -> [(String, [QueryAudit.Cell])] {
        var columns: [(String, [QueryAudit.Cell])] = []
        for cell in audit.cells {
            if let i = columns.firstIndex(where: { $0.0 == cell.column }) {
                columns[i].1.append(cell)
            } else {
                columns.append((cell.column, [cell]))
            }
        }
        return columns
    }

    static func percent(_ level: Double) -> String { String(format: "%g%%", level * 100) }
}

/// Progress on stderr for long audits: one line each tenth of the runs (counts only, nothing from the data).
struct AuditProgress {
    let label: String
    private var lastTenth = 0

    init(label: String) { self.label = label }

    mutating func report(_ done: Int, _ total: Int) {
        let tenth = done * 10 / max(total, 1)
        guard tenth > lastTenth else { return }
        lastTenth = tenth
        FileHandle.standardError.write(Data("\(label): \(done)/\(total) runs\n".utf8))
    }
}
