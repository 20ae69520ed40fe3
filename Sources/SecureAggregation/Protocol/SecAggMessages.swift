import Mechanisms

/// Round 0, client → server: the client's two X25519 public keys (Bonawitz et al. 2017, §4
/// "AdvertiseKeys"): one to encrypt the share exchange, one to agree pairwise mask seeds.
public struct AdvertiseKeys: Sendable, Hashable, Codable {
    public let roundID: UInt64
    public let sender: UInt32
    public let encryptionKey: [UInt8]
    public let maskingKey: [UInt8]
    public init(roundID: UInt64, sender: UInt32, encryptionKey: [UInt8], maskingKey: [UInt8]) {
        self.roundID = roundID; self.sender = sender; self.encryptionKey = encryptionKey; self.maskingKey = maskingKey
    }
}

/// One entry of a key directory: a neighbour and its public keys.
public struct PublicKeys: Sendable, Hashable, Codable {
    public let client: UInt32
    public let encryptionKey: [UInt8]
    public let maskingKey: [UInt8]
    public init(client: UInt32, encryptionKey: [UInt8], maskingKey: [UInt8]) {
        self.client = client; self.encryptionKey = encryptionKey; self.maskingKey = maskingKey
    }
}

/// Round 0, server → one client: the graph seed and the public keys of the client's neighbours that
/// advertised keys (SecAgg+ sends each client its neighbourhood only).
public struct KeyDirectory: Sendable, Hashable, Codable {
    public let roundID: UInt64
    public let recipient: UInt32
    public let graphSeed: [UInt8]
    public let neighbours: [PublicKeys]
    public init(roundID: UInt64, recipient: UInt32, graphSeed: [UInt8], neighbours: [PublicKeys]) {
        self.roundID = roundID; self.recipient = recipient; self.graphSeed = graphSeed; self.neighbours = neighbours
    }
}

/// A ciphertext for one other party: AES-256-GCM of (sender, recipient, key share, seed share).
public struct AddressedCiphertext: Sendable, Hashable, Codable {
    /// The other party: the recipient when a client sends, the sender when the server forwards.
    public let peer: UInt32
    public let ciphertext: [UInt8]
    public init(peer: UInt32, ciphertext: [UInt8]) { self.peer = peer; self.ciphertext = ciphertext }
}

/// Round 1, client → server: one encrypted pair of shares for every neighbour in the directory.
public struct ShareKeys: Sendable, Hashable, Codable {
    public let roundID: UInt64
    public let sender: UInt32
    public let ciphertexts: [AddressedCiphertext]
    public init(roundID: UInt64, sender: UInt32, ciphertexts: [AddressedCiphertext]) {
        self.roundID = roundID; self.sender = sender; self.ciphertexts = ciphertexts
    }
}

/// Round 1, server → one client: the ciphertexts its neighbours addressed to it.
public struct EncryptedShares: Sendable, Hashable, Codable {
    public let roundID: UInt64
    public let recipient: UInt32
    public let ciphertexts: [AddressedCiphertext]
    public init(roundID: UInt64, recipient: UInt32, ciphertexts: [AddressedCiphertext]) {
        self.roundID = roundID; self.recipient = recipient; self.ciphertexts = ciphertexts
    }
}

/// Round 2, client → server: the input plus the self-mask and the pairwise masks, modulo 2^b.
public struct MaskedInput: Sendable, Hashable, Codable {
    public let roundID: UInt64
    public let sender: UInt32
    public let values: [UInt64]
    public init(roundID: UInt64, sender: UInt32, values: [UInt64]) {
        self.roundID = roundID; self.sender = sender; self.values = values
    }
}

/// Round 3, server → one client: which of its neighbours sent a masked input (their self-mask seeds
/// are to be revealed) and which sent shares but no masked input (their masking keys are to be
/// revealed), and how many masked inputs the round holds in all.
public struct UnmaskingRequest: Sendable, Hashable, Codable {
    public let roundID: UInt64
    public let recipient: UInt32
    public let survivors: [UInt32]
    public let dropped: [UInt32]
    public let survivorCount: UInt32
    public init(roundID: UInt64, recipient: UInt32, survivors: [UInt32], dropped: [UInt32], survivorCount: UInt32) {
        self.roundID = roundID; self.recipient = recipient; self.survivors = survivors; self.dropped = dropped
        self.survivorCount = survivorCount
    }
}

/// A share of another client's secret, with whose secret it is.
public struct OwnedShare: Sendable, Hashable, Codable {
    public let owner: UInt32
    public let share: SecretShare
    public init(owner: UInt32, share: SecretShare) { self.owner = owner; self.share = share }
}

