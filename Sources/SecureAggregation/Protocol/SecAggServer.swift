import Crypto
import Foundation
import Mechanisms

/// The server of a SecAgg+ round, honest-but-curious: a state machine with no transport of its own.
///
/// A driver (an in-process simulation or a network server) feeds it the messages it receives with
/// the authenticated identity of their sender, and closes each step when everyone answered or a
/// deadline passed:
///
///     var server = try SecAggServer(configuration: c, using: &source)
///     try server.receive(message, from: client)          // any number, any order within a step
///     let directories = try server.closeAdvertising()     // one KeyDirectory per client
///     let forwarded = try server.closeSharing()           // one EncryptedShares per client
///     let requests = try server.closeMasking()            // one UnmaskingRequest per client
///     let sum = try server.finish()                       // Σ inputs mod 2^b
///
/// `receive` refuses a message — malformed, from an unknown client, whose sender field is not the
/// authenticated sender, of another round, out of step, duplicated, or inconsistent — by throwing
/// `message_refused` with the reason; the refusal is also kept in ``refusals`` and the round goes on.
/// A step that ends with fewer clients than ``SecAggConfiguration/minimumSurvivors``, or an unmasking
/// that cannot reconstruct a secret from t shares, aborts the round: it throws `round_aborted` and
/// every later call does too, so nothing about the inputs is ever released.
public struct SecAggServer: Sendable {
    public let configuration: SecAggConfiguration
    public let roundID: UInt64
    public let graphSeed: [UInt8]
    public let graph: NeighbourGraph

    /// One refused message: who sent it and why it was refused.
    public struct Refusal: Sendable, Hashable {
        public let client: UInt32
        public let reason: String
    }
    /// Every message refused so far, in arrival order.
    public private(set) var refusals: [Refusal] = []

    private enum Phase: Sendable, Equatable { case advertising, sharing, masking, unmasking, finished, aborted(String) }
    private var phase = Phase.advertising
    private var advertised: [UInt32: AdvertiseKeys] = [:]
    private var shared: [UInt32: ShareKeys] = [:]
    private var maskedSenders = Set<UInt32>()
    private var maskedSum: [UInt64]
    private var requested = Set<UInt32>()
    private var responders = Set<UInt32>()
    private var seedShares: [UInt32: [SecretShare]] = [:]
    private var keyShares: [UInt32: [SecretShare]] = [:]

    /// A server for one round; the round identifier and the graph seed come from `source`
    /// (production: ``SecureRandomSource``).
    public init<R: RandomSource>(configuration: SecAggConfiguration, using source: inout R) throws {
        self.configuration = configuration
        roundID = source.next()
        graphSeed = KeyDerivation.randomBytes(32, using: &source)
        graph = NeighbourGraph(clientCount: configuration.clientCount, degree: configuration.neighbours, seed: graphSeed)
        maskedSum = [UInt64](repeating: 0, count: configuration.vectorLength)
    }

    /// Clients whose keys were accepted (U1), whose shares were accepted (U2), whose masked inputs were
    /// accepted (U3), and who answered the unmasking request (U4).
    public var advertisedClients: Set<UInt32> { Set(advertised.keys) }
    public var sharingClients: Set<UInt32> { Set(shared.keys) }
    public var maskedInputClients: Set<UInt32> { maskedSenders }
    public var unmaskingClients: Set<UInt32> { responders }

    /// Accepts one message from the authenticated client `sender`.
    ///
    /// - Throws: `message_refused` with the reason (the message is ignored and the round goes on);
    ///   `round_aborted` once the round was aborted.
    public mutating func receive(_ message: SecAggMessage, from sender: UInt32) throws {
        try recordingRefusals(from: sender) { try $0.accept(message, from: sender) }
    }

    /// Decodes and accepts one binary message from `sender`. A masked input's values are added into the sum straight
    /// from the bytes (``PackedMaskedInput``), with the same checks and refusals as a decoded one.
    public mutating func receive(bytes: [UInt8], from sender: UInt32) throws {
        let packed: PackedMaskedInput?
        var message: SecAggMessage? = nil
        do {
            packed = try PackedMaskedInput(decoding: bytes)
            if packed == nil { message = try SecAggMessage(decoding: bytes) }
        } catch let error as VeilError {
            refusals.append(Refusal(client: sender, reason: error.message))
            throw error
        }
        if let message { return try receive(message, from: sender) }
        guard let input = packed else { return }
        try recordingRefusals(from: sender) { server in
            try server.checkOrigin(roundID: input.roundID, from: sender)
            try server.acceptMaskedInput(claimedSender: input.sender, count: input.count, from: sender) { modulus, sum in
                input.values.withUnsafeBytes { modulus.addPackedIfReduced($0, width: input.width, into: &sum) }
            }
        }
    }

