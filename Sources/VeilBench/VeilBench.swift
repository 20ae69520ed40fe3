import ArgumentParser

/// `veil-bench AREA`: runs one area's benchmarks and prints one JSON object of named figures
/// with their units (progress lines go to stderr). `make bench` runs every area.
@main
struct VeilBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "veil-bench",
        abstract: "Benchmarks of Veil; each area prints one JSON object of figures with units.",
        subcommands: [MechanismsBench.self, AccountingBench.self, LedgerBench.self]
    )
}

struct MechanismsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mechanisms", abstract: "Sampler and mechanism throughput.")
    func run() throws { print(try MechanismsBenchmark.run().json()) }
}

struct AccountingBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounting", abstract: "RDP and PLD accountant timings.")
    func run() throws { print(try AccountingBenchmark.run().json()) }
}

struct LedgerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Budget-ledger charge throughput and hash-chain verification time.")
    func run() throws { print(try LedgerBenchmark.run().json()) }
}
