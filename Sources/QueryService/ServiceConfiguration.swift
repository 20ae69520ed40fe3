import BudgetLedger
import CheckedYAML
import Foundation
import Mechanisms
import Yams

/// The data owner's configuration of the query service (`veil service --config service.yaml`): the datasets,
/// the accounts and their limits. Analysts cannot change any of it: they only name a dataset and send a query.
///
/// ```yaml
/// datasets:
///   health_panel:
///     database: datasets/health_panel.sqlite         # SQLite, opened read-only
///     metadata: datasets/health_panel.privacy.yaml   # its scope is the ledger budget charged
///     ledger: service-ledger.sqlite
///     budget: {epsilon: 10, delta: 1e-5}             # created in the ledger when the scope has none yet
/// accounts:
///   ana:
///     role: analyst
///     token_sha256: 3f1c…                            # `veil service token` prints a secret and this digest
///     limits:
///       health_panel: {epsilon: 2, delta: 1e-6}      # the datasets ana may query, and her share of each
///   audrey: {role: auditor, token_sha256: 9a0b…}
/// limits:
///   max_body_bytes: 65536
///   requests_per_minute: 600
///   statement_seconds: 30
///   max_concurrent_requests: 64
/// ```
///
/// Relative paths are resolved against the folder of the configuration file.
public struct ServiceConfiguration: Sendable {
    /// One dataset as the owner configured it.
    public struct Dataset: Sendable, Hashable {
        /// The name analysts use in URLs (`/v1/datasets/{name}`).
        public var name: String
        /// The SQLite database file.
        public var database: String
        /// The privacy metadata (YAML).
        public var metadata: String
        /// The ledger file.
        public var ledger: String
        /// The budget to create in the ledger when the metadata's scope has none yet.
        public var budget: Budget?

        public init(name: String, database: String, metadata: String, ledger: String, budget: Budget? = nil) {
            self.name = name
            self.database = database
            self.metadata = metadata
            self.ledger = ledger
            self.budget = budget
        }

        /// The total of a budget created by the service.
        public struct Budget: Sendable, Hashable, Codable {
            /// Total ε.
            public var epsilon: Double
            /// Total δ.
            public var delta: Double
            /// `basic` (the default), `rdp` or `zcdp`.
            public var composition: String?

            public init(epsilon: Double, delta: Double, composition: String? = nil) {
                self.epsilon = epsilon
                self.delta = delta
                self.composition = composition
            }
        }
    }

    /// One account.
    public struct Account: Sendable, Hashable {
        /// The account's name, recorded in the ledger as the analyst of its queries.
        public var name: String
        /// What it may do.
        public var role: ServiceRole
        /// The SHA-256 (lowercase hexadecimal) of its bearer token.
        public var tokenDigest: String
        /// For analysts: the datasets it may query and its limit in each (no entry, no access).
        public var limits: [String: AnalystLimit]

        public init(name: String, role: ServiceRole, tokenDigest: String, limits: [String: AnalystLimit] = [:]) {
            self.name = name
            self.role = role
            self.tokenDigest = tokenDigest
            self.limits = limits
        }
    }

    /// Request limits.
    public struct Limits: Sendable, Hashable {
        /// The largest request body accepted, in bytes (default 64 KiB).
        public var maximumBodyBytes = 65_536
        /// Requests one account may make per minute (default 600); more get 429.
        public var requestsPerMinute = 600
        /// The longest a query's statements may run, in seconds (default 30); past it the charge stands.
        public var statementSeconds: Double = 30
        /// The most requests worked on at once (default 64); more get 503.
        public var maximumConcurrentRequests = 64

        public init() {}
    }

    /// The datasets, by name.
    public var datasets: [Dataset]
    /// The accounts.
    public var accounts: [Account]
    /// Request limits.
    public var limits: Limits

    /// A configuration, validated (see ``validate()``).
    public init(datasets: [Dataset], accounts: [Account], limits: Limits = Limits()) throws {
        self.datasets = datasets
        self.accounts = accounts
        self.limits = limits
        try validate()
    }

