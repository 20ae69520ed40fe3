import BudgetLedger
import Foundation
import Mechanisms

/// A released private answer: the noisy rows, a confidence interval for every noisy column, what it cost and
/// where the ledger recorded it.
public struct PrivateQueryRelease: Hashable, Sendable {
    /// How groups were selected when keys came from the data.
    public struct Suppression: Hashable, Sendable {
        /// The noisy unit count a group needed to be released.
        public let threshold: Int64
        /// The δ spent on partition selection.
        public let delta: Double
    }

    /// The released columns and rows.
    public let result: QueryResult
    /// For each row, the interval of each noisy column that is exactly one aggregate (column name → interval).
    /// Key columns and expressions that combine aggregates have none.
    public let confidenceIntervals: [[String: ClosedRange<Double>]]
    /// The level of the intervals.
    public let confidenceLevel: Double
    /// The ε charged.
    public let epsilon: Double
    /// The δ charged.
    public let delta: Double
    /// The DP event recorded in the ledger.
    public let event: DPEvent
    /// The noise kind.
    public let noise: QueryNoise
    /// Partition selection, when groups came from the data (`nil` otherwise). The number of suppressed groups
    /// is not released: it is computed from the data without noise.
    public let suppression: Suppression?
    /// The id of the ledger reservation that was committed for this release.
    public let reservationID: Int64
    /// `sha256:` and the hexadecimal SHA-256 of ``canonicalJSON``, recorded with the commit.
    public let resultDigest: String

    /// The release as one JSON object: `columns` (names in order), `rows` (objects keyed by column name),
    /// `confidence_intervals` (per row, each noisy column → `[low, high]`), `confidence_level`,
    /// `cost` (`epsilon`, `delta`), `noise`, and `suppressed_groups` (threshold and δ) when partition selection
    /// applied; sorted keys. The digest recorded in the ledger is the SHA-256 of these bytes.
    public var canonicalJSON: Data { Self.json(result: result, intervals: confidenceIntervals, level: confidenceLevel,
                                               epsilon: epsilon, delta: delta, noise: noise, suppression: suppression) }

    /// ``canonicalJSON`` plus a `ledger` object with the reservation id and the result digest, pretty-printed.
    public var json: Data {
        var object = Self.object(result: result, intervals: confidenceIntervals, level: confidenceLevel,
                                 epsilon: epsilon, delta: delta, noise: noise, suppression: suppression)
        object["ledger"] = ["reservation": reservationID, "result_digest": resultDigest] as [String: Any]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted,
                                                                               .withoutEscapingSlashes])) ?? Data()
    }

    static func object(result: QueryResult, intervals: [[String: ClosedRange<Double>]], level: Double, epsilon: Double,
                       delta: Double, noise: QueryNoise, suppression: Suppression?) -> [String: Any] {
        var object: [String: Any] = [
            "columns": result.columns,
            "rows": result.rows.map { row in
                Dictionary(zip(result.columns, row.map(\.jsonValue)), uniquingKeysWith: { first, _ in first })
            },
            "confidence_intervals": intervals.map { row in row.mapValues { [$0.lowerBound, $0.upperBound] } },
            "confidence_level": level,
            "cost": ["epsilon": epsilon, "delta": delta],
            "noise": noise == .laplace ? "discrete_laplace" : "discrete_gaussian",
        ]
        if let suppression {
            object["suppressed_groups"] = [
                "threshold": suppression.threshold, "delta": suppression.delta,
                "rule": "groups whose noisy count of privacy units is below the threshold are not released; "
                    + "their number is not released either",
            ] as [String: Any]
        }
        return object
    }

    static func json(result: QueryResult, intervals: [[String: ClosedRange<Double>]], level: Double, epsilon: Double,
                     delta: Double, noise: QueryNoise, suppression: Suppression?) -> Data {
        let object = self.object(result: result, intervals: intervals, level: level, epsilon: epsilon, delta: delta,
                                 noise: noise, suppression: suppression)
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data()
    }

    /// `sha256:` followed by the lowercase hexadecimal SHA-256 of `data`.
    static func digest(_ data: Data) -> String {
        "sha256:" + ChainHash.hex(ofBytes: Array(data))
    }
}

extension SQLValue {
    /// The value as a JSON-serialisable object (`NSNull` for NULL and non-finite reals).
    public var jsonValue: Any {
        switch self {
        case .null: NSNull()
        case .integer(let v): v
        case .real(let v): v.isFinite ? v : NSNull()
        case .text(let v): v
        }
    }
}
