import Foundation
import Mechanisms

/// The JSON body of a query or a dry-run: `sql` (required), `epsilon` (required), `delta` (default 0),
/// `confidence` (default 0.95), `purpose` (optional, recorded in the ledger). Any other field is refused, so that
/// a request cannot appear to choose a ledger, a scope or bounds: those come from the data owner's configuration.
struct QueryRequestBody: Sendable {
    static let fields: Set<String> = ["sql", "epsilon", "delta", "confidence", "purpose"]
    /// The longest query text accepted, in characters.
    static let maximumSQLLength = 20_000

    var sql: String
    var epsilon: Double
    var delta: Double
    var confidence: Double
    var purpose: String?

    /// Decodes and checks a body. - Throws: `invalidInput` with one line naming the problem.
    init(_ data: Data) throws {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw VeilError(.invalidInput, "the request body must be a JSON object with sql and epsilon")
        }
        if let unknown = object.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw VeilError(.invalidInput, "unknown field \"\(String(unknown.prefix(40)))\": a request has only "
                            + Self.fields.sorted().joined(separator: ", ")
                            + " (datasets, bounds, ledgers and scopes are set by the data owner)")
        }
        guard let sql = object["sql"] as? String, !sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw VeilError(.invalidInput, "sql must be a non-empty string")
        }
        guard sql.count <= Self.maximumSQLLength else {
            throw VeilError(.invalidInput, "sql is longer than \(Self.maximumSQLLength) characters")
        }
        func number(_ key: String, default value: Double?) throws -> Double {
            guard let raw = object[key] else {
                guard let value else { throw VeilError(.invalidInput, "\(key) is required") }
                return value
            }
            guard let n = raw as? NSNumber, !(raw is String) else {
                throw VeilError(.invalidInput, "\(key) must be a number")
            }
            return n.doubleValue
        }
        self.sql = sql
        epsilon = try number("epsilon", default: nil)
        delta = try number("delta", default: 0)
        confidence = try number("confidence", default: 0.95)
        guard confidence > 0, confidence < 1 else { throw VeilError(.invalidInput, "confidence must be in (0, 1)") }
        if let raw = object["purpose"] {
            guard let text = raw as? String, text.count <= 500 else {
                throw VeilError(.invalidInput, "purpose must be a string of at most 500 characters")
            }
            purpose = text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : text
        }
    }

    /// What the ledger records as the purpose: the analyst's purpose and the query text.
    var ledgerPurpose: String {
        purpose.map { "\($0) | \(sql)" } ?? sql
    }
}
