import BudgetLedger
import Foundation
import Testing
@testable import QueryService

let groupedQuery = "SELECT year, COUNT(*) AS n FROM visits GROUP BY year"

@Suite("Query service: authentication, roles and isolation")
struct ServiceSecurityTests {
    @Test("a missing, malformed or wrong token gets 401 before anything else: no routing, no body check, no ledger entry")
    func unauthorizedFirst() async throws {
        let fixture = try ServiceFixture()
        let before = try fixture.ledger.head()
        let huge = ["sql": String(repeating: "x", count: 200_000), "epsilon": 1] as [String: Any]
        for authorization: String? in [nil, "veil_" + String(repeating: "0", count: 64), "Basic YWxhZGRpbg==", ""] {
            for (method, path) in [("POST", "/v1/datasets/health_panel/queries"), ("GET", "/v1/datasets/nosuch"),
                                   ("GET", "/v1/nosuch"), ("GET", "/v1/audit/report"), ("GET", "/v1/me/budget")] {
                let (status, object, _) = try await fixture.send(method, path, as: authorization, json: huge)
                #expect(status == 401, "\(method) \(path) with \(authorization ?? "no token")")
                #expect(ServiceFixture.code(object) == "unauthorized")
                #expect((object["error"] as? [String: Any])?["exit_code"] as? Int == 2)
            }
        }
        // The secret's digest is not a token either.
        let digest = AccessToken.digest(of: fixture.secrets["ana"]!)
        #expect(try await fixture.send("GET", "/v1/me/budget", as: digest).status == 401)
        #expect(try fixture.ledger.head() == before)
        #expect(try await fixture.send("GET", "/v1/me/budget", as: "ana").status == 200)
        let lowercase = await fixture.service.respond(to: ServiceRequest(method: "GET", path: "/v1/me/budget",
                                                                        authorization: "bearer \(fixture.secrets["ana"]!)"))
        #expect(lowercase.status == 200)
    }

