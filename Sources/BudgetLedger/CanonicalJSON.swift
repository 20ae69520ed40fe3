/// The canonical JSON of ledger entries: sorted keys, no whitespace, absent fields omitted.
///
/// Written by hand rather than through `JSONEncoder` so that the bytes are fixed by this file alone
/// (and fast: `verify` hashes every entry). Strings are escaped as Python's `json.dumps` does with
/// `ensure_ascii=False`: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters as
/// `\u00XX`, everything else as UTF-8.
enum CanonicalJSON {
    static func entry(id: Int64, kind: LedgerEntry.Kind, timeMilliseconds: Int64, scope: String,
                      analyst: String?, purpose: String?, reservation: Int64?, event: String?,
                      epsilon: Double?, delta: Double?, epsilonUnits: Int64?, deltaUnits: Int64?,
                      composition: String?, digest: String?, note: String?, totalEpsilonUnits: Int64?,
                      totalDeltaUnits: Int64?, stateDigest: String? = nil, previousHash: String) -> String {
        // Keys in sorted (byte) order.
        var out = "{"
        var first = true
        func key(_ k: String) {
            if !first { out += "," }
            first = false
            out += "\""
            out += k
            out += "\":"
        }
        if let analyst { key("analyst"); appendString(analyst, to: &out) }
        if let composition { key("composition"); appendString(composition, to: &out) }
        if let delta { key("delta"); out += number(delta) }
        if let deltaUnits { key("delta_units"); out += String(deltaUnits) }
        if let digest { key("digest"); appendString(digest, to: &out) }
        if let epsilon { key("epsilon"); out += number(epsilon) }
        if let epsilonUnits { key("epsilon_units"); out += String(epsilonUnits) }
        if let event { key("event"); appendString(event, to: &out) }
        key("id"); out += String(id)
        key("kind"); appendString(kind.rawValue, to: &out)
        if let note { key("note"); appendString(note, to: &out) }
        key("prev"); appendString(previousHash, to: &out)
        if let purpose { key("purpose"); appendString(purpose, to: &out) }
        if let reservation { key("reservation"); out += String(reservation) }
        key("scope"); appendString(scope, to: &out)
        if let stateDigest { key("state_digest"); appendString(stateDigest, to: &out) }
        key("time_ms"); out += String(timeMilliseconds)
        if let totalDeltaUnits { key("total_delta_units"); out += String(totalDeltaUnits) }
        if let totalEpsilonUnits { key("total_epsilon_units"); out += String(totalEpsilonUnits) }
        out += "}"
        return out
    }

    /// A finite double in its shortest round-trip form, as Python's `repr` writes it (`0.1`, `10.0`,
    /// `1e-05`, `1e+308`, `5e-324`). Negative zero is written `0.0`: it is the same amount, and SQLite
    /// stores it as `0.0`, so hashing `-0.0` would make the entry unverifiable once read back.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        return value == 0 ? "0.0" : value.description
    }

    static func appendString(_ s: String, to out: inout String) {
        out += "\""
        let needsEscape = s.utf8.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }
        if !needsEscape {
            out += s
        } else {
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default:
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
