import ArgumentParser
import Foundation
import LocalInference
import Mechanisms
import PostgresClient
import PrivateSQL

/// `veil-bench AREA`: runs one area's benchmarks and prints one JSON object of named figures
/// with their units (progress lines go to stderr). `make bench` runs every area.
@main
struct VeilBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "veil-bench",
        abstract: "Benchmarks of Veil; each area prints one JSON object of figures with units.",
        version: VeilVersion.string,
        subcommands: [MechanismsBench.self, TimingBench.self, AccountingBench.self, LedgerBench.self, SQLBench.self,
                      TrainingBench.self, TrainingMemoryProbe.self, EnclaveBench.self,
                      InferenceBench.self, ConfidentialBench.self, ServiceBench.self, FederatedBench.self, SecureAggregationBench.self]
    )
}

struct FederatedBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "federated",
        abstract: "The server's DP-FedAvg and DP-FTRL round against a plain sum of the same updates (100,000 parameters).")
    @Option(help: "Comma-separated client counts.")
    var clients: String = "100,1000"
    @Option(help: "Runs per measurement; the best time is reported.")
    var repeats = 3
    func run() throws {
        let counts = clients.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 }), repeats > 0 else {
            throw ValidationError("--clients takes positive integers separated by commas; --repeats a positive integer")
        }
        print(try FederatedBenchmark.run(clientCounts: counts, repeats: repeats).json())
    }
}

struct MechanismsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mechanisms", abstract: "Sampler and mechanism throughput.")
    func run() throws { print(try MechanismsBenchmark.run().json()) }
}

struct TimingBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timing",
        abstract: "Each exact sampler's and mechanism's time per sample against the magnitude of its noise.",
        discussion: """
        Times every sample on its own and reports Spearman's rank correlation of time and |noise|, the slope in \
        nanoseconds per unit of scale, and the mean time per bucket of |noise| (in units of b or σ). A correlation \
        near 0 means the time says little about the noise; see docs/mechanisms.md, "Timing". Run it on a release \
        build: `swift build -c release --product veil-bench && .build/release/veil-bench timing`.
        """)
    @Option(help: "Samples timed per sampler or mechanism.")
    var samples = 1_000_000
    func run() throws {
        guard samples >= 1_000 else { throw ValidationError("--samples must be at least 1000, got \(samples)") }
        print(try TimingBenchmark.run(samples: samples).json())
    }
}

struct AccountingBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounting", abstract: "RDP and PLD accountant timings.")
    func run() throws { print(try AccountingBenchmark.run().json()) }
}

struct LedgerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger",
        abstract: "Budget-ledger charge throughput, rdp/zcdp charge time against history length, hash-chain verification time.")

    @Flag(help: "Run only the rdp/zcdp charge-time scaling figures.")
    var scalingOnly = false

    @Option(help: "The later charge whose time is compared with the 100th charge's.")
    var charges: Int = 100_000

    @Option(help: "sqlite: every ledger figure on SQLite; postgres: charges/s on PostgreSQL beside SQLite.")
    var backend: String = "sqlite"

    @Option(help: "The PostgreSQL server for --backend postgres (default: $VEIL_BENCH_POSTGRES_URL).")
    var postgres: String?

    func run() throws {
        guard charges > 200 else { throw ValidationError("--charges must be more than 200") }
        switch backend {
        case "sqlite":
            print(try LedgerBenchmark.run(scalingOnly: scalingOnly, scalingCharges: charges).json())
        case "postgres":
            guard let url = postgres ?? ProcessInfo.processInfo.environment["VEIL_BENCH_POSTGRES_URL"] else {
                throw ValidationError("--backend postgres needs --postgres URL (e.g. from scripts/pg-server.sh start DIR)")
            }
            print(try LedgerBackendBenchmark.run(server: try PostgresURL(url)).json())
        default:
            throw ValidationError("--backend must be sqlite or postgres, got \(backend)")
        }
    }
}

