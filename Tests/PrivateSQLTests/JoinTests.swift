import _TestSupport
import Accounting
import BudgetLedger
import Foundation
import Mechanisms
import Testing
@testable import PrivateSQL

/// JOINs on the privacy unit and FROM-subqueries: the shapes accepted and refused (with their reasons), and
/// contribution bounding on the joined relation.
@Suite("Private SQL: joins on the privacy unit")
struct JoinTests {
    /// Two private tables with the unit `person_id`, a public lookup table and a row-privacy table.
    static let yaml = """
        scope: clinic
        tables:
          visits:
            privacy_unit: person_id
            max_partitions_per_unit: 5
            max_rows_per_partition: 2
            columns:
              person_id: {type: integer}
              year: {type: integer, public_values: [1984, 1985, 1986, 1987, 1988]}
              doctor_visits: {type: integer, lower: 0, upper: 30}
              income: {type: real, lower: 0, upper: 15}
              female: {type: boolean}
              region: {type: text}
              age: {type: integer, lower: 0, upper: 100}
          prescriptions:
            privacy_unit: person_id
            max_partitions_per_unit: 3
            max_rows_per_partition: 4
            columns:
              person_id: {type: integer}
              year: {type: integer, public_values: [1984, 1985, 1986, 1987, 1988]}
              drug: {type: text}
              dose: {type: integer, lower: 0, upper: 10}
          regions:
            public: true
            columns:
              region: {type: text}
              zone: {type: text, public_values: [north, south]}
              weight: {type: integer, lower: 0, upper: 5}
          notes:
            row_privacy: true
            columns:
              person_id: {type: integer}
              note: {type: text}
        """

    static func metadata() throws -> PrivacyMetadata { try PrivacyMetadata.parse(yaml: yaml, source: "privacy.yaml") }

    static func plan(_ query: String, delta: Double = 1e-6) throws -> QueryPlan {
        try QueryPlanner(metadata: metadata()).plan(query, budget: try PrivacyParameters(epsilon: 1, delta: delta),
                                                    sampling: .keyedHash(.insecureFixed(1, 2)), noise: .laplace)
    }

    /// Adds `prescriptions` (person, year, drug, dose) and `regions` (region, zone, weight) to `database`.
    static func makeJoinTables(_ database: TemporaryDatabase, prescriptions: [(Int, Int, String, Int?)],
                               regions: [(String, String, Int)]) throws {
        try database.queue.write { db in
            try db.execute(sql: "CREATE TABLE prescriptions (person_id INTEGER, year INTEGER, drug TEXT, dose INTEGER)")
            for row in prescriptions {
                try db.execute(sql: "INSERT INTO prescriptions VALUES (?, ?, ?, ?)", arguments: [row.0, row.1, row.2, row.3])
            }
            try db.execute(sql: "CREATE TABLE regions (region TEXT, zone TEXT, weight INTEGER)")
            for row in regions {
                try db.execute(sql: "INSERT INTO regions VALUES (?, ?, ?)", arguments: [row.0, row.1, row.2])
            }
        }
    }

