import Foundation
import Mechanisms
import PostgresClient

/// Runs a plan's statements on a PostgreSQL server, with contribution bounding inside the server.
///
/// The plan's SQL form is written in PostgreSQL's dialect (``SQLRewriter/writing(for:)``, ``SQLDialect``): per-(unit,
/// group) bounded contributions, each unit's k groups chosen by ``KeyedPriority`` (`sha256(bytea)` in the server)
/// or `gen_random_uuid()` (the server's strong random source), then exact group sums in `numeric` clamped to the range of `Int64`. Only per-group totals leave
/// the server; every value (query literals, public keys, the sampling key) is a bound parameter. All statements of
/// one query run in one `REPEATABLE READ READ ONLY` transaction, so the main statement and the histograms see the
/// same rows. Errors never quote the server's message for data errors (``PostgresSession/describe(_:)``).
final class PostgresBackend: QueryBackend {
    private let session: PostgresSession
    /// The server and database (``PostgresURL/redacted`` in messages).
    let url: PostgresURL

    /// Connects to `url` (no row is read).
    /// - Throws: ``VeilError`` (`database_unavailable`) when the server cannot be reached.
    init(url: PostgresURL) throws {
        self.url = url
        session = try PostgresSession(url: url, applicationName: "veil query")
    }

    func validate(_ plan: QueryPlan) throws {
        do {
            let rewriter = plan.rewriter.writing(for: try dialect(for: plan))
            for (sql, parameters) in [rewriter.build()] + histogramStatements(plan, rewriter).map(\.statement) {
                // LIMIT 0 plans the statement (tables, columns, types) and stops before its first row.
                try session.query("SELECT * FROM (\(sql)) AS veil_check LIMIT 0", parameters.map(\.postgresValue))
            }
        } catch {
            // A fault of the connection keeps its code (exit 1); the server refusing a statement at planning time is
            // a schema the metadata does not match (exit 2). Either way nothing was reserved.
            if PostgresSession.sqlState(of: error) == nil, (error as? VeilError)?.code != .invalidInput { throw error }
            throw VeilError(.invalidInput, "the database \(url.redacted) cannot answer a query on table "
                            + "\(plan.table.name): \(PostgresSession.describe(error))")
        }
    }

    func run(_ plan: QueryPlan, timeLimit: Duration, each body: (TrueGroup) -> Void) throws {
        let deadline = ContinuousClock.now + timeLimit
        do {
            let rewriter = plan.rewriter.writing(for: try dialect(for: plan))
            let main = rewriter.build()
            let histograms = histogramStatements(plan, rewriter)
            try withoutActuallyEscaping(body) { body in
                // One attempt: groups are handed to the engine, which noises and keeps them, as they arrive; a rerun
                // would release them twice under one charge.
                try session.transaction(isolation: .repeatableRead, attempts: 1) { session in
                    try session.execute("SET TRANSACTION READ ONLY")
                    // Dates and times read as text (compared with the query's text literals, released as keys) in
                    // ISO form, as SQLite stores them, whatever the server's or database's DateStyle.
                    try session.execute("SET LOCAL DateStyle = 'ISO, YMD'")
                    try readGroups(plan, main: main, histograms: histograms, session: session,
                                   deadline: deadline, each: body)
                }
            }
        } catch {
            if PostgresSession.sqlState(of: error) == "57014" {
                throw VeilError(.queryTimeout, "the query on table \(plan.table.name) ran longer than its time limit "
                                + "of \(timeLimit) and was stopped")
            }
            throw VeilError(.queryFailed, "the database \(url.redacted) failed while running the query on table "
                            + "\(plan.table.name): \(PostgresSession.describe(error))")
        }
    }

    /// The histogram statements of the plan, each with its quantity.
    private func histogramStatements(_ plan: QueryPlan, _ rewriter: SQLRewriter)
        -> [(quantity: Int, statement: (sql: String, parameters: [SQLValue]))] {
        plan.quantities.filter { $0.dimension > 1 }.map { ($0.index, rewriter.histogramStatement($0)) }
    }

