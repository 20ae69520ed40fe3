import _TestSupport
import BudgetLedger
import Foundation
@testable import QueryService

/// The repository's root folder.
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The shipped health panel and its metadata.
let healthDatabase = repositoryRoot.appendingPathComponent("datasets/health_panel.sqlite").path
let healthMetadata = repositoryRoot.appendingPathComponent("datasets/health_panel.privacy.yaml").path

/// A service over the shipped health panel (dataset `health_panel`, scope `health_panel`) and a second dataset
/// `other` (the same file under another scope, `other_panel`), with a ledger of its own in a temporary folder.
/// Accounts: analysts `ana` and `bob` (limits on `health_panel` only), `cyd` (limit on `other` only), auditor
/// `audrey`, owner `olga`; their secrets are in ``secrets``.
final class ServiceFixture: @unchecked Sendable {
    let folder: URL
    let ledgerPath: String
    var secrets: [String: String] = [:]
    let configuration: ServiceConfiguration
    let service: QueryService
    let logLines = LogLines()

    init(datasetEpsilon: Double = 10, analystEpsilon: Double = 1, extraAnalysts: Int = 0) throws {
        folder = try TemporaryDirectory.make("service-tests")
        ledgerPath = folder.appendingPathComponent("ledger.sqlite").path
        let otherMetadata = folder.appendingPathComponent("other.privacy.yaml")
        let yaml = try String(contentsOfFile: healthMetadata, encoding: .utf8)
            .replacingOccurrences(of: "scope: health_panel", with: "scope: other_panel")
        try yaml.write(to: otherMetadata, atomically: true, encoding: .utf8)
        let budget = ServiceConfiguration.Dataset.Budget(epsilon: datasetEpsilon, delta: 1e-5, composition: nil)
        let datasets = [
            ServiceConfiguration.Dataset(name: "health_panel", database: healthDatabase, metadata: healthMetadata,
                                         ledger: ledgerPath, budget: budget),
            ServiceConfiguration.Dataset(name: "other", database: healthDatabase, metadata: otherMetadata.path,
                                         ledger: ledgerPath, budget: budget),
        ]
        let limit = try AnalystLimit(epsilon: analystEpsilon, delta: 1e-6)
        var accounts: [ServiceConfiguration.Account] = []
        var secrets: [String: String] = [:]
        func add(_ name: String, _ role: ServiceRole, _ limits: [String: AnalystLimit]) {
            let secret = AccessToken.newSecret()
            secrets[name] = secret
            accounts.append(.init(name: name, role: role, tokenDigest: AccessToken.digest(of: secret), limits: limits))
        }
        add("ana", .analyst, ["health_panel": limit])
        add("bob", .analyst, ["health_panel": limit])
        add("cyd", .analyst, ["other": limit])
        add("audrey", .auditor, [:])
        add("olga", .owner, [:])
        for i in 0..<extraAnalysts { add("racer\(i)", .analyst, ["health_panel": limit]) }
        self.secrets = secrets
        configuration = try ServiceConfiguration(datasets: datasets, accounts: accounts)
        let lines = logLines
        service = try QueryService(configuration: configuration) { lines.append($0) }
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Sends a request as `account` (nil: no token).
    func send(_ method: String, _ path: String, as account: String?, json: [String: Any]? = nil,
              parameters: [String: String] = [:]) async throws -> (status: Int, object: [String: Any], body: Data) {
        try await send(method, path, as: account, body: try json.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data(),
                       parameters: parameters)
    }

    /// Sends `body` as it is (bytes no JSON library would write).
    func send(_ method: String, _ path: String, as account: String?, body: Data,
              parameters: [String: String] = [:]) async throws -> (status: Int, object: [String: Any], body: Data) {
        let authorization = account.map { "Bearer \(secrets[$0] ?? $0)" }
        let response = await service.respond(to: ServiceRequest(method: method, path: path, parameters: parameters,
                                                                authorization: authorization, body: body))
        let object = (try? JSONSerialization.jsonObject(with: response.body)) as? [String: Any] ?? [:]
        return (response.status, object, response.body)
    }

    /// A query request body.
    static func query(_ sql: String, epsilon: Double, delta: Double = 0) -> [String: Any] {
        ["sql": sql, "epsilon": epsilon, "delta": delta, "purpose": "test"]
    }

    /// The error code of an error answer.
    static func code(_ object: [String: Any]) -> String? {
        (object["error"] as? [String: Any])?["code"] as? String
    }

    var ledger: Ledger { get throws { try Ledger(path: ledgerPath) } }
}

/// Lines a test's service logged.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.withLock { stored.append(line) } }
    var lines: [String] { lock.withLock { stored } }
}
