/// An append-only RFC 9162 Merkle tree over leaf hashes that keeps every complete subtree's hash, level
/// by level (`levels[h][i]` covers leaves `i·2^h ..< (i+1)·2^h`).
///
/// With the levels cached, the root of any prefix, an inclusion proof (RFC 9162 §2.1.3.1) or a
/// consistency proof (§2.1.4.1) costs O(log n) hashes instead of rehashing the tree: RFC 9162's recursive
/// definitions only ever split a range into a complete, aligned left subtree (a cached node) and the rest.
/// Appending costs amortised O(1) hashes. Memory: about two hashes (64 bytes) per leaf.
public struct MerkleTree: Sendable {
    /// `levels[0]` are the leaf hashes; `levels[h]` the complete subtrees of height `h`.
    private var levels: [[[UInt8]]] = [[]]

    public init() {}

    /// A tree over these leaf hashes, in order.
    public init<S: Sequence>(leafHashes: S) where S.Element == [UInt8] {
        for hash in leafHashes { append(leafHash: hash) }
    }

    /// The number of leaves.
    public var size: Int { levels[0].count }

    /// The hash of leaf `index`.
    public func leafHash(at index: Int) -> [UInt8] { levels[0][index] }

    /// Adds a leaf (its hash, ``MerkleHashing/leafHash(_:)``) and every subtree it completes.
    public mutating func append(leafHash: [UInt8]) {
        levels[0].append(leafHash)
        var height = 0
        var index = levels[0].count - 1
        while index % 2 == 1 {
            let node = MerkleHashing.nodeHash(levels[height][index - 1], levels[height][index])
            height += 1
            if levels.count == height { levels.append([]) }
            levels[height].append(node)
            index /= 2
        }
    }

    /// MTH(D[0:size]), the root of the first `size` leaves (`0 <= size <= self.size`).
    /// - Throws: `invalidInput` when `size` is out of range.
    public func rootHash(size: Int? = nil) throws -> [UInt8] {
        let n = size ?? self.size
        guard n >= 0, n <= self.size else {
            throw TransparencyLogError.invalid("tree size \(n) is outside 0...\(self.size)")
        }
        return n == 0 ? MerkleHashing.emptyRoot : subtreeHash(start: 0, count: n)
    }

    /// The audit path of leaf `index` in the tree of the first `size` leaves: PATH(m, D[0:n]) of RFC 9162
    /// §2.1.3.1, nearest sibling first.
    /// - Throws: `invalidInput` unless `0 <= index < size <= self.size`.
    public func inclusionProof(index: Int, size: Int? = nil) throws -> [[UInt8]] {
        let n = size ?? self.size
        guard n <= self.size, index >= 0, index < n else {
            throw TransparencyLogError.invalid("leaf index \(index) is not in a tree of size \(n) (the log has \(self.size))")
        }
        var path: [[UInt8]] = []
        var start = 0, count = n, m = index
        // Walk down from the root, remembering the sibling at each split; the path lists them bottom-up.
        while count > 1 {
            let k = MerkleHashing.splitPoint(count)
            if m < k {
                path.append(subtreeHash(start: start + k, count: count - k))
                count = k
            } else {
                path.append(subtreeHash(start: start, count: k))
                start += k; count -= k; m -= k
            }
        }
        return path.reversed()
    }

    /// The consistency proof between the trees of the first `oldSize` and `newSize` leaves: PROOF(m, D[0:n])
    /// of RFC 9162 §2.1.4.1. Empty when `oldSize == newSize` or `oldSize == 0`.
    /// - Throws: `invalidInput` unless `0 <= oldSize <= newSize <= self.size`.
    public func consistencyProof(oldSize: Int, newSize: Int? = nil) throws -> [[UInt8]] {
        let n = newSize ?? self.size
        guard oldSize >= 0, oldSize <= n, n <= self.size else {
            throw TransparencyLogError.invalid("no consistency proof from size \(oldSize) to \(n) (the log has \(self.size))")
        }
        if oldSize == 0 || oldSize == n { return [] }
        var proof: [[UInt8]] = []
        var start = 0, count = n, m = oldSize, complete = true
        // SUBPROOF(m, D[start:start+count], complete), unrolled; the RFC appends on the way back up.
        while m != count {
            let k = MerkleHashing.splitPoint(count)
            if m <= k {
                proof.append(subtreeHash(start: start + k, count: count - k))
                count = k
            } else {
                proof.append(subtreeHash(start: start, count: k))
                start += k; count -= k; m -= k
                complete = false
            }
        }
        if !complete { proof.append(subtreeHash(start: start, count: count)) }
        return proof.reversed()
    }

    /// MTH of leaves `start ..< start + count` where the range is one RFC 9162 subtree: `start` is a
    /// multiple of the complete left part, so a power-of-two range is a cached node.
    private func subtreeHash(start: Int, count: Int) -> [UInt8] {
        if count & (count - 1) == 0 {
            let height = count.trailingZeroBitCount
            return levels[height][start >> height]
        }
        let k = MerkleHashing.splitPoint(count)
        return MerkleHashing.nodeHash(subtreeHash(start: start, count: k),
                                      subtreeHash(start: start + k, count: count - k))
    }
}
