import _TestSupport
import Accounting
import Foundation
import GRDB
import Mechanisms
import Testing
@testable import PrivateSQL

/// Inputs built to hang, trap or overflow the stack of the front end (query text, metadata, CSV import) are
/// refused with a message naming the limit. Each of these crashed or ran for minutes before the limits existed.
@Suite("Front-end limits on hostile inputs")
struct HostileInputLimitTests {
    static let yaml = PrivacyMetadataFixture(
        unit: "pid", columns: [("pid", "{type: integer}"), ("x", "{type: integer, lower: 0, upper: 10}")]).yaml

    func plan(_ query: String, yaml: String = Self.yaml, epsilon: Double = 1, delta: Double = 0,
              noise: QueryNoise? = nil) throws -> QueryPlan {
        try QueryPlanner(metadata: PrivacyMetadata.parse(yaml: yaml, source: "m.yaml"))
            .plan(query, budget: PrivacyParameters(epsilon: epsilon, delta: delta), noise: noise)
    }

    func expectRefused(_ query: String, yaml: String = Self.yaml, epsilon: Double = 1, delta: Double = 0,
                       code: VeilError.Code = .invalidQuery, _ fragment: String,
                       sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        do {
            _ = try plan(query, yaml: yaml, epsilon: epsilon, delta: delta)
            Issue.record("accepted", sourceLocation: sourceLocation)
        } catch let error as QueryError {
            #expect(error.code == code, sourceLocation: sourceLocation)
            #expect(error.reason.contains(fragment), "\(error.reason)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: Query text

    static let deepQueries: [(String, String)] = [
        ("5,000 nested parentheses", "SELECT " + String(repeating: "(", count: 5000) + "COUNT(*)"
            + String(repeating: ")", count: 5000) + " FROM t"),
        ("10,000 COUNT(*) terms", "SELECT " + Array(repeating: "COUNT(*)", count: 10_000).joined(separator: "+") + " FROM t"),
        ("30,000 NOTs", "SELECT COUNT(*) FROM t WHERE " + String(repeating: "NOT ", count: 30_000) + "x = 1"),
        ("101 nested parentheses", "SELECT " + String(repeating: "(", count: 101) + "COUNT(*)"
            + String(repeating: ")", count: 101) + " FROM t"),
        ("101 NOTs", "SELECT COUNT(*) FROM t WHERE " + String(repeating: "NOT ", count: 101) + "x = 1"),
        ("101 signs", "SELECT COUNT(*) FROM t WHERE x = " + String(repeating: "- ", count: 101) + "1"),
        ("a chain of 101 operators", "SELECT " + Array(repeating: "COUNT(*)", count: 102).joined(separator: " + ") + " FROM t"),
        ("a chain of 101 ANDs", "SELECT COUNT(*) FROM t WHERE " + Array(repeating: "x = 1", count: 102).joined(separator: " AND ")),
        ("depth from nesting and a chain together", "SELECT COUNT(*) FROM t WHERE " + String(repeating: "NOT ", count: 60)
            + "(" + Array(repeating: "x", count: 50).joined(separator: " + ") + " = 1)"),
    ]

    @Test("deep or long queries are refused with the limit, not a stack overflow", arguments: deepQueries)
    func deepQuery(label: String, query: String) {
        do {
            _ = try Parser.parse(query)
            Issue.record("\(label) was accepted")
        } catch {
            #expect(error.code == .invalidQuery)
            let named = ["more than 100 levels deep", "more than the limit of 10000", "more than the limit of 100000"]
            #expect(named.contains { error.reason.contains($0) }, "\(error.reason)")
            // The message stays short: a window of the line, never the whole 100 kB.
            #expect(error.description.count < 1000)
        }
    }

    @Test("deeply nested FROM-subqueries and long join chains are refused with their limit, not a stack overflow",
          arguments: [
        ("1,000 nested subqueries", "SELECT COUNT(*) FROM " + String(repeating: "(SELECT pid FROM ", count: 1000) + "t"
            + String(repeating: ") s", count: 1000), "more than 100 levels deep"),
        ("1,000 joins", "SELECT COUNT(*) FROM t" + String(repeating: " JOIN t USING (pid)", count: 1000),
         "more than 16 tables"),
        ("16 subqueries each reading one table, then one more", "SELECT COUNT(*) FROM t"
            + String(repeating: " JOIN (SELECT pid FROM t) s USING (pid)", count: 16), "more than 16 tables"),
    ])
    func deepFrom(label: String, query: String, fragment: String) {
        #expect {
            _ = try Parser.parse(query)
        } throws: { error in
            guard let error = error as? QueryError else { return false }
            return error.reason.contains(fragment) && error.description.count < 1000
        }
    }

    @Test("the deepest accepted query plans, and its tree height is within the limit")
    func deepestAccepted() throws {
        let query = "SELECT COUNT(*) FROM t WHERE " + String(repeating: "NOT ", count: 90) + "x = 1"
        let statement = try Parser.parse(query)
        #expect(try #require(statement.whereClause).height <= Parser.maximumDepth)
        _ = try plan(query)
        let chain = "SELECT " + Array(repeating: "COUNT(*)", count: 99).joined(separator: " + ") + " FROM t"
        #expect(try #require(Parser.parse(chain).items[0].expression).height == 99)
        _ = try plan(chain)
    }

    // MARK: Calibration

    @Test("ε = 1e-320 is refused with a message instead of a trap")
    func tinyEpsilon() {
        expectRefused("SELECT COUNT(*) FROM t", epsilon: 0x1p-1063, code: .invalidParameter, "at most 2^52")
        expectRefused("SELECT COUNT(*) FROM t", epsilon: 0x1p-1063, delta: 1e-6, code: .invalidParameter, "cannot be calibrated")
    }

    @Test("a subnormal δ for partition selection is refused instead of a trap")
    func tinyDelta() {
        let yaml = Self.yaml.replacingOccurrences(of: "x: {type: integer, lower: 0, upper: 10}",
                                                  with: "x: {type: integer, lower: 0, upper: 10}\n      g: {type: text}")
        // Gaussian noise: the threshold is found from −ln(δ/k), finite for any δ > 0; the default noise falls back
        // to it when the Laplace threshold cannot be computed.
        #expect((try? plan("SELECT g, COUNT(*) FROM t GROUP BY g", yaml: yaml, delta: 0x1p-1070))?.noise == .gaussian)
        let gaussian = try? plan("SELECT g, COUNT(*) FROM t GROUP BY g", yaml: yaml, delta: 0x1p-1070, noise: .gaussian)
        guard case .thresholding(_, let threshold, _)? = gaussian?.selection else {
            Issue.record("no thresholding plan")
            return
        }
        #expect(threshold > 30 && threshold < 1_000_000, "threshold \(threshold)")
        // Laplace noise: 1/(δ/k) overflows, and the query is refused.
        do {
            _ = try QueryPlanner(metadata: PrivacyMetadata.parse(yaml: yaml, source: "m.yaml"))
                .plan("SELECT g, COUNT(*) FROM t GROUP BY g", budget: PrivacyParameters(epsilon: 1, delta: 0x1p-1070), noise: .laplace)
            Issue.record("accepted")
        } catch let error as QueryError {
            #expect(error.reason.contains("partition-selection threshold"), "\(error.reason)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    static let hugeBounds: [(String, String)] = [
        ("upper 1e308 (real)", "x: {type: real, lower: 0, upper: 1e308}"),
        ("lower −1e308, upper 1e308 (AVG)", "x: {type: real, lower: -1e308, upper: 1e308}"),
        ("upper 1e300 (integer)", "x: {type: integer, lower: 0, upper: 1e300}"),
    ]

    @Test("bounds whose noise cannot be calibrated are refused instead of trapping", arguments: hugeBounds)
    func hugeBound(label: String, column: String) {
        let yaml = Self.yaml.replacingOccurrences(of: "x: {type: integer, lower: 0, upper: 10}", with: column)
        for query in ["SELECT SUM(x) FROM t", "SELECT AVG(x) FROM t", "SELECT VARIANCE(x) FROM t"] {
            expectRefused(query, yaml: yaml, code: .invalidParameter, "cannot be calibrated")
        }
    }

    @Test("bounds of 4e18 at ε = 1000 plan at once (the noise quantile no longer steps)", .timeLimit(.minutes(1)))
    func largestCalibratedBound() throws {
        let yaml = Self.yaml.replacingOccurrences(of: "upper: 10", with: "upper: 4000000000000000000")
        let plan = try plan("SELECT SUM(x) FROM t", yaml: yaml, epsilon: 1000)
        #expect(plan.quantities[0].l1Sensitivity == 4_000_000_000_000_000_000)
    }

    @Test("contribution limits of Int.max are refused by the metadata and by the planner's checked arithmetic")
    func intMaxContributions() throws {
        for key in ["max_partitions_per_unit: 1", "max_rows_per_partition: 1"] {
            let yaml = Self.yaml.replacingOccurrences(of: key, with: key.dropLast() + "9223372036854775807")
            #expect {
                _ = try PrivacyMetadata.parse(yaml: yaml, source: "m.yaml")
            } throws: { error in
                (error as? VeilError)?.code == .invalidMetadata && "\(error)".contains("in 1…1000000000")
            }
        }
        // Built directly (no loader), the planner still refuses without overflowing.
        let columns = [ColumnMetadata(name: "pid", type: .integer), ColumnMetadata(name: "g", type: .text),
                       ColumnMetadata(name: "x", type: .integer, lower: 0, upper: 1e18)]
        for (k, m) in [(Int.max, 1), (1, Int.max), (Int.max, Int.max), (3, 1 << 61)] {
            let table = TableMetadata(name: "t", privacyUnit: .column("pid"), maxPartitionsPerUnit: k,
                                      maxRowsPerPartition: m, columns: columns)
            let planner = QueryPlanner(metadata: PrivacyMetadata(scope: "s", tables: [table], source: "built"))
            // Without GROUP BY a unit touches one group whatever k is, so COUNT(*) under k = Int.max plans.
            let refused = ["SELECT SUM(x) FROM t", "SELECT g, COUNT(*) FROM t GROUP BY g"] + (m > 1 ? ["SELECT COUNT(*) FROM t"] : [])
            for query in refused {
                #expect(throws: QueryError.self, "k \(k), m \(m): \(query)") {
                    _ = try planner.plan(query, budget: PrivacyParameters(epsilon: 1, delta: 1e-6))
                }
            }
        }
    }

