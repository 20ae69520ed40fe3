import Crypto
import Testing
@testable import TransparencyLog

/// RFC 9162 hashing and proofs, checked against a naive recursive transcription of the RFC's definitions
/// written here (independent of the cached-level implementation) and against the Certificate
/// Transparency reference tree (RFC 6962's hashing is the same).
@Suite struct MerkleTreeTests {
    // MARK: The RFC's definitions, transcribed naively.

    static func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

    /// MTH(D[n]) of RFC 9162 §2.1.1, by recursion on the entries themselves.
    static func naiveRoot(_ entries: ArraySlice<[UInt8]>) -> [UInt8] {
        if entries.isEmpty { return sha256([]) }
        if entries.count == 1 { return sha256([0] + entries.first!) }
        var k = 1
        while k * 2 < entries.count { k *= 2 }
        let mid = entries.startIndex + k
        return sha256([1] + naiveRoot(entries[..<mid]) + naiveRoot(entries[mid...]))
    }

    /// PATH(m, D[n]) of RFC 9162 §2.1.3.1.
    static func naivePath(_ m: Int, _ entries: ArraySlice<[UInt8]>) -> [[UInt8]] {
        if entries.count <= 1 { return [] }
        var k = 1
        while k * 2 < entries.count { k *= 2 }
        let mid = entries.startIndex + k
        if m < k { return naivePath(m, entries[..<mid]) + [naiveRoot(entries[mid...])] }
        return naivePath(m - k, entries[mid...]) + [naiveRoot(entries[..<mid])]
    }

    /// SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1.
    static func naiveSubproof(_ m: Int, _ entries: ArraySlice<[UInt8]>, _ complete: Bool) -> [[UInt8]] {
        if m == entries.count { return complete ? [] : [naiveRoot(entries)] }
        var k = 1
        while k * 2 < entries.count { k *= 2 }
        let mid = entries.startIndex + k
        if m <= k { return naiveSubproof(m, entries[..<mid], complete) + [naiveRoot(entries[mid...])] }
        return naiveSubproof(m - k, entries[mid...], false) + [naiveRoot(entries[..<mid])]
    }

    static let entries: [[UInt8]] = (0..<70).map { i in [UInt8(i), UInt8(truncatingIfNeeded: i &* 7), 0x5A] }

    static func tree(_ entries: [[UInt8]]) -> MerkleTree {
        MerkleTree(leafHashes: entries.map { MerkleHashing.leafHash($0) })
    }

    static func hex(_ text: String) -> [UInt8] { try! LogHex.decode(text, field: "test") }

    // MARK: Tests

    @Test func rootsMatchTheNaiveDefinitionForEverySizeUpTo70() throws {
        let tree = Self.tree(Self.entries)
        #expect(try tree.rootHash(size: 0) == Self.sha256([]))
        for n in 1...70 {
            let expected = Self.naiveRoot(Self.entries[0..<n])
            #expect(try tree.rootHash(size: n) == expected, "size \(n)")
            #expect(try Self.tree(Array(Self.entries[0..<n])).rootHash() == expected, "size \(n), built to that size")
        }
    }

