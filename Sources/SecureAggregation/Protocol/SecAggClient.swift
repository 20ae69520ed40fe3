import Crypto
import Foundation
import Mechanisms

/// One client of a SecAgg+ round (Bell et al. 2020; Bonawitz et al. 2017 when the graph is complete),
/// in the honest-but-curious setting: a state machine with no transport of its own. Each step consumes
/// the server's message and returns the client's reply; any step may throw, after which the client
/// has left the round (the server treats it as a dropout).
///
///     var client = try SecAggClient(index: i, configuration: c, roundID: r, using: &source)
///     send(client.advertiseKeys())
///     send(try client.shareKeys(directory, using: &source))
///     send(try client.maskedInput(encryptedShares, input: x))
///     send(try client.unmask(request))
///
/// The client never reveals both the self-mask seed share and the masking-key share of one neighbour,
/// and refuses requests that would make it: a neighbour listed as both surviving and dropped, an
/// unknown client, itself listed as dropped, or fewer survivors than the configured minimum.
public struct SecAggClient: Sendable {
    public let index: UInt32
    public let configuration: SecAggConfiguration
    public let roundID: UInt64

    private enum Phase: Sendable { case advertising, sharing, masking, unmasking, done }
    private var phase = Phase.advertising
    // Raw 32-byte private keys and their public keys (the key type is not Sendable).
    private let encryptionKeyBytes: [UInt8]
    private let maskingKeyBytes: [UInt8]
    private let encryptionPublicKey: [UInt8]
    private let maskingPublicKey: [UInt8]
    /// Per neighbour: the AES-GCM key of the share exchange and the pairwise mask seed, agreed in step 1.
    private var pairwise: [UInt32: (encryption: [UInt8], mask: [UInt8])] = [:]
    private var selfMaskSeed: [UInt8] = []
    /// Shares this client holds, by owner: (masking-key share, self-mask-seed share); its own included.
    private var heldShares: [UInt32: (key: SecretShare, seed: SecretShare)] = [:]

    /// A client with fresh X25519 key pairs drawn from `source` (production: ``SecureRandomSource``).
    public init<R: RandomSource>(index: UInt32, configuration: SecAggConfiguration, roundID: UInt64,
                                 using source: inout R) throws {
        guard Int(index) < configuration.clientCount else {
            throw VeilError.invalidParameter("client index", index, allowed: "in 0 ..< \(configuration.clientCount)")
        }
        self.index = index
        self.configuration = configuration
        self.roundID = roundID
        let encryption = KeyDerivation.privateKey(using: &source), masking = KeyDerivation.privateKey(using: &source)
        encryptionKeyBytes = Array(encryption.rawRepresentation)
        maskingKeyBytes = Array(masking.rawRepresentation)
        encryptionPublicKey = Array(encryption.publicKey.rawRepresentation)
        maskingPublicKey = Array(masking.publicKey.rawRepresentation)
    }

    /// Round 0: the two public keys.
    public func advertiseKeys() -> AdvertiseKeys {
        AdvertiseKeys(roundID: roundID, sender: index, encryptionKey: encryptionPublicKey, maskingKey: maskingPublicKey)
    }