/// Round 3, client → server: shares of the survivors' self-mask seeds and of the dropped clients'
/// masking keys — never both for one client.
public struct UnmaskingResponse: Sendable, Hashable, Codable {
    public let roundID: UInt64
    public let sender: UInt32
    public let seedShares: [OwnedShare]
    public let keyShares: [OwnedShare]
    public init(roundID: UInt64, sender: UInt32, seedShares: [OwnedShare], keyShares: [OwnedShare]) {
        self.roundID = roundID; self.sender = sender; self.seedShares = seedShares; self.keyShares = keyShares
    }
}

/// Every secure-aggregation message, with the stable binary encoding a transport sends.
///
/// Layout (all integers big-endian): the magic `VSA` and version `1`, a one-byte kind, the 64-bit round
/// identifier, then the kind's fields in declaration order; arrays are a 32-bit count then the items,
/// byte strings a 32-bit length then the bytes; masked values use ⌈b/8⌉ bytes each, preceded by that
/// width. Decoding refuses truncated, padded, oversized or unknown messages with a reason.
public enum SecAggMessage: Sendable, Hashable, Codable {
    case advertiseKeys(AdvertiseKeys)
    case keyDirectory(KeyDirectory)
    case shareKeys(ShareKeys)
    case encryptedShares(EncryptedShares)
    case maskedInput(MaskedInput)
    case unmaskingRequest(UnmaskingRequest)
    case unmaskingResponse(UnmaskingResponse)

    static let magic: [UInt8] = [0x56, 0x53, 0x41, 0x01]     // "VSA", version 1
    /// Largest ciphertext accepted: the plaintext is 8 + 2 · 44 bytes, plus a 12-byte nonce and 16-byte tag.
    static let maximumCiphertext = 256

    /// The round the message belongs to.
    public var roundID: UInt64 {
        switch self {
        case .advertiseKeys(let m): m.roundID
        case .keyDirectory(let m): m.roundID
        case .shareKeys(let m): m.roundID
        case .encryptedShares(let m): m.roundID
        case .maskedInput(let m): m.roundID
        case .unmaskingRequest(let m): m.roundID
        case .unmaskingResponse(let m): m.roundID
        }
    }

    /// The binary encoding. Masked values are written with `bytesPerElement` bytes each (⌈b/8⌉).
    public func encoded(bytesPerElement: Int = 8) -> [UInt8] {
        var w = BinaryWriter()
        w.fixed(Self.magic)
        switch self {
        case .advertiseKeys(let m):
            w.u8(1); w.u64(m.roundID); w.u32(m.sender); w.fixed(m.encryptionKey); w.fixed(m.maskingKey)
        case .keyDirectory(let m):
            w.u8(2); w.u64(m.roundID); w.u32(m.recipient); w.fixed(m.graphSeed)
            w.u32(UInt32(m.neighbours.count))
            for k in m.neighbours { w.u32(k.client); w.fixed(k.encryptionKey); w.fixed(k.maskingKey) }
        case .shareKeys(let m):
            w.u8(3); w.u64(m.roundID); w.u32(m.sender)
            w.u32(UInt32(m.ciphertexts.count))
            for c in m.ciphertexts { w.u32(c.peer); w.blob(c.ciphertext) }
        case .encryptedShares(let m):
            w.u8(4); w.u64(m.roundID); w.u32(m.recipient)
            w.u32(UInt32(m.ciphertexts.count))
            for c in m.ciphertexts { w.u32(c.peer); w.blob(c.ciphertext) }
        case .maskedInput(let m):
            w.u8(5); w.u64(m.roundID); w.u32(m.sender)
            w.u8(UInt8(bytesPerElement)); w.u32(UInt32(m.values.count))
            w.packed(m.values, width: bytesPerElement)
        case .unmaskingRequest(let m):
            w.u8(6); w.u64(m.roundID); w.u32(m.recipient)
            w.u32(UInt32(m.survivors.count)); for s in m.survivors { w.u32(s) }
            w.u32(UInt32(m.dropped.count)); for d in m.dropped { w.u32(d) }
            w.u32(m.survivorCount)
        case .unmaskingResponse(let m):
            w.u8(7); w.u64(m.roundID); w.u32(m.sender)
            w.u32(UInt32(m.seedShares.count)); for s in m.seedShares { w.u32(s.owner); w.share(s.share) }
            w.u32(UInt32(m.keyShares.count)); for s in m.keyShares { w.u32(s.owner); w.share(s.share) }
        }
        return w.bytes
    }