    /// Runs `body` unless the round was aborted, and records a refused message with its reason.
    private mutating func recordingRefusals(from sender: UInt32, _ body: (inout SecAggServer) throws -> Void) throws {
        if case .aborted(let reason) = phase { throw VeilError(.roundAborted, reason) }
        do {
            try body(&self)
        } catch let error as VeilError where error.code == .messageRefused {
            refusals.append(Refusal(client: sender, reason: error.message))
            throw error
        }
    }

    /// Refuses a message from a client outside the round or of another round.
    private func checkOrigin(roundID messageRound: UInt64, from sender: UInt32) throws {
        guard Int(sender) < configuration.clientCount else {
            throw VeilError.refused("unknown client \(sender): this round has clients 0 ..< \(configuration.clientCount)")
        }
        guard messageRound == roundID else {
            throw VeilError.refused("message of round \(messageRound) in round \(roundID): replayed or misrouted")
        }
    }

    /// Accepts a masked input of `count` values whose `add` adds them into the sum when every value is below 2^b.
    private mutating func acceptMaskedInput(claimedSender: UInt32, count: Int, from sender: UInt32,
                                            add: (Modulus, inout [UInt64]) -> Bool) throws {
        try check(claimedSender, sender, step: .masking, "masked input")
        guard shared[sender] != nil else { throw VeilError.refused("client \(sender) sent a masked input without shares") }
        guard !maskedSenders.contains(sender) else { throw VeilError.refused("client \(sender) sent a masked input twice") }
        guard count == configuration.vectorLength else {
            throw VeilError.refused("client \(sender) sent \(count) values, not \(configuration.vectorLength)")
        }
        guard add(configuration.modulus, &maskedSum) else {
            throw VeilError.refused("client \(sender) sent a value outside 0 ..< 2^\(configuration.bitWidth)")
        }
        maskedSenders.insert(sender)
    }

