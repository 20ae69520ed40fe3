import ArgumentParser
import ConfidentialInference
import Foundation
import LocalInference

/// `veil enclave relay`: an Oblivious HTTP relay between clients and a gateway.
struct EnclaveRelayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Forward Oblivious HTTP requests to a gateway without being able to read them.",
        discussion: HelpText.reflow("""
        Listens on 127.0.0.1 and forwards POST /confidential/ohttp and GET /confidential/evidence to \
        --gateway, byte for byte. It holds no key: it sees ciphertext, padded sizes and timing only; the \
        gateway sees the relay's address, not the client's. The first line on standard output names the address.

        Examples:
          veil enclave relay --port 8081 --gateway http://127.0.0.1:8080
        """)
    )

    @Option(help: "The port to listen on (0: a free port).")
    var port = 8081

    @Option(help: "The gateway's base URL.")
    var gateway: String

    func run() throws {
        guard let target = URL(string: gateway), target.scheme != nil, target.host != nil else {
            throw ValidationError("--gateway '\(gateway)' is not a URL such as http://127.0.0.1:8080")
        }
        var configuration = InferenceServer.Configuration()
        configuration.port = port
        try configuration.validate()
        let server = InferenceServer(service: InferenceService(models: []), configuration: configuration,
                                     additionalRoutes: ObliviousRelay(gateway: target).routes) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        let done = DispatchSemaphore(value: 0)
        let gatewayText = gateway
        Task.detached {
            do {
                try await server.run { port in
                    FileHandle.standardOutput.write(Data("veil enclave relay: on http://127.0.0.1:\(port), forwarding to \(gatewayText)\n".utf8))
                }
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            }
            done.signal()
        }
        done.wait()
    }
}
