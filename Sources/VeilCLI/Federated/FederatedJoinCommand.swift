import ArgumentParser
import FederatedLearning
import Foundation
import Mechanisms

struct FederatedJoinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Take part in a federated run as one client: train locally, send only the update.",
        discussion: HelpText.reflow("""
        The client asks the server for work, trains on its own data (a CSV file, or a SQLite database with \
        --table) from the round's model with the server's local-training settings, and sends its update as a \
        safetensors body; its data never leaves it. It stops when the server says the run is over.
        """)
    )

    @Argument(help: "The server's URL (http://127.0.0.1:PORT, or https://HOST:PORT).")
    var url: String

    @Option(help: "This client's id in the server's roster.")
    var clientId: String

    @Option(help: "A file holding this client's bearer token.")
    var tokenFile: String

    @Option(help: "This client's data: a CSV file, or a SQLite database (with --table).")
    var data: String

    @Option(help: "The table of a SQLite --data.")
    var table: String?

    @Option(help: ArgumentHelp("PEM certificates to trust for an https server instead of the system's roots "
                               + "(a private CA or the server's self-signed certificate).", valueName: "file"))
    var ca: String?

    @Option(parsing: .unconditional, help: "Give up after this many seconds.", transform: DecimalArgument.parse)
    var timeout: Double = 3600

    @Flag(help: .hidden)
    var exitBeforeSending = false

    /// Leaves a round of secure aggregation right after sending the message of this step (keys, shares,
    /// masked-input): a dropout the protocol must recover from.
    @Option(help: .hidden)
    var leaveAfter: String?

    func run() throws {
        guard let raw = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
            throw VeilError(.invalidInput, "token file not found: \(tokenFile)")
        }
        let token = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw VeilError(.invalidInput, "the token file \(tokenFile) is empty") }
        guard timeout > 0, timeout <= 1e6 else { throw VeilError(.invalidInput, "--timeout must be in (0, 1e6] seconds") }
        if let ca, !FileManager.default.isReadableFile(atPath: ca) { throw VeilError(.invalidInput, "CA file not found: \(ca)") }
        let client = FederatedClient(url: url, clientID: clientId, token: token, dataPath: data, table: table,
                                     timeout: .milliseconds(Int64(timeout * 1000)), certificateAuthority: ca)
        let exitBeforeSending = self.exitBeforeSending
        var leaveAfter: FederatedClient.SecureStep?
        if let name = self.leaveAfter {
            guard let step = FederatedClient.SecureStep(rawValue: name) else {
                throw VeilError(.invalidInput, "--leave-after must be keys, shares, masked-input or unmasking")
            }
            leaveAfter = step
        }
        let leave = leaveAfter
        let done = DispatchSemaphore(value: 0)
        let box = JoinOutcome()
        Task.detached {
            do {
                box.set(.success(try await client.run(onRound: { round in
                    print("round \(round): update accepted")
                    fflush(nil)
                }, beforeSending: { round in
                    // Drops out mid-round: trained, never sends (a fault the server must absorb).
                    if exitBeforeSending {
                        print("round \(round): leaving before sending the update")
                        fflush(nil)
                        Foundation.exit(0)
                    }
                }, afterSending: { round, step in
                    if step == leave {
                        print("round \(round): leaving after sending \(step.rawValue)")
                        fflush(nil)
                        Foundation.exit(0)
                    }
                })))
            } catch {
                box.set(.failure(error))
            }
            done.signal()
        }
        done.wait()
        let outcome = try box.get()
        for refusal in outcome.refusals { FileHandle.standardError.write(Data("refused: \(refusal)\n".utf8)) }
        print("done: \(outcome.roundsContributed) update(s) accepted")
    }
}

private final class JoinOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<FederatedClient.Outcome, any Error>?
    func set(_ r: Result<FederatedClient.Outcome, any Error>) { lock.withLock { result = r } }
    func get() throws -> FederatedClient.Outcome { try lock.withLock { try result!.get() } }
}