    private mutating func accept(_ message: SecAggMessage, from sender: UInt32) throws {
        try checkOrigin(roundID: message.roundID, from: sender)
        switch message {
        case .advertiseKeys(let m):
            try check(m.sender, sender, step: .advertising, "advertised keys")
            guard advertised[sender] == nil else { throw VeilError.refused("client \(sender) advertised keys twice") }
            guard m.encryptionKey.count == 32, m.maskingKey.count == 32, m.encryptionKey != m.maskingKey,
                  (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: m.encryptionKey)) != nil,
                  (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: m.maskingKey)) != nil else {
                throw VeilError.refused("client \(sender) advertised invalid or identical X25519 keys")
            }
            advertised[sender] = m
        case .shareKeys(let m):
            try check(m.sender, sender, step: .sharing, "shares")
            guard advertised[sender] != nil else { throw VeilError.refused("client \(sender) sent shares without advertised keys") }
            guard shared[sender] == nil else { throw VeilError.refused("client \(sender) sent shares twice") }
            let expected = Set(advertisedNeighbours(of: sender))
            let peers = m.ciphertexts.map(\.peer)
            guard Set(peers).count == peers.count, Set(peers) == expected else {
                throw VeilError.refused("client \(sender) sent shares for \(peers.count) peers, not once for each of its \(expected.count) neighbours")
            }
            guard m.ciphertexts.allSatisfy({ $0.ciphertext.count <= SecAggMessage.maximumCiphertext }) else {
                throw VeilError.refused("client \(sender) sent an oversized ciphertext")
            }
            shared[sender] = m
        case .maskedInput(let m):
            try acceptMaskedInput(claimedSender: m.sender, count: m.values.count, from: sender) { modulus, sum in
                modulus.addIfReduced(m.values, into: &sum)
            }
        case .unmaskingResponse(let m):
            try check(m.sender, sender, step: .unmasking, "unmasking response")
            guard requested.contains(sender) else { throw VeilError.refused("client \(sender) was not asked to unmask") }
            guard !responders.contains(sender) else { throw VeilError.refused("client \(sender) answered twice") }
            let holdsFrom = Set(shareHolders(of: sender))
            let seedOwners = m.seedShares.map(\.owner), keyOwners = m.keyShares.map(\.owner)
            let survivors = maskedSenders.intersection(holdsFrom), dropped = holdsFrom.subtracting(maskedSenders)
            guard Set(seedOwners) == survivors, seedOwners.count == survivors.count,
                  Set(keyOwners) == dropped, keyOwners.count == dropped.count else {
                throw VeilError.refused("client \(sender) answered for other clients than it was asked about")
            }
            guard (m.seedShares + m.keyShares).allSatisfy({
                $0.share.x == sender + 1 && $0.share.values.count == ShamirSecretSharing.pieceCount
            }) else {
                throw VeilError.refused("client \(sender) sent a share that is not at its own point")
            }
            for s in m.seedShares { seedShares[s.owner, default: []].append(s.share) }
            for s in m.keyShares { keyShares[s.owner, default: []].append(s.share) }
            responders.insert(sender)
        case .keyDirectory, .encryptedShares, .unmaskingRequest:
            throw VeilError.refused("client \(sender) sent a server-to-client message")
        }
    }

    private func check(_ field: UInt32, _ sender: UInt32, step: Phase, _ what: String) throws {
        guard field == sender else { throw VeilError.refused("\(what) names client \(field) but came from client \(sender)") }
        guard phase == step else { throw VeilError.refused("\(what) from client \(sender) arrived outside its step") }
    }

    private func advertisedNeighbours(of client: UInt32) -> [UInt32] {
        graph.neighbours(of: Int(client)).map(UInt32.init).filter { advertised[$0] != nil }
    }

    private mutating func requireSurvivors(_ count: Int, _ step: String) throws {
        guard count >= configuration.minimumSurvivors else {
            let reason = "round aborted, nothing released: \(count) clients \(step), below the minimum of \(configuration.minimumSurvivors)"
            phase = .aborted(reason)
            throw VeilError(.roundAborted, reason)
        }
    }

    private func expectStep(_ step: Phase) throws {
        if case .aborted(let reason) = phase { throw VeilError(.roundAborted, reason) }
        guard phase == step else { throw VeilError(.invalidParameter, "the round is not at that step") }
    }

    /// Ends key advertisement: one directory per client that advertised keys, with its neighbours' keys.
    public mutating func closeAdvertising() throws -> [KeyDirectory] {
        try expectStep(.advertising)
        try requireSurvivors(advertised.count, "advertised keys")
        phase = .sharing
        return advertised.keys.sorted().map { client in
            KeyDirectory(roundID: roundID, recipient: client, graphSeed: graphSeed,
                         neighbours: advertisedNeighbours(of: client).map {
                             let a = advertised[$0]!
                             return PublicKeys(client: $0, encryptionKey: a.encryptionKey, maskingKey: a.maskingKey)
                         })
        }
    }

    /// Ends the share exchange: one message per client that sent shares, holding the ciphertexts
    /// addressed to it by other clients that sent shares.
    public mutating func closeSharing() throws -> [EncryptedShares] {
        try expectStep(.sharing)
        try requireSurvivors(shared.count, "sent shares")
        var inbox: [UInt32: [AddressedCiphertext]] = [:]
        for (sender, message) in shared {
            for item in message.ciphertexts where shared[item.peer] != nil {
                inbox[item.peer, default: []].append(AddressedCiphertext(peer: sender, ciphertext: item.ciphertext))
            }
        }
        phase = .masking
        return shared.keys.sorted().map { client in
            EncryptedShares(roundID: roundID, recipient: client,
                            ciphertexts: (inbox[client] ?? []).sorted { $0.peer < $1.peer })
        }
    }

    /// Ends masked-input collection: one unmasking request per client whose masked input was accepted.
    public mutating func closeMasking() throws -> [UnmaskingRequest] {
        try expectStep(.masking)
        try requireSurvivors(maskedSenders.count, "sent masked inputs")
        phase = .unmasking
        requested = maskedSenders
        return maskedSenders.sorted().map { client in
            let holds = shareHolders(of: client)
            return UnmaskingRequest(roundID: roundID, recipient: client,
                                    survivors: holds.filter { maskedSenders.contains($0) }.sorted(),
                                    dropped: holds.filter { !maskedSenders.contains($0) }.sorted(),
                                    survivorCount: UInt32(maskedSenders.count))
        }
    }

    /// The clients that sent shares among `client` and its neighbours: the owners of the shares `client` holds (and
    /// of its own). From the neighbour list, k + 1 lookups, not a pass over every client that sent shares.
    private func shareHolders(of client: UInt32) -> [UInt32] {
        ([Int(client)] + graph.neighbours(of: Int(client))).map(UInt32.init).filter { shared[$0] != nil }
    }

    /// Ends the round: removes every survivor's self-mask and every pairwise mask a dropped client left
    /// in its neighbours' inputs, and returns the sum of the survivors' inputs modulo 2^b.
    ///
    /// - Throws: `round_aborted` when a secret has fewer than t shares or its shares are inconsistent.
    public mutating func finish() throws -> [UInt64] {
        try expectStep(.unmasking)
        let t = configuration.threshold, bitWidth = configuration.bitWidth
        var sum = maskedSum
        // Every mask to remove, then one blocked pass over the sum (MaskGenerator.apply(_:to:bitWidth:)).
        var masks: [MaskGenerator.Term] = []
        var pairs: [(key: [UInt8], peer: [UInt8], sign: Int)] = []
        do {
            for client in maskedSenders.sorted() {
                let seed = try reconstruct(seedShares[client] ?? [], threshold: t, what: "the self-mask seed of client \(client)")
                masks.append(MaskGenerator.Term(seed: seed, sign: -1))
            }
            for client in Set(shared.keys).subtracting(maskedSenders).sorted() {
                let raw = try reconstruct(keyShares[client] ?? [], threshold: t, what: "the masking key of client \(client)")
                let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw)
                guard Array(key.publicKey.rawRepresentation) == advertised[client]!.maskingKey else {
                    throw VeilError.aborted("the reconstructed masking key of client \(client) does not match its advertised key")
                }
                for neighbour in graph.neighbours(of: Int(client)).map(UInt32.init) where maskedSenders.contains(neighbour) {
                    // The neighbour added sign(neighbour, client) · mask; take it out.
                    pairs.append((raw, advertised[neighbour]!.maskingKey, -KeyDerivation.pairwiseSign(neighbour, client)))
                }
            }
            masks += try Self.pairwiseMasks(pairs, roundID: roundID)
            MaskGenerator.apply(masks, to: &sum, bitWidth: bitWidth)
        } catch let error as VeilError {
            let reason = error.code == .roundAborted ? error.message : "round aborted, nothing released: \(error.message)"
            phase = .aborted(reason)
            throw VeilError(.roundAborted, reason)
        }
        phase = .finished
        return sum
    }

    /// The pairwise masks a dropped client left in its surviving neighbours' inputs: X25519 of its rebuilt masking
    /// key with each neighbour's public key, then HKDF (``KeyDerivation``) — one agreement per pair, spread over the
    /// processor's cores.
    private static func pairwiseMasks(_ pairs: [(key: [UInt8], peer: [UInt8], sign: Int)], roundID: UInt64) throws
        -> [MaskGenerator.Term] {
        var seeds = [[UInt8]](repeating: [], count: pairs.count)
        seeds.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let out = buffer.baseAddress!
            DispatchQueue.concurrentPerform(iterations: pairs.count) { i in
                guard let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: pairs[i].key),
                      let seed = try? KeyDerivation.derive(key, peer: pairs[i].peer, roundID: roundID,
                                                           purpose: KeyDerivation.maskPurpose) else { return }
                out[i] = seed
            }
        }
        guard seeds.allSatisfy({ $0.count == 32 }) else {
            throw VeilError.aborted("a pairwise mask seed of a dropped client could not be derived")
        }
        return zip(seeds, pairs).map { MaskGenerator.Term(seed: $0, sign: $1.sign) }
    }

    /// Reconstructs from t + 1 shares when there are that many (the extra one checks the others).
    private func reconstruct(_ shares: [SecretShare], threshold: Int, what: String) throws -> [UInt8] {
        guard shares.count >= threshold else {
            throw VeilError.aborted("\(shares.count) shares of \(what), fewer than the threshold \(threshold)")
        }
        return try ShamirSecretSharing.reconstruct(Array(shares.sorted { $0.x < $1.x }.prefix(threshold + 1)), threshold: threshold)
    }
}
