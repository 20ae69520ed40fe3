import ArgumentParser
import BudgetLedger
import FederatedLearning
import Foundation
import Mechanisms
import PrivateTraining

struct FederatedServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the aggregator of a federated pipeline over HTTP for the clients of a roster.",
        discussion: HelpText.reflow("""
        The server listens on loopback (127.0.0.1; port 0 picks a free one, printed first); any other --host \
        needs --tls-cert and --tls-key (HTTPS), and clients then pass --ca when the certificate is not from a \
        system-trusted authority. Each round it \
        samples roster clients with probability q, hands them the model (a safetensors body) and waits until \
        they have sent their updates or --round-deadline passes; late and missing clients count as dropped and \
        the round goes on. Refused with a reason, the round going on: unknown clients or wrong tokens (401), \
        oversized (413), malformed, wrong-shape or non-finite updates (422), replays and duplicates (409).

        With aggregation: secagg or ddg the clients clip and encode their updates and run SecAgg+ with the \
        server (advertise keys, encrypted shares routed through the server, masked inputs, unmasking with \
        dropout recovery); the server learns only the sum. --round-deadline then bounds each step of the \
        protocol. A round that falls below the protocol's minimum of clients aborts, releases nothing, and \
        stops the run (the reservation is kept, as with `veil federated simulate`).

        The roster holds `CLIENT-ID SHA256-OF-TOKEN` lines (`veil federated token` adds one). The server needs \
        no data: the model's inputs are the pipeline's data.feature_columns. The whole run is reserved in \
        privacy.ledger_scope before round 1, as with `veil federated simulate`.

        Examples:
          veil federated token alice --roster /tmp/roster.txt
          veil federated token bob --roster /tmp/roster.txt
        """)
    )

    @Argument(help: "The federated pipeline file (YAML; tabular data with feature_columns).")
    var pipeline: String

    @Option(help: "The roster file (CLIENT-ID SHA256-HEX per line).")
    var roster: String

    @Option(help: "The address to bind: loopback, or any other with --tls-cert and --tls-key.")
    var host = "127.0.0.1"

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("PEM certificate chain for TLS.", valueName: "file"))
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key for TLS.", valueName: "file"))
    var tlsKey: String?

    @Option(help: "The port (0: any free port).")
    var port = 0

    @Option(parsing: .unconditional, help: "Seconds a round waits for its sampled clients.", transform: DecimalArgument.parse)
    var roundDeadline: Double = 30

    @Option(help: "The largest update body accepted, in bytes (larger ones are refused with 413).")
    var maxUpdateBytes = 64 << 20

    @Option(help: "Override federated.rounds.")
    var rounds: Int?

    @Option(help: "Override the output path.")
    var output: String?

    @Flag(help: "Print the final summary as one JSON object.")
    var json = false

    @Option(help: "Who trains, recorded with the ledger charge ($USER when set, else analyst).")
    var analyst: String = DefaultAnalyst.name

    @OptionGroup var ledger: LedgerOptions

    func run() throws {
        var pipeline = try FederatedPipeline.load(path: self.pipeline)
        let roster = try ClientRoster.load(path: self.roster)
        if let rounds {
            try TrainingLimits.check(rounds, in: FederatedSettings.roundLimit, name: "--rounds")
            pipeline.federated.rounds = rounds
        }
        if let output { pipeline.base.output = output }
        guard roundDeadline > 0, roundDeadline <= 86_400 else {
            throw VeilError(.invalidInput, "--round-deadline must be in (0, 86400] seconds")
        }
        guard (0...65_535).contains(port) else { throw VeilError(.invalidInput, "--port must be 0 to 65535") }
        var configuration = FederatedServer.Configuration()
        configuration.host = host
        configuration.port = port
        guard maxUpdateBytes >= 1 else { throw VeilError(.invalidInput, "--max-update-bytes must be at least 1") }
        configuration.maximumBodyBytes = maxUpdateBytes
        configuration.tlsCertificate = tlsCertificate
        configuration.tlsKey = tlsKey
        try configuration.validate()
        for file in [tlsCertificate, tlsKey].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: file) {
            throw VeilError(.invalidInput, "TLS file not found: \(file)")
        }
        let run = try FederatedServerRun.prepare(
            pipeline: pipeline, roster: roster, source: self.pipeline, analyst: analyst,
            charger: { scope in LedgerBudgetCharger(ledger: try ledger.open(), scope: scope) })
        for warning in run.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let deadline = Duration.milliseconds(Int64(roundDeadline * 1000))
        let json = self.json, host = self.host, scheme = tlsCertificate == nil ? "http" : "https"
        let done = DispatchSemaphore(value: 0)
        let outcome = ServerOutcome()
        Task.detached {
            do {
                let release = try await run.execute(configuration: configuration, roundDeadline: deadline, onListening: { port in
                    print("veil federated serve: listening on \(scheme)://\(host):\(port)")
                    fflush(nil)
                }, progress: { p in
                    let line = FederatedProgressLine.text(p) + "\n"
                    if json { FileHandle.standardError.write(Data(line.utf8)) } else { print(line, terminator: ""); fflush(nil) }
                })
                outcome.set(release)
            } catch {
                outcome.set(error)
            }
            done.signal()
        }
        done.wait()
        let release = try outcome.result()
        if json {
            print(JSONValue.object([
                ("model", .string(release.modelPath)), ("rounds", .number(Double(release.rounds))),
                ("epsilon", release.epsilon.map { .number($0) } ?? .null),
                ("refused_updates", .number(Double(release.refusals.values.reduce(0, +)))),
                ("ledger_entry", release.card.ledgerEntry.map { .string($0) } ?? .null),
            ]).rendered)
        } else {
            print("wrote \(release.modelPath)")
            print(release.epsilon.map { String(format: "privacy: client-level ε = %.4f over %d rounds", $0, release.rounds) }
                  ?? "privacy: none — FedAvg without differential privacy")
            for (reason, count) in release.refusals.sorted(by: { $0.key < $1.key }) { print("refused \(count)×: \(reason)") }
        }
    }
}

/// The release or the error of the server task, handed to the waiting main thread.
private final class ServerOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var release: FederatedServerRun.Release?
    private var error: (any Error)?
    func set(_ release: FederatedServerRun.Release) { lock.withLock { self.release = release } }
    func set(_ error: any Error) { lock.withLock { self.error = error } }
    func result() throws -> FederatedServerRun.Release {
        try lock.withLock {
            if let error { throw error }
            return release!
        }
    }
}
