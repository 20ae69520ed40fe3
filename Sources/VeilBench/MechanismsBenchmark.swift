import Mechanisms

enum MechanismsBenchmark {
    static func run() throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "mechanisms")
        return report
    }
}
