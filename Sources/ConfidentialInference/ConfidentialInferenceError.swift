/// What went wrong in confidential inference: malformed input, a message that does not decrypt or parse,
/// evidence or a log proof the client refuses, or a transport fault.
public struct ConfidentialInferenceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Malformed input: flags, files, encodings.
        case invalidInput = "invalid_input"
        /// An encapsulated message that does not decrypt, or uses a key or suite the gateway does not have
        /// (RFC 9458 §5.2).
        case decryptionFailed = "decryption_failed"
        /// A replayed or stale request (RFC 9458 §6.5).
        case replayed = "replayed"
        /// Evidence, policy or log checks that refuse the gateway.
        case refused = "refused"
        /// Network or server faults.
        case transport = "transport"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func invalid(_ message: String) -> Self { Self(.invalidInput, message) }
}
