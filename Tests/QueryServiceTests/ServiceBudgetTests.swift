import BudgetLedger
import Foundation
import Testing
@testable import QueryService

@Suite("Query service: answers and budgets")
struct ServiceBudgetTests {
    @Test("a query returns rows with intervals, the charge and the analyst's remaining budget; a dry-run costs nothing")
    func queryAndDryRun() async throws {
        let fixture = try ServiceFixture()
        let dry = try await fixture.send("POST", "/v1/datasets/health_panel/queries:dry-run", as: "ana",
                                         json: ServiceFixture.query(groupedQuery, epsilon: 0.5))
        #expect(dry.status == 200)
        #expect((dry.object["cost"] as? [String: Any])?["epsilon"] as? Double == 0.5)
        #expect((dry.object["expected_half_widths"] as? [[String: Any]])?.count == 2)
        #expect(try fixture.ledger.charges(scope: "health_panel").isEmpty)
        let (status, object, _) = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana",
                                                         json: ServiceFixture.query(groupedQuery, epsilon: 0.5))
        #expect(status == 200)
        #expect(object["columns"] as? [String] == ["year", "n"])
        let rows = try #require(object["rows"] as? [[String: Any]])
        #expect(rows.compactMap { $0["year"] as? Int } == [1984, 1985, 1986, 1987, 1988])
        let intervals = try #require(object["confidence_intervals"] as? [[String: [Double]]])
        #expect(intervals.count == 5 && intervals.allSatisfy { ($0["n"]?.count ?? 0) == 2 })
        let budget = try #require(object["budget"] as? [String: Any])
        #expect((budget["remaining"] as? [String: Any])?["epsilon"] as? Double == 0.5)
        let reservation = try #require((object["ledger"] as? [String: Any])?["reservation"] as? Int)
        let charge = try #require(try fixture.ledger.charges(scope: "health_panel").first)
        #expect(charge.reservation.id == Int64(reservation) && charge.state == .committed)
    }

    @Test("past the analyst's limit: the budget error (exit code 3) while the dataset still has budget for others")
    func analystLimit() async throws {
        let fixture = try ServiceFixture(datasetEpsilon: 10, analystEpsilon: 1)
        for _ in 0..<2 {
            let ok = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana",
                                            json: ServiceFixture.query(groupedQuery, epsilon: 0.4))
            #expect(ok.status == 200)
        }
        let refused = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana",
                                             json: ServiceFixture.query(groupedQuery, epsilon: 0.4))
        #expect(refused.status == 403)
        let error = try #require(refused.object["error"] as? [String: Any])
        #expect(error["code"] as? String == "budget_exhausted" && error["exit_code"] as? Int == 3)
        #expect((error["message"] as? String)?.hasPrefix("analyst budget exhausted: ε 0.2, δ 0.000001 remaining for ana in health_panel") == true)
        #expect(try fixture.ledger.status(scope: "health_panel").epsilonRemaining > 9)
        let bob = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "bob",
                                         json: ServiceFixture.query(groupedQuery, epsilon: 0.4))
        #expect(bob.status == 200)
    }

    @Test("8 analysts racing one dataset budget never overspend it: exactly budget/cost queries succeed")
    func racingAnalysts() async throws {
        // Dataset budget ε 2; each racer may spend ε 1; 8 racers × 3 queries of ε 0.25 = ε 6 asked for.
        let fixture = try ServiceFixture(datasetEpsilon: 2, analystEpsilon: 1, extraAnalysts: 8)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for racer in 0..<8 {
                for _ in 0..<3 {
                    group.addTask {
                        try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "racer\(racer)",
                                               json: ServiceFixture.query("SELECT COUNT(*) AS n FROM visits", epsilon: 0.25)).status
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == 8)
        #expect(statuses.filter { $0 == 403 }.count == 16)
        let status = try fixture.ledger.status(scope: "health_panel")
        #expect(status.epsilonSpent + status.epsilonReserved <= 2)
        #expect(status.epsilonRemaining == 0)
        #expect(try fixture.ledger.verify().isValid)
    }

    @Test("bad bodies are refused with one JSON error shape and exit code 2, nothing charged")
    func badBodies() async throws {
        let fixture = try ServiceFixture()
        for body: [String: Any] in [[:], ["sql": "SELECT COUNT(*) FROM visits"], ["sql": 3, "epsilon": 1],
                                    ["sql": "SELECT COUNT(*) FROM visits", "epsilon": "1"],
                                    ["sql": "SELECT COUNT(*) FROM visits", "epsilon": -1],
                                    ["sql": "SELECT COUNT(*) FROM visits", "epsilon": 1, "confidence": 1.5],
                                    ["sql": "SELEC COUNT(*) FROM visits", "epsilon": 1]] {
            let answer = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana", json: body)
            #expect(answer.status == 400, "\(body)")
            #expect((answer.object["error"] as? [String: Any])?["exit_code"] as? Int == 2, "\(body)")
        }
        #expect(try fixture.ledger.charges(scope: "health_panel").isEmpty)
    }

    @Test("hostile raw bodies (broken JSON, deep nesting, ε of -0, 1e400, NaN, a huge SQL text) get 4xx and charge nothing")
    func hostileRawBodies() async throws {
        let fixture = try ServiceFixture()
        let sql = #""sql": "SELECT COUNT(*) FROM visits""#
        let bodies: [(String, String)] = [
            ("broken JSON", #"{"sql": "SELECT COUNT(*) FROM visits", "epsilon": "#),
            ("not an object", "[1, 2, 3]"),
            ("10,000 nested arrays", "{" + sql + #", "epsilon": 1, "x": "# + String(repeating: "[", count: 10_000)
                + String(repeating: "]", count: 10_000) + "}"),
            ("ε = -0", "{" + sql + #", "epsilon": -0}"#),
            ("ε = 1e400", "{" + sql + #", "epsilon": 1e400}"#),
            ("ε = NaN", "{" + sql + #", "epsilon": NaN}"#),
            ("a 2 MB query", #"{"sql": "SELECT COUNT(*) FROM visits WHERE "# + String(repeating: "x = 1 OR ", count: 200_000)
                + #"x = 1", "epsilon": 1}"#),
        ]
        for (label, text) in bodies {
            let answer = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana", body: Data(text.utf8))
            #expect((400..<500).contains(answer.status), "\(label): \(answer.status)")
            #expect(answer.object["error"] != nil, "\(label): \(String(decoding: answer.body.prefix(300), as: UTF8.self))")
        }
        #expect(try fixture.ledger.charges(scope: "health_panel").isEmpty)
        // A δ that underflows to −0 reads as 0, as on the command line: answered, and charged δ 0.
        let underflow = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana",
                                               body: Data(("{" + sql + #", "epsilon": 1, "delta": -1e-400}"#).utf8))
        #expect(underflow.status == 200, "\(String(decoding: underflow.body.prefix(300), as: UTF8.self))")
        #expect(try fixture.ledger.charges(scope: "health_panel").map { $0.reservation.cost.delta.sign == .plus && $0.reservation.cost.delta == 0 } == [true])
    }

    @Test("the configuration file: paths relative to it, limits, and refusals of secrets in place of digests")
    func configurationFile() throws {
        let fixture = try ServiceFixture()
        let digest = AccessToken.digest(of: "veil_x")
        let yaml = """
            datasets:
              panel:
                database: \(healthDatabase)
                metadata: \(healthMetadata)
                ledger: ledger.sqlite
                budget: {epsilon: 3, delta: 1e-5}
            accounts:
              ana:
                role: analyst
                token_sha256: \(digest)
                limits:
                  panel: {epsilon: 1, delta: 1e-6}
            limits: {requests_per_minute: 5}
            """
        let url = fixture.folder.appendingPathComponent("service.yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        let configuration = try ServiceConfiguration.load(contentsOf: url)
        #expect(configuration.datasets[0].ledger == fixture.folder.appendingPathComponent("ledger.sqlite").standardizedFileURL.path)
        #expect(configuration.accounts[0].limits["panel"] == (try AnalystLimit(epsilon: 1, delta: 1e-6)))
        #expect(configuration.limits.requestsPerMinute == 5)
        try yaml.replacingOccurrences(of: digest, with: "veil_x").write(to: url, atomically: true, encoding: .utf8)
        let refused = #expect(throws: VeilError.self) { try ServiceConfiguration.load(contentsOf: url) }
        #expect(refused?.message.contains("token_sha256 must be 64 hexadecimal digits") == true)
        // A misspelt key is refused rather than ignored.
        try yaml.replacingOccurrences(of: "    limits:", with: "    limts:").write(to: url, atomically: true, encoding: .utf8)
        let misspelt = #expect(throws: VeilError.self) { try ServiceConfiguration.load(contentsOf: url) }
        #expect(misspelt?.message.contains("unknown key accounts.ana.limts") == true)
        try yaml.replacingOccurrences(of: "{epsilon: 1, delta: 1e-6}", with: "{epsilon: 1, detla: 1e-6}")
            .write(to: url, atomically: true, encoding: .utf8)
        let limit = #expect(throws: VeilError.self) { try ServiceConfiguration.load(contentsOf: url) }
        #expect(limit?.message.contains("unknown key accounts.ana.limits.panel.detla") == true)
    }

    @Test("requests past the per-account rate limit get 429; each account has its own bucket")
    func rateLimit() async throws {
        let fixture = try ServiceFixture()
        var configuration = fixture.configuration
        configuration.limits.requestsPerMinute = 1   // one request, then one more a minute later
        let service = try QueryService(configuration: configuration)
        func budget(_ account: String) async -> Int {
            await service.respond(to: ServiceRequest(method: "GET", path: "/v1/me/budget",
                                                     authorization: "Bearer \(fixture.secrets[account]!)")).status
        }
        // Empty ana's bucket (capacity 1), then ask at once: no refill can happen in between.
        #expect(service.rateLimiter.admit("ana"))
        let second = await service.respond(to: ServiceRequest(method: "GET", path: "/v1/me/budget",
                                                              authorization: "Bearer \(fixture.secrets["ana"]!)"))
        #expect(second.status == 429 && second.headers["Retry-After"] == "1")
        #expect(await budget("bob") == 200)
    }

    @Test("the token bucket: capacity a minute's requests, refilled continuously")
    func tokenBucket() {
        let limiter = RateLimiter(perMinute: 3)
        let start = ContinuousClock.now
        #expect((0..<4).map { _ in limiter.admit("ana", now: start) } == [true, true, true, false])
        #expect(limiter.admit("ana", now: start + .seconds(19)) == false)
        #expect(limiter.admit("ana", now: start + .seconds(21)) == true)   // 3 a minute: one more after 20 s
        #expect(limiter.admit("ana", now: start + .seconds(22)) == false)
        #expect(limiter.admit("bob", now: start + .seconds(22)) == true)
    }

    @Test("past the concurrency limit a request gets 503 at once (busy, exit code 1), and is admitted again after one leaves")
    func concurrencyLimit() async throws {
        let fixture = try ServiceFixture()
        var configuration = fixture.configuration
        configuration.limits.maximumConcurrentRequests = 1
        let service = try QueryService(configuration: configuration)
        #expect(service.admission.enter())   // one request in flight
        let busy = await service.respond(to: ServiceRequest(method: "GET", path: "/v1/me/budget",
                                                            authorization: "Bearer \(fixture.secrets["ana"]!)"))
        #expect(busy.status == 503 && String(decoding: busy.body, as: UTF8.self).contains(#""code":"busy""#))
        service.admission.leave()
        let admitted = await service.respond(to: ServiceRequest(method: "GET", path: "/v1/me/budget",
                                                                authorization: "Bearer \(fixture.secrets["ana"]!)"))
        #expect(admitted.status == 200)
    }

    @Test("past the statement time limit the query fails with query_timeout (500, exit code 1) and its charge stands")
    func statementTimeLimit() async throws {
        let fixture = try ServiceFixture()
        let panel = try makeLargePanel(in: fixture.folder, rows: 1_000_000)
        var configuration = fixture.configuration
        configuration.datasets.append(.init(name: "big", database: panel.database, metadata: panel.metadata,
                                            ledger: fixture.ledgerPath, budget: .init(epsilon: 10, delta: 1e-5)))
        configuration.accounts[0].limits["big"] = try AnalystLimit(epsilon: 1, delta: 0)
        configuration.limits.statementSeconds = 0.001
        let service = try QueryService(configuration: configuration)
        let body = try JSONSerialization.data(withJSONObject: ServiceFixture.query(ServiceProcessTests.query, epsilon: 0.5))
        let answer = await service.respond(to: ServiceRequest(method: "POST", path: "/v1/datasets/big/queries",
                                                              authorization: "Bearer \(fixture.secrets["ana"]!)", body: body))
        let error = try #require((try JSONSerialization.jsonObject(with: answer.body) as? [String: Any])?["error"] as? [String: Any])
        #expect(answer.status == 500)
        #expect(error["code"] as? String == "query_timeout" && error["exit_code"] as? Int == 1)
        #expect((error["message"] as? String)?.contains("was spent") == true)
        let charges = try fixture.ledger.charges(scope: "big")
        #expect(charges.map(\.state) == [.committed])
        #expect(try fixture.ledger.spending(scope: "big", analyst: "ana").epsilon == 0.5)
    }

    @Test("tokens: 256 random bits, digests are SHA-256")
    func tokens() {
        let a = AccessToken.newSecret(), b = AccessToken.newSecret()
        #expect(a != b && a.hasPrefix("veil_") && a.count == 69)
        #expect(AccessToken.digest(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