    // MARK: Metadata

    static let nestedYAML: [(String, String)] = [
        ("100,000 flow levels", "scope: s\ntables: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)),
        ("100,000 block sequence levels", "scope: s\ntables:\n  " + String(repeating: "- ", count: 100_000) + "x"),
        ("33 levels", "scope: s\ntables: " + String(repeating: "{a: ", count: 33) + "1" + String(repeating: "}", count: 33)),
        ("aliases stacking shallow anchors", "a: &a [[[[[[[[[[1]]]]]]]]]]\nb: &b [[[[[[[[[[*a]]]]]]]]]]\n"
            + "c: &c [[[[[[[[[[*b]]]]]]]]]]\nd: [[[[[[[[[[*c]]]]]]]]]]\n"),
    ]

    @Test("deeply nested YAML is refused before Yams composes it", arguments: nestedYAML)
    func nestedMetadata(label: String, text: String) {
        #expect {
            _ = try PrivacyMetadata.parse(yaml: text, source: "m.yaml")
        } throws: { error in
            (error as? VeilError)?.code == .invalidMetadata && "\(error)".contains("nests more than 32 levels")
        }
    }

    @Test("a bound written as a base-60 integer beyond 64 bits is refused with its line, not a trap inside Yams")
    func base60Bound() {
        let yaml = Self.yaml.replacingOccurrences(of: "upper: 10}", with: "upper: !!str 1:0:0:0:0:0:0:0:0:0:0}")
        #expect(yaml != Self.yaml)
        #expect {
            _ = try PrivacyMetadata.parse(yaml: yaml, source: "m.yaml")
        } throws: { error in
            (error as? VeilError)?.code == .invalidMetadata && "\(error)".contains("m.yaml:")
                && "\(error)".contains("reads as a base-60 integer")
        }
    }

    @Test("more columns than SQLite allows are refused; a long public_values list loads in linear time",
          .timeLimit(.minutes(1)))
    func wideMetadata() throws {
        let columns = (0...TableMetadata.maximumColumns).map { "      c\($0): {type: integer}" }.joined(separator: "\n")
        let wide = Self.yaml.replacingOccurrences(of: "      x: {type: integer, lower: 0, upper: 10}", with: columns)
        #expect {
            _ = try PrivacyMetadata.parse(yaml: wide, source: "m.yaml")
        } throws: { error in
            "\(error)".contains("declares 2002 columns, more than SQLite's limit of 2000")
        }
        // 200,000 public values: the repetition check once compared every pair (2·10^10 comparisons).
        let values = "[" + (0..<200_000).map(String.init).joined(separator: ", ") + "]"
        let long = Self.yaml.replacingOccurrences(of: "x: {type: integer, lower: 0, upper: 10}",
                                                  with: "x: {type: integer, public_values: \(values)}")
        let clock = ContinuousClock()
        let start = clock.now
        let metadata = try PrivacyMetadata.parse(yaml: long, source: "m.yaml")
        #expect(metadata.tables[0].column(named: "x")?.publicValues?.count == 200_000)
        #expect(clock.now - start < .seconds(20))
    }

    @Test("a NUL in a declared name is refused")
    func nulName() {
        let yaml = Self.yaml.replacingOccurrences(of: "x: {type", with: "\"x\\0y\": {type")
        #expect {
            _ = try PrivacyMetadata.parse(yaml: yaml, source: "m.yaml")
        } throws: { error in
            (error as? VeilError)?.code == .invalidMetadata && "\(error)".contains("NUL")
        }
    }

    // MARK: Case folding

    @Test("identifiers fold ASCII letters only, as SQLite does")
    func asciiCaseFolding() throws {
        #expect("Visits".caseInsensitiveEquals("vISITS"))
        #expect(!"é".caseInsensitiveEquals("É"))
        #expect(!"k".caseInsensitiveEquals("\u{212A}"))          // Kelvin sign: Unicode lowers it to k
        #expect(!"straße".caseInsensitiveEquals("STRASSE"))
        #expect(!"é".caseInsensitiveEquals("e\u{301}"))          // canonically equivalent, different bytes
        #expect("ſelect".asciiUppercased == "ſELECT")
        // É and é are two columns to SQLite; each keeps its own bounds here.
        let yaml = Self.yaml.replacingOccurrences(of: "x: {type: integer, lower: 0, upper: 10}",
                                                  with: "É: {type: integer, lower: 0, upper: 1}\n      é: {type: integer, lower: 0, upper: 1000}")
        let metadata = try PrivacyMetadata.parse(yaml: yaml, source: "m.yaml")
        #expect(metadata.tables[0].column(named: "é")?.upper == 1000)
        #expect(metadata.tables[0].column(named: "É")?.upper == 1)
        let plan = try self.plan(#"SELECT SUM("é") FROM t"#, yaml: yaml)
        #expect(plan.aggregates[0].bounds == 0...1000)
        // The Kelvin sign does not name column k, and `ſelect` is not SELECT.
        let kelvin = Self.yaml.replacingOccurrences(of: "x: {type", with: "k: {type")
        expectRefused("SELECT SUM(\u{212A}) FROM t", yaml: kelvin, "unknown column")
        expectRefused("ſelect COUNT(*) FROM t", code: .queryRefused, "only SELECT statements")
    }
}

