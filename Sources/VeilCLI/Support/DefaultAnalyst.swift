import Foundation

/// The `--analyst` default of every command that records who spends budget (`query`, `train`, `budget charge`,
/// `budget reserve`): the login name in `$USER`, else `analyst`.
enum DefaultAnalyst {
    /// `$USER` when set and not empty, else `analyst`.
    static var name: String {
        if let user = ProcessInfo.processInfo.environment["USER"], !user.isEmpty { return user }
        return "analyst"
    }
}