    /// Refuses duplicate names and digests, malformed digests, limits on unknown datasets, and non-positive limits.
    /// - Throws: `invalidInput` with one line naming the problem.
    public func validate() throws {
        guard !datasets.isEmpty else { throw VeilError(.invalidInput, "the service configuration names no dataset") }
        var names = Set<String>()
        for dataset in datasets {
            guard Self.isName(dataset.name) else {
                throw VeilError(.invalidInput, "dataset name \"\(dataset.name)\": use 1 to 64 letters, digits, '_', '-' or '.'")
            }
            guard names.insert(dataset.name).inserted else { throw VeilError(.invalidInput, "dataset \(dataset.name) is configured twice") }
        }
        var digests = Set<String>()
        for account in accounts {
            guard Self.isName(account.name) else {
                throw VeilError(.invalidInput, "account name \"\(account.name)\": use 1 to 64 letters, digits, '_', '-' or '.'")
            }
            guard AccessToken.isDigest(account.tokenDigest) else {
                throw VeilError(.invalidInput, "account \(account.name): token_sha256 must be 64 hexadecimal digits "
                                + "(the digest `veil service token` prints, never the secret itself)")
            }
            guard digests.insert(account.tokenDigest.lowercased()).inserted else {
                throw VeilError(.invalidInput, "account \(account.name) has the same token digest as another account")
            }
            for dataset in account.limits.keys where !names.contains(dataset) {
                throw VeilError(.invalidInput, "account \(account.name) has a limit on dataset \(dataset), which is not configured")
            }
            if account.role != .analyst, !account.limits.isEmpty {
                throw VeilError(.invalidInput, "account \(account.name) is an \(account.role.rawValue): only analysts have query limits")
            }
        }
        guard limits.maximumBodyBytes >= 1024, limits.maximumBodyBytes <= 16 << 20 else {
            throw VeilError(.invalidInput, "limits.max_body_bytes must be in [1024, 16777216]")
        }
        guard limits.maximumConcurrentRequests >= 1, limits.maximumConcurrentRequests <= 4096 else {
            throw VeilError(.invalidInput, "limits.max_concurrent_requests must be in [1, 4096]")
        }
        guard limits.requestsPerMinute >= 1 else { throw VeilError(.invalidInput, "limits.requests_per_minute must be at least 1") }
        guard limits.statementSeconds.isFinite, limits.statementSeconds > 0, limits.statementSeconds <= 86_400 else {
            throw VeilError(.invalidInput, "limits.statement_seconds must be in (0, 86400]")
        }
    }

