import Foundation
import GRDB
import GRDBSQLite
import Mechanisms

/// The state of ``BoundedAggregator``: interned units and groups, and one accumulator block per (unit, group).
struct BoundedAccumulation {
    /// How one aggregated column is read: clamped to `bounds` (when declared), with the sum of squared
    /// distances to `squaresAround` kept when a variance needs it.
    struct Column {
        let bounds: ClosedRange<Double>?
        let squaresAround: Double?
        /// Offset of the column's accumulators within a pair's block: non-null count, sum[, squares].
        let offset: Int
    }

    private let keyCount: Int
    private let columns: [Column]
    private let width: Int

    // `max_rows_per_unit`: each unit's kept rows so far, a max-heap of slots by priority (at most R); a slot
    // holds the row's priority, group and clamped values (NaN for NULL: SQLite never hands a NaN over).
    private let rowSampling: RowSampling?
    private var random = SecureRandomSource()
    private var unitSlots: [[Int32]] = []
    private var slotPriority: [Int64] = []
    private var slotGroup: [Int32] = []
    private var slotValues: [Double] = []

    // Interned units and groups: an id per distinct value (integers have their own table, the common case).
    private var integerUnits = IntegerIDTable()
    private var integerUnitIDs: [Int32] = []   // unit id of each entry of `integerUnits`
    private var otherUnits: [GroupingValue: Int32] = [:]
    private(set) var unitValues: [SQLValue] = []
    private var integerGroups = IntegerIDTable()
    private var integerGroupIDs: [Int32] = []   // group id of each entry of `integerGroups`
    private var textGroups: [[UInt8]: Int32] = [:]   // a single text key, by its bytes
    private var otherGroups: [[GroupingValue]: Int32] = [:]
    /// The groups' key values, `keyCount` per group, back to back (one array, not one per group).
    private(set) var groupKeyValues: [SQLValue] = []
    /// The number of groups seen.
    private(set) var groupCount = 0

    // One entry per (unit, group) pair. A unit's pairs form a list (`unitFirstPair`, `pairNext`), searched by
    // group id: a unit touches few groups, and when its rows come together its pairs sit side by side in
    // memory. A unit with more than `listLimit` groups moves its pairs to a hash table keyed by
    // (unit id << 32 | group id).
    private static let listLimit = 16
    private var unitFirstPair: [Int32] = []   // -1: none; -2: the unit's pairs are in `widePairs`
    private var pairNext: [Int32] = []
    private var widePairs = IntegerIDTable()
    private var widePairIDs: [Int32] = []      // pair id of each entry of `widePairs`
    private(set) var pairUnit: [Int32] = []
    private(set) var pairGroup: [Int32] = []
    private(set) var pairRows: [Int64] = []
    private var accumulators: [Double] = []

    // Rows of one unit, or of one (unit, group), often come one after another: remember the last lookups.
    private var lastIntegerUnit: Int64 = 0
    private var lastUnit: Int32 = -1
    private var lastPairKey: UInt64 = .max
    private var lastPair: Int32 = -1

    /// Why the scan failed, reported by SQLite as the statement's error.
    private(set) var failure: String?
    /// Whether the scan stopped because it outgrew its ``SinglePassLimits`` (or the 32-bit ids of units).
    private(set) var limitExceeded = false
    private let pairLimit: Int
    private let groupLimit: Int
    private let idLimit = Int(Int32.max)

    init(keyCount: Int, columns: [(bounds: ClosedRange<Double>?, squaresAround: Double?)], limits: SinglePassLimits,
         rowSampling: RowSampling? = nil) {
        self.keyCount = keyCount
        self.rowSampling = rowSampling
        pairLimit = Swift.min(limits.pairs, Int(Int32.max))
        groupLimit = Swift.min(limits.groups, Int(Int32.max))
        var offset = 0
        var laidOut: [Column] = []
        for c in columns {
            laidOut.append(Column(bounds: c.bounds, squaresAround: c.squaresAround, offset: offset))
            offset += c.squaresAround == nil ? 2 : 3
        }
        self.columns = laidOut
        width = offset
    }

    /// The number of (unit, group) pairs seen.
    var pairCount: Int { pairUnit.count }
    /// The number of distinct units seen.
    var unitCount: Int { unitValues.count }

