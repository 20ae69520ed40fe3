import ArgumentParser
import ConfidentialInference
import Foundation
import TransparencyLog
import TrustedExecution

/// `veil enclave query`: the confidential inference client.
struct EnclaveQueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Send an inference request that only an attested, logged gateway can read (Oblivious HTTP).",
        discussion: HelpText.reflow("""
        Fetches the gateway's evidence with a fresh nonce, verifies it against --policy and the transparency \
        log (inclusion under a head signed by --log-key, consistency with the largest head remembered in \
        --state), then seals the Open Inference Protocol request in --input to the attested key, sends it \
        (through --relay when given) and prints the decrypted answer. Nothing is sent when a check fails.

        Exit codes: 0 answered, 1 refused (evidence, policy, log) or a fault, 2 bad input.

        Examples:
          veil enclave query http://127.0.0.1:8080 --policy policy.yaml --model health --input request.json --log-key 3b6a27bc... --state log-state.json
        """)
    )

    @Argument(help: "The gateway's base URL (the `veil serve --confidential` address).")
    var url: String

    @Option(help: "The attestation policy (YAML, see `veil enclave verify`).")
    var policy: String

    @Option(help: "The model to query.")
    var model: String

    @Option(help: "The Open Inference Protocol request body (JSON).")
    var input: String

    @Option(name: .customLong("log-key"), help: "The transparency log's Ed25519 public key (hex).")
    var logKey: String

    @Option(help: "The file that remembers the largest log head seen (created when missing).")
    var state: String

    @Option(help: "An Oblivious HTTP relay to send the encapsulated request through.")
    var relay: String?

    func run() throws {
        guard let gateway = URL(string: url), gateway.scheme != nil, gateway.host != nil else {
            throw ValidationError("'\(url)' is not a URL such as http://127.0.0.1:8080")
        }
        let relayURL = try relay.map { text -> URL in
            guard let u = URL(string: text), u.scheme != nil, u.host != nil else { throw ValidationError("--relay '\(text)' is not a URL") }
            return u
        }
        let client: ConfidentialClient = try TransparencyCLI.run {
            let attestationPolicy = try AttestationPolicy(contentsOf: URL(fileURLWithPath: policy))
            let key = try LogHex.decode(logKey, field: "--log-key")
            return ConfidentialClient(gateway: gateway, relay: relayURL, policy: attestationPolicy, trustedLogKey: key,
                                      state: LogState(path: state))
        }
        let body = try EnclaveCLI.read(input, what: "input")
        let model = self.model
        let outcome = QueryOutcome()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do {
                let verified = try await client.verifiedGateway()
                outcome.set(.success(try await client.infer(model: model, body: body, gateway: verified)))
            } catch {
                outcome.set(.failure(error))
            }
            done.signal()
        }
        done.wait()
        let answer = try TransparencyCLI.run { try outcome.result!.get() }
        FileHandle.standardOutput.write(Data(answer.body + [0x0A]))
        guard answer.status == 200 else { throw CLIFailure("the gateway answered \(answer.status)") }
    }
}

/// The result of the client task, handed to the waiting main thread.
private final class QueryOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Result<(status: Int, body: [UInt8]), any Error>?
    func set(_ result: Result<(status: Int, body: [UInt8]), any Error>) { lock.withLock { stored = result } }
    var result: Result<(status: Int, body: [UInt8]), any Error>? { lock.withLock { stored } }
}