    @Test("an analyst cannot reach another dataset (404 whether or not it exists), another scope, or raw rows")
    func datasetIsolation() async throws {
        let fixture = try ServiceFixture()
        let before = try fixture.ledger.head()
        let other = try await fixture.send("POST", "/v1/datasets/other/queries", as: "ana",
                                           json: ServiceFixture.query(groupedQuery, epsilon: 0.1))
        let missing = try await fixture.send("POST", "/v1/datasets/nosuch/queries", as: "ana",
                                             json: ServiceFixture.query(groupedQuery, epsilon: 0.1))
        #expect(other.status == 404 && missing.status == 404)
        #expect(ServiceFixture.code(other.object) == "unknown_dataset")
        #expect(try await fixture.send("GET", "/v1/datasets/other", as: "ana").status == 404)
        // cyd, who has it, sees it; an owner sees every dataset.
        #expect(try await fixture.send("GET", "/v1/datasets/other", as: "cyd").status == 200)
        #expect(try await fixture.send("GET", "/v1/datasets/other", as: "olga").status == 200)
        // A request cannot pick a scope, a ledger or bounds.
        for field in ["scope", "ledger", "metadata", "bounds"] {
            var body = ServiceFixture.query(groupedQuery, epsilon: 0.1)
            body[field] = "other_panel"
            let answer = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana", json: body)
            #expect(answer.status == 400 && ServiceFixture.code(answer.object) == "invalid_input", "field \(field)")
        }
        // Raw rows and unnoised values are refused by the engine before anything is reserved.
        for sql in ["SELECT * FROM visits", "SELECT person_id, income FROM visits", "SELECT income FROM visits WHERE person_id = 1"] {
            let answer = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana",
                                                json: ServiceFixture.query(sql, epsilon: 0.1))
            #expect(answer.status == 400, "\(sql)")
            #expect(["query_refused", "invalid_query"].contains(ServiceFixture.code(answer.object) ?? ""), "\(sql)")
        }
        #expect(try fixture.ledger.head() == before)
        #expect(try fixture.ledger.budget(scope: "other_panel").epsilon == 10)
    }

    @Test("the dataset description holds the schema and bounds, nothing about the data or the files")
    func description() async throws {
        let fixture = try ServiceFixture()
        let (status, object, body) = try await fixture.send("GET", "/v1/datasets/health_panel", as: "ana")
        #expect(status == 200)
        #expect(object["scope"] as? String == "health_panel")
        let table = try #require((object["tables"] as? [[String: Any]])?.first)
        #expect(table["privacy_unit"] as? String == "person_id" && table["max_partitions_per_unit"] as? Int == 5)
        let columns = try #require(table["columns"] as? [[String: Any]])
        let income = try #require(columns.first { $0["name"] as? String == "income" })
        #expect(income["lower"] as? Double == 0 && income["upper"] as? Double == 15)
        let text = String(decoding: body, as: UTF8.self)
        #expect(!text.contains(".sqlite") && !text.contains("ledger") && !text.contains("19609"))
    }

    @Test("an analyst sees only their own past queries and budget")
    func ownHistoryOnly() async throws {
        let fixture = try ServiceFixture()
        let bobs = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "bob",
                                          json: ServiceFixture.query(groupedQuery, epsilon: 0.2))
        #expect(bobs.status == 200)
        let anas = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana",
                                          json: ServiceFixture.query("SELECT COUNT(*) AS n FROM visits", epsilon: 0.1))
        #expect(anas.status == 200)
        let history = try await fixture.send("GET", "/v1/me/queries", as: "ana")
        let queries = try #require(history.object["queries"] as? [[String: Any]])
        #expect(queries.count == 1)
        #expect(queries[0]["purpose"] as? String == "test | SELECT COUNT(*) AS n FROM visits")
        #expect(!String(decoding: history.body, as: UTF8.self).contains("GROUP BY year"))
        let budget = try await fixture.send("GET", "/v1/me/budget", as: "ana")
        let entries = try #require(budget.object["datasets"] as? [[String: Any]])
        #expect(entries.count == 1 && entries[0]["dataset"] as? String == "health_panel")
        #expect((entries[0]["spent"] as? [String: Any])?["epsilon"] as? Double == 0.1)
        // The ledger records the analyst, the purpose and the query.
        let charges = try fixture.ledger.charges(scope: "health_panel")
        #expect(charges.map(\.reservation.analyst).sorted() == ["ana", "bob"])
        #expect(charges.allSatisfy { $0.state == .committed })
    }

    @Test("auditors and owners cannot run queries or dry-runs; analysts cannot read the audit report")
    func roles() async throws {
        let fixture = try ServiceFixture()
        let before = try fixture.ledger.head()
        for account in ["audrey", "olga"] {
            for path in ["/v1/datasets/health_panel/queries", "/v1/datasets/health_panel/queries:dry-run"] {
                let answer = try await fixture.send("POST", path, as: account, json: ServiceFixture.query(groupedQuery, epsilon: 0.1))
                #expect(answer.status == 403 && ServiceFixture.code(answer.object) == "forbidden", "\(account) \(path)")
            }
        }
        #expect(try fixture.ledger.head() == before)
        let report = try await fixture.send("GET", "/v1/audit/report", as: "audrey")
        #expect(report.status == 200 && String(decoding: report.body, as: UTF8.self).contains("health_panel"))
        let heads = try await fixture.send("GET", "/v1/audit/head", as: "audrey")
        #expect((heads.object["heads"] as? [[String: Any]])?.first?["hash"] as? String == before.hash)
        #expect(try await fixture.send("GET", "/v1/audit/report", as: "ana").status == 403)
        #expect(try await fixture.send("GET", "/v1/audit/head", as: "ana").status == 403)
    }

    @Test("every request is logged with account, path and status, never the query or its result")
    func requestLog() async throws {
        let fixture = try ServiceFixture()
        let answer = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana",
                                            json: ServiceFixture.query(groupedQuery, epsilon: 0.5))
        #expect(answer.status == 200)
        _ = try await fixture.send("GET", "/v1/me/budget", as: nil)
        let lines = fixture.logLines.lines
        #expect(lines.count == 2)
        #expect(lines[0].contains(" ana POST /v1/datasets/health_panel/queries 200 "))
        #expect(lines[1].contains(" - GET /v1/me/budget 401 "))
        #expect(!lines.joined().contains("COUNT") && !lines.joined().contains("1984"))
    }
}
