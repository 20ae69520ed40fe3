import Crypto
import Foundation
import TransparencyLog
import TrustedExecution

/// What the gateway publishes for one client nonce: its key configurations (`application/ohttp-keys`),
/// attestation evidence whose report data binds SHA-256 of those configurations and the nonce, the
/// manifest of the measurement it runs, and the transparency log's proof that the manifest is published
/// (inclusion under a signed tree head, and consistency from the tree size the client remembers).
public struct GatewayEvidence: Sendable, Codable {
    public let keyConfigurations: [UInt8]
    public let evidence: [UInt8]
    public let manifest: String
    public let inclusion: InclusionProof
    public let head: SignedTreeHead
    public let consistency: ConsistencyProof?

    public init(keyConfigurations: [UInt8], evidence: [UInt8], manifest: String, inclusion: InclusionProof,
                head: SignedTreeHead, consistency: ConsistencyProof?) {
        self.keyConfigurations = keyConfigurations
        self.evidence = evidence
        self.manifest = manifest
        self.inclusion = inclusion
        self.head = head
        self.consistency = consistency
    }

    /// The report data the evidence must carry for `nonce`: ``ReportDataBinding`` over the nonce and
    /// SHA-256 of the key configurations.
    public static func reportData(nonce: [UInt8], keyConfigurations: [UInt8]) -> [UInt8] {
        ReportDataBinding.reportData(nonce: nonce, publicKey: Array(SHA256.hash(data: keyConfigurations)))
    }

    enum CodingKeys: String, CodingKey {
        case keyConfigurations = "ohttp_keys", evidence, manifest, inclusion, head, consistency
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        keyConfigurations = try LogHex.decode(try c.decode(String.self, forKey: .keyConfigurations), field: "ohttp_keys")
        evidence = try LogHex.decode(try c.decode(String.self, forKey: .evidence), field: "evidence")
        manifest = try c.decode(String.self, forKey: .manifest)
        inclusion = try c.decode(InclusionProof.self, forKey: .inclusion)
        head = try c.decode(SignedTreeHead.self, forKey: .head)
        consistency = try c.decodeIfPresent(ConsistencyProof.self, forKey: .consistency)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(LogHex.encode(keyConfigurations), forKey: .keyConfigurations)
        try c.encode(LogHex.encode(evidence), forKey: .evidence)
        try c.encode(manifest, forKey: .manifest)
        try c.encode(inclusion, forKey: .inclusion)
        try c.encode(head, forKey: .head)
        try c.encodeIfPresent(consistency, forKey: .consistency)
    }
}

/// The transparency material a gateway serves: the log (a copy, for proofs), its signed head, and the
/// gateway's own entry.
public struct PublishedMeasurement: Sendable {
    public let entry: MeasurementEntry
    public let tree: MerkleTree
    public let head: SignedTreeHead
    public let index: Int

    /// - Throws: `invalidInput` when the entry is not in the log at the head's size or the head does not
    ///   match the log.
    public init(entry: MeasurementEntry, tree: MerkleTree, head: SignedTreeHead) throws {
        guard head.treeSize <= tree.size, try tree.rootHash(size: head.treeSize) == head.rootHash else {
            throw ConfidentialInferenceError.invalid("the signed tree head does not match the transparency log")
        }
        guard let index = (0..<head.treeSize).first(where: { tree.leafHash(at: $0) == entry.leafHash }) else {
            throw ConfidentialInferenceError.invalid("this enclave's measurement is not in the transparency log under the signed head; append it first")
        }
        self.entry = entry
        self.tree = tree
        self.head = head
        self.index = index
    }

    func proofs(fromSize: Int?) throws -> (InclusionProof, ConsistencyProof?) {
        let inclusion = InclusionProof(leafIndex: index, treeSize: head.treeSize,
                                       path: try tree.inclusionProof(index: index, size: head.treeSize))
        let consistency = try fromSize.flatMap { size -> ConsistencyProof? in
            guard size > 0, size < head.treeSize else { return nil }
            return ConsistencyProof(oldSize: size, newSize: head.treeSize, path: try tree.consistencyProof(oldSize: size, newSize: head.treeSize))
        }
        return (inclusion, consistency)
    }
}
