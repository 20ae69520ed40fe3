import ArgumentParser

/// `veil-bench AREA`: runs one area's benchmarks and prints one JSON object of named figures
/// with their units (progress lines go to stderr). `make bench` runs every area.
@main
struct VeilBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "veil-bench",
        abstract: "Benchmarks of Veil; each area prints one JSON object of figures with units.",
        subcommands: [MechanismsBench.self, AccountingBench.self, TrainingBench.self, TrainingMemoryProbe.self]
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

struct TrainingBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training",
        abstract: "DP-SGD and non-private training throughput (logistic, MLP, CNN) and DP-SGD peak memory.")
    @Option(help: "Passes over the 10,000 synthetic examples per measurement.")
    var epochs = 1
    func run() throws { print(try TrainingBenchmark.run(epochs: epochs).json()) }
}

struct TrainingMemoryProbe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training-memory", abstract: "One CNN DP-SGD epoch; prints this process's peak RSS in MiB.",
        shouldDisplay: false)
    @Option(help: "Expected batch size.")
    var expectedBatch = 256
    func run() throws { print(try TrainingBenchmark.peakMemory(expectedBatch: expectedBatch)) }
}
