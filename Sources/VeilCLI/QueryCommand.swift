import Accounting
import ArgumentParser
import BudgetLedger
import Foundation
import Mechanisms
import PrivateSQL

/// `veil query`: one private SQL query, charged to the metadata's budget before the data is read.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Answer an aggregate SQL query with differential privacy, charged to the privacy budget.",
        discussion: HelpText.reflow("""
        The query is checked against the privacy metadata, rewritten so that each privacy unit's \
        contribution is bounded inside SQLite or PostgreSQL, and its cost (ε, δ) is reserved in the ledger under the \
        metadata's `scope` before the database is read. Every released number comes with a confidence \
        interval computed from the noise distribution. δ = 0 uses discrete Laplace noise; with δ > 0 (needed to \
        group by columns without public values) Veil plans the query with discrete Laplace and with discrete \
        Gaussian noise (zCDP) and uses the one whose expected errors are smaller (--noise chooses yourself); the \
        choice reads no data and the cost is the same.

        Examples:
          veil budget create health_panel --epsilon 3 --delta 1e-5
          veil query --db datasets/health_panel.sqlite \\
            --metadata datasets/health_panel.privacy.yaml --epsilon 0.5 \\
            "SELECT year, COUNT(*) AS n FROM visits GROUP BY year"
          veil query ... --epsilon 0.5 --delta 1e-6 --format json \\
            "SELECT age, AVG(doctor_visits) FROM visits GROUP BY age"
          veil query ... --keys ages.csv \\
            "SELECT age, COUNT(*) FROM visits GROUP BY age"
          veil query --db postgres://veil@db.example:5432/panel ... "SELECT region, COUNT(*) FROM visits GROUP BY region"
          veil query ... --explain "SELECT MEDIAN(income) FROM visits"
          veil query ... --dry-run "SELECT SUM(hospital_days) FROM visits"
          veil query --service http://127.0.0.1:8470 --token-file ana.token --dataset health_panel \\
            --epsilon 0.5 "SELECT year, COUNT(*) AS n FROM visits GROUP BY year"

        With --service the query goes to a query service (docs/service.md): the data owner's configuration \
        chooses the database, the metadata, the ledger and your limit; --db, --metadata, --ledger, --analyst, \
        --keys, --target-error, --weights and --explain do not apply.

        The database, its table and columns are checked before anything is reserved: a missing or wrong file \
        costs nothing. Once rows are read the charge stands, even if the query then fails or runs past \
        --timeout.

        Exit codes: 0 success, 1 the query failed after reading data or ran past --timeout (the charge \
        stands), 2 bad input or a refused query (the reason and, for syntax errors, a caret under the \
        position are printed on stderr; nothing is charged), 3 not enough budget left (nothing is read or \
        charged).
        """))

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, csv, json }

    @Option(help: ArgumentHelp("The SQLite database file, or a postgres://USER@HOST:PORT/DATABASE URL (contribution "
                               + "bounding then runs in the server; see docs/private-sql.md).", valueName: "file|url"))
    var db: String?

    @Option(help: ArgumentHelp("The privacy metadata (YAML); its scope is the budget charged.", valueName: "file"))
    var metadata: String?

    @Option(help: ArgumentHelp("Ask a query service (`veil service`) instead of reading a database: its base URL.",
                               valueName: "url"))
    var service: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("With --service: the file holding your bearer token.",
                                                                 valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("With --service: the dataset to query.", valueName: "name"))
    var dataset: String?

    @Option(parsing: .unconditional, help: "ε of this query (> 0), split across its noisy quantities by their effect on the answers' error.", transform: DecimalArgument.parse)
    var epsilon: Double = 1

    @Option(parsing: .unconditional, help: "δ of this query in [0, 1): > 0 allows partition selection and discrete Gaussian noise.", transform: DecimalArgument.parse)
    var delta: Double = 0

    @Option(help: ArgumentHelp("auto (the smaller expected errors; Laplace when δ = 0), laplace, or gaussian (needs δ > 0).",
                               valueName: "noise"))
    var noise: NoiseOption = .auto

    @Option(help: "Who asks, recorded in the ledger ($USER when set, else analyst).")
    var analyst: String = DefaultAnalyst.name

    @Option(help: "Why (recorded in the ledger; default: the query text).")
    var purpose: String?

    @Option(help: "table, csv or json.")
    var format: Format = .table

    @Flag(help: "Same as --format json (as the other commands spell it).")
    var json = false

    @Option(parsing: .unconditional, help: "Confidence level of the intervals, in (0, 1).", transform: DecimalArgument.parse)
    var confidence: Double = 0.95

    @Option(help: ArgumentHelp("Public group keys (CSV with a header, or JSON) replacing the metadata's public_values.",
                               valueName: "file"))
    var keys: String?

    @OptionGroup var ledger: LedgerOptions

    @Option(parsing: .unconditional,
            help: ArgumentHelp("Stop the query's statements after this many seconds (> 0; default 600). The data has "
                               + "been read by then, so the charge stands.", valueName: "seconds"))
    var timeout: Double = 600

    @Option(name: .customLong("target-error"), parsing: .unconditional,
            help: ArgumentHelp("Use the smallest ε (3 significant digits) at which every COUNT and SUM column's "
                               + "interval half-width (at --confidence) is at most this; replaces --epsilon. Found "
                               + "from the plan alone: reads no data.", valueName: "X"),
            transform: DecimalArgument.parse)
    var targetError: Double?

    @Option(help: ArgumentHelp("How much each aggregate's error counts when ε is split, one positive number per aggregate "
                               + "in order of first appearance, e.g. 2,1 (default: all 1).", valueName: "w1,w2,…"))
    var weights: String?

    @Flag(help: "Print the plan, the rewritten SQL and the cost; read no data and charge nothing.")
    var explain = false

    @Flag(name: .customLong("dry-run"), help: "Print the cost only; read no data and charge nothing.")
    var dryRun = false

    @Argument(help: "The query: one SELECT of Veil's SQL subset.")
    var query: String

    func validate() throws {
        if service != nil {
            guard tokenFile != nil, dataset != nil else {
                throw ValidationError("--service needs --token-file and --dataset")
            }
            guard db == nil, metadata == nil, ledger.path == nil, keys == nil, targetError == nil, weights == nil, !explain else {
                throw ValidationError("with --service the service's configuration chooses the database, metadata, ledger and "
                                      + "bounds: --db, --metadata, --ledger, --keys, --target-error, --weights and --explain do not apply")
            }
        } else {
            guard db != nil, metadata != nil else {
                throw ValidationError("give --db and --metadata (or --service, --token-file and --dataset)")
            }
            guard tokenFile == nil, dataset == nil else {
                throw ValidationError("--token-file and --dataset go with --service")
            }
        }
        guard confidence > 0, confidence < 1 else { throw ValidationError("--confidence must be in (0, 1), got \(confidence)") }
        guard !(explain && dryRun) else { throw ValidationError("--explain and --dry-run cannot be combined") }
        guard !json || format == .table || format == .json else {
            throw ValidationError("--json and --format \(format.rawValue) cannot be combined")
        }
        guard timeout.isFinite, timeout > 0, timeout <= 1e9 else {
            throw ValidationError("--timeout must be a number of seconds in (0, 1e9], got \(timeout)")
        }
        _ = try accuracyWeights()
    }

    /// `--weights` as numbers (the planner checks their count and range against the query's aggregates).
    func accuracyWeights() throws -> [Double]? {
        guard let weights else { return nil }
        let parts = weights.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard values.count == parts.count, values.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw ValidationError("--weights must be positive numbers separated by commas, e.g. 2,1; got '\(weights)'")
        }
        return values
    }

    func run() throws {
        if let service, let tokenFile, let dataset {
            return try runOnService(service, tokenFile: tokenFile, dataset: dataset)
        }
        guard let db, let metadata else { return }
        let privacy = try PrivacyMetadata.load(contentsOf: URL(fileURLWithPath: metadata))
        let budget = try PrivacyParameters(epsilon: epsilon, delta: delta)
        let weights = try accuracyWeights()
        func planAt(_ budget: PrivacyParameters, publicValues: [String: [SQLValue]] = [:], keysFile: URL? = nil) throws -> QueryPlan {
            do {
                return try QueryPlanner(metadata: privacy).plan(query, budget: budget, publicValues: publicValues,
                                                                keysFile: keysFile, noise: noise.queryNoise,
                                                                accuracyWeights: weights)
            } catch {
                throw error.veilError
            }
        }
        // The planner parses the query and reads the keys file against the queried table.
        var plan = try planAt(budget, keysFile: keys.map { URL(fileURLWithPath: $0) })
        if let targetError {
            // The search plans the query many times: the keys file is read once more, not once per step.
            let keyValues = try keys.map { path -> [String: [SQLValue]] in
                try KeysFile.load(contentsOf: URL(fileURLWithPath: path), table: plan.table)
            } ?? [:]
            let epsilon = try TargetErrorSearch.smallestEpsilon(target: targetError, level: confidence) { epsilon in
                try planAt(try PrivacyParameters(epsilon: epsilon, delta: delta), publicValues: keyValues)
            }
            plan = try planAt(try PrivacyParameters(epsilon: epsilon, delta: delta), publicValues: keyValues)
        }
        if dryRun {
            print(QueryText.cost(plan))
            print(try QueryText.expectedAccuracy(plan, level: confidence), terminator: "")
            return
        }
        if explain {
            print(QueryText.explanation(plan), terminator: "")
            print(try QueryText.expectedAccuracy(plan, level: confidence), terminator: "")
            return
        }
        let path = Ledger.resolvePath(ledger.path)
        guard Ledger.isServerLocation(path) || FileManager.default.fileExists(atPath: path) else {
            throw CLIFailure("no ledger at \(path): create the budget first, e.g. `veil budget create \(plan.scope) "
                             + "--epsilon 3 --delta 1e-5 --ledger \(path)`", exitCode: CLIExitCode.badInput)
        }
        let engine = PrivateQueryEngine(metadata: privacy, databasePath: db, ledger: try Ledger.open(location: path),
                                        timeLimit: .milliseconds(Int64((timeout * 1000).rounded(.up))))
        let release = try engine.execute(plan, analyst: analyst, purpose: purpose, confidenceLevel: confidence)
        switch json ? .json : format {
        case .json:
            print(String(decoding: release.json, as: UTF8.self))
        case .csv:
            print(QueryText.csv(release), terminator: "")
            FileHandle.standardError.write(Data((QueryText.footer(release, plan: plan, ledger: path) + "\n").utf8))
        case .table:
            print(QueryText.table(release), terminator: "")
            print(QueryText.footer(release, plan: plan, ledger: path))
        }
    }

    /// `--service`: sends the query (or the dry-run) to the query service and prints its answer as a local one.
    func runOnService(_ service: String, tokenFile: String, dataset: String) throws {
        let client = try ServiceClient(service: service, tokenFile: tokenFile)
        var body: [String: Any] = ["sql": query, "epsilon": epsilon, "delta": delta, "confidence": confidence]
        if let purpose { body["purpose"] = purpose }
        let name = dataset.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "_-."))) ?? ""
        let answer = try client.post("v1/datasets/\(name)/queries\(dryRun ? ":dry-run" : "")", body)
        let budget = answer["budget"] as? [String: Any]
        let remaining = (budget?["remaining"] as? [String: Any]).map { r in
            "your remaining budget on \(dataset): ε \(amount(ServiceClient.number(r["epsilon"]) ?? 0)), "
                + "δ \(amount(ServiceClient.number(r["delta"]) ?? 0))"
        }
        if dryRun {
            let cost = answer["cost"] as? [String: Any]
            print("cost: ε \(amount(ServiceClient.number(cost?["epsilon"]) ?? 0)), "
                  + "δ \(amount(ServiceClient.number(cost?["delta"]) ?? 0)) on dataset \(dataset) "
                  + "(\(answer["noise"] as? String == "discrete_laplace" ? "discrete Laplace" : "discrete Gaussian") noise)")
            if let remaining { print(remaining) }
            return
        }
        let format = json ? .json : self.format
        if format == .json {
            let data = try JSONSerialization.data(withJSONObject: answer, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let (columns, rows, intervals) = ServiceClient.rows(answer)
        let level = ServiceClient.number(answer["confidence_level"]) ?? confidence
        let cost = answer["cost"] as? [String: Any]
        let ledger = answer["ledger"] as? [String: Any]
        let footer = ["\(String(format: "%g%%", level * 100)) confidence intervals from the noise distribution",
                      "charged ε \(amount(ServiceClient.number(cost?["epsilon"]) ?? 0)), "
                      + "δ \(amount(ServiceClient.number(cost?["delta"]) ?? 0)) to \(dataset) by \(service) "
                      + "(reservation \((ledger?["reservation"] as? NSNumber)?.intValue ?? 0), \(ledger?["result_digest"] as? String ?? "?"))"]
            + (remaining.map { [$0] } ?? [])
        if format == .csv {
            var lines = [columns.flatMap { c in intervals.contains { $0[c] != nil } ? [c, c + "_low", c + "_high"] : [c] }
                .map(QueryText.field).joined(separator: ",")]
            for (r, row) in rows.enumerated() {
                var cells: [String] = []
                for (i, value) in row.enumerated() {
                    cells.append(value == .null ? "" : QueryText.field(value.description))
                    if intervals.contains(where: { $0[columns[i]] != nil }) {
                        let interval = r < intervals.count ? intervals[r][columns[i]] : nil
                        cells += [interval.map { "\($0.lowerBound)" } ?? "", interval.map { "\($0.upperBound)" } ?? ""]
                    }
                }
                lines.append(cells.joined(separator: ","))
            }
            print(lines.joined(separator: "\n"))
            FileHandle.standardError.write(Data((footer.joined(separator: "\n") + "\n").utf8))
        } else {
            print(QueryText.table(columns: columns, rows: rows, intervals: intervals, level: level), terminator: "")
            print(footer.joined(separator: "\n"))
        }
    }
}

/// `veil query --noise`: the planner's choice, or one distribution.
enum NoiseOption: String, ExpressibleByArgument, CaseIterable {
    case auto, laplace, gaussian

    /// The planner's argument (`nil`: choose by expected error).
    var queryNoise: QueryNoise? {
        switch self {
        case .auto: nil
        case .laplace: .laplace
        case .gaussian: .gaussian
        }
    }
}
