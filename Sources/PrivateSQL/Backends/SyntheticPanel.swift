import Foundation
import GRDB
import Mechanisms

/// A synthetic panel table for benchmarks and demonstrations: `units` people with `rowsPerUnit` rows each
/// (one per year from 1984), random visit counts, incomes, sex and one of 20 regions per row.
///
/// The values are random and carry no information about real people. They come from
/// ``InsecureSeededRandomSource`` so that a given seed always produces the same table (this generator draws no
/// noise). ``metadataYAML`` is matching privacy metadata.
public enum SyntheticPanel {
    /// The number of distinct regions (`r00` … `r19`).
    public static let regionCount = 20

    /// Privacy metadata for the generated `visits` table: unit `person_id`, k = 5, m = 1; `year` (the generated
    /// years) and `female` have public values, `region` does not (its groups need partition selection).
    /// - Parameters:
    ///   - scope: the ledger budget name.
    ///   - rowsPerUnit: the `rowsPerUnit` the table was generated with (years 1984 …).
    ///   - bounds: the contribution bounds, as metadata keys and values (the default: k = 5, m = 1).
    public static func metadataYAML(scope: String, rowsPerUnit: Int = 5,
                                    bounds: KeyValuePairs<String, Int> = ["max_partitions_per_unit": 5,
                                                                          "max_rows_per_partition": 1]) -> String {
        let years = (0..<max(1, rowsPerUnit)).map { String(1984 + $0) }.joined(separator: ", ")
        let boundLines = bounds.map { "    \($0.key): \($0.value)\n" }.joined()
        return """
        scope: \(scope)
        tables:
          visits:
            privacy_unit: person_id
        \(boundLines)    columns:
              person_id: {type: integer}
              year: {type: integer, public_values: [\(years)]}
              region: {type: text}
              doctor_visits: {type: integer, lower: 0, upper: 30}
              income: {type: real, lower: 0, upper: 15}
              female: {type: boolean, public_values: [0, 1]}

        """
    }

    /// The order in which the rows are stored.
    public enum RowOrder: String, Sendable, CaseIterable {
        /// Person by person, each person's years together (as a table sorted by its unit).
        case unit
        /// A uniformly random permutation of the same rows (as rows that arrive by time), drawn from the seed.
        case random
    }

    /// Writes the table `visits` into a new SQLite file, in one transaction with one prepared statement.
    /// - Parameters:
    ///   - path: the database file to create (it must not exist).
    ///   - rows: the number of rows (rounded down to a multiple of `rowsPerUnit`).
    ///   - rowsPerUnit: rows per person, 1…10 (consecutive years from 1984).
    ///   - seed: the seed of the generator.
    ///   - order: the order of the rows; both orders of one seed hold the same rows.
    /// - Throws: ``VeilError`` (`invalid_parameter`, or `invalid_input` when the file exists or cannot be written).
    public static func generate(path: String, rows: Int, rowsPerUnit: Int = 5, seed: UInt64 = 1,
                                order: RowOrder = .unit) throws {
        try ParameterCheck.count(rows, name: "rows", minimum: 1)
        guard (1...10).contains(rowsPerUnit) else {
            throw VeilError.invalidParameter("rows_per_unit", rowsPerUnit, allowed: "1 to 10")
        }
        guard !FileManager.default.fileExists(atPath: path) else {
            throw VeilError(.invalidInput, "\(path) exists; choose a new file")
        }
        let units = max(1, rows / rowsPerUnit)
        var random = InsecureSeededRandomSource(seed: seed)
        let regions = (0..<regionCount).map { String(format: "r%02d", $0) }
        do {
            var configuration = Configuration()
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_mode = OFF")
                try db.execute(sql: "PRAGMA synchronous = OFF")
            }
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.inTransaction { db in
                try db.execute(sql: """
                    CREATE TABLE visits (person_id INTEGER, year INTEGER, region TEXT, doctor_visits INTEGER,
                                         income REAL, female INTEGER)
                    """)
                let insert = try db.makeStatement(sql: "INSERT INTO visits VALUES (?, ?, ?, ?, ?, ?)")
                // The rows in unit order: person i's row y is row i·rowsPerUnit + y.
                let count = units * rowsPerUnit
                var female = [Int64](repeating: 0, count: units)
                var visits = [Int64](repeating: 0, count: count)
                var incomes = [Double](repeating: 0, count: count)
                var regionOf = [UInt8](repeating: 0, count: count)
                for unit in 0..<units {
                    female[unit] = Int64(random.next() & 1)
                    let baseIncome = Double(random.uniform(below: UInt64(8000))) / 1000 + 1
                    let baseVisits = Int64(random.uniform(below: UInt64(6)))
                    for year in 0..<rowsPerUnit {
                        let row = unit * rowsPerUnit + year
                        visits[row] = baseVisits + Int64(random.uniform(below: UInt64(5)))
                        incomes[row] = baseIncome + Double(random.uniform(below: UInt64(2000))) / 1000
                        regionOf[row] = UInt8(random.uniform(below: UInt64(regionCount)))
                    }
                }
                // Fisher–Yates on the row numbers for a random order.
                var rowOrder = [Int32](0..<Int32(count))
                if order == .random {
                    for i in stride(from: count - 1, to: 0, by: -1) {
                        rowOrder.swapAt(i, Int(random.uniform(below: UInt64(i + 1))))
                    }
                }
                for row in rowOrder.lazy.map(Int.init) {
                    let unit = row / rowsPerUnit
                    try insert.execute(arguments: [Int64(unit + 1), Int64(1984 + row % rowsPerUnit),
                                                   regions[Int(regionOf[row])], visits[row], incomes[row], female[unit]])
                }
                return .commit
            }
            try queue.close()
        } catch let error as VeilError {
            throw error
        } catch {
            throw VeilError(.invalidInput, "cannot write \(path): \(error)")
        }
    }
}
