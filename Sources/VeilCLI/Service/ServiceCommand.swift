import ArgumentParser
import Foundation
import Mechanisms
import QueryService

/// `veil service`: the private query service (`start`, the default) and its token helper (`token`).
struct ServiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "Serve private SQL to analysts over HTTP: the data owner's configuration decides, the ledger remembers.",
        discussion: HelpText.reflow("""
        The configuration (YAML, see docs/service.md) names the datasets (database, privacy metadata, ledger, budget), \
        the accounts (role analyst, auditor or owner; the SHA-256 of each bearer token) and each analyst's limit inside \
        each dataset's budget. Analysts only send queries; they cannot choose a ledger, a scope or bounds.

        `veil service token --secret-file ana.token` writes a fresh secret for an account and prints the digest to \
        put under `token_sha256:`; `veil service --config service.yaml` runs the service (127.0.0.1:8470 by default).

        Examples:
          veil service token --secret-file ana.token
          veil service --config service.yaml
          veil query --service http://127.0.0.1:8470 --token-file ana.token --dataset health_panel \\
            "SELECT year, COUNT(*) AS n FROM visits GROUP BY year"
        """),
        subcommands: [ServiceStartCommand.self, ServiceTokenCommand.self],
        defaultSubcommand: ServiceStartCommand.self)
}

/// `veil service start --config F`: runs the service until SIGTERM or SIGINT.
struct ServiceStartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start",
        abstract: "Run the query service (the default subcommand of `veil service`).",
        discussion: HelpText.reflow("""
        Listens on 127.0.0.1 by default; any other --host needs --tls-cert and --tls-key. Port 0 picks a free port; \
        the first line on standard output names the address. One line per request on standard error: time, account, \
        method, path, status and latency (never a query or a result). SIGTERM or SIGINT stop accepting connections; \
        queries in flight finish and are committed.
        """))

    @Option(help: ArgumentHelp("The service configuration (YAML).", valueName: "file")) var config: String
    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0: a free port).") var port = 8470
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("PEM certificate chain for TLS.", valueName: "file"))
    var tlsCertificate: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key for TLS.", valueName: "file"))
    var tlsKey: String?

    func run() throws {
        var listener = QueryServiceServer.Listener()
        listener.host = host
        listener.port = port
        listener.tlsCertificate = tlsCertificate
        listener.tlsKey = tlsKey
        try listener.validate()
        let configuration = try ServiceConfiguration.load(contentsOf: URL(fileURLWithPath: config))
        let service = try QueryService(configuration: configuration) { line in
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        let server = QueryServiceServer(service: service, listener: listener)
        let scheme = tlsCertificate == nil ? "http" : "https"
        let host = self.host
        let names = configuration.datasets.map(\.name).joined(separator: ", ")
        let done = DispatchSemaphore(value: 0)
        let outcome = ServiceOutcome()
        Task.detached {
            do {
                try await server.run { port in
                    FileHandle.standardOutput.write(Data(("veil service: \(names) on \(scheme)://\(host):\(port) "
                                                          + "(\(configuration.accounts.count) account(s))\n").utf8))
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

/// `veil service token`: prints a fresh secret and its SHA-256 for the configuration.
struct ServiceTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Print a fresh bearer token (256 random bits) and the SHA-256 digest to put in the configuration.",
        discussion: HelpText.reflow("""
        Give the secret to the account's holder (e.g. in a file for `veil query --token-file`) and put only the digest \
        under `token_sha256:` in the configuration. With --secret-file the secret is written there (mode 0600) instead \
        of standard output.
        """))

    @Option(name: .customLong("secret-file"), help: ArgumentHelp("Write the secret to this new file (mode 0600).", valueName: "file"))
    var secretFile: String?

    func run() throws {
        let secret = AccessToken.newSecret()
        if let secretFile {
            guard !FileManager.default.fileExists(atPath: secretFile) else {
                throw VeilError(.invalidInput, "\(secretFile) exists; choose a new file for the secret")
            }
            guard FileManager.default.createFile(atPath: secretFile, contents: Data((secret + "\n").utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw VeilError(.invalidInput, "cannot write \(secretFile)")
            }
        } else {
            print("secret: \(secret)")
        }
        print("token_sha256: \(AccessToken.digest(of: secret))")
    }
}

/// The error a server task ended with, handed to the waiting main thread.
private final class ServiceOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: (any Error)?
    func set(_ error: any Error) { lock.withLock { stored = error } }
    var error: (any Error)? { lock.withLock { stored } }
}
