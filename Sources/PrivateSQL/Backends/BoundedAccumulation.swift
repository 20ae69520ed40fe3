import Foundation
import GRDB
import GRDBSQLite
import Mechanisms

/// The first half of ``BoundedAggregator``: reads each row, interns its groups, and files it under its unit's
/// partition (``UnitPartitionedRows``) as a few 64-bit words; the bounding itself happens per partition after the
/// scan (``UnitBounding``). Nothing here depends on the order of the rows.
///
/// A row is: the unit (an integer unit as itself; any other unit as the id it is interned under), the group id
/// with a flag for interned units, with `max_rows_per_unit` the row's priority, then per aggregated column its
/// value clamped to the column's bounds (NaN for NULL: SQLite never hands a NaN over).
struct BoundedAccumulation {
    /// How one aggregated column is read: clamped to `bounds` (when declared), with the sum of squared
    /// distances to `squaresAround` kept when a variance needs it.
    struct Column {
        let bounds: ClosedRange<Double>?
        let squaresAround: Double?
        /// Offset of the column's accumulators within a pair's block: non-null count, sum[, squares].
        let offset: Int
    }

    let keyCount: Int
    let columns: [Column]
    /// Accumulators per (unit, group) pair.
    let width: Int
    let rowSampling: RowSampling?
    /// Where a row's values start among its words.
    let valueWord: Int
    /// The flag, in a row's second word, of a unit interned in ``unitValues``.
    static let internedUnitFlag: UInt64 = 1 << 32

    private var random = SecureRandomSource()
    /// The rows, by unit partition.
    var rows: UnitPartitionedRows

    // Units that are not integers (text, blobs, non-integral reals): an id per distinct value.
    private var otherUnits: [GroupingValue: Int32] = [:]
    /// The values of interned units, by id.
    private(set) var unitValues: [SQLValue] = []
    private var integerGroups = IntegerIDTable()
    private var integerGroupIDs: [Int32] = []   // group id of each entry of `integerGroups`
    private var textGroups: [[UInt8]: Int32] = [:]   // a single text key, by its bytes
    // In front of `textGroups`: the FNV-1a hash of a text key's bytes, so that a known key is found without
    // copying its bytes (a hash shared by two keys sends the second one to `textGroups` each time).
    private var textHashes = IntegerIDTable()
    private var textHashGroups: [Int32] = []
    private var textHashBytes: [[UInt8]] = []
    private var otherGroups: [[GroupingValue]: Int32] = [:]
    /// The groups' key values, `keyCount` per group, back to back (one array, not one per group).
    private(set) var groupKeyValues: [SQLValue] = []
    /// The number of groups seen.
    private(set) var groupCount = 0

    /// Why the scan failed, reported by SQLite as the statement's error.
    private(set) var failure: String?
    /// Whether the scan stopped because it outgrew its ``SinglePassLimits`` (or its temporary file failed).
    private(set) var limitExceeded = false
    private let partitionRowLimit: Int
    private let groupLimit: Int
    /// The most distinct units that are not integers (text, blobs, reals): each keeps its value in memory,
    /// so past 16 million of them the SQL form answers instead (the same cap the former pair table had).
    private let idLimit = 16 << 20

    init(keyCount: Int, columns: [(bounds: ClosedRange<Double>?, squaresAround: Double?)], limits: SinglePassLimits,
         rowSampling: RowSampling? = nil) {
        self.keyCount = keyCount
        self.rowSampling = rowSampling
        partitionRowLimit = limits.partitionRows
        groupLimit = Swift.min(limits.groups, Int(Int32.max))
        var offset = 0
        var laidOut: [Column] = []
        for c in columns {
            laidOut.append(Column(bounds: c.bounds, squaresAround: c.squaresAround, offset: offset))
            offset += c.squaresAround == nil ? 2 : 3
        }
        self.columns = laidOut
        width = offset
        valueWord = rowSampling == nil ? 2 : 3
        rows = UnitPartitionedRows(rowWords: valueWord + columns.count, limits: limits)
    }

    /// Reads one row of `argc` values.
    mutating func step(_ argc: Int, _ argv: UnsafeMutablePointer<OpaquePointer?>) {
        guard failure == nil else { return }
        let expected = 1 + keyCount + columns.count + (rowSampling == nil ? 0 : 1)
        guard argc == expected else {
            failure = "veil_bound expects \(expected) arguments, got \(argc)"
            return
        }
        let unitWord: UInt64
        var flags: UInt64 = 0
        if let v = GroupingValue.exactInteger(argv[0]) {
            unitWord = UInt64(bitPattern: v)
        } else {
            guard let id = internedUnit(argv[0]) else { return }
            unitWord = UInt64(id)
            flags = Self.internedUnitFlag
        }
        guard let group = groupID(argv + 1) else { return }
        var priority: Int64 = 0
        if let rowSampling {
            switch rowSampling.sampling {
            case .random:
                priority = Int64(bitPattern: random.next())
            case .keyedHash(let key):
                let unit: SQLValue = flags == 0 ? .integer(Int64(bitPattern: unitWord)) : unitValues[Int(unitWord)]
                priority = KeyedPriority.priority(key: key, of: [unit, Self.read(argv[expected - 1])])
            }
        }
        let values = argv + 1 + keyCount
        let columns = self.columns
        let sampled = rowSampling != nil
        let p = rows.partition(of: unitWord ^ flags)
        let count = rows.append(to: p) { words in
            words.append(unitWord)
            words.append(UInt64(UInt32(bitPattern: group)) | flags)
            if sampled { words.append(UInt64(bitPattern: priority)) }
            for j in 0..<columns.count {
                let value = values[j]
                let x = sqlite3_value_type(value) == SQLITE_NULL ? Double.nan : Self.clamped(value, columns[j])
                words.append(x.bitPattern)
            }
        }
        guard let count, count <= partitionRowLimit else { outgrow(); return }
    }