struct SQLBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sql",
        abstract: "Private SQL vs plain SQLite on synthetic panels: time, ratio and relative error at ε = 1.",
        discussion: """
        Tables are generated into .build/bench-data/ when absent (a few seconds per million rows in a release \
        build). The default runs 1,000,000 rows; pass --rows 1000000,10000000 for 10 million as well. With the \
        veil executable beside this one (swift build --product veil) and sqlite3 on the PATH, counts, sums and \
        means are also timed as whole processes, veil query against the sqlite3 shell, with each one's peak \
        memory (anonymous resident memory, sampled from /proc, without the pages of the mapped database).
        """)

    @Option(help: "Comma-separated table sizes in rows.")
    var rows: String = "1000000"

    @Option(help: "Runs per query; the best time is reported.")
    var repeats: Int = 3

    @Option(help: """
        unit, random or both (default): time tables stored person by person, in random row order (as rows that \
        arrive by time), or both. The two tables hold the same rows.
        """)
    var rowOrder: String = "both"

    @Flag(help: """
        Measure accuracy instead of time: the median relative error per group over --runs runs of each query, with \
        the metadata and costs SmartNoise SQL is compared at (scripts/bench_sql_accuracy.sh runs both).
        """)
    var accuracy = false

    @Option(help: "With --accuracy: runs per query.")
    var runs: Int = 20

    @Option(help: """
        sqlite (default) or postgres: private query time against the plain aggregate on the same PostgreSQL server \
        (--postgres URL, else a throw-away server from scripts/pg-server.sh), with max_parallel_workers_per_gather \
        0 and 2.
        """)
    var backend: String = "sqlite"

    @Option(help: "With --backend postgres: the server URL, its password (if any) in $PGPASSWORD; the tables are generated into databases veil_bench_<rows> on it and kept for later runs.")
    var postgres: String?

    @Flag(help: "With --backend postgres: also the same queries on the same rows through a throw-away two-shard cluster (scripts/pg-cluster.sh).")
    var cluster = false

    func run() throws {
        let sizes = rows.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 > 0 }), repeats > 0, runs > 0 else {
            throw ValidationError("--rows takes positive integers separated by commas; --repeats and --runs positive integers")
        }
        if backend == "postgres" {
            print(try SQLPostgresBenchmark.run(sizes: sizes, repeats: repeats, server: postgres, cluster: cluster).json())
            return
        }
        guard backend == "sqlite" else { throw ValidationError("--backend takes sqlite or postgres") }
        if accuracy {
            guard sizes.count == 1 else { throw ValidationError("--accuracy takes one table size in --rows") }
            print(try SQLAccuracyBenchmark.run(rows: sizes[0], runs: runs).json())
        } else {
            let orders: [SyntheticPanel.RowOrder]
            switch rowOrder {
            case "both": orders = [.unit, .random]
            case let name:
                guard let order = SyntheticPanel.RowOrder(rawValue: name) else {
                    throw ValidationError("--row-order takes unit, random or both, got \(name)")
                }
                orders = [order]
            }
            print(try SQLBenchmark.run(sizes: sizes, repeats: repeats, orders: orders).json())
        }
    }
}

struct TrainingBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training",
        abstract: "DP-SGD and non-private training throughput (logistic, MLP, CNN), scattering feature extraction "
            + "(images/s) and DP-SGD peak memory.")
    @Option(help: "Passes over the synthetic examples per measurement.")
    var epochs = 1
    @Option(help: "Synthetic examples (fewer for a profile under valgrind).")
    var examples = TrainingBenchmark.examples
    @Option(help: "Models to measure, comma-separated: logistic, mlp, cnn, scattering (feature extraction only).")
    var models = "logistic,mlp,cnn,scattering"
    @Flag(help: "Measure throughput only, not the peak memory of CNN DP-SGD.")
    var skipMemory = false
    func run() throws {
        guard examples >= TrainingBenchmark.expectedBatch else { throw ValidationError("--examples must be at least 256") }
        let names = try modelNames(models, known: TrainingBenchmark.models.map(\.0) + ["scattering"])
        print(try TrainingBenchmark.run(epochs: epochs, examples: examples, models: names, memory: !skipMemory).json())
    }
}

struct TrainingMemoryProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training-memory", abstract: "One CNN DP-SGD epoch; prints this process's peak RSS in MiB.",
        shouldDisplay: false)
    @Option(help: "Expected batch size.")
    var expectedBatch = 256
    func run() throws { print(try TrainingBenchmark.peakMemory(expectedBatch: expectedBatch)) }
}