/// CSV import refuses what SQLite cannot hold, at once, and leaves no file behind when it fails.
@Suite("CSV import limits")
struct ImportLimitTests {
    @Test("a header of 1,000,000 columns is refused at once", .timeLimit(.minutes(1)))
    func tooManyColumns() throws {
        let temporary = try TemporaryFolder("import-limits")
        let dir = temporary.url
        let csv = dir.appendingPathComponent("wide.csv")
        let header = (0..<1_000_000).map { "c\($0)" }.joined(separator: ",")
        try (header + "\n").write(to: csv, atomically: true, encoding: .utf8)
        let db = dir.appendingPathComponent("new.sqlite").path
        let clock = ContinuousClock()
        let start = clock.now
        #expect {
            _ = try CSVImporter.importCSV(at: csv, into: db, options: CSVImportOptions(table: "t"))
        } throws: { error in
            "\(error)".contains("more than 2000 columns")
        }
        #expect(clock.now - start < .seconds(20))
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test("exactly 2000 columns import")
    func columnLimitItself() throws {
        let temporary = try TemporaryFolder("import-limits")
        let dir = temporary.url
        let csv = dir.appendingPathComponent("wide.csv")
        try ((0..<2000).map { "c\($0)" }.joined(separator: ",") + "\n" + Array(repeating: "1", count: 2000).joined(separator: ",")
             + "\n").write(to: csv, atomically: true, encoding: .utf8)
        let summary = try CSVImporter.importCSV(at: csv, into: dir.appendingPathComponent("d.sqlite").path,
                                                options: CSVImportOptions(table: "t"))
        #expect(summary.columns.count == 2000 && summary.rows == 1)
    }

