import BudgetLedger
import Mechanisms

/// The SQL spelling of one database engine: what ``SQLRewriter`` needs to write one plan's statements for SQLite
/// or for PostgreSQL. The plan (filter, bounds, grid, sampling) is the same; only spellings differ.
enum SQLDialect: Hashable, Sendable {
    /// SQLite, with Veil's functions `veil_priority` and `veil_sum` registered on the connection.
    case sqlite
    /// PostgreSQL 11 or later, for a table whose columns have these kinds (read from the catalog).
    case postgres(PostgresColumnKinds)

    /// `name` as a double-quoted identifier (the same rule in both engines).
    func quote(_ name: String) -> String { SQLiteIdentifier.quoted(name) }

    /// A declared column as the rewrite reads it: as stored in SQLite; in PostgreSQL converted to the value kinds
    /// Veil compares and hashes (integers and booleans as `int8`, other numbers as `float8`, the rest as text).
    func column(_ name: String) -> String { column(name, reference: quote(name)) }

    /// The column `name` of the table or joined tables read, written `reference` in the statement (`"name"`, or
    /// `"veil_t0"."name"` in a join), as the rewrite reads it (see ``column(_:)``).
    func column(_ name: String, reference: String) -> String {
        guard case .postgres(let kinds) = self else { return reference }
        switch kinds.kind(of: name) {
        case .integer: return "\(reference)::int8"
        case .boolean: return "\(reference)::int4::int8"
        case .real:
            // A `numeric` value beyond float8's range would make the cast fail, after the charge and only when such a
            // row exists; it becomes ±Infinity instead (then clamped to the declared bounds, as SQLite saturates).
            // NaN is tested first: PostgreSQL sorts NaN above every number.
            let q = reference
            return "(CASE WHEN \(q) = 'NaN' THEN 'NaN'::float8 WHEN \(q) > 1e308 THEN 'Infinity'::float8 "
                + "WHEN \(q) < -1e308 THEN '-Infinity'::float8 ELSE \(q)::float8 END)"
        case .text: return reference
        case .otherText: return "\(reference)::text"
        }
    }

    /// A column as an aggregated number: in PostgreSQL a `float8` with NaN read as NULL (SQLite cannot store NaN;
    /// a NaN contributes nothing in either engine).
    func number(_ name: String) -> String { number(name, reference: quote(name)) }

    /// ``number(_:)`` of the column `name` written `reference` in the statement.
    func number(_ name: String, reference: String) -> String {
        guard case .postgres = self else { return reference }
        return "NULLIF((\(column(name, reference: reference)))::float8, 'NaN'::float8)"
    }

    /// `value` clamped to [low, high] (NULL stays NULL).
    func clamp(_ value: String, low: String, high: String) -> String {
        switch self {
        case .sqlite: "MAX(\(low), MIN(\(high), \(value)))"
        // LEAST and GREATEST skip NULL arguments: a NULL must not become a bound.
        case .postgres: "(CASE WHEN \(value) IS NULL THEN NULL ELSE GREATEST(\(low), LEAST(\(high), \(value))) END)"
        }
    }

    /// The smaller of two non-NULL expressions.
    func least(_ a: String, _ b: String) -> String {
        self == .sqlite ? "MIN(\(a), \(b))" : "LEAST(\(a), \(b))"
    }

    /// The larger of two non-NULL expressions.
    func greatest(_ a: String, _ b: String) -> String {
        self == .sqlite ? "MAX(\(a), \(b))" : "GREATEST(\(a), \(b))"
    }

    /// The sum of a column's non-NULL reals, 0.0 when there is none (SQLite's `TOTAL`).
    func total(_ value: String) -> String {
        self == .sqlite ? "TOTAL(\(value))" : "COALESCE(SUM(\(value)), 0.0::float8)"
    }

    /// `x` rounded half away from zero to an integer, saturating at the range of `Int64` (SQLite's `CAST` saturates);
    /// NULL for NaN.
    func roundedInteger(_ x: String) -> String {
        switch self {
        case .sqlite:
            return "CAST(ROUND(\(x)) AS INTEGER)"
        case .postgres:
            // In float8 throughout (a `numeric` round per (unit, group) costs about as much as the grouping): round(float8)
            // rounds half to even, so a tie (a fraction of exactly ±0.5, which trunc and the subtraction give exactly)
            // is moved away from zero by hand. Beyond the range of Int64 (±Infinity too) it saturates.
            let v = "(\(x))::float8"
            let rounded = "(CASE WHEN abs(\(v) - trunc(\(v))) = 0.5 THEN trunc(\(v)) + sign(\(v)) ELSE round(\(v)) END)"
            return "(CASE WHEN \(v) = 'NaN'::float8 THEN NULL WHEN \(v) >= 9223372036854775808::float8 THEN "
                + "9223372036854775807::int8 WHEN \(v) < -9223372036854775808::float8 THEN (-9223372036854775808)::int8 "
                + "ELSE \(rounded)::int8 END)"
        }
    }

    /// A non-negative real truncated to an integer (a histogram bin).
    func truncatedInteger(_ x: String) -> String {
        self == .sqlite ? "CAST(\(x) AS INTEGER)" : "floor(\(x))::int8"
    }

    /// The exact sum of integers, clamped to the range of `Int64`, 0 for no rows (``SaturatingSum`` in SQLite;
    /// `sum(int8)`, which is `numeric` and exact, in PostgreSQL).
    func exactSum(_ x: String) -> String {
        self == .sqlite ? "veil_sum(\(x))"
            : "LEAST(GREATEST(COALESCE(SUM(\(x)), 0), \(Self.int64Min)), \(Self.int64Max))::int8"
    }

