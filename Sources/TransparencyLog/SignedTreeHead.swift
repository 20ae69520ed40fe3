import Crypto
import Foundation

/// A tree head signed by the log with Ed25519: the log commits to having exactly `treeSize` entries whose
/// Merkle root is `rootHash` at `timestamp` (milliseconds since the Unix epoch).
///
/// The signature covers a canonical encoding in the spirit of RFC 9162's `TreeHeadDataV2` (§4.10), with a
/// domain-separation label so the key can sign nothing else by mistake:
/// ```
/// "veil-transparency-tree-head-v1" 0x00 || timestamp (u64 BE) || tree_size (u64 BE)
///   || root_hash length (u8, 32) || root_hash || extensions length (u16 BE, 0)
/// ```
public struct SignedTreeHead: Sendable, Equatable, Codable {
    public static let label = "veil-transparency-tree-head-v1"

    public let treeSize: Int
    public let rootHash: [UInt8]
    public let timestamp: UInt64
    /// The log's Ed25519 public key (32 bytes), so a verifier can check it against the one it pins.
    public let publicKey: [UInt8]
    public let signature: [UInt8]

    /// Signs the head of a tree with `key`.
    public init(treeSize: Int, rootHash: [UInt8], timestamp: UInt64, signingKey key: Curve25519.Signing.PrivateKey) throws {
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.timestamp = timestamp
        publicKey = Array(key.publicKey.rawRepresentation)
        do {
            signature = Array(try key.signature(for: Self.signedBytes(treeSize: treeSize, rootHash: rootHash, timestamp: timestamp)))
        } catch {
            throw TransparencyLogError(.fileSystem, "signing the tree head failed: \(error)")
        }
    }

    /// The bytes the signature covers.
    public static func signedBytes(treeSize: Int, rootHash: [UInt8], timestamp: UInt64) -> [UInt8] {
        var out = Array(label.utf8) + [0]
        out += bigEndian(timestamp, bytes: 8)
        out += bigEndian(UInt64(treeSize), bytes: 8)
        out.append(UInt8(rootHash.count))
        out += rootHash
        out += [0, 0]
        return out
    }

    /// Checks the signature and that the head was signed by `trustedKey` (raw 32-byte Ed25519 key).
    /// - Throws: `verificationFailed` naming what is wrong.
    public func verify(trustedKey: [UInt8]) throws {
        guard publicKey == trustedKey else {
            throw TransparencyLogError.failed("the tree head is signed by key \(LogHex.encode(publicKey)), not the trusted log key \(LogHex.encode(trustedKey))")
        }
        guard treeSize >= 0, rootHash.count == MerkleHashing.hashSize,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: trustedKey),
              key.isValidSignature(signature, for: Self.signedBytes(treeSize: treeSize, rootHash: rootHash, timestamp: timestamp)) else {
            throw TransparencyLogError.failed("the tree head's signature does not verify")
        }
    }

    private static func bigEndian(_ value: UInt64, bytes: Int) -> [UInt8] {
        (0..<bytes).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    // JSON: sizes as numbers, byte strings as lower-case hex.
    enum CodingKeys: String, CodingKey {
        case treeSize = "tree_size", rootHash = "root_hash", timestamp, publicKey = "public_key", signature
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        treeSize = try c.decode(Int.self, forKey: .treeSize)
        timestamp = try c.decode(UInt64.self, forKey: .timestamp)
        rootHash = try LogHex.decodeHash(try c.decode(String.self, forKey: .rootHash), field: "root_hash")
        publicKey = try LogHex.decodeHash(try c.decode(String.self, forKey: .publicKey), field: "public_key")
        signature = try LogHex.decodeHash(try c.decode(String.self, forKey: .signature), field: "signature", count: 64)
        guard treeSize >= 0 else { throw TransparencyLogError.invalid("tree_size is negative") }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(treeSize, forKey: .treeSize)
        try c.encode(timestamp, forKey: .timestamp)
        try c.encode(LogHex.encode(rootHash), forKey: .rootHash)
        try c.encode(LogHex.encode(publicKey), forKey: .publicKey)
        try c.encode(LogHex.encode(signature), forKey: .signature)
    }
}