    @Test("a public table declares no unit and no contribution bounds")
    func publicTableMetadata() throws {
        let table = try #require(try Self.metadata().table(named: "regions"))
        #expect(table.isPublic)
        for extra in ["privacy_unit: region", "row_privacy: true", "max_rows_per_partition: 1"] {
            let yaml = Self.yaml.replacingOccurrences(of: "    public: true\n", with: "    public: true\n    \(extra)\n")
            #expect {
                _ = try PrivacyMetadata.parse(yaml: yaml, source: "privacy.yaml")
            } throws: { error in
                (error as? VeilError)?.code == .invalidMetadata
                    && "\(error)".contains("a public table has no privacy unit and no contribution bounds")
            }
        }
    }

    // MARK: Parser

    @Test("the parser reads JOIN … USING, LEFT JOIN … ON, aliases and FROM-subqueries into a tree")
    func parsesJoins() throws {
        let s = try Parser.parse("SELECT COUNT(*) FROM visits v JOIN prescriptions AS p USING (person_id) "
                                 + "LEFT OUTER JOIN (SELECT region, zone FROM regions) r ON v.region = r.region")
        guard case .join(let inner, .left, .subquery(let sub, let alias, _), .on(let on), _) = s.source,
              case .join(.table(let visits), .inner, .table(let prescriptions), .using(let columns), _) = inner else {
            Issue.record("unexpected tree \(s.source)")
            return
        }
        #expect(visits.name == "visits" && visits.alias == "v")
        #expect(prescriptions.name == "prescriptions" && prescriptions.alias == "p")
        #expect(columns == ["person_id"])
        #expect(alias == "r")
        #expect(sub.from.name == "regions")
        guard case .binary(.equal, let l, let r) = on.kind else {
            Issue.record("unexpected ON \(on.kind)")
            return
        }
        #expect(l.kind == .column(name: "region", qualifier: "v"))
        #expect(r.kind == .column(name: "region", qualifier: "r"))
        #expect(s.from.name == "visits")
    }

    @Test("joins the parser refuses, with the reason", arguments: [
        ("SELECT COUNT(*) FROM visits, prescriptions", "comma joins are refused"),
        ("SELECT COUNT(*) FROM visits RIGHT JOIN prescriptions USING (person_id)", "RIGHT JOIN is not supported"),
        ("SELECT COUNT(*) FROM visits FULL JOIN prescriptions USING (person_id)", "FULL JOIN is not supported"),
        ("SELECT COUNT(*) FROM visits CROSS JOIN prescriptions", "CROSS JOIN is refused"),
        ("SELECT COUNT(*) FROM visits NATURAL JOIN prescriptions", "NATURAL JOIN is refused"),
        ("SELECT COUNT(*) FROM (visits JOIN prescriptions USING (person_id))", "parenthesised joins are not supported"),
    ])
    func parserRefusals(query: String, reason: String) {
        #expect {
            _ = try Parser.parse(query)
        } throws: { error in
            (error as? QueryError)?.code == .queryRefused && (error as? QueryError)?.reason.contains(reason) == true
        }
    }

    @Test("a join without ON or USING and a subquery without an alias are syntax errors", arguments: [
        ("SELECT COUNT(*) FROM visits JOIN prescriptions", "expected ON or USING"),
        ("SELECT COUNT(*) FROM (SELECT person_id FROM visits)", "needs an alias"),
        ("SELECT COUNT(*) FROM visits LEFT prescriptions", "expected JOIN after LEFT"),
    ])
    func parserSyntax(query: String, reason: String) {
        #expect {
            _ = try Parser.parse(query)
        } throws: { error in
            (error as? QueryError)?.code == .invalidQuery && (error as? QueryError)?.reason.contains(reason) == true
        }
    }

    // MARK: Planner

    @Test("accepted: joins on the unit, public lookups on any column, LEFT JOIN from the private side, subqueries that keep the unit",
          arguments: [
        "SELECT v.year, COUNT(*), SUM(dose) FROM visits v JOIN prescriptions p USING (person_id) GROUP BY v.year",
        "SELECT v.year, COUNT(*) FROM visits v JOIN prescriptions p ON v.person_id = p.person_id AND p.dose > 2 GROUP BY v.year",
        "SELECT COUNT(DISTINCT p.person_id) FROM visits v JOIN prescriptions p ON p.person_id = v.person_id",
        "SELECT zone, COUNT(*), SUM(weight) FROM visits JOIN regions USING (region) GROUP BY zone",
        "SELECT COUNT(*), COUNT(dose) FROM visits LEFT JOIN prescriptions p USING (person_id)",
        "SELECT s.year, SUM(s.pay) FROM (SELECT person_id, year, income AS pay FROM visits WHERE age > 30) AS s GROUP BY s.year",
        "SELECT zone, COUNT(*) FROM (SELECT v.person_id, region FROM visits v JOIN prescriptions p USING (person_id)) s "
            + "JOIN regions USING (region) GROUP BY zone",
        "SELECT COUNT(*) FROM regions r JOIN visits v ON v.region = r.region",
        "SELECT COUNT(*) FROM visits a JOIN visits b USING (person_id)",
    ])
    func accepted(query: String) throws {
        let plan = try Self.plan(query)
        #expect(plan.rewriter.relation.isJoin)
        #expect(plan.sql.contains("\"veil_t0\""))
    }

    @Test("refused before any reservation, with the reason", arguments: [
        ("SELECT COUNT(*) FROM visits v JOIN prescriptions p ON v.year = p.year", VeilError.Code.queryRefused,
         "the join does not keep the privacy unit"),
        ("SELECT COUNT(*) FROM visits v JOIN prescriptions p ON v.person_id = p.person_id OR v.year = p.year",
         .queryRefused, "the join does not keep the privacy unit"),
        ("SELECT COUNT(*) FROM visits v JOIN prescriptions p USING (year)", .queryRefused,
         "the join does not keep the privacy unit"),
        ("SELECT COUNT(*) FROM (SELECT year, income FROM visits) s", .queryRefused,
         "does not select the privacy unit person_id of table visits"),
        ("SELECT COUNT(*) FROM (SELECT person_id, year FROM visits GROUP BY person_id, year) s", .queryRefused,
         "GROUP BY inside it"),
        ("SELECT COUNT(*) FROM (SELECT person_id FROM visits LIMIT 10) s", .queryRefused, "LIMIT inside it"),
        ("SELECT COUNT(*) FROM (SELECT person_id, income * 2 AS x FROM visits) s", .queryRefused,
         "may only select columns"),
        ("SELECT COUNT(*) FROM visits JOIN notes USING (person_id)", .queryRefused, "declares row_privacy"),
        ("SELECT COUNT(*) FROM regions LEFT JOIN visits USING (region)", .queryRefused, "LEFT JOIN keeps every row"),
        ("SELECT COUNT(*) FROM visits v LEFT JOIN (SELECT person_id, dose FROM prescriptions WHERE dose > 1) p "
            + "USING (person_id)", .queryRefused, "on the right of a LEFT JOIN"),
        ("SELECT COUNT(*) FROM regions", .queryRefused, "is public"),
        ("SELECT COUNT(*) FROM regions a JOIN regions b USING (zone)", .queryRefused, "reads only public tables"),
        ("SELECT p.person_id, COUNT(*) FROM visits v LEFT JOIN prescriptions p USING (person_id) GROUP BY p.person_id",
         .queryRefused, "grouping by the privacy unit"),
        ("SELECT year, COUNT(*) FROM visits JOIN prescriptions USING (person_id) GROUP BY year", .invalidQuery,
         "column 'year' is ambiguous: it is a column of visits and prescriptions"),
        ("SELECT SUM(p.nope) FROM visits JOIN prescriptions p USING (person_id)", .invalidQuery,
         "unknown column 'p.nope'"),
        ("SELECT COUNT(*) FROM visits JOIN prescriptions p USING (person_id) WHERE x.year = 1", .invalidQuery,
         "unknown table or alias 'x'"),
        ("SELECT COUNT(*) FROM visits JOIN visits USING (person_id)", .invalidQuery, "names two relations"),
        ("SELECT COUNT(*) FROM visits JOIN nowhere USING (person_id)", .invalidQuery, "unknown table 'nowhere'"),
        ("SELECT SUM(drug) FROM visits JOIN prescriptions USING (person_id)", .queryRefused, "is a text column"),
    ])
    func refused(query: String, code: VeilError.Code, reason: String) {
        #expect {
            _ = try Self.plan(query)
        } throws: { error in
            guard let error = error as? QueryError else { return false }
            return error.code == code && error.reason.contains(reason)
        }
    }

    @Test("a public table's column equated with the unit is the unit: grouping by it or listing its values is refused",
          arguments: [
        "SELECT person_id, COUNT(*) FROM enrolment JOIN visits USING (person_id) GROUP BY person_id",
        "SELECT visits.person_id, COUNT(*) FROM enrolment JOIN visits USING (person_id) GROUP BY visits.person_id",
        "SELECT e.person_id, COUNT(*) FROM visits v JOIN enrolment e ON e.person_id = v.person_id GROUP BY e.person_id",
        "SELECT e.person_id, COUNT(*) FROM enrolment e JOIN visits v ON v.person_id = e.person_id AND e.site = 'a' "
            + "GROUP BY e.person_id",
    ])
    func unitThroughPublicTable(query: String) throws {
        let enrolment = "  enrolment:\n    public: true\n    columns:\n      person_id: {type: integer}\n      site: {type: text}\n"
        let yaml = Self.yaml.replacingOccurrences(of: "  notes:\n", with: enrolment + "  notes:\n")
        try #require(yaml.contains("enrolment"))
        let metadata = try PrivacyMetadata.parse(yaml: yaml, source: "privacy.yaml")
        #expect {
            _ = try QueryPlanner(metadata: metadata).plan(query, budget: try PrivacyParameters(epsilon: 1, delta: 1e-6),
                                                          sampling: .keyedHash(.insecureFixed(1, 2)))
        } throws: { error in
            (error as? QueryError)?.code == .queryRefused && (error as? QueryError)?.reason.contains("grouping by the privacy unit") == true
        }
        // With public values listed for the person column, every listed person would get a count of their own.
        let counted = "SELECT site, COUNT(*) FROM enrolment JOIN visits USING (person_id) GROUP BY site"
        #expect {
            _ = try QueryPlanner(metadata: metadata).plan(counted, budget: try PrivacyParameters(epsilon: 1, delta: 1e-6),
                                                          sampling: .keyedHash(.insecureFixed(1, 2)),
                                                          publicValues: ["enrolment.person_id": [.integer(1), .integer(2)]])
        } throws: { error in
            (error as? QueryError)?.reason.contains("public values cannot be given for the privacy unit") == true
        }
    }

    @Test("SQLite refuses a join whose unit column compares other than byte by byte, before anything is read")
    func unitCollation() throws {
        let plan = try Self.plan("SELECT COUNT(*) FROM visits JOIN prescriptions USING (person_id)")
        let binary = try TemporaryDatabase("""
            CREATE TABLE visits (person_id TEXT, year INTEGER, doctor_visits INTEGER, income REAL, female INTEGER,
                                 region TEXT, age INTEGER);
            CREATE TABLE prescriptions (person_id TEXT, year INTEGER, drug TEXT, dose INTEGER);
            """)
        try binary.backend().validate(plan)
        // 'bob' in prescriptions would match 'Bob' and 'BOB' in visits, two units bounded apart.
        let nocase = try TemporaryDatabase("""
            CREATE TABLE visits (person_id TEXT, year INTEGER, doctor_visits INTEGER, income REAL, female INTEGER,
                                 region TEXT, age INTEGER);
            CREATE TABLE prescriptions (person_id TEXT COLLATE NOCASE, year INTEGER, drug TEXT, dose INTEGER);
            """)
        #expect {
            try nocase.backend().validate(plan)
        } throws: { error in
            (error as? VeilError)?.code == .invalidInput
                && "\(error)".contains("the privacy unit column person_id of table prescriptions has the collation NOCASE")
        }
    }

    @Test("the joined relation takes k, m and R from the table whose unit it carries; columns keep their own bounds")
    func boundsOfTheRelation() throws {
        let plan = try Self.plan("SELECT v.year, SUM(dose), SUM(weight) FROM visits v JOIN prescriptions p "
                                 + "USING (person_id) JOIN regions USING (region) GROUP BY v.year")
        #expect(plan.table.maxPartitionsPerUnit == 5)
        #expect(plan.table.maxRowsPerPartition == 2)
        let sums = plan.quantities.compactMap { q -> (String, Int)? in
            if case .sum(let c) = q.kind { return (c.name, q.l1Sensitivity) }
            return nil
        }
        // k·m·max(|L|, |U|): 5·2·10 for dose (prescriptions' bounds), 5·2·5 for weight (the public table's).
        #expect(sums.map(\.0) == ["dose", "weight"])
        #expect(sums.map(\.1) == [100, 50])
        // The other way round, prescriptions' bounds apply (k = 3, m = 4).
        let reversed = try Self.plan("SELECT COUNT(*) FROM prescriptions JOIN visits USING (person_id)")
        #expect(reversed.table.maxRowsPerPartition == 4)
        #expect(reversed.quantities[0].l1Sensitivity == 4)
    }

    // MARK: Bounding on the joined relation

    /// Person 1 has 3 visits and 4 prescriptions (12 joined rows), person 2 one of each, person 3 a visit only.
    static func heavyUnitDatabase() throws -> TemporaryDatabase {
        let database = try TemporaryDatabase()
        try makeVisits(database, [(1, 1984, 30, 1, 0, "north"), (1, 1984, 30, 1, 0, "north"),
                                  (1, 1984, 30, 1, 0, "north"), (2, 1985, 5, 1, 1, "south"),
                                  (3, 1986, 7, 1, 1, "south")])
        try makeJoinTables(database,
                           prescriptions: [(1, 1984, "a", 10), (1, 1984, "a", 10), (1, 1985, "b", 10),
                                           (1, 1986, "c", 10), (2, 1985, "a", 3)],
                           regions: [("north", "north", 5), ("south", "south", 1), ("south", "south", 1)])
        return database
    }

    @Test("a unit's m·n joined rows are bounded after the join: its COUNT and SUM contributions stay within m and m·U",
          arguments: [MainStatementForm.singlePass, .sql])
    func heavyUnitBoundedAfterJoin(form: MainStatementForm) throws {
        let database = try Self.heavyUnitDatabase()
        let plan = try Self.plan("SELECT COUNT(*), SUM(dose), SUM(v.doctor_visits) FROM visits v "
                                 + "JOIN prescriptions p USING (person_id)")
        #expect(plan.quantities.map(\.l1Sensitivity) == [2, 20, 60])   // m, m·10, m·30 with visits' m = 2
        let groups = try database.backend().run(plan, form: form)
        // Person 1: 12 joined rows count min(12, 2) = 2; doses 120 clamp to 2·10 = 20; visits 360 clamp to 2·30 = 60.
        // Person 2: 1 row, dose 3, 5 visits. Bounding each table before the join would give 2·4 + 1 = 9 rows
        // (or 2·2 + 1 = 5 with m = 2 in both) and doses up to 4·10·2 + 3.
        #expect(groups.map(\.values) == [[[3], [23], [65]]])
    }

    @Test("LEFT JOIN keeps units without a match; ON literals and WHERE literals bind in order", arguments: [
        MainStatementForm.singlePass, .sql])
    func leftJoinAndParameters(form: MainStatementForm) throws {
        let database = try Self.heavyUnitDatabase()
        let left = try Self.plan("SELECT COUNT(*), COUNT(dose), COUNT(DISTINCT visits.person_id) FROM visits "
                                 + "LEFT JOIN prescriptions p ON visits.person_id = p.person_id AND p.year = 1984")
        // Person 1: 3 visits × 2 prescriptions of 1984 = 6 rows (bounded to 2, both with a dose); person 2: one
        // visit without a 1984 prescription (1 row, no dose); person 3: one visit, no prescription.
        #expect(try database.backend().run(left, form: form).map(\.values) == [[[4], [2], [3]]])
        let filtered = try Self.plan("SELECT v.year, COUNT(*) FROM visits v JOIN prescriptions p "
                                     + "ON v.person_id = p.person_id AND p.drug = 'a' WHERE v.doctor_visits < 10 "
                                     + "GROUP BY v.year")
        let groups = try database.backend().run(filtered, form: form)
        #expect(groups.map { $0.key } == [[.integer(1984)], [.integer(1985)], [.integer(1986)], [.integer(1987)],
                                          [.integer(1988)]])
        #expect(groups.map(\.values) == [[[0]], [[1]], [[0]], [[0]], [[0]]])
    }

    @Test("a public lookup joined on a non-unit column: its duplicate keys multiply rows, which bounding absorbs")
    func publicLookup() throws {
        let database = try Self.heavyUnitDatabase()
        let plan = try Self.plan("SELECT zone, COUNT(*), SUM(weight) FROM visits JOIN regions USING (region) GROUP BY zone")
        let groups = try database.backend().run(plan)
        // north: person 1's 3 rows (bounded to m = 2), weight 5 each → 10. south: persons 2 and 3 each match the two
        // 'south' rows (2 rows each, weight 1): 2 + 2 rows, weights 2 + 2.
        #expect(groups.map(\.key) == [[.text("north")], [.text("south")]])
        #expect(groups.map(\.values) == [[[2], [10]], [[4], [4]]])
    }

    @Test("a refused join costs nothing: the engine plans before it reserves")
    func refusedJoinChargesNothing() throws {
        let database = try Self.heavyUnitDatabase()
        let ledgerURL = TemporaryDirectory.file("ledger", extension: "sqlite")
        defer { try? FileManager.default.removeItem(at: ledgerURL) }
        let ledger = try Ledger(path: ledgerURL.path, mode: .createIfMissing, durability: .normal)
        try ledger.createBudget(scope: "clinic", epsilon: 3, delta: 1e-5, composition: .basic)
        let engine = PrivateQueryEngine(metadata: try Self.metadata(), databasePath: database.path, ledger: ledger)
        #expect(throws: QueryError.self) {
            _ = try engine.plan("SELECT COUNT(*) FROM visits v JOIN prescriptions p ON v.year = p.year",
                                budget: try PrivacyParameters(epsilon: 1))
        }
        #expect(try ledger.charges(scope: "clinic").isEmpty)
        let plan = try engine.plan("SELECT COUNT(*) FROM visits JOIN prescriptions USING (person_id)",
                                   budget: try PrivacyParameters(epsilon: 1))
        var source = InsecureSeededRandomSource(seed: 3)
        _ = try engine.execute(plan, analyst: "ana", using: &source)
        #expect(try ledger.charges(scope: "clinic").count == 1)
    }
}
