import Mechanisms

extension VeilError.Code {
    /// A secure-aggregation message was refused (malformed, duplicated, from an unknown or unexpected
    /// sender, or out of phase). The round goes on without it.
    public static let messageRefused = VeilError.Code("message_refused", category: .badInput)
    /// A secure-aggregation round stopped before its result: too few clients were left to reach the
    /// threshold, or a secret could not be reconstructed. Nothing was released.
    public static let roundAborted = VeilError.Code("round_aborted", category: .failure)
    /// Shamir shares that cannot be combined: too few, duplicated, or inconsistent with each other.
    public static let sharesRefused = VeilError.Code("shares_refused", category: .badInput)
}

extension VeilError {
    static func refused(_ reason: String) -> VeilError { VeilError(.messageRefused, reason) }
    static func aborted(_ reason: String) -> VeilError { VeilError(.roundAborted, "round aborted, nothing released: \(reason)") }
}
