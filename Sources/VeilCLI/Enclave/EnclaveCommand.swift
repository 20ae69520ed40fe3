import ArgumentParser
import Foundation
import TrustedExecution

/// `veil enclave`: measurement, attestation evidence, verification, sealing and key release.
struct EnclaveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enclave",
        abstract: "Trusted execution: measure, produce and verify TDX / SEV-SNP evidence, seal, release keys.",
        discussion: HelpText.reflow("""
        See docs/trusted-execution.md for the threat model and each check's specification.

        Exit codes: 0 success (evidence accepted), 1 evidence rejected or a platform fault,
        2 bad input (malformed evidence, collateral, policy or flags).
        """),
        subcommands: [EnclaveMeasureCommand.self, EnclaveEvidenceCommand.self, EnclaveVerifyCommand.self,
                      EnclaveKeygenCommand.self, EnclaveKeyBrokerCommand.self, EnclaveSealCommand.self,
                      EnclaveOpenModelCommand.self, EnclaveQueryCommand.self, EnclaveRelayCommand.self]
    )
}

/// Shared helpers of the `veil enclave` subcommands.
enum EnclaveCLI {
    /// Runs `body`, turning a ``TrustedExecutionError`` into a one-line failure with Veil's exit code
    /// (2 for bad input, 1 otherwise).
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as TrustedExecutionError {
            throw CLIFailure(error.message, exitCode: error.code == .invalidInput ? CLIExitCode.badInput : CLIExitCode.failure)
        }
    }

    /// Reads a file of at most `limit` bytes; a missing, unreadable or oversized file is bad input.
    static func read(_ path: String, what: String, limit: Int = 16 << 20) throws -> [UInt8] {
        do {
            return try BoundedFile.read(path, limit: limit, what: what)
        } catch let error as TrustedExecutionError {
            throw CLIFailure(error.message, exitCode: CLIExitCode.badInput)
        }
    }

    /// Parses `--at` (ISO 8601, e.g. 2023-07-01T01:00:00Z); the current time when absent.
    static func time(_ text: String?) throws -> Date {
        guard let text else { return Date() }
        guard let date = ISO8601DateFormatter().date(from: text) else {
            throw ValidationError("--at must be an ISO 8601 time such as 2023-07-01T01:00:00Z, got '\(text)'")
        }
        return date
    }

    /// The label under which the enclave's HPKE private key is sealed.
    static let enclaveKeyLabel = "enclave-hpke-private-key"

    static func sealingKey(platformSecret: String, measurement: String) throws -> SealingKey {
        try SealingKey(platformSecret: try SimulatedPlatformSecret.load(URL(fileURLWithPath: platformSecret)),
                       measurement: try hex(measurement, option: "--measurement"))
    }

    /// Writes `bytes` to `path` atomically; a failure is a fault (exit 1).
    static func write(_ bytes: [UInt8], to path: String) throws {
        do { try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw CLIFailure("cannot write \(path): \(error.localizedDescription)")
        }
    }

    static func hex(_ text: String, option: String) throws -> [UInt8] {
        try Hex.decode(text, field: option)
    }
}
