import Mechanisms

/// A hash table from 64-bit keys to dense ids 0, 1, 2, … in order of first insertion: open addressing with
/// linear probing over flat arrays, keys mixed with a random per-table seed (the MurmurHash3 64-bit finaliser
/// of `key ^ seed`), so that no fixed set of keys collides on every run.
///
/// It serves the single-pass aggregation's hot loop, where a lookup happens for every row: a fraction of the
/// cost of `Dictionary`'s SipHash per lookup.
struct IntegerIDTable {
    private var keys: [UInt64]
    private var ids: [Int32]
    private var mask: Int
    private let seed: UInt64
    /// The number of keys.
    private(set) var count = 0

    /// An empty table.
    init() {
        var random = SecureRandomSource()
        seed = random.next()
        mask = 1023
        keys = [UInt64](repeating: 0, count: mask + 1)
        ids = [Int32](repeating: -1, count: mask + 1)
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        var h = key ^ seed
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return Int(truncatingIfNeeded: h) & mask
    }

    /// The id of `key`, if present.
    func id(of key: UInt64) -> Int32? {
        var i = slot(key)
        while true {
            let id = ids[i]
            if id < 0 { return nil }
            if keys[i] == key { return id }
            i = (i + 1) & mask
        }
    }

    /// The id of `key`, inserting it with the next id (`count`) when absent.
    /// - Returns: the id, and whether it was inserted.
    @inline(__always)
    mutating func id(inserting key: UInt64) -> (id: Int32, inserted: Bool) {
        var i = slot(key)
        while true {
            let id = ids[i]
            if id < 0 { break }
            if keys[i] == key { return (id, false) }
            i = (i + 1) & mask
        }
        let new = Int32(truncatingIfNeeded: count)
        keys[i] = key
        ids[i] = new
        count += 1
        if count * 2 > mask + 1 { grow() }
        return (new, true)
    }

    private mutating func grow() {
        let oldKeys = keys, oldIDs = ids
        mask = mask * 2 + 1
        keys = [UInt64](repeating: 0, count: mask + 1)
        ids = [Int32](repeating: -1, count: mask + 1)
        for (key, id) in zip(oldKeys, oldIDs) where id >= 0 {
            var i = slot(key)
            while ids[i] >= 0 { i = (i + 1) & mask }
            keys[i] = key
            ids[i] = id
        }
    }
}
