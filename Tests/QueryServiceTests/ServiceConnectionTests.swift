import BudgetLedger
import Foundation
import Testing
@testable import QueryService

@Suite("Query service: read-only connections kept between queries")
struct ServiceConnectionTests {
    @Test("queries one after another share one connection; 8 at once open at most 8; every query answered and charged")
    func connectionsAreKept() async throws {
        let fixture = try ServiceFixture(datasetEpsilon: 100, analystEpsilon: 10, extraAnalysts: 8)
        let pool = try #require(fixture.service.datasets["health_panel"]).connections
        #expect(pool.openedCount == 0)
        var years: [[Int]] = []
        for _ in 0..<5 {
            let answer = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana",
                                                json: ServiceFixture.query(groupedQuery, epsilon: 0.1))
            #expect(answer.status == 200)
            years.append((answer.object["rows"] as? [[String: Any]] ?? []).compactMap { $0["year"] as? Int })
        }
        #expect(pool.openedCount == 1)
        #expect(years.allSatisfy { $0 == [1984, 1985, 1986, 1987, 1988] })
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for racer in 0..<8 {
                group.addTask {
                    try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "racer\(racer)",
                                           json: ServiceFixture.query(groupedQuery, epsilon: 0.1)).status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 8))
        #expect((1...8).contains(pool.openedCount))
        let charges = try fixture.ledger.charges(scope: "health_panel")
        #expect(charges.count == 13 && charges.allSatisfy { $0.state == .committed })
        // A dry-run reads no data and needs no connection.
        let dry = try await fixture.send("POST", "/v1/datasets/health_panel/queries:dry-run", as: "ana",
                                         json: ServiceFixture.query(groupedQuery, epsilon: 0.1))
        #expect(dry.status == 200)
        #expect(try #require(fixture.service.datasets["other"]).connections.openedCount == 0)
    }

    @Test("a query refused before reading (analyst limit) leaves the kept connection usable for the next analyst")
    func refusalKeepsServing() async throws {
        let fixture = try ServiceFixture(datasetEpsilon: 10, analystEpsilon: 0.3)
        let first = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana",
                                           json: ServiceFixture.query(groupedQuery, epsilon: 0.2))
        let refused = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "ana",
                                             json: ServiceFixture.query(groupedQuery, epsilon: 0.2))
        let bob = try await fixture.send("POST", "/v1/datasets/health_panel/queries", as: "bob",
                                         json: ServiceFixture.query(groupedQuery, epsilon: 0.2))
        #expect([first.status, refused.status, bob.status] == [Int]([200, 403, 200]))
        #expect(ServiceFixture.code(refused.object) == "budget_exhausted")
        #expect(try fixture.ledger.charges(scope: "health_panel").count == 2)
    }
}
