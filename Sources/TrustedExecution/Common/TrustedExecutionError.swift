/// An error raised by the trusted-execution layer: a stable `code` and a one-line `message` that names
/// the field or check at fault.
///
/// `TrustedExecution` stands on swift-crypto and swift-certificates only, so it has its own error type;
/// the `veil` command maps ``Code/invalidInput`` to exit code 2 and everything else to 1.
public struct TrustedExecutionError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A stable identifier of the kind of failure.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Evidence, collateral, a policy or a key file is malformed, truncated, oversized or of an
        /// unknown version or TEE type.
        public static let invalidInput = Code(rawValue: "invalid_input")
        /// Evidence parsed but did not verify (a signature, a chain, a TCB level or the policy failed).
        public static let verificationFailed = Code(rawValue: "verification_failed")
        /// A platform interface (configfs-tsm, a sealing secret) failed or is absent.
        public static let platform = Code(rawValue: "platform")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func invalid(_ message: String) -> TrustedExecutionError { .init(.invalidInput, message) }
}
