/// The stored form of an `rdp` or `zcdp` scope's composition (ledger format 3): the exact sums that
/// ``RenyiComposition`` keeps, so that a charge adds its event to them instead of recomposing every
/// earlier event of the scope.
///
/// The text is one `key value` line per sum, each `Double` as the 16 hexadecimal digits of its
/// IEEE 754 bit pattern, so that storing and reading it back is exact:
///
/// ```
/// rule rdp
/// orders 3ff199999999999a,…        (the RDPAccountant's orders; rdp only)
/// curve 3f50624dd2f1a9fc,…         (Σ ε_R(α) at each order; rdp only)
/// rho 3f847ae147ae147b             (Σ ρ; zcdp only)
/// additive_delta 0000000000000000  (Σ δᵢ of the (ε, δ) events)
/// ```
///
/// Its SHA-256 (``digest(of:)``) is recorded, inside the hash, by the `reserve` or `refund` entry
/// that produced it, which binds the stored state to the chain as the running total is bound.
enum ComposedState {
    /// The canonical text of `composition`.
    static func text(of composition: RenyiComposition) -> String {
        var lines = ["rule \(composition.rule.rawValue)"]
        switch composition.rule {
        case .rdp:
            lines.append("orders " + composition.orders.map(hex).joined(separator: ","))
            lines.append("curve " + composition.curve.map(hex).joined(separator: ","))
        case .zcdp, .basic:
            lines.append("rho " + hex(composition.rho))
        }
        lines.append("additive_delta " + hex(composition.additiveDelta))
        return lines.joined(separator: "\n")
    }

    /// The SHA-256 (lowercase hex) of ``text(of:)``: what a `reserve` or `refund` entry records.
    static func digest(of composition: RenyiComposition) -> String {
        ChainHash.hex(of: text(of: composition))
    }

    /// The composition stored as `text` under `rule`; nil when the text is not of that rule or was
    /// written with other Rényi orders than the current accountant's (it must then be recomposed
    /// from the events).
    static func composition(from text: String, rule: CompositionRule) -> RenyiComposition? {
        var fields: [Substring: Substring] = [:]
        for line in text.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { return nil }
            fields[line[..<space]] = line[line.index(after: space)...]
        }
        guard fields["rule"].map(String.init) == rule.rawValue,
              let additiveDelta = fields["additive_delta"].flatMap(double) else { return nil }
        switch rule {
        case .rdp:
            guard let orders = fields["orders"].flatMap(doubles),
                  let curve = fields["curve"].flatMap(doubles),
                  orders == RenyiComposition(rule: .rdp).orders else { return nil }
            return RenyiComposition(rule: rule, curve: curve, rho: 0, additiveDelta: additiveDelta)
        case .zcdp:
            guard let rho = fields["rho"].flatMap(double) else { return nil }
            return RenyiComposition(rule: rule, curve: RenyiComposition(rule: .zcdp).curve, rho: rho,
                                    additiveDelta: additiveDelta)
        case .basic:
            return nil
        }
    }

    private static func hex(_ value: Double) -> String {
        let digits = String(value.bitPattern, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    private static func double(_ text: Substring) -> Double? {
        guard text.count == 16, let bits = UInt64(text, radix: 16) else { return nil }
        return Double(bitPattern: bits)
    }

    private static func doubles(_ text: Substring) -> [Double]? {
        let values = text.split(separator: ",", omittingEmptySubsequences: false).map(double)
        return values.contains(where: { $0 == nil }) ? nil : values.compactMap { $0 }
    }
}
