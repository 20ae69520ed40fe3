import ArgumentParser
import Foundation
import LocalInference
import Mechanisms
import PrivateTraining

/// `veil serve`: the Open Inference Protocol v2 server with zero data retention.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve stored models over the Open Inference Protocol v2 (KServe, Triton) with zero data retention.",
        discussion: HelpText.reflow("""
        Listens on 127.0.0.1 by default. Any other --host needs --tls-cert, --tls-key and --token-file \
        (clients then send `Authorization: Bearer TOKEN`). Port 0 picks a free port; the first line on \
        standard output names the address. The access log on standard error holds method, path, status, \
        sizes and latency only. No request or response content is logged, cached or written anywhere; \
        freed memory is overwritten and core dumps are off unless --allow-core-dumps (docs/inference.md). \
        SIGTERM or SIGINT stop the server after the requests in flight.

        Examples:
          veil serve health --port 8080
          curl -s localhost:8080/v2/models/health
        """)
    )

    @Argument(help: "Names of stored models to serve (default: every model in the store).") var names: [String] = []
    @OptionGroup var store: ModelStoreOption
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0: a free port).") var port = 8080
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain for TLS.") var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key for TLS.") var tlsKey: String?
    @Option(name: .customLong("token-file"), help: "File holding the bearer token clients must send.") var tokenFile: String?
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted (bytes).") var maximumBodyBytes = 16 << 20
    @Option(name: .customLong("max-queue"), help: "Most inference requests held at once; more get 503.") var maximumQueue = 64
    @Flag(name: .customLong("allow-core-dumps"), help: "Leave core dumps as the system has them (off by default).")
    var allowCoreDumps = false
    @OptionGroup var confidential: ConfidentialServeOptions

    func run() throws {
        // Half-megabyte request buffers (a 64-row MNIST batch, its sealed form) come from the heap instead of
        // an mmap of their own per request, which cost +50 points of OHTTP overhead over loopback
        // (docs/confidential-inference.md). Freed buffers then go back to the heap, where the scrubbing allocator
        // (ZeroDataRetention) fills them like every other freed block: ZeroDataRetentionTests checks it with
        // bodies of 630 KB.
        TrainingAllocator.configure()
        var configuration = InferenceServer.Configuration()
        configuration.host = host
        configuration.port = port
        configuration.tlsCertificate = tlsCertificate
        configuration.tlsKey = tlsKey
        configuration.maximumBodyBytes = maximumBodyBytes
        configuration.maximumQueue = maximumQueue
        if let tokenFile {
            guard let text = FileManager.default.contents(atPath: tokenFile).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw VeilError(.invalidInput, "cannot read the token file \(tokenFile)")
            }
            configuration.bearerToken = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try configuration.validate()
        // Before any request exists: freed memory is overwritten from here on (the process restarts once
        // with the allocator setting), and no core dump can hold a request.
        ZeroDataRetention.restartWithScrubbingAllocatorIfNeeded()
        if !allowCoreDumps { try ZeroDataRetention.disableCoreDumps() }

        let catalogue = store.store
        let selected = names.isEmpty ? catalogue.names() : names
        guard !selected.isEmpty else {
            throw VeilError(.invalidInput, "no models to serve in \(catalogue.folder) (add one with `veil models add`)")
        }
        let models = try selected.map { try catalogue.load($0) }
        let service = InferenceService(models: models)
        let routes = try confidential.routes(service: service, modelFiles: try selected.map { try catalogue.path(of: $0) })
        let server = InferenceServer(service: service, configuration: configuration, additionalRoutes: routes) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        let scheme = tlsCertificate == nil ? "http" : "https"
        let retention = ZeroDataRetention.allocatorScrubsFreedMemory ? "freed memory overwritten" : "freed memory NOT overwritten"
        let dumps = allowCoreDumps ? "core dumps allowed" : "core dumps off"
        let host = self.host
        let done = DispatchSemaphore(value: 0)
        let outcome = ServeOutcome()
        Task.detached {
            do {
                try await server.run { port in
                    FileHandle.standardOutput.write(Data(("veil serve: \(models.count) model(s) on \(scheme)://\(host):\(port) "
                                                          + (routes.isEmpty ? "" : "with the Oblivious HTTP gateway ")
                                                          + "(zero data retention: \(retention), \(dumps))\n").utf8))
                }
            } catch {
                outcome.set(error)
            }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }
}

/// The error a server task ended with, handed to the waiting main thread.
private final class ServeOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    func set(_ error: any Error) { lock.withLock { stored = error } }
    var error: (any Error)? { lock.withLock { stored } }
}
