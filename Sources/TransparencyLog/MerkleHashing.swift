import Crypto

/// The Merkle tree hash of RFC 9162 (Certificate Transparency 2.0), §2.1.1, with SHA-256: a leaf is
/// hashed as `SHA-256(0x00 || entry)`, an interior node as `SHA-256(0x01 || left || right)`, and the empty
/// tree as `SHA-256()`. The distinct prefixes keep a leaf from being passed off as a node (second
/// preimages).
public enum MerkleHashing {
    public static let hashSize = 32

    /// The hash of the empty tree, `SHA-256()` of no bytes.
    public static let emptyRoot: [UInt8] = Array(SHA256.hash(data: [UInt8]()))

    /// `SHA-256(0x00 || entry)`.
    public static func leafHash<B: Sequence>(_ entry: B) -> [UInt8] where B.Element == UInt8 {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: Array(entry))
        return Array(hasher.finalize())
    }

    /// `SHA-256(0x01 || left || right)`.
    public static func nodeHash(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The largest power of two strictly smaller than `n` (`n >= 2`): where RFC 9162 splits a tree of
    /// `n` leaves into a complete left subtree and the rest.
    static func splitPoint(_ n: Int) -> Int {
        precondition(n >= 2)
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}