    /// Round 1: draws the self-mask seed, shares it and the masking key among itself and its
    /// neighbours (threshold t), and encrypts each neighbour's pair of shares under the key agreed
    /// with that neighbour (X25519, HKDF-SHA256, AES-256-GCM).
    public mutating func shareKeys<R: RandomSource>(_ directory: KeyDirectory, using source: inout R) throws -> ShareKeys {
        try expect(.advertising, roundID: directory.roundID, recipient: directory.recipient, what: "key directory")
        guard directory.graphSeed.count == 32 else { throw VeilError.refused("key directory: graph seed is not 32 bytes") }
        let graph = NeighbourGraph(clientCount: configuration.clientCount, degree: configuration.neighbours,
                                   seed: directory.graphSeed)
        var keys: [UInt32: PublicKeys] = [:]
        for entry in directory.neighbours {
            guard Int(entry.client) < configuration.clientCount, graph.areNeighbours(Int(index), Int(entry.client)) else {
                throw VeilError.refused("key directory: client \(entry.client) is not a neighbour of \(index)")
            }
            guard keys[entry.client] == nil else { throw VeilError.refused("key directory: client \(entry.client) listed twice") }
            guard entry.encryptionKey != entry.maskingKey else {
                throw VeilError.refused("key directory: client \(entry.client) uses one key for both purposes")
            }
            keys[entry.client] = entry
        }
        guard keys.count + 1 >= configuration.threshold else {
            phase = .done
            throw VeilError.aborted("only \(keys.count) neighbours advertised keys; \(configuration.threshold - 1) are needed")
        }
        let encryptionKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: encryptionKeyBytes)
        let maskingKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: maskingKeyBytes)
        for (client, entry) in keys {
            pairwise[client] = (
                try KeyDerivation.derive(encryptionKey, peer: entry.encryptionKey, roundID: roundID, purpose: KeyDerivation.encryptionPurpose),
                try KeyDerivation.derive(maskingKey, peer: entry.maskingKey, roundID: roundID, purpose: KeyDerivation.maskPurpose))
        }
        selfMaskSeed = KeyDerivation.randomBytes(32, using: &source)
        let holders = ([index] + keys.keys).sorted()
        let points = holders.map { $0 + 1 }
        let keyShares = try ShamirSecretSharing.share(maskingKeyBytes, threshold: configuration.threshold,
                                                      points: points, using: &source)
        let seedShares = try ShamirSecretSharing.share(selfMaskSeed, threshold: configuration.threshold,
                                                       points: points, using: &source)
        var ciphertexts: [AddressedCiphertext] = []
        for (holder, (keyShare, seedShare)) in zip(holders, zip(keyShares, seedShares)) {
            if holder == index {
                heldShares[index] = (keyShare, seedShare)
                continue
            }
            var w = BinaryWriter()
            w.u32(index); w.u32(holder); w.share(keyShare); w.share(seedShare)
            let key = pairwise[holder]!.encryption
            let nonce = try AES.GCM.Nonce(data: KeyDerivation.randomBytes(12, using: &source))
            let box = try AES.GCM.seal(w.bytes, using: SymmetricKey(data: key), nonce: nonce,
                                       authenticating: KeyDerivation.associatedData(roundID: roundID, sender: index, recipient: holder))
            ciphertexts.append(AddressedCiphertext(peer: holder, ciphertext: Array(box.combined!)))
        }
        phase = .sharing
        return ShareKeys(roundID: roundID, sender: index, ciphertexts: ciphertexts)
    }

    /// Round 2: decrypts the neighbours' shares and returns `input` + self-mask + Σ ± pairwise masks
    /// with every neighbour that sent shares, modulo 2^b.
    ///
    /// - Throws: `invalid_parameter` for an input of the wrong length or with a value ≥ 2^b;
    ///   `message_refused` for a ciphertext that does not decrypt or is not from a neighbour;
    ///   `round_aborted` when fewer than t − 1 neighbours sent shares.
    public mutating func maskedInput(_ shares: EncryptedShares, input: [UInt64]) throws -> MaskedInput {
        try expect(.sharing, roundID: shares.roundID, recipient: shares.recipient, what: "encrypted shares")
        guard input.count == configuration.vectorLength else {
            throw VeilError.invalidParameter("input length", input.count, allowed: "\(configuration.vectorLength)")
        }
        let modulus = configuration.modulus
        guard input.allSatisfy({ $0 & ~modulus.bits == 0 }) else {
            throw VeilError.invalidParameter("input values", "a value ≥ 2^\(configuration.bitWidth)",
                                             allowed: "integers below 2^\(configuration.bitWidth)")
        }
        for item in shares.ciphertexts {
            guard let key = pairwise[item.peer]?.encryption else {
                throw VeilError.refused("encrypted shares: client \(item.peer) is not a neighbour that advertised keys")
            }
            guard heldShares[item.peer] == nil else { throw VeilError.refused("encrypted shares: client \(item.peer) sent twice") }
            guard let box = try? AES.GCM.SealedBox(combined: item.ciphertext),
                  let plain = try? AES.GCM.open(box, using: SymmetricKey(data: key),
                                                authenticating: KeyDerivation.associatedData(roundID: roundID, sender: item.peer, recipient: index)) else {
                throw VeilError.refused("encrypted shares: the ciphertext from client \(item.peer) does not decrypt")
            }
            var r = BinaryReader(Array(plain))
            let sender = try r.u32("sender"), recipient = try r.u32("recipient")
            let keyShare = try r.share("key share"), seedShare = try r.share("seed share")
            try r.finish()
            guard sender == item.peer, recipient == index, keyShare.x == index + 1, seedShare.x == index + 1 else {
                throw VeilError.refused("encrypted shares: the shares from client \(item.peer) are addressed to another party")
            }
            heldShares[item.peer] = (keyShare, seedShare)
        }
        guard heldShares.count >= configuration.threshold else {
            phase = .done
            throw VeilError.aborted("only \(heldShares.count - 1) neighbours sent shares; \(configuration.threshold - 1) are needed")
        }
        var masked = input
        var masks = [MaskGenerator.Term(seed: selfMaskSeed, sign: 1)]
        for peer in heldShares.keys.sorted() where peer != index {
            masks.append(MaskGenerator.Term(seed: pairwise[peer]!.mask, sign: KeyDerivation.pairwiseSign(index, peer)))
        }
        MaskGenerator.apply(masks, to: &masked, bitWidth: configuration.bitWidth)
        phase = .masking
        return MaskedInput(roundID: roundID, sender: index, values: masked)
    }

    /// Round 3: reveals the self-mask-seed shares of the surviving neighbours (and its own) and the
    /// masking-key shares of the neighbours that dropped after sending shares.
    public mutating func unmask(_ request: UnmaskingRequest) throws -> UnmaskingResponse {
        try expect(.masking, roundID: request.roundID, recipient: request.recipient, what: "unmasking request")
        let survivors = Set(request.survivors), dropped = Set(request.dropped)
        guard survivors.count == request.survivors.count, dropped.count == request.dropped.count else {
            throw VeilError.refused("unmasking request: a client is listed twice")
        }
        guard survivors.isDisjoint(with: dropped) else {
            throw VeilError.refused("unmasking request: a client is listed both as surviving and as dropped")
        }
        guard survivors.contains(index) else {
            throw VeilError.refused("unmasking request: this client sent its masked input and must be listed as surviving")
        }
        guard survivors.union(dropped) == Set(heldShares.keys) else {
            throw VeilError.refused("unmasking request: the lists do not partition the neighbours that sent shares")
        }
        guard Int(request.survivorCount) >= configuration.minimumSurvivors else {
            phase = .done
            throw VeilError.aborted("\(request.survivorCount) masked inputs, below the minimum of \(configuration.minimumSurvivors)")
        }
        let seedShares = request.survivors.sorted().map { OwnedShare(owner: $0, share: heldShares[$0]!.seed) }
        let keyShares = request.dropped.sorted().map { OwnedShare(owner: $0, share: heldShares[$0]!.key) }
        phase = .done
        return UnmaskingResponse(roundID: roundID, sender: index, seedShares: seedShares, keyShares: keyShares)
    }

    private mutating func expect(_ expected: Phase, roundID: UInt64, recipient: UInt32, what: String) throws {
        guard phase == expected else { throw VeilError.refused("\(what) arrived out of order") }
        guard roundID == self.roundID else { throw VeilError.refused("\(what) belongs to round \(roundID), not \(self.roundID)") }
        guard recipient == index else { throw VeilError.refused("\(what) is addressed to client \(recipient)") }
    }
}