    private func readGroups(_ plan: QueryPlan, main: (sql: String, parameters: [SQLValue]),
                            histograms: [(quantity: Int, statement: (sql: String, parameters: [SQLValue]))],
                            session: PostgresSession, deadline: ContinuousClock.Instant,
                            each body: @escaping (TrueGroup) -> Void) throws {
        let keyCount = plan.keys.count
        let scalars = plan.quantities.filter { $0.dimension == 1 }.map(\.index)
        let dimensions = plan.quantities.map(\.dimension)
        var collected = HistogramJoin()
        let streaming = histograms.isEmpty
        try limitNextStatement(session, deadline: deadline)
        try session.forEachRow(main.sql, main.parameters.map(\.postgresValue)) { row in
            let key = row.prefix(keyCount).map { SQLValue($0).canonicalKey }
            var values = dimensions.map { [Int64](repeating: 0, count: $0) }
            for (offset, index) in scalars.enumerated() { values[index][0] = try Self.integer(row[keyCount + offset]) }
            let group = TrueGroup(key: key, values: values)
            if streaming { body(group) } else { collected.append(group) }
        }
        guard !streaming else { return }
        for (quantity, statement) in histograms {
            try limitNextStatement(session, deadline: deadline)
            try session.forEachRow(statement.sql, statement.parameters.map(\.postgresValue)) { row in
                try collected.add(key: row.prefix(keyCount).map { SQLValue($0).canonicalKey }, quantity: quantity,
                                  bins: dimensions[quantity], bin: try Self.integer(row[keyCount]),
                                  count: try Self.integer(row[keyCount + 1]))
            }
        }
        collected.groups.forEach(body)
    }

    /// Sets the next statement's `statement_timeout` to what is left of the query's time limit.
    private func limitNextStatement(_ session: PostgresSession, deadline: ContinuousClock.Instant) throws {
        let left = deadline - ContinuousClock.now
        let milliseconds = max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
        try session.execute("SET LOCAL statement_timeout = \(milliseconds)")
    }

    /// The dialect for the plan's table: the kind of each of its columns, from the catalog.
    /// - Throws: when the table does not exist.
    /// In a join, each table's columns are read from the catalog and named as the relation names them.
    /// - Throws: when a table does not exist.
    private func dialect(for plan: QueryPlan) throws -> SQLDialect {
        let relation = plan.rewriter.relation
        var kinds: [String: PostgresColumnKinds.Kind] = [:]
        for (index, source) in relation.sources.enumerated() {
            let rows = try session.query(
                "SELECT a.attname::text, t.typname::text, t.typcategory::text FROM pg_attribute a "
                    + "JOIN pg_type t ON t.oid = a.atttypid "
                    + "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped",
                [.text(PostgresIdentifier.quote(source.table.name))])
            guard !rows.isEmpty else { throw VeilError(.invalidInput, "no table or view named \(source.table.name)") }
            var tableKinds: [String: PostgresColumnKinds.Kind] = [:]
            for row in rows {
                guard let name = row[0].text, let type = row[1].text else { continue }
                tableKinds[name] = PostgresColumnKinds.kind(typeName: type, category: row[2].text ?? "")
            }
            guard relation.isJoin else {
                kinds = tableKinds
                break
            }
            for (name, origin) in relation.columns where origin.source == index {
                if let kind = tableKinds[origin.column] { kinds[name] = kind }
            }
        }
        return .postgres(PostgresColumnKinds(kinds: kinds))
    }

    private static func integer(_ value: PostgresValue) throws -> Int64 {
        guard let integer = value.integer else {
            throw VeilError(.queryFailed, "a quantity column is not an integer")
        }
        return integer
    }
}

extension SQLValue {
    /// The value as a bound PostgreSQL parameter.
    var postgresValue: PostgresValue {
        switch self {
        case .null: .null
        case .integer(let v): .integer(v)
        case .real(let v): .real(v)
        case .text(let v): .text(v)
        }
    }

    /// A value read from PostgreSQL (booleans become 0 and 1, `bytea` text of its hex digits).
    init(_ value: PostgresValue) {
        switch value {
        case .null: self = .null
        case .integer(let v): self = .integer(v)
        case .real(let v): self = .real(v)
        case .text(let v): self = .text(v)
        case .boolean(let b): self = .integer(b ? 1 : 0)
        case .bytes(let bytes): self = .hexText(of: bytes)
        }
    }
}
