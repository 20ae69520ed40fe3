import Accounting

enum AccountingBenchmark {
    static func run() throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "accounting")
        return report
    }
}
