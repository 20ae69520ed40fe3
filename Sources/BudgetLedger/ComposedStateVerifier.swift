import Accounting
import Foundation

/// Recomputes the composed state of every `rdp` and `zcdp` scope while ``ChainVerifier`` walks the
/// entries, and checks it against the `state_digest` each `reserve` and `refund` entry records
/// (format 3) and, at the end, against the stored `scope_composition` rows.
///
/// The state is built exactly as a charge builds it: each reservation's event is added in id
/// order, and a refund recomposes the remaining events, so the digests must match bit for bit.
struct ComposedStateVerifier {
    private var compositions: [String: RenyiComposition] = [:]
    /// Scopes whose events cannot be composed (an unreadable or unsupported event).
    private var uncomposable: Set<String> = []
    /// Per scope, the reservations not refunded, in id order, with their events.
    private var active: [String: [(id: Int64, event: DPEvent)]] = [:]
    /// Per scope, the digest its last `reserve` or `refund` entry records (nil: none recorded).
    private var lastDigest: [String: String] = [:]
    private let decoder = JSONDecoder()

    /// A budget entry: starts an empty composition when its rule is `rdp` or `zcdp`.
    mutating func budget(scope: String, rule: CompositionRule) {
        guard rule != .basic else { return }
        compositions[scope] = RenyiComposition(rule: rule)
        active[scope] = []
    }

    /// A reserve entry: adds its event to the scope's composition.
    mutating func reserve(_ entry: LedgerEntry) {
        guard var composition = compositions[entry.scope], !uncomposable.contains(entry.scope) else { return }
        do {
            let event = try decoder.decode(DPEvent.self, from: Data((entry.event ?? "").utf8))
            try composition.add(event)
            compositions[entry.scope] = composition
            active[entry.scope, default: []].append((entry.id, event))
        } catch {
            uncomposable.insert(entry.scope)
        }
    }

    /// A refund entry: recomposes the scope's remaining events.
    mutating func refund(scope: String, reservation: Int64) {
        guard let composition = compositions[scope], !uncomposable.contains(scope) else { return }
        let remaining = (active[scope] ?? []).filter { $0.id != reservation }
        active[scope] = remaining
        var recomposed = RenyiComposition(rule: composition.rule)
        do {
            for charge in remaining { try recomposed.add(charge.event) }
            compositions[scope] = recomposed
        } catch {
            uncomposable.insert(scope)
        }
    }

    /// Checks the `state_digest` of `entry` (after ``reserve(_:)`` or ``refund(scope:reservation:)``
    /// has applied it); nil when it matches or none belongs and none is recorded.
    mutating func check(_ entry: LedgerEntry) -> String? {
        let resetsState = entry.kind == .reserve || entry.kind == .refund
        if resetsState && compositions[entry.scope] != nil { lastDigest[entry.scope] = entry.stateDigest }
        guard let digest = entry.stateDigest else { return nil }
        guard resetsState, let composition = compositions[entry.scope] else {
            return "it records a composed state where none belongs"
        }
        guard !uncomposable.contains(entry.scope) else {
            return "it records a composed state, but the events of \(entry.scope) cannot be composed"
        }
        return ComposedState.digest(of: composition) == digest
            ? nil : "the composed state it records does not match the events of \(entry.scope)"
    }

    /// After the last entry: every stored state in use (its scope's last `reserve` or `refund` entry
    /// records a digest) must be the recomputed one; a stored state of a scope without an `rdp` or
    /// `zcdp` budget is an error. Returns the problem, or nil.
    func finish(storedStates: [LedgerRow]) -> String? {
        var stored: [String: String] = [:]
        for row in storedStates {
            guard row.count == 2, let scope = row[0].string, let text = row[1].string else {
                return "a composed state row is malformed"
            }
            guard compositions[scope] != nil else {
                return "a composed state exists for \(scope), which has no rdp or zcdp budget"
            }
            stored[scope] = text
        }
        for scope in lastDigest.keys.sorted() {
            guard let composition = compositions[scope], let text = stored[scope],
                  text == ComposedState.text(of: composition) else {
                return "the stored composed state of \(scope) does not match its entries"
            }
        }
        return nil
    }
}
