/// What went wrong in the transparency log: bad input (a malformed proof, head or hex string), a proof or
/// signature that does not verify, a damaged log file, or a file-system fault.
public struct TransparencyLogError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Malformed input: flags, hex, JSON, sizes out of range.
        case invalidInput = "invalid_input"
        /// A proof, root or signature that does not check out.
        case verificationFailed = "verification_failed"
        /// The log file is damaged somewhere other than a torn final append.
        case corruptLog = "corrupt_log"
        /// Reading or writing the file failed (permissions, full disk).
        case fileSystem = "file_system"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func invalid(_ message: String) -> Self { Self(.invalidInput, message) }
    static func failed(_ message: String) -> Self { Self(.verificationFailed, message) }
}
