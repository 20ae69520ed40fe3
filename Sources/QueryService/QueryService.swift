import Accounting
import BudgetLedger
import Foundation
import Mechanisms
import PrivateSQL

/// The private query service: analysts ask, the data owner's configuration decides, the ledger remembers.
///
/// Every `/v1/` request is authenticated first: a missing or wrong bearer token gets 401 before the body is read,
/// a dataset is looked up or the ledger is touched. Then the account's rate limit, then its role:
///
/// - `POST /v1/datasets/{name}/queries` (analysts): answered by ``PrivateQueryEngine`` — plan, reserve the cost
///   against both the dataset's budget and the analyst's limit in one ledger transaction
///   (``LedgerBudgetCharger/analystLimit``), read, add exact integer noise, commit. The ledger records the analyst,
///   the purpose and the query text.
/// - `POST /v1/datasets/{name}/queries:dry-run` (analysts): the cost and expected accuracy; reads no data.
/// - `GET /v1/datasets/{name}`: what an analyst needs to write a query (``ServiceDataset/description``).
/// - `GET /v1/me/budget`, `GET /v1/me/queries`: the account's own limits, spending and past queries.
/// - `GET /v1/audit/report` (HTML), `GET /v1/audit/head` (auditors and owners).
///
/// An analyst sees only the datasets the configuration gives them; any other name, existing or not, is 404.
/// Blocking work (SQLite, the ledger) runs on a dispatch queue, not on the server's event loops.
public final class QueryService: Sendable {
    /// The configuration.
    public let configuration: ServiceConfiguration
    /// The opened datasets, by name.
    public let datasets: [String: ServiceDataset]
    let accountsByDigest: [String: ServiceConfiguration.Account]
    let rateLimiter: RateLimiter
    let admission: AdmissionLimit
    let log: @Sendable (String) -> Void
    let work = DispatchQueue(label: "veil.service.work", attributes: .concurrent)

    /// Opens every dataset of `configuration` (creating budgets it declares) and indexes the accounts.
    /// - Parameter log: receives one line per request: time, account, method, path, status and latency, never a
    ///   query or a result.
    public init(configuration: ServiceConfiguration, log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        try configuration.validate()
        self.configuration = configuration
        var ledgers: [String: Ledger] = [:]
        var datasets: [String: ServiceDataset] = [:]
        for dataset in configuration.datasets {
            datasets[dataset.name] = try ServiceDataset(dataset, ledgers: &ledgers)
        }
        self.datasets = datasets
        accountsByDigest = Dictionary(uniqueKeysWithValues: configuration.accounts.map { ($0.tokenDigest.lowercased(), $0) })
        rateLimiter = RateLimiter(perMinute: configuration.limits.requestsPerMinute)
        admission = AdmissionLimit(capacity: configuration.limits.maximumConcurrentRequests)
        self.log = log
    }

    /// The account whose token digest matches the request's bearer token, or nil.
    ///
    /// The presented token is hashed and the digest looked up: timing can reveal at most something about a
    /// SHA-256 digest, which does not help to find a token.
    public func account(forAuthorization authorization: String?) -> ServiceConfiguration.Account? {
        guard let token = ServiceRequest(method: "", path: "", authorization: authorization).bearerToken,
              !token.isEmpty, token.utf8.count <= 256 else { return nil }
        return accountsByDigest[AccessToken.digest(of: token)]
    }

    /// Answers one request (see the type's documentation for the endpoints).
    public func respond(to request: ServiceRequest) async -> ServiceResponse {
        let start = ContinuousClock.now
        var who = "-"
        let response: ServiceResponse
        if let asset = ConsoleAssets.response(method: request.method, path: request.path) {
            response = asset
        } else if !request.path.hasPrefix("/v1/") {
            response = .notFound
        } else if let account = account(forAuthorization: request.authorization) {
            who = account.name
            if !rateLimiter.admit(account.name) {
                var limited = ServiceResponse.error(429, code: "rate_limited", "more than \(configuration.limits.requestsPerMinute) "
                                                    + "requests a minute; retry later", exitCode: VeilError.Category.failure.exitCode)
                limited.headers["Retry-After"] = "1"
                response = limited
            } else if request.body.count > configuration.limits.maximumBodyBytes {
                response = .error(413, code: "body_too_large", "the request body exceeds \(configuration.limits.maximumBodyBytes) bytes",
                                  exitCode: VeilError.Category.badInput.exitCode)
            } else if !admission.enter() {
                var busy = ServiceResponse.error(503, code: "busy", "the service is working on \(admission.capacity) requests; "
                                                 + "retry later", exitCode: VeilError.Category.failure.exitCode)
                busy.headers["Retry-After"] = "1"
                response = busy
            } else {
                response = await blocking { self.route(request, account: account) }
                admission.leave()
            }
        } else {
            response = .unauthorized
        }
        let elapsed = ContinuousClock.now - start
        let micros = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
        log("\(ServiceLog.timestamp()) \(who) \(request.method) \(ServiceLog.printable(request.path)) \(response.status) \(micros)us")
        return response
    }