    static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.unicodeScalars.allSatisfy { s in
            (s >= "a" && s <= "z") || (s >= "A" && s <= "Z") || (s >= "0" && s <= "9") || s == "_" || s == "-" || s == "."
        }
    }

    // MARK: - YAML

    private struct File: Decodable {
        struct DatasetEntry: Decodable {
            var database: String
            var metadata: String
            var ledger: String
            var budget: Dataset.Budget?
        }
        struct LimitEntry: Decodable { var epsilon: Double; var delta: Double? }
        struct AccountEntry: Decodable {
            var role: ServiceRole
            var token_sha256: String
            var limits: [String: LimitEntry]?
        }
        struct LimitsEntry: Decodable {
            var max_body_bytes: Int?
            var requests_per_minute: Int?
            var statement_seconds: Double?
            var max_concurrent_requests: Int?
        }
        var datasets: [String: DatasetEntry]
        var accounts: [String: AccountEntry]?
        var limits: LimitsEntry?
    }

    /// Reads a configuration file; relative paths in it are resolved against its folder.
    /// - Throws: `invalidInput` naming the file and the problem.
    public static func load(contentsOf url: URL) throws -> ServiceConfiguration {
        guard let data = FileManager.default.contents(atPath: url.path), let text = String(data: data, encoding: .utf8) else {
            throw VeilError(.invalidInput, "cannot read the service configuration \(url.path)")
        }
        let file: File
        do {
            try checkKeys(try CheckedYAML.compose(text))
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch let error as VeilError {
            throw VeilError(.invalidInput, "the service configuration \(url.path) is not valid: \(error.message)")
        } catch {
            throw VeilError(.invalidInput, "the service configuration \(url.path) is not valid: \(Self.describe(error))")
        }
        let folder = url.deletingLastPathComponent()
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : folder.appendingPathComponent(path).standardizedFileURL.path
        }
        let datasets = file.datasets.keys.sorted().map { name -> Dataset in
            let entry = file.datasets[name]!
            return Dataset(name: name, database: resolve(entry.database), metadata: resolve(entry.metadata),
                           ledger: Ledger.isServerLocation(entry.ledger) ? entry.ledger : resolve(entry.ledger), budget: entry.budget)
        }
        var accounts: [Account] = []
        for (name, entry) in (file.accounts ?? [:]).sorted(by: { $0.key < $1.key }) {
            var limits: [String: AnalystLimit] = [:]
            for (dataset, limit) in entry.limits ?? [:] {
                do {
                    limits[dataset] = try AnalystLimit(epsilon: limit.epsilon, delta: limit.delta ?? 0)
                } catch let error as VeilError {
                    throw VeilError(.invalidInput, "account \(name), dataset \(dataset): \(error.message)")
                }
            }
            accounts.append(Account(name: name, role: entry.role, tokenDigest: entry.token_sha256.lowercased(), limits: limits))
        }
        var limits = Limits()
        if let l = file.limits {
            if let v = l.max_body_bytes { limits.maximumBodyBytes = v }
            if let v = l.requests_per_minute { limits.requestsPerMinute = v }
            if let v = l.statement_seconds { limits.statementSeconds = v }
            if let v = l.max_concurrent_requests { limits.maximumConcurrentRequests = v }
        }
        return try ServiceConfiguration(datasets: datasets, accounts: accounts, limits: limits)
    }

    /// Refuses keys the configuration does not know (a misspelt `limits` or `delta` would otherwise be ignored
    /// without a word). - Throws: `invalidInput` naming the key's path.
    static func checkKeys(_ root: Node?) throws {
        func pairs(_ node: Node?) -> [(String, Node)] {
            (node?.mapping ?? [:]).map { ($0.key.string ?? "?", $0.value) }
        }
        func expect(_ node: Node?, _ keys: Set<String>, at path: String) throws {
            for (key, _) in pairs(node) where !keys.contains(key) {
                throw VeilError(.invalidInput, "unknown key \(path.isEmpty ? "" : path + ".")\(key) (expected one of "
                                + keys.sorted().joined(separator: ", ") + ")")
            }
        }
        try expect(root, ["datasets", "accounts", "limits"], at: "")
        for (name, dataset) in pairs(root?.mapping?["datasets"]) {
            try expect(dataset, ["database", "metadata", "ledger", "budget"], at: "datasets.\(name)")
            try expect(dataset.mapping?["budget"], ["epsilon", "delta", "composition"], at: "datasets.\(name).budget")
        }
        for (name, account) in pairs(root?.mapping?["accounts"]) {
            try expect(account, ["role", "token_sha256", "limits"], at: "accounts.\(name)")
            for (dataset, limit) in pairs(account.mapping?["limits"]) {
                try expect(limit, ["epsilon", "delta"], at: "accounts.\(name).limits.\(dataset)")
            }
        }
        try expect(root?.mapping?["limits"], ["max_body_bytes", "requests_per_minute", "statement_seconds",
                                              "max_concurrent_requests"], at: "limits")
    }

    /// A one-line description of a decoding error (the key path and what was expected).
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing \((context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.dataCorrupted(let context):
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        default:
            return String(describing: error).split(separator: "\n").first.map(String.init) ?? "unreadable YAML"
        }
    }
}