    @Test("a NUL inside a field is refused with its line, not cut", arguments: ["a,b\n1,x\u{0}y\n", "a,b\n1,\"x\u{0}y\"\n"])
    func nulInField(text: String) throws {
        let temporary = try TemporaryFolder("import-limits")
        let dir = temporary.url
        let csv = dir.appendingPathComponent("nul.csv")
        try text.write(to: csv, atomically: true, encoding: .utf8)
        let db = dir.appendingPathComponent("new.sqlite").path
        #expect {
            _ = try CSVImporter.importCSV(at: csv, into: db, options: CSVImportOptions(table: "t"))
        } throws: { error in
            "\(error)".contains("nul.csv:2: a field contains a NUL character")
        }
        #expect(!FileManager.default.fileExists(atPath: db))
    }

    @Test("a failed write removes the database file the import created, never one that existed")
    func failedWriteLeavesNothing() throws {
        let temporary = try TemporaryFolder("import-limits")
        let dir = temporary.url
        let csv = dir.appendingPathComponent("ok.csv")
        try "a,b\n1,2\n".write(to: csv, atomically: true, encoding: .utf8)
        // A table name SQLite refuses (reserved prefix) fails inside the write, after the file was created.
        let fresh = dir.appendingPathComponent("fresh.sqlite").path
        #expect(throws: VeilError.self) {
            _ = try CSVImporter.importCSV(at: csv, into: fresh, options: CSVImportOptions(table: "sqlite_t"))
        }
        #expect(!FileManager.default.fileExists(atPath: fresh))
        // An existing database stays, with its contents.
        let existing = dir.appendingPathComponent("existing.sqlite").path
        _ = try CSVImporter.importCSV(at: csv, into: existing, options: CSVImportOptions(table: "kept"))
        #expect(throws: VeilError.self) {
            _ = try CSVImporter.importCSV(at: csv, into: existing, options: CSVImportOptions(table: "sqlite_t"))
        }
        let count = try DatabaseQueue(path: existing).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM kept") }
        #expect(count == 1)
    }
}
