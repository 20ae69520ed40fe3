/// What a client checks before it trusts that a measurement was published: the log's signed tree head
/// (signed by the log key it pins), the entry's inclusion under that head, and — when it remembers an
/// earlier head — a consistency proof from that head, so a log that forks or rewrites history is caught.
public enum LogMembershipCheck {
    /// - Parameters:
    ///   - remembered: the largest tree head the client has accepted before, if any.
    ///   - consistency: the proof from `remembered` to `head` (ignored when nothing is remembered).
    /// - Returns: the head to remember from now on: the larger of `remembered` and `head`.
    /// - Throws: `verificationFailed` naming the first check that fails.
    @discardableResult
    public static func verify(entry: MeasurementEntry, inclusion: InclusionProof, head: SignedTreeHead,
                              trustedLogKey: [UInt8], remembered: SignedTreeHead?,
                              consistency: ConsistencyProof?) throws -> SignedTreeHead {
        try head.verify(trustedKey: trustedLogKey)
        guard inclusion.treeSize == head.treeSize else {
            throw TransparencyLogError.failed("the inclusion proof is for tree size \(inclusion.treeSize), the signed head for \(head.treeSize)")
        }
        guard ProofVerification.verifyInclusion(leafHash: entry.leafHash, index: inclusion.leafIndex, size: inclusion.treeSize,
                                                proof: inclusion.path, root: head.rootHash) else {
            throw TransparencyLogError.failed("the measurement is not in the log: its inclusion proof does not lead to the signed root")
        }
        guard let remembered else { return head }
        try remembered.verify(trustedKey: trustedLogKey)
        let (old, new) = remembered.treeSize <= head.treeSize ? (remembered, head) : (head, remembered)
        if old.treeSize == new.treeSize {
            guard old.rootHash == new.rootHash else {
                throw TransparencyLogError.failed("the log forked: two signed heads of size \(old.treeSize) have different roots")
            }
            return remembered
        }
        guard let consistency, consistency.oldSize == old.treeSize, consistency.newSize == new.treeSize else {
            throw TransparencyLogError.failed("no consistency proof from the remembered tree size \(old.treeSize) to \(new.treeSize)")
        }
        guard ProofVerification.verifyConsistency(oldSize: old.treeSize, newSize: new.treeSize, oldRoot: old.rootHash,
                                                  newRoot: new.rootHash, proof: consistency.path) else {
            throw TransparencyLogError.failed("the log is not consistent with the head remembered at size \(old.treeSize): it forked or rewrote history")
        }
        return new
    }
}