    /// Decodes one message.
    ///
    /// - Throws: ``VeilError`` (`message_refused`) naming what is wrong: magic or version, unknown kind,
    ///   truncation, trailing bytes, a count larger than the message, an oversized ciphertext.
    public init(decoding bytes: [UInt8]) throws {
        var r = BinaryReader(bytes)
        guard try r.fixed(4, "header") == Self.magic else {
            throw VeilError.refused("malformed message: not a Veil secure-aggregation message of version 1")
        }
        let kind = try r.u8("kind")
        let round = try r.u64("round identifier")
        switch kind {
        case 1:
            self = .advertiseKeys(AdvertiseKeys(roundID: round, sender: try r.u32("sender"),
                                                encryptionKey: try r.fixed(32, "encryption key"),
                                                maskingKey: try r.fixed(32, "masking key")))
        case 2:
            let recipient = try r.u32("recipient")
            let seed = try r.fixed(32, "graph seed")
            let n = try r.count("neighbours", minimumItemBytes: 68)
            var keys: [PublicKeys] = []
            for _ in 0..<n {
                keys.append(PublicKeys(client: try r.u32("neighbour"), encryptionKey: try r.fixed(32, "encryption key"),
                                       maskingKey: try r.fixed(32, "masking key")))
            }
            self = .keyDirectory(KeyDirectory(roundID: round, recipient: recipient, graphSeed: seed, neighbours: keys))
        case 3, 4:
            let party = try r.u32(kind == 3 ? "sender" : "recipient")
            let n = try r.count("ciphertexts", minimumItemBytes: 8)
            var items: [AddressedCiphertext] = []
            for _ in 0..<n {
                items.append(AddressedCiphertext(peer: try r.u32("peer"),
                                                 ciphertext: try r.blob("ciphertext", maximum: Self.maximumCiphertext)))
            }
            self = kind == 3 ? .shareKeys(ShareKeys(roundID: round, sender: party, ciphertexts: items))
                             : .encryptedShares(EncryptedShares(roundID: round, recipient: party, ciphertexts: items))
        case 5:
            let input = try PackedMaskedInput(reading: &r, roundID: round)
            self = .maskedInput(MaskedInput(roundID: round, sender: input.sender,
                                            values: BinaryReader.unpack(input.values, count: input.count, width: input.width)))
        case 6:
            let recipient = try r.u32("recipient")
            let s = try r.count("survivors", minimumItemBytes: 4)
            var survivors: [UInt32] = []
            for _ in 0..<s { survivors.append(try r.u32("survivor")) }
            let d = try r.count("dropped", minimumItemBytes: 4)
            var dropped: [UInt32] = []
            for _ in 0..<d { dropped.append(try r.u32("dropped")) }
            self = .unmaskingRequest(UnmaskingRequest(roundID: round, recipient: recipient, survivors: survivors,
                                                      dropped: dropped, survivorCount: try r.u32("survivor count")))
        case 7:
            let sender = try r.u32("sender")
            func shares(_ field: String) throws -> [OwnedShare] {
                let n = try r.count(field, minimumItemBytes: 4 + SecretShare.encodedCount)
                var out: [OwnedShare] = []
                for _ in 0..<n { out.append(OwnedShare(owner: try r.u32("owner"), share: try r.share(field))) }
                return out
            }
            let seeds = try shares("seed shares")
            let keys = try shares("key shares")
            self = .unmaskingResponse(UnmaskingResponse(roundID: round, sender: sender, seedShares: seeds, keyShares: keys))
        default:
            throw VeilError.refused("malformed message: unknown kind \(kind)")
        }
        try r.finish()
    }
}

/// A masked input still in its binary encoding: the server adds its values into the round's sum straight from the
/// message's bytes (``Modulus/addPackedIfReduced(_:width:into:)``) instead of unpacking them into an array first.
struct PackedMaskedInput {
    let roundID: UInt64
    let sender: UInt32
    /// Bytes per value.
    let width: Int
    /// Number of values.
    let count: Int
    /// The values, `count` × `width` big-endian bytes.
    let values: ArraySlice<UInt8>

    /// Reads the fields after the round identifier, with the refusals of ``SecAggMessage/init(decoding:)``.
    init(reading r: inout BinaryReader, roundID: UInt64) throws {
        self.roundID = roundID
        sender = try r.u32("sender")
        width = Int(try r.u8("element width"))
        guard (1...8).contains(width) else { throw VeilError.refused("malformed message: element width \(width) is not 1 ... 8 bytes") }
        count = try r.count("values", minimumItemBytes: width)
        values = try r.take(count * width, "values")
    }

    /// The masked input encoded in `bytes`, or nil when they hold another kind of message (or none: the full decoder
    /// then refuses them with its reason).
    /// - Throws: the refusals of ``SecAggMessage/init(decoding:)`` for a malformed masked input.
    init?(decoding bytes: [UInt8]) throws {
        var r = BinaryReader(bytes)
        guard bytes.count > SecAggMessage.magic.count, Array(bytes.prefix(SecAggMessage.magic.count)) == SecAggMessage.magic,
              bytes[SecAggMessage.magic.count] == 5 else { return nil }
        _ = try r.fixed(SecAggMessage.magic.count + 1, "header")
        let round = try r.u64("round identifier")
        self = try PackedMaskedInput(reading: &r, roundID: round)
        try r.finish()
    }
}
