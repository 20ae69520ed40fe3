import Mechanisms

/// The number of runs an audit accepts.
enum AuditTrials {
    /// At most 10^8 runs per input: every run keeps one number per released value in memory, and `2 · trials`
    /// must not overflow.
    static let maximum = 100_000_000

    /// Checks a requested number of runs: at least 2 (half select the event, half bound it), at most ``maximum``.
    /// - Throws: `invalid_parameter` naming the allowed range.
    static func check(_ trials: Int) throws {
        guard trials >= 2, trials <= maximum else {
            throw VeilError.invalidParameter("trials", trials, allowed: "an integer from 2 to \(maximum)")
        }
    }
}