    /// Runs `body` on the work queue.
    func blocking(_ body: @escaping @Sendable () -> ServiceResponse) async -> ServiceResponse {
        await withCheckedContinuation { continuation in
            work.async { continuation.resume(returning: body()) }
        }
    }

    // MARK: - Routing

    func route(_ request: ServiceRequest, account: ServiceConfiguration.Account) -> ServiceResponse {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        do {
            switch (request.method, parts.count, parts) {
            case ("GET", 3, let p) where p[1] == "me" && p[2] == "budget":
                return try budget(of: account)
            case ("GET", 3, let p) where p[1] == "me" && p[2] == "queries":
                return try history(of: account)
            case ("GET", 3, let p) where p[1] == "datasets":
                guard let dataset = visibleDataset(p[2], to: account) else { return .unknownDataset(p[2]) }
                return .json(200, dataset.description)
            case ("POST", 4, let p) where p[1] == "datasets" && (p[3] == "queries" || p[3] == "queries:dry-run"):
                guard account.role == .analyst else {
                    return .forbidden("\(account.name) is an \(account.role.rawValue): only analysts run queries")
                }
                guard let dataset = visibleDataset(p[2], to: account), let limit = account.limits[p[2]] else {
                    return .unknownDataset(p[2])
                }
                let body = try QueryRequestBody(request.body)
                return p[3] == "queries"
                    ? try query(body, on: dataset, by: account, limit: limit)
                    : try dryRun(body, on: dataset, by: account, limit: limit)
            case ("GET", 3, let p) where p[1] == "audit" && (p[2] == "report" || p[2] == "head"):
                guard account.role == .auditor || account.role == .owner else {
                    return .forbidden("\(account.name) is an \(account.role.rawValue): the audit report is for auditors and owners")
                }
                return p[2] == "report" ? try auditReport(request.parameters["dataset"]) : try chainHeads()
            default:
                return .notFound
            }
        } catch {
            return .failure(error)
        }
    }

    /// The dataset `name` if `account` may see it: analysts see the datasets they have a limit on; auditors and
    /// owners see all.
    func visibleDataset(_ name: String, to account: ServiceConfiguration.Account) -> ServiceDataset? {
        guard let dataset = datasets[name] else { return nil }
        return account.role == .analyst && account.limits[name] == nil ? nil : dataset
    }

    func engine(for dataset: ServiceDataset, limit: AnalystLimit) -> PrivateQueryEngine {
        let milliseconds = Int64((configuration.limits.statementSeconds * 1000).rounded(.up))
        return PrivateQueryEngine(metadata: dataset.metadata, databasePath: dataset.configuration.database,
                                  charger: LedgerBudgetCharger(ledger: dataset.ledger, scope: dataset.scope, analystLimit: limit),
                                  timeLimit: .milliseconds(milliseconds))
    }

    func plan(_ body: QueryRequestBody, engine: PrivateQueryEngine) throws -> QueryPlan {
        do {
            return try engine.plan(body.sql, budget: try PrivacyParameters(epsilon: body.epsilon, delta: body.delta))
        } catch let error as QueryError {
            throw error.veilError
        }
    }

    // MARK: - Queries

    func query(_ body: QueryRequestBody, on dataset: ServiceDataset, by account: ServiceConfiguration.Account,
               limit: AnalystLimit) throws -> ServiceResponse {
        let engine = engine(for: dataset, limit: limit)
        let plan = try plan(body, engine: engine)
        let release = try dataset.connections.withConnection { connection in
            try engine.execute(plan, analyst: account.name, purpose: body.ledgerPurpose,
                               confidenceLevel: body.confidence, connection: connection)
        }
        var object = (try JSONSerialization.jsonObject(with: release.json) as? [String: Any]) ?? [:]
        object["dataset"] = dataset.name
        // The release is committed: it is answered even if the remaining budget cannot be read back now.
        if let budget = try? analystBudget(dataset, account: account, limit: limit, includeDataset: false) {
            object["budget"] = budget
        }
        return .json(200, object)
    }