    /// The accumulators of pair `p` for column `j`: non-null count, sum of clamped values, squares (or 0).
    func column(_ j: Int, ofPair p: Int) -> (count: Double, sum: Double, squares: Double) {
        let base = p * width + columns[j].offset
        return (accumulators[base], accumulators[base + 1],
                columns[j].squaresAround == nil ? 0 : accumulators[base + 2])
    }

    /// Reads one row of `argc` values.
    mutating func step(_ argc: Int, _ argv: UnsafeMutablePointer<OpaquePointer?>) {
        guard failure == nil else { return }
        let expected = 1 + keyCount + columns.count + (rowSampling == nil ? 0 : 1)
        guard argc == expected else {
            failure = "veil_bound expects \(expected) arguments, got \(argc)"
            return
        }
        guard let unit = unitID(argv[0]), let group = groupID(argv + 1) else { return }
        if let rowSampling {
            sample(unit: unit, group: group, values: argv + 1 + keyCount, rowid: argv[expected - 1], rowSampling)
            return
        }
        let pairKey = UInt64(UInt32(bitPattern: unit)) << 32 | UInt64(UInt32(bitPattern: group))
        let pair: Int
        if pairKey == lastPairKey {
            pair = Int(lastPair)
        } else {
            guard let id = pairID(unit: unit, group: group, key: pairKey) else { return }
            pair = Int(id)
            lastPairKey = pairKey
            lastPair = id
        }
        pairRows[pair] += 1
        let values = argv + 1 + keyCount
        let base = pair * width
        accumulators.withUnsafeMutableBufferPointer { acc in
            for j in 0..<columns.count {
                let value = values[j]
                if sqlite3_value_type(value) == SQLITE_NULL { continue }
                let column = columns[j]
                let x = Self.clamped(value, column)
                acc[base + column.offset] += 1
                acc[base + column.offset + 1] += x
                if let center = column.squaresAround { acc[base + column.offset + 2] += (x - center) * (x - center) }
            }
        }
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

    /// Offers one row to its unit's reservoir of R rows (kept when among the R smallest priorities so far).
    private mutating func sample(unit: Int32, group: Int32, values: UnsafeMutablePointer<OpaquePointer?>,
                                 rowid: OpaquePointer?, _ rowSampling: RowSampling) {
        let priority: Int64
        switch rowSampling.sampling {
        case .random:
            priority = Int64(bitPattern: random.next())
        case .keyedHash(let key):
            priority = KeyedPriority.priority(key: key, of: [unitValues[Int(unit)], Self.read(rowid)])
        }
        let u = Int(unit)
        while unitSlots.count <= u { unitSlots.append([]) }
        var heap = unitSlots[u]
        unitSlots[u] = []
        defer { unitSlots[u] = heap }
        let slot: Int
        if heap.count < rowSampling.maxRows {
            guard slotPriority.count < pairLimit else { outgrow(); return }
            slot = slotPriority.count
            slotPriority.append(priority)
            slotGroup.append(group)
            for _ in 0..<columns.count { slotValues.append(.nan) }
            heap.append(Int32(slot))
            var i = heap.count - 1
            while i > 0 {
                let parent = (i - 1) / 2
                guard slotPriority[Int(heap[parent])] < slotPriority[Int(heap[i])] else { break }
                heap.swapAt(parent, i)
                i = parent
            }
        } else {
            slot = Int(heap[0])
            guard priority < slotPriority[slot] else { return }
            slotPriority[slot] = priority
            slotGroup[slot] = group
            var i = 0
            while true {
                let left = 2 * i + 1, right = left + 1
                var largest = i
                if left < heap.count && slotPriority[Int(heap[left])] > slotPriority[Int(heap[largest])] { largest = left }
                if right < heap.count && slotPriority[Int(heap[right])] > slotPriority[Int(heap[largest])] { largest = right }
                if largest == i { break }
                heap.swapAt(i, largest)
                i = largest
            }
        }
        for j in 0..<columns.count {
            let value = values[j]
            slotValues[slot * columns.count + j] =
                sqlite3_value_type(value) == SQLITE_NULL ? .nan : Self.clamped(value, columns[j])
        }
    }

    /// Adds every unit's kept rows (``RowSampling``) to their (unit, group) pairs, after the scan.
    mutating func addSampledRows() {
        guard rowSampling != nil, failure == nil else { return }
        for u in unitSlots.indices {
            for slot in unitSlots[u] {
                let s = Int(slot)
                let group = slotGroup[s]
                let key = UInt64(UInt32(bitPattern: Int32(u))) << 32 | UInt64(UInt32(bitPattern: group))
                guard let id = pairID(unit: Int32(u), group: group, key: key) else { return }
                let pair = Int(id)
                pairRows[pair] += 1
                for (j, column) in columns.enumerated() {
                    let x = slotValues[s * columns.count + j]
                    if x.isNaN { continue }
                    let base = pair * width + column.offset
                    accumulators[base] += 1
                    accumulators[base + 1] += x
                    if let center = column.squaresAround { accumulators[base + 2] += (x - center) * (x - center) }
                }
            }
        }
        unitSlots = []
        slotPriority = []
        slotGroup = []
        slotValues = []
    }

    /// The pair of (unit, group), created when new.
    private mutating func pairID(unit: Int32, group: Int32, key: UInt64) -> Int32? {
        let u = Int(unit)
        var length = 0
        if unitFirstPair[u] != -2 {
            var p = unitFirstPair[u]
            while p >= 0 {
                if pairGroup[Int(p)] == group { return p }
                p = pairNext[Int(p)]
                length += 1
            }
        } else {
            if let entry = widePairs.id(of: key) { return widePairIDs[Int(entry)] }
        }
        guard pairUnit.count < pairLimit else { outgrow(); return nil }
        let new = Int32(pairUnit.count)
        pairUnit.append(unit)
        pairGroup.append(group)
        pairRows.append(0)
        for _ in 0..<width { accumulators.append(0) }
        if unitFirstPair[u] == -2 {
            addWide(new)
            pairNext.append(-1)
        } else if length >= Self.listLimit {
            // Move the unit's pairs to the hash table.
            var p = unitFirstPair[u]
            while p >= 0 {
                addWide(p)
                p = pairNext[Int(p)]
            }
            addWide(new)
            pairNext.append(-1)
            unitFirstPair[u] = -2
        } else {
            pairNext.append(unitFirstPair[u])
            unitFirstPair[u] = new
        }
        return new
    }

    private mutating func addWide(_ pair: Int32) {
        let key = UInt64(UInt32(bitPattern: pairUnit[Int(pair)])) << 32 | UInt64(UInt32(bitPattern: pairGroup[Int(pair)]))
        if widePairs.id(inserting: key).inserted { widePairIDs.append(pair) }
    }

    private mutating func outgrow() {
        failure = Self.limitFailure
        limitExceeded = true
    }

    /// The statement error of a scan that outgrew its limits; ``SQLiteBackend`` then answers
    /// with the SQL form, which computes the same totals (so the fallback changes the running time, not the release).
    static let limitFailure = "veil_bound: more (unit, group) pairs than the single-pass aggregation holds"

    private mutating func unitID(_ value: OpaquePointer?) -> Int32? {
        if let v = GroupingValue.exactInteger(value) {
            if lastUnit >= 0 && v == lastIntegerUnit { return lastUnit }
            guard unitValues.count < idLimit else { outgrow(); return nil }
            let (id, inserted) = integerUnits.id(inserting: UInt64(bitPattern: v))
            let unit: Int32
            if inserted {
                unit = Int32(unitValues.count)
                integerUnitIDs.append(unit)
                unitValues.append(.integer(v))
                unitFirstPair.append(-1)
            } else {
                unit = integerUnitIDs[Int(id)]
            }
            lastIntegerUnit = v
            lastUnit = unit
            return unit
        }
        guard let v = GroupingValue(value) else { return nil }   // NULL: the statement filters them out already
        lastUnit = -1
        if let known = otherUnits[v] { return known }
        guard unitValues.count < idLimit else { outgrow(); return nil }
        let new = Int32(unitValues.count)
        otherUnits[v] = new
        unitValues.append(Self.read(value).canonicalKey)
        unitFirstPair.append(-1)
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
            let bytes = sqlite3_value_text(keys[0]).map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
            if let known = textGroups[bytes] { return known }
            let new = Int32(groupCount)
            textGroups[bytes] = new
            groupKeyValues.append(.text(String(decoding: bytes, as: UTF8.self)))
            groupCount += 1
            return new
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