    /// A non-null value clamped to the column's bounds.
    private static func clamped(_ value: OpaquePointer?, _ column: Column) -> Double {
        let x = sqlite3_value_double(value)
        guard let b = column.bounds else { return x }
        // Text and blobs order above every number in SQLite, so the SQL form's MAX(L, MIN(U, x)) makes them U;
        // so does this.
        let type = sqlite3_value_type(value)
        return type == SQLITE_INTEGER || type == SQLITE_FLOAT ? Swift.max(b.lowerBound, Swift.min(b.upperBound, x))
            : b.upperBound
    }

    private mutating func outgrow() {
        failure = Self.limitFailure
        limitExceeded = true
    }

    /// The statement error of a scan that outgrew its limits; ``SQLiteBackend`` then answers
    /// with the SQL form, which computes the same totals (so the fallback changes the running time, not the release).
    static let limitFailure = "veil_bound: more rows or groups than the single-pass aggregation holds"

    /// The id of a unit that is not an integer, interned by the rule of SQLite's `GROUP BY` (``GroupingValue``).
    private mutating func internedUnit(_ value: OpaquePointer?) -> Int32? {
        guard let v = GroupingValue(value) else { return nil }   // NULL: the statement filters them out already
        if let known = otherUnits[v] { return known }
        guard unitValues.count < idLimit else { outgrow(); return nil }
        let new = Int32(unitValues.count)
        otherUnits[v] = new
        unitValues.append(Self.read(value).canonicalKey)
        return new
    }

    private mutating func groupID(_ keys: UnsafeMutablePointer<OpaquePointer?>) -> Int32? {
        if keyCount == 0 {
            groupCount = 1
            return 0
        }
        guard groupCount < groupLimit else { outgrow(); return nil }
        if keyCount == 1, let integer = GroupingValue.exactInteger(keys[0]) {
            let (id, inserted) = integerGroups.id(inserting: UInt64(bitPattern: integer))
            if inserted {
                integerGroupIDs.append(Int32(groupCount))
                groupKeyValues.append(.integer(integer))
                groupCount += 1
            }
            return integerGroupIDs[Int(id)]
        }
        if keyCount == 1, sqlite3_value_type(keys[0]) == SQLITE_TEXT {
            let count = Int(sqlite3_value_bytes(keys[0]))
            let start = sqlite3_value_text(keys[0])
            let raw = UnsafeBufferPointer(start: start, count: start == nil ? 0 : count)
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in raw { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            let (entry, newHash) = textHashes.id(inserting: hash)
            if !newHash, textHashBytes[Int(entry)].elementsEqual(raw) { return textHashGroups[Int(entry)] }
            let bytes = Array(raw)
            let group: Int32
            if let known = textGroups[bytes] {
                group = known
            } else {
                group = Int32(groupCount)
                textGroups[bytes] = group
                groupKeyValues.append(.text(String(decoding: bytes, as: UTF8.self)))
                groupCount += 1
            }
            if newHash {
                textHashGroups.append(group)
                textHashBytes.append(bytes)
            }
            return group
        }
        var key: [GroupingValue] = []
        key.reserveCapacity(keyCount)
        for i in 0..<keyCount {
            guard let value = GroupingValue(keys[i]) else { key.append(.null); continue }
            key.append(value)
        }
        if let known = otherGroups[key] { return known }
        let new = Int32(groupCount)
        otherGroups[key] = new
        for i in 0..<keyCount { groupKeyValues.append(Self.read(keys[i]).canonicalKey) }
        groupCount += 1
        return new
    }

    /// The key values of group `g`.
    func groupKey(_ g: Int) -> ArraySlice<SQLValue> {
        groupKeyValues[g * keyCount..<(g + 1) * keyCount]
    }

    /// The id of the group with these key values, if any row had them (numbers compared by value, as SQL's `IS`).
    func group(withKey key: [SQLValue]) -> Int? {
        if keyCount == 0 { return groupCount == 0 ? nil : 0 }
        let values = key.map(GroupingValue.init)
        if keyCount == 1, case .integer(let integer) = values[0] {
            return integerGroups.id(of: UInt64(bitPattern: integer)).map { Int(integerGroupIDs[Int($0)]) }
        }
        if keyCount == 1, case .text(let bytes) = values[0] { return textGroups[bytes].map(Int.init) }
        return otherGroups[values].map(Int.init)
    }

    /// A value as ``SQLValue`` (blobs become text of their hex digits, ``SQLValue/hexText(of:)``).
    static func read(_ value: OpaquePointer?) -> SQLValue {
        switch sqlite3_value_type(value) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_value_int64(value))
        case SQLITE_FLOAT:
            return .real(sqlite3_value_double(value))
        case SQLITE_TEXT:
            let count = Int(sqlite3_value_bytes(value))
            guard let bytes = sqlite3_value_text(value) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_value_bytes(value))
            guard let raw = sqlite3_value_blob(value) else { return .text("") }
            let bytes = UnsafeRawBufferPointer(start: raw, count: count)
            return .hexText(of: bytes)
        default:
            return .null
        }
    }
}
