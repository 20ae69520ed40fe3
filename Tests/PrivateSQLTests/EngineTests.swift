import _TestSupport
import Accounting
import BudgetLedger
import Foundation
import Mechanisms
import Testing
@testable import PrivateSQL

/// The query engine: noise calibration, confidence-interval coverage, and the ledger protocol.
@Suite("Private query engine: noise, intervals, ledger")
struct EngineTests {
    func plan(_ query: String, epsilon: Double = 1, delta: Double = 0, noise: QueryNoise? = nil) throws -> QueryPlan {
        try QueryPlanner(metadata: try healthMetadata()).plan(query, budget: try PrivacyParameters(epsilon: epsilon, delta: delta),
                                                              sampling: .keyedHash(.insecureFixed(1, 2)), noise: noise)
    }

    /// Five public-key groups with the given true value for every quantity coordinate.
    func groups(_ plan: QueryPlan, value: (Int) -> Int64) -> [TrueGroup] {
        (1984...1988).map { year in
            TrueGroup(key: [.integer(Int64(year))],
                      values: plan.quantities.map { q in (0..<q.dimension).map { _ in value(q.index) } })
        }
    }

    // MARK: Calibration

    /// Empirical variance of 40,000 draws of each quantity's noise against ``NoisyQuantity/noiseVariance``.
    /// Tolerance 6 % relative: the standard error of a sample variance is σ²·√((κ − 1)/n), 1.1 % for the discrete
    /// Laplace (kurtosis κ ≤ 6) and 0.7 % for the discrete Gaussian (κ ≈ 3) at n = 40,000, so a correct sampler
    /// fails with probability below 10⁻⁶ per check (normal approximation, > 5 standard errors); the seed is fixed.
    @Test("empirical noise variance matches the stated one", arguments: [
        ("SELECT year, COUNT(*), SUM(doctor_visits) FROM visits GROUP BY year", 0.0),
        ("SELECT year, COUNT(*), AVG(income) FROM visits GROUP BY year", 1e-6),
    ])
    func calibration(query: String, delta: Double) throws {
        let p = try plan(query, epsilon: 1, delta: delta)
        if delta > 0 {
            #expect(p.noise == .gaussian)
            #expect(p.quantities.allSatisfy { if case .discreteGaussian = $0.noise { true } else { false } })
        } else {
            #expect(p.quantities.allSatisfy { if case .discreteLaplace = $0.noise { true } else { false } })
        }
        let drawing = try QueryNoiseDrawing(plan: p)
        var source = InsecureSeededRandomSource(seed: 20_240_611)
        let truth = groups(p) { _ in 0 }
        var sums = [Double](repeating: 0, count: p.quantities.count)
        var squares = [Double](repeating: 0, count: p.quantities.count)
        let releases = 8_000   // × 5 groups = 40,000 draws per quantity
        for _ in 0..<releases {
            for group in drawing.noise(truth, using: &source) {
                for (i, values) in group.values.enumerated() {
                    let v = Double(values[0])
                    sums[i] += v
                    squares[i] += v * v
                }
            }
        }
        let n = Double(releases * truth.count)
        for q in p.quantities {
            let mean = sums[q.index] / n
            let variance = squares[q.index] / n - mean * mean
            #expect(abs(variance / q.noiseVariance - 1) < 0.06,
                    "q\(q.index): empirical variance \(variance), stated \(q.noiseVariance)")
        }
    }

    @Test("Gaussian calibration: ρ converts to at most (ε, δ) and the quantities share it")
    func gaussianBudget() throws {
        let p = try plan("SELECT region, COUNT(*), SUM(doctor_visits) FROM visits GROUP BY region", epsilon: 1, delta: 1e-5)
        #expect(p.noise == .gaussian)
        #expect(p.noiseDelta == 5e-6)
        guard case .thresholding(_, let threshold, let selectionDelta) = p.selection else {
            Issue.record("thresholding expected")
            return
        }
        #expect(selectionDelta == 5e-6)
        #expect(threshold > 1)
        let rho = try #require(p.rho)
        #expect(try ZCDP.epsilon(rho: rho, delta: p.noiseDelta) <= 1)
        #expect(try ZCDP.epsilon(rho: rho * 1.001, delta: p.noiseDelta) > 1)
        // The quantities' events, composed in zCDP, spend at most ρ.
        let events = p.quantities.map(\.event)
        #expect(try ZCDP.rho(for: .composed(events)) <= rho * (1 + 1e-12))
        // A group with true unit count 1 passes the threshold with probability at most δ/k.
        guard case .discreteGaussian(let sigma, _) = p.quantities[p.quantities.count - 1].noise else {
            Issue.record("Gaussian unit count expected")
            return
        }
        let passProbability = NoiseQuantile.discreteGaussianTail(sigma: sigma, beyond: Int(threshold) - 2) / 2
        #expect(passProbability <= selectionDelta / 5)
    }

    // MARK: Confidence intervals

    /// 4,000 seeded releases of five groups: 20,000 intervals per aggregate. With a correct interval the number
    /// of misses is binomial with p ≤ 0.05 (standard deviation ≤ 0.0016 as a fraction), so requiring coverage
    /// ≥ 0.95 − 0.008 (5 standard deviations) fails with probability below 10⁻⁶ per aggregate.
    @Test("intervals cover the true value at the stated rate", arguments: [0.0, 1e-6])
    func coverage(delta: Double) throws {
        let p = try plan("SELECT year, COUNT(*), SUM(doctor_visits), AVG(income), SUM(income) FROM visits GROUP BY year",
                         epsilon: 1, delta: delta)
        // True quantities: 400 rows; visits sum 1,300; income: centred sum of 400 values around mid 7.5 with mean 9
        // (S = 400 · 1.5 in grid units), their sum 3,600.
        let truth = groups(p) { index in
            switch p.quantities[index].kind {
            case .rowCount, .nonNullCount: 400
            case .sum(let c) where c.name == "doctor_visits": 1_300
            case .sum: Int64((3_600 / p.quantities[index].granularity).rounded())
            case .centeredSum: Int64((600 / p.quantities[index].granularity).rounded())
            default: 0
            }
        }
        let exact = [400.0, 1_300, 9, 3_600]
        let widths = try IntervalWidths(plan: p, level: 0.95)
        let drawing = try QueryNoiseDrawing(plan: p)
        var source = InsecureSeededRandomSource(seed: 7)
        var covered = [Int](repeating: 0, count: exact.count)
        var total = 0
        for _ in 0..<4_000 {
            for group in drawing.noise(truth, using: &source) {
                let intervals = p.aggregateIntervals(group, widths: widths)
                for (a, interval) in intervals.enumerated() where try #require(interval).contains(exact[a]) {
                    covered[a] += 1
                }
                total += 1
            }
        }
        for (a, count) in covered.enumerated() {
            let rate = Double(count) / Double(total)
            #expect(rate >= 0.95 - 0.008, "\(p.aggregates[a].text): coverage \(rate)")
        }
        // Counts and sums are exact intervals: their coverage is close to the level, not far above.
        #expect(Double(covered[0]) / Double(total) < 0.95 + 0.03)
    }

    // MARK: Ledger protocol

    func fixture() throws -> (TemporaryDatabase, Ledger, URL) {
        let database = try TemporaryDatabase()
        var rows: [(Int, Int, Int?, Double?, Int, String)] = []
        for person in 1...60 {
            for year in 1984...1986 { rows.append((person, year, person % 7, Double(person % 15), person % 2, "north")) }
        }
        try makeVisits(database, rows)
        let ledgerURL = TemporaryDirectory.file("ledger", extension: "sqlite")
        let ledger = try Ledger(path: ledgerURL.path, mode: .createIfMissing, durability: .normal)
        return (database, ledger, ledgerURL)
    }

    @Test("the ledger charge equals the planned cost and the commit carries the result digest")
    func chargeEqualsPlan() throws {
        let (database, ledger, ledgerURL) = try fixture()
        defer { try? FileManager.default.removeItem(at: ledgerURL) }
        try ledger.createBudget(scope: "health_panel", epsilon: 3, delta: 1e-5, composition: .basic)
        let engine = PrivateQueryEngine(metadata: try healthMetadata(), databasePath: database.url.path, ledger: ledger)
        let p = try engine.plan("SELECT year, COUNT(*) AS n, AVG(income) AS income FROM visits GROUP BY year",
                                budget: try PrivacyParameters(epsilon: 0.7, delta: 1e-6))
        var source = InsecureSeededRandomSource(seed: 3)
        let release = try engine.execute(p, analyst: "ana", using: &source)
        #expect(release.result.rows.count == 5)   // every public year, empty ones included
        #expect(release.confidenceIntervals.count == 5)
        #expect(release.confidenceIntervals.allSatisfy { $0["n"] != nil && $0["income"] != nil && $0["year"] == nil })
        let charges = try ledger.charges(scope: "health_panel")
        #expect(charges.count == 1)
        #expect(charges[0].reservation.event == p.cost)
        #expect(charges[0].reservation.cost == (try PrivacyParameters.cost(epsilon: 0.7, delta: 1e-6)))
        #expect(charges[0].state == .committed)
        #expect(charges[0].resultDigest == release.resultDigest)
        #expect(release.resultDigest == PrivateQueryRelease.digest(release.canonicalJSON))
        let status = try ledger.status(scope: "health_panel")
        #expect(abs(status.epsilonSpent - 0.7) < 1e-9)
        #expect(abs(status.deltaSpent - 1e-6) < 1e-15)
    }

    @Test("a query with data-dependent keys charged to an rdp or zcdp budget spends at most its ε, and δ_sel is paid from δ",
          arguments: [CompositionRule.zcdp, .rdp])
    func partitionSelectionOnRenyiBudgets(rule: CompositionRule) throws {
        let (database, ledger, ledgerURL) = try fixture()
        defer { try? FileManager.default.removeItem(at: ledgerURL) }
        try ledger.createBudget(scope: "health_panel", epsilon: 1, delta: 1e-5, composition: rule)
        let engine = PrivateQueryEngine(metadata: try healthMetadata(), databasePath: database.url.path, ledger: ledger)
        let p = try engine.plan("SELECT region, COUNT(*) FROM visits GROUP BY region",
                                budget: try PrivacyParameters(epsilon: 0.5, delta: 1e-6))
        guard case .thresholding(_, _, let selectionDelta) = p.selection else {
            Issue.record("expected partition selection")
            return
        }
        var source = InsecureSeededRandomSource(seed: 5)
        _ = try engine.execute(p, analyst: "ana", using: &source)
        let status = try ledger.status(scope: "health_panel")
        // The quantities' Rényi or zCDP total converted at δ_budget − δ_sel: positive, and at most the query's ε
        // (the plan converts at δ_noise, which is smaller than δ_budget − δ_sel).
        #expect(status.epsilonSpent > 0)
        #expect(status.epsilonSpent <= 0.5 + 1e-9)
        let noise = DPEvent.composed(p.quantities.map(\.event))
        let expected = rule == .rdp
            ? try RDPAccountant().epsilon(for: noise, delta: 1e-5 - selectionDelta)
            : try ZCDP.epsilon(rho: try ZCDP.rho(for: noise), delta: 1e-5 - selectionDelta)
        #expect(abs(status.epsilonSpent - expected) < 1e-9)
    }

    @Test("an over-budget query is refused before the data is read and leaves the ledger unchanged")
    func overBudget() throws {
        let (database, ledger, ledgerURL) = try fixture()
        defer { try? FileManager.default.removeItem(at: ledgerURL) }
        try ledger.createBudget(scope: "health_panel", epsilon: 0.5, delta: 0, composition: .basic)
        let engine = PrivateQueryEngine(metadata: try healthMetadata(), databasePath: database.url.path,
                                        ledger: ledger)
        let before = try ledger.entries()
        let p = try engine.plan("SELECT COUNT(*) FROM visits", budget: try PrivacyParameters(epsilon: 1))
        let error = #expect(throws: VeilError.self) { try engine.execute(p, analyst: "ana") }
        #expect(error?.code == .budgetExhausted)
        #expect(error?.message.contains("ε 0.5, δ 0 remaining in health_panel") == true, "\(error?.message ?? "")")
        #expect(try ledger.entries() == before)
    }

    enum UnusableDatabase: String, CaseIterable { case missing, notSQLite, withoutTable }

    @Test("a missing database, a file that is not SQLite or a missing table costs nothing: no ledger entry at all",
          arguments: UnusableDatabase.allCases)
    func unusableDatabaseBeforeReserving(_ kind: UnusableDatabase) throws {
        let (_, ledger, ledgerURL) = try fixture()
        defer { try? FileManager.default.removeItem(at: ledgerURL) }
        try ledger.createBudget(scope: "health_panel", epsilon: 1, delta: 0, composition: .basic)
        let other = try TemporaryDatabase()
        switch kind {
        case .missing: try FileManager.default.removeItem(at: other.url)
        case .notSQLite: try Data("person_id,year\n1,1984\n".utf8).write(to: other.url)
        case .withoutTable: try other.queue.write { try $0.execute(sql: "CREATE TABLE people (person_id INTEGER)") }
        }
        let engine = PrivateQueryEngine(metadata: try healthMetadata(), databasePath: other.url.path, ledger: ledger)
        let p = try engine.plan("SELECT COUNT(*) FROM visits", budget: try PrivacyParameters(epsilon: 1))
        let before = try ledger.entries()
        let error = #expect(throws: VeilError.self) { try engine.execute(p, analyst: "ana") }
        #expect(error?.code == .invalidInput)
        #expect(try ledger.entries() == before)
        #expect(try ledger.charges(scope: "health_panel").isEmpty)
    }

    @Test("a query stopped by its time limit after reading rows keeps its charge: committed with the failure's digest")
    func timeoutKeepsCharge() throws {
        let (_, ledger, ledgerURL) = try fixture()
        defer { try? FileManager.default.removeItem(at: ledgerURL) }
        try ledger.createBudget(scope: "health_panel", epsilon: 1, delta: 0, composition: .basic)
        let endless = try endlessVisitsDatabase()
        let engine = PrivateQueryEngine(metadata: try healthMetadata(), databasePath: endless.url.path, ledger: ledger,
                                        timeLimit: .milliseconds(300))
        let p = try engine.plan("SELECT COUNT(*) FROM visits", budget: try PrivacyParameters(epsilon: 0.25))
        let started = ContinuousClock.now
        let error = #expect(throws: VeilError.self) { try engine.execute(p, analyst: "ana") }
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(error?.code == .queryTimeout)
        #expect(error?.message.contains("was spent") == true, "\(error?.message ?? "")")
        let charges = try ledger.charges(scope: "health_panel")
        #expect(charges.map(\.state) == [.committed])
        #expect(charges.first?.resultDigest == PrivateQueryRelease.digest(Data(#"{"failure":"query_timeout"}"#.utf8)))
        #expect(abs(try ledger.status(scope: "health_panel").epsilonSpent - 0.25) < 1e-12)
    }

    @Test("a scope without a budget names the command that creates it")
    func missingBudget() throws {
        let (database, ledger, ledgerURL) = try fixture()
        defer { try? FileManager.default.removeItem(at: ledgerURL) }
        let engine = PrivateQueryEngine(metadata: try healthMetadata(), databasePath: database.url.path, ledger: ledger)
        let p = try engine.plan("SELECT COUNT(*) FROM visits", budget: try PrivacyParameters(epsilon: 1))
        let error = #expect(throws: VeilError.self) { try engine.execute(p, analyst: "ana") }
        #expect(error?.code == .unknownScope)
        #expect(error?.message.contains("veil budget create health_panel") == true)
    }

    @Test("partition selection releases only groups above the threshold; the JSON has the documented shape")
    func thresholdingAndJSON() throws {
        let (database, ledger, ledgerURL) = try fixture()
        defer { try? FileManager.default.removeItem(at: ledgerURL) }
        try ledger.createBudget(scope: "health_panel", epsilon: 10, delta: 1e-3, composition: .basic)
        let engine = PrivateQueryEngine(metadata: try healthMetadata(), databasePath: database.url.path, ledger: ledger)
        let p = try engine.plan("SELECT region, COUNT(*) AS n FROM visits GROUP BY region",
                                budget: try PrivacyParameters(epsilon: 5, delta: 1e-4))
        var source = InsecureSeededRandomSource(seed: 11)
        let release = try engine.execute(p, analyst: "ana", using: &source)
        #expect(release.suppression != nil)
        let object = try #require(try JSONSerialization.jsonObject(with: release.json) as? [String: Any])
        #expect(object["columns"] as? [String] == ["region", "n"])
        let rows = try #require(object["rows"] as? [[String: Any]])
        let intervals = try #require(object["confidence_intervals"] as? [[String: [Double]]])
        #expect(rows.count == intervals.count)
        #expect(rows.count == 1)   // 60 units in "north" pass; nothing else exists
        #expect(intervals.first?["n"]?.count == 2)
        let cost = try #require(object["cost"] as? [String: Double])
        #expect(cost == ["epsilon": 5, "delta": 1e-4])
        #expect((object["suppressed_groups"] as? [String: Any])?["threshold"] != nil)
    }

    @Test("the synthetic panel matches its metadata and answers every demo query")
    func syntheticPanel() throws {
        let path = TemporaryDirectory.file("synthetic", extension: "sqlite").path
        let ledgerPath = path + ".ledger"
        defer { for p in [path, ledgerPath, ledgerPath + "-wal", ledgerPath + "-shm"] { try? FileManager.default.removeItem(atPath: p) } }
        try SyntheticPanel.generate(path: path, rows: 2_000, rowsPerUnit: 4, seed: 5)
        #expect(throws: VeilError.self) { try SyntheticPanel.generate(path: path, rows: 10) }
        let metadata = try PrivacyMetadata.parse(yaml: SyntheticPanel.metadataYAML(scope: "bench", rowsPerUnit: 4),
                                                 source: "synthetic")
        let ledger = try Ledger(path: ledgerPath, mode: .createIfMissing, durability: .normal)
        try ledger.createBudget(scope: "bench", epsilon: 100, delta: 1e-3, composition: .basic)
        let engine = PrivateQueryEngine(metadata: metadata, databasePath: path, ledger: ledger)
        var source = InsecureSeededRandomSource(seed: 1)
        let byYear = try engine.execute(try engine.plan("SELECT year, COUNT(*) AS n FROM visits GROUP BY year",
                                                        budget: try PrivacyParameters(epsilon: 10)), analyst: "t", using: &source)
        #expect(byYear.result.rows.map { $0[0] } == [.integer(1984), .integer(1985), .integer(1986), .integer(1987)])
        // 500 people in every year; Laplace scale 4/10: the noisy count is within ±10 with overwhelming probability.
        #expect(byYear.result.rows.allSatisfy { abs(($0[1].number ?? 0) - 500) <= 10 })
        let regions = try engine.execute(try engine.plan("SELECT region, COUNT(*) AS n FROM visits GROUP BY region",
                                                         budget: try PrivacyParameters(epsilon: 10, delta: 1e-4)),
                                         analyst: "t", using: &source)
        #expect(regions.result.rows.count == SyntheticPanel.regionCount)
        let median = try engine.execute(try engine.plan("SELECT MEDIAN(income) FROM visits",
                                                        budget: try PrivacyParameters(epsilon: 10)), analyst: "t", using: &source)
        let value = try #require(median.result.rows.first?.first?.number)
        #expect(value > 1 && value < 11)
    }

    // MARK: Keys files

    @Test("keys files: CSV with a header, JSON object of lists, JSON list of objects")
    func keysFiles() throws {
        let table = try #require(try healthMetadata().table(named: "visits"))
        let csv = try KeysFile.parseCSV("region,year\nnorth,1984\nsouth,\nnorth,1985\n", file: "k.csv", table: table)
        #expect(csv == ["region": [.text("north"), .text("south")], "year": [.integer(1984), .integer(1985)]])
        let object = try KeysFile.parseJSON(Data(#"{"REGION": ["west"], "female": [0, "1"]}"#.utf8), file: "k.json", table: table)
        #expect(object == ["region": [.text("west")], "female": [.integer(0), .integer(1)]])
        let list = try KeysFile.parseJSON(Data(#"[{"year": 1986}, {"year": 1986}, {"year": 1987}]"#.utf8),
                                          file: "k.json", table: table)
        #expect(list == ["year": [.integer(1986), .integer(1987)]])
        #expect(throws: VeilError.self) { try KeysFile.parseCSV("colour\nred\n", file: "k.csv", table: table) }
        #expect(throws: VeilError.self) { try KeysFile.parseCSV("year\nabc\n", file: "k.csv", table: table) }
    }
}
