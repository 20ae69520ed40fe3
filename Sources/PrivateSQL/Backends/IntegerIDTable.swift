import Mechanisms

/// A hash table from 64-bit keys to dense ids 0, 1, 2, … in order of first insertion: open addressing with
/// linear probing over flat arrays, keys mixed with a random per-table seed (the MurmurHash3 64-bit finaliser
/// of `key ^ seed`), so that no fixed set of keys collides on every run.
///
/// It serves the single-pass aggregation's hot loop, where a lookup happens for every row: a fraction of the
/// cost of `Dictionary`'s SipHash per lookup.
struct IntegerIDTable {
    /// A slot: the key and its id (-1 when empty), side by side so that a probe touches one cache line.
    private struct Slot {
        var key: UInt64
        var id: Int32
    }
    private var slots: [Slot]
    private var mask: Int
    private let seed: UInt64
    /// The number of keys.
    private(set) var count = 0

    /// An empty table.
    init() {
        var random = SecureRandomSource()
        seed = random.next()
        mask = 1023
        slots = [Slot](repeating: Slot(key: 0, id: -1), count: mask + 1)
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: Self.mix(key ^ seed)) & mask
    }

    /// MurmurHash3's 64-bit finaliser (Appleby, `fmix64`): every input bit moves every output bit.
    @inline(__always)
    static func mix(_ key: UInt64) -> UInt64 {
        var h = key
        h ^= h >> 33
        h &*= 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h &*= 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h
    }

    /// The id of `key`, if present.
    func id(of key: UInt64) -> Int32? {
        var i = slot(key)
        while true {
            let entry = slots[i]
            if entry.id < 0 { return nil }
            if entry.key == key { return entry.id }
            i = (i + 1) & mask
        }
    }

    /// The id of `key`, inserting it with the next id (`count`) when absent.
    /// - Returns: the id, and whether it was inserted.
    @inline(__always)
    mutating func id(inserting key: UInt64) -> (id: Int32, inserted: Bool) {
        var i = slot(key)
        while true {
            let entry = slots[i]
            if entry.id < 0 { break }
            if entry.key == key { return (entry.id, false) }
            i = (i + 1) & mask
        }
        let new = Int32(truncatingIfNeeded: count)
        slots[i] = Slot(key: key, id: new)
        count += 1
        if count * 2 > mask + 1 { grow() }
        return (new, true)
    }

    private mutating func grow() {
        let old = slots
        mask = mask * 2 + 1
        slots = [Slot](repeating: Slot(key: 0, id: -1), count: mask + 1)
        for entry in old where entry.id >= 0 {
            var i = slot(entry.key)
            while slots[i].id >= 0 { i = (i + 1) & mask }
            slots[i] = entry
        }
    }
}