    func dryRun(_ body: QueryRequestBody, on dataset: ServiceDataset, by account: ServiceConfiguration.Account,
                limit: AnalystLimit) throws -> ServiceResponse {
        let plan = try plan(body, engine: engine(for: dataset, limit: limit))
        let widths = try plan.expectedHalfWidths(level: body.confidence)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let event = try JSONSerialization.jsonObject(with: try encoder.encode(plan.cost))
        let expected: [[String: Any]] = zip(plan.outputs, widths).map { column, width in
            switch width {
            case .exact(let h): ["column": column.name, "half_width": h]
            case .perCount(let h): ["column": column.name, "half_width_times_count": h]
            case .dataDependent: ["column": column.name, "data_dependent": true]
            }
        }
        return .json(200, [
            "dataset": dataset.name,
            "cost": ["epsilon": plan.budget.epsilon, "delta": plan.budget.delta],
            "noise": plan.noise == .laplace ? "discrete_laplace" : "discrete_gaussian",
            "event": event,
            "confidence_level": body.confidence,
            "expected_half_widths": expected,
            "budget": try analystBudget(dataset, account: account, limit: limit, includeDataset: true),
        ])
    }

    // MARK: - Budgets and history

    func analystBudget(_ dataset: ServiceDataset, account: ServiceConfiguration.Account, limit: AnalystLimit,
                       includeDataset: Bool) throws -> [String: Any] {
        let spent = try dataset.ledger.spending(scope: dataset.scope, analyst: account.name)
        var object: [String: Any] = [
            "dataset": dataset.name,
            "limit": ["epsilon": limit.epsilon, "delta": limit.delta],
            "spent": ["epsilon": spent.epsilon, "delta": spent.delta],
            "remaining": ["epsilon": max(0, limit.epsilon - spent.epsilon), "delta": max(0, limit.delta - spent.delta)],
            "queries": spent.charges,
        ]
        if includeDataset {
            let status = try dataset.ledger.status(scope: dataset.scope)
            object["dataset_remaining"] = ["epsilon": status.epsilonRemaining, "delta": status.deltaRemaining]
        }
        return object
    }

    func budget(of account: ServiceConfiguration.Account) throws -> ServiceResponse {
        var entries: [[String: Any]] = []
        for name in datasets.keys.sorted() {
            guard let dataset = visibleDataset(name, to: account) else { continue }
            if let limit = account.limits[name] {
                entries.append(try analystBudget(dataset, account: account, limit: limit, includeDataset: true))
            } else {
                let status = try dataset.ledger.status(scope: dataset.scope)
                entries.append(["dataset": name, "dataset_remaining": ["epsilon": status.epsilonRemaining,
                                                                       "delta": status.deltaRemaining]])
            }
        }
        return .json(200, ["account": account.name, "role": account.role.rawValue, "datasets": entries])
    }

    /// The account's own charges (never another account's), newest first, at most 200.
    func history(of account: ServiceConfiguration.Account) throws -> ServiceResponse {
        var entries: [(Date, [String: Any])] = []
        for (name, _) in account.limits.sorted(by: { $0.key < $1.key }) {
            guard let dataset = datasets[name] else { continue }
            for charge in try dataset.ledger.charges(scope: dataset.scope) where charge.reservation.analyst == account.name {
                var entry: [String: Any] = [
                    "dataset": name, "reservation": charge.reservation.id,
                    "time": ISO8601DateFormatter().string(from: charge.reservation.time),
                    "purpose": charge.reservation.purpose,
                    "cost": ["epsilon": charge.reservation.cost.epsilon, "delta": charge.reservation.cost.delta],
                    "state": charge.state.rawValue,
                ]
                if let digest = charge.resultDigest { entry["result_digest"] = digest }
                entries.append((charge.reservation.time, entry))
            }
        }
        let newest = entries.sorted { $0.0 > $1.0 }.prefix(200).map(\.1)
        return .json(200, ["account": account.name, "queries": Array(newest)])
    }

    // MARK: - Audit

    func auditReport(_ name: String?) throws -> ServiceResponse {
        guard let dataset = name.map({ datasets[$0] }) ?? datasets[datasets.keys.sorted()[0]] else {
            return .unknownDataset(name ?? "")
        }
        let report = try AuditReport(ledger: dataset.ledger, scope: dataset.scope)
        return ServiceResponse(status: 200, contentType: "text/html; charset=utf-8", body: Data(report.html().utf8))
    }

    func chainHeads() throws -> ServiceResponse {
        let heads: [[String: Any]] = try datasets.keys.sorted().map { name in
            let dataset = datasets[name]!
            let head = try dataset.ledger.head()
            return ["dataset": name, "scope": dataset.scope, "entry": head.id, "hash": head.hash]
        }
        return .json(200, ["heads": heads])
    }
}