    /// NULL-safe equality.
    func same(_ a: String, _ b: String) -> String {
        self == .sqlite ? "\(a) IS \(b)" : "\(a) IS NOT DISTINCT FROM \(b)"
    }

    /// `LIKE` as SQLite spells it (ASCII case-insensitive); PostgreSQL's `ILIKE` is the case-insensitive form.
    var like: String { self == .sqlite ? "LIKE" : "ILIKE" }

    /// A per-row random sort key: SQLite's `RANDOM()` (seeded from the operating system); in PostgreSQL
    /// `gen_random_uuid()`, whose 122 random bits come from the server's strong random source (`pg_strong_random`)
    /// rather than its seeded per-connection generator.
    var random: String { self == .sqlite ? "RANDOM()" : "gen_random_uuid()" }

    /// A value that tells a table's rows apart, for sampling rows per unit.
    var rowID: String { self == .sqlite ? "_rowid_" : "(tableoid::text || ':' || ctid::text)" }

    /// ``rowID`` of the table aliased `alias` (quoted) in a join.
    func rowID(qualifiedBy alias: String) -> String {
        self == .sqlite ? "\(alias)._rowid_" : "(\(alias).tableoid::text || ':' || \(alias).ctid::text)"
    }

    /// A sort key for a key alias in SQLite's order (NULL first, text by its UTF-8 bytes).
    func ascending(_ alias: String, kind: PostgresColumnKinds.Kind) -> String {
        guard case .postgres = self else { return alias }
        let text = kind == .text || kind == .otherText
        return "\(alias)\(text ? " COLLATE \"C\"" : "") NULLS FIRST"
    }

    /// The keyed priority of `values` (``KeyedPriority``), whose kinds are given, with the key bound as parameters
    /// appended to `parameters`: `veil_priority(k0, k1, …)` in SQLite; in PostgreSQL the same function written
    /// with `sha256(bytea)` over the same canonical encoding.
    func priority(key: PartitionSamplingKey, values: [(String, PostgresColumnKinds.Kind)],
                  parameters: inout [SQLValue]) -> String {
        guard case .postgres = self else {
            parameters.append(.integer(Int64(bitPattern: key.k0)))
            parameters.append(.integer(Int64(bitPattern: key.k1)))
            return "veil_priority(?, ?, \(values.map(\.0).joined(separator: ", ")))"
        }
        parameters.append(.text(LowercaseHex.encode(KeyedPriority.keyBytes(key))))
        let encoded = values.map { value, kind in "COALESCE(\(Self.encoding(value, kind)), '\\x00'::bytea)" }
        return "('x' || encode(substr(sha256(decode(?, 'hex') || \(encoded.joined(separator: " || "))), 1, 8), 'hex'))::bit(64)::int8"
    }

    /// The canonical encoding of ``KeyedPriority`` in PostgreSQL (NULL for NULL).
    private static func encoding(_ value: String, _ kind: PostgresColumnKinds.Kind) -> String {
        switch kind {
        case .integer, .boolean:
            return "('\\x01'::bytea || int8send((\(value))::int8))"
        case .real:
            let x = "(\(value))::float8"
            return "(CASE WHEN \(x) = trunc(\(x)) AND \(x) >= -9223372036854775808::float8 "
                + "AND \(x) < 9223372036854775808::float8 THEN '\\x01'::bytea || int8send(\(x)::int8) "
                + "ELSE '\\x02'::bytea || float8send(\(x)) END)"
        case .text, .otherText:
            let t = "(\(value))::text"
            return "('\\x03'::bytea || int8send(octet_length(\(t))::int8) || convert_to(\(t), 'UTF8'))"
        }
    }

    /// The statement with its `?` placeholders numbered `$1…$n` for PostgreSQL (quoted identifiers and literals
    /// are skipped); SQLite's statements are returned as they are.
    func finish(_ sql: String) -> String {
        guard case .postgres = self else { return sql }
        var out = ""
        var number = 0
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "?" {
                number += 1
                out += "$\(number)"
                continue
            }
            out.append(character)
        }
        return out
    }

    private static let int64Min = "(-9223372036854775808)::numeric"
    private static let int64Max = "9223372036854775807::numeric"
}

/// The kind of every column of a PostgreSQL table, as the rewrite reads it (see ``SQLDialect/column(_:)``).
struct PostgresColumnKinds: Hashable, Sendable {
    enum Kind: Hashable, Sendable {
        /// `int2`, `int4`, `int8`.
        case integer
        /// `bool`, read as 0 and 1 like SQLite's booleans.
        case boolean
        /// Other numbers: `float4`, `float8`, `numeric`.
        case real
        /// `text`, `varchar`, `char`.
        case text
        /// Any other type, read as its text form.
        case otherText
    }

    /// Kind per column name.
    var kinds: [String: Kind]

    func kind(of column: String) -> Kind { kinds[column] ?? .otherText }

    /// The kind of a column of type `typeName` in type category `category` (`pg_type.typname`, `typcategory`).
    static func kind(typeName: String, category: String) -> Kind {
        switch typeName {
        case "int2", "int4", "int8": return .integer
        case "bool": return .boolean
        case "text", "varchar", "bpchar", "name": return .text
        default: return category == "N" ? .real : .otherText
        }
    }
}