struct EnclaveBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enclave",
        abstract: "TDX quote and SNP report verifications per second beside openssl's ECDSA verify rates; measure vs sha384sum.")
    @Option(help: "The folder of reference evidence (tdx/, snp/).")
    var reference: String = "datasets/attestation"
    @Option(help: "Verifications per timed run.")
    var iterations = 200
    func run() throws {
        guard iterations > 0 else { throw ValidationError("--iterations must be positive") }
        print(try EnclaveBenchmark.run(reference: URL(fileURLWithPath: reference), iterations: iterations).json())
    }
}

struct InferenceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inference",
        abstract: "Forward-pass predictions/s (logistic, MLP, CNN) at batch 1, 64 and 1,024.",
        discussion: """
        With --export DIR, the models are also written to DIR for scripts/reference_bench_inference.py \
        (PyTorch on the same models) and scripts/bench_inference_server.sh (the server under wrk).
        """)
    @Option(help: "Folder to write the benchmark's model files to.")
    var export: String?
    @Option(help: "Models to measure, comma-separated: logistic, mlp, cnn (all are exported).")
    var models = "logistic,mlp,cnn"
    func run() throws {
        print(try InferenceBenchmark.run(export: export, models: modelNames(models, known: TrainingBenchmark.models.map(\.0))).json())
    }
}

struct ConfidentialBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confidential",
        abstract: "Oblivious HTTP latency p50/p99 and requests/s against the plain handler (batch 1, 64); transparency log append and proof rates.")
    @Option(help: "Timed requests per configuration.")
    var requests = 500
    @Option(name: .customLong("log-size"), help: "Log sizes to time (repeat; default 100000, and 1000000 in a release build).")
    var logSizes: [Int] = []
    func run() throws {
        guard requests > 0, logSizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--requests and --log-size must be positive") }
        #if DEBUG
        let sizes = logSizes.isEmpty ? [100_000] : logSizes
        #else
        let sizes = logSizes.isEmpty ? [100_000, 1_000_000] : logSizes
        #endif
        print(try ConfidentialBenchmark.run(requests: requests, logSizes: sizes).json())
    }
}

struct ServiceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "The query service: queries/s and p50/p99 latency with 1 and 16 concurrent analysts, beside the CLI.",
        discussion: "Run from the repository root (it queries datasets/health_panel.sqlite); every charge is durable.")
    @Option(help: "Queries per analyst in each measurement.")
    var queries = 100
    @Option(help: "Queries through the CLI (one process each).")
    var cliQueries = 20
    func run() throws {
        guard queries > 0, cliQueries > 0 else { throw ValidationError("--queries and --cli-queries must be positive") }
        print(try ServiceBenchmark.run(queriesPerAnalyst: queries, cliQueries: cliQueries).json())
    }
}

struct SecureAggregationBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secagg",
        abstract: "One SecAgg+ round (client and server time, bytes sent) against a plain sum; DDG encode/decode.")
    @Option(help: "Comma-separated client counts.")
    var clients: String = "100,1000"
    @Option(help: "Parameters per update.")
    var parameters = 100_000
    @Option(help: "Comma-separated dropout rates.")
    var dropouts: String = "0,0.1"
    @Option(help: "Bits per element of the modular sum.")
    var bitWidth = 32
    func run() throws {
        let counts = clients.split(separator: ",").compactMap { Int($0) }
        let rates = dropouts.split(separator: ",").compactMap { Double($0) }
        guard !counts.isEmpty, counts.allSatisfy({ $0 >= 3 }), parameters > 0,
              !rates.isEmpty, rates.allSatisfy({ $0 >= 0 && $0 < 0.5 }) else {
            throw ValidationError("--clients takes integers ≥ 3, --dropouts rates in [0, 0.5), --parameters a positive integer")
        }
        print(try SecureAggregationBenchmark.run(clientCounts: counts, parameters: parameters, dropoutRates: rates,
                                                 bitWidth: bitWidth).json())
    }
}

/// The names of a comma-separated `--models` list, each one of `known` (an empty name is refused too).
func modelNames(_ list: String, known: [String]) throws -> [String] {
    let names = list.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    if let unknown = names.first(where: { !known.contains($0) }) {
        throw ValidationError("--models: unknown model \(PredictionWriter.quoted(unknown)); choose from \(known.joined(separator: ", "))")
    }
    return names
}