    @Test func rootsMatchTheCertificateTransparencyReferenceTree() throws {
        let leaves = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(Self.hex)
        let roots = [
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ]
        let tree = Self.tree(leaves)
        for n in 0...8 { #expect(LogHex.encode(try tree.rootHash(size: n)) == roots[n], "size \(n)") }
        #expect(try tree.inclusionProof(index: 0, size: 8).map { LogHex.encode($0) } == [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ])
        #expect(try tree.inclusionProof(index: 5, size: 8).map { LogHex.encode($0) } == [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ])
    }

    @Test func everyInclusionProofMatchesTheNaivePathAndVerifies() throws {
        let tree = Self.tree(Self.entries)
        for n in 1...70 {
            let root = try tree.rootHash(size: n)
            for m in 0..<n {
                let proof = try tree.inclusionProof(index: m, size: n)
                #expect(proof == Self.naivePath(m, Self.entries[0..<n]), "leaf \(m) of \(n)")
                let leaf = tree.leafHash(at: m)
                #expect(ProofVerification.verifyInclusion(leafHash: leaf, index: m, size: n, proof: proof, root: root))
                // The wrong index, size, leaf or a truncated / extended path must fail.
                if n > 1 {
                    #expect(!ProofVerification.verifyInclusion(leafHash: leaf, index: (m + 1) % n, size: n, proof: proof, root: root))
                    #expect(!ProofVerification.verifyInclusion(leafHash: tree.leafHash(at: (m + 1) % n), index: m, size: n, proof: proof, root: root))
                    #expect(!ProofVerification.verifyInclusion(leafHash: leaf, index: m, size: n, proof: Array(proof.dropLast()), root: root))
                }
                #expect(!ProofVerification.verifyInclusion(leafHash: leaf, index: m, size: n, proof: proof + [root], root: root))
            }
        }
    }

    @Test func consistencyProofsBetweenAllPairsOfSmallSizesMatchAndVerify() throws {
        let tree = Self.tree(Self.entries)
        for n in 1...40 {
            let newRoot = try tree.rootHash(size: n)
            for m in 0...n {
                let oldRoot = try tree.rootHash(size: m)
                let proof = try tree.consistencyProof(oldSize: m, newSize: n)
                if m > 0 && m < n { #expect(proof == Self.naiveSubproof(m, Self.entries[0..<n], true), "\(m) → \(n)") }
                #expect(ProofVerification.verifyConsistency(oldSize: m, newSize: n, oldRoot: oldRoot, newRoot: newRoot, proof: proof),
                        "\(m) → \(n)")
                if m > 0 && m < n {
                    // A different old root (another history) or a damaged path must fail.
                    let otherOld = try tree.rootHash(size: m - 1 == 0 ? m + 1 : m - 1)
                    #expect(!ProofVerification.verifyConsistency(oldSize: m, newSize: n, oldRoot: otherOld, newRoot: newRoot, proof: proof))
                    var damaged = proof
                    damaged[damaged.count - 1][0] ^= 1
                    #expect(!ProofVerification.verifyConsistency(oldSize: m, newSize: n, oldRoot: oldRoot, newRoot: newRoot, proof: damaged))
                }
            }
        }
    }

    /// 100,000 entries: every inclusion proof verifies; changing the entry, the index or any byte of a
    /// proof makes it fail.
    @Test func aLogOf100000EntriesProvesEveryEntryAndNothingElse() throws {
        let count = 100_000
        let entries = (0..<count).map { i in Array("entry-\(i)".utf8) }
        let tree = Self.tree(entries)
        let root = try tree.rootHash()
        for i in 0..<count {
            let proof = try tree.inclusionProof(index: i)
            guard ProofVerification.verifyInclusion(leafHash: tree.leafHash(at: i), index: i, size: count, proof: proof, root: root) else {
                Issue.record("the proof of entry \(i) does not verify")
                return
            }
        }
        // Changed entries (a stride through the log) fail against their own proofs.
        for i in stride(from: 0, to: count, by: 997) {
            let proof = try tree.inclusionProof(index: i)
            var changed = entries[i]
            changed[changed.count - 1] ^= 0x01
            #expect(!ProofVerification.verifyInclusion(leafHash: MerkleHashing.leafHash(changed), index: i, size: count, proof: proof, root: root))
        }
        // Every byte of one proof, flipped in turn, fails.
        let index = 54_321
        let proof = try tree.inclusionProof(index: index)
        for element in proof.indices {
            for byte in 0..<MerkleHashing.hashSize {
                var damaged = proof
                damaged[element][byte] ^= 0x80
                #expect(!ProofVerification.verifyInclusion(leafHash: tree.leafHash(at: index), index: index, size: count, proof: damaged, root: root))
            }
        }
    }
}
