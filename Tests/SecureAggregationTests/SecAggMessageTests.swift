import Foundation
import Mechanisms
import Testing
@testable import SecureAggregation

/// The binary encoding and the server's refusals: every bad message is refused with a reason and
/// the round still completes with the right sum.
@Suite("SecAgg+ messages and refusals")
struct SecAggMessageTests {
    static func isRefusal(_ error: any Error) -> Bool { (error as? VeilError)?.code == .messageRefused }

    @Test("A configuration decoded from JSON is checked like one made in code")
    func configurationDecodingIsChecked() throws {
        let configuration = try SecAggConfiguration.secAggPlus(clientCount: 10, vectorLength: 9, bitWidth: 32)
        let json = try JSONEncoder().encode(configuration)
        #expect(try JSONDecoder().decode(SecAggConfiguration.self, from: json) == configuration)
        // Threshold 1 of 10 holders (any one neighbour could rebuild a secret), bit width 65, no vector.
        for (key, value) in [("threshold", 1), ("bitWidth", 65), ("vectorLength", 0)] {
            var object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
            object[key] = value
            let bad = try JSONSerialization.data(withJSONObject: object)
            #expect(throws: VeilError.self, "\(key) = \(value)") { try JSONDecoder().decode(SecAggConfiguration.self, from: bad) }
        }
    }

    @Test("Every message kind survives encoding and decoding; bad encodings are refused")
    func encodingRoundTrip() throws {
        let share = SecretShare(x: 3, values: [1, 2, 3, 4, MersenneField.modulus - 1])
        let key = [UInt8](repeating: 5, count: 32)
        let messages: [SecAggMessage] = [
            .advertiseKeys(AdvertiseKeys(roundID: 7, sender: 2, encryptionKey: key, maskingKey: key.reversed())),
            .keyDirectory(KeyDirectory(roundID: 7, recipient: 2, graphSeed: key,
                                       neighbours: [PublicKeys(client: 1, encryptionKey: key, maskingKey: key)])),
            .shareKeys(ShareKeys(roundID: 7, sender: 2, ciphertexts: [AddressedCiphertext(peer: 1, ciphertext: [9, 8, 7])])),
            .encryptedShares(EncryptedShares(roundID: 7, recipient: 1, ciphertexts: [AddressedCiphertext(peer: 2, ciphertext: [])])),
            .maskedInput(MaskedInput(roundID: 7, sender: 2, values: [0, 1, 0xFFFF_FFFF, 12345])),
            .unmaskingRequest(UnmaskingRequest(roundID: 7, recipient: 2, survivors: [1, 2], dropped: [4], survivorCount: 9)),
            .unmaskingResponse(UnmaskingResponse(roundID: 7, sender: 2, seedShares: [OwnedShare(owner: 1, share: share)],
                                                 keyShares: [OwnedShare(owner: 4, share: share)])),
        ]
        for message in messages {
            let bytes = message.encoded(bytesPerElement: 4)
            #expect(try SecAggMessage(decoding: bytes) == message)
            #expect(throws: VeilError.self) { try SecAggMessage(decoding: Array(bytes.dropLast())) }
            #expect(throws: VeilError.self) { try SecAggMessage(decoding: bytes + [0]) }
        }
        // Stable layout: the header, kind and round of an AdvertiseKeys message.
        let advertise = messages[0].encoded()
        #expect(Array(advertise.prefix(17)) == [0x56, 0x53, 0x41, 0x01, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 2])
        #expect(advertise.count == 4 + 1 + 8 + 4 + 64)
        var unknown = advertise
        unknown[4] = 99
        #expect { try SecAggMessage(decoding: unknown) } throws: { Self.isRefusal($0) }
        // A count that claims more items than the message holds is refused before any allocation.
        var huge = messages[4].encoded(bytesPerElement: 4)
        huge.replaceSubrange(18..<22, with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect { try SecAggMessage(decoding: huge) } throws: { Self.isRefusal($0) }
    }

    @Test("Malformed, duplicated, replayed, unknown-sender and out-of-step messages are refused; the round completes")
    func refusalsKeepTheRoundGoing() throws {
        let configuration = try SecAggConfiguration(clientCount: 8, vectorLength: 6, bitWidth: 12, neighbours: 7,
                                                    threshold: 5, minimumSurvivors: 5)
        var source = InsecureSeededRandomSource(seed: 61)
        var server = try SecAggServer(configuration: configuration, using: &source)
        var clients = try (0..<UInt32(8)).map {
            try SecAggClient(index: $0, configuration: configuration, roundID: server.roundID, using: &source)
        }
        let inputs: [[UInt64]] = (0..<8).map { c in (0..<6).map { UInt64((c * 100 + $0 * 7) % 4096) } }
        func refused(_ body: () throws -> Void) { #expect(performing: body, throws: { Self.isRefusal($0) }) }

        let keys0 = clients[0].advertiseKeys()
        refused { try server.receive(bytes: [1, 2, 3], from: 0) }                                   // malformed
        refused { try server.receive(.advertiseKeys(keys0), from: 8) }                             // unknown client
        refused { try server.receive(.advertiseKeys(keys0), from: 1) }                             // sender mismatch
        refused {                                                                                   // another round
            try server.receive(.advertiseKeys(AdvertiseKeys(roundID: server.roundID &+ 1, sender: 0,
                                                            encryptionKey: keys0.encryptionKey, maskingKey: keys0.maskingKey)), from: 0)
        }
        refused { try server.receive(.maskedInput(MaskedInput(roundID: server.roundID, sender: 0, values: inputs[0])), from: 0) } // out of step
        for c in clients { try server.receive(.advertiseKeys(c.advertiseKeys()), from: c.index) }
        refused { try server.receive(.advertiseKeys(keys0), from: 0) }                             // duplicate
        refused {                                                                                   // identical keys
            try server.receive(.advertiseKeys(AdvertiseKeys(roundID: server.roundID, sender: 0,
                                                            encryptionKey: keys0.encryptionKey, maskingKey: keys0.encryptionKey)), from: 0)
        }
        var replies: [ShareKeys] = []
        for d in try server.closeAdvertising() { replies.append(try clients[Int(d.recipient)].shareKeys(d, using: &source)) }
        refused {                                                                                   // shares for too few peers
            try server.receive(.shareKeys(ShareKeys(roundID: server.roundID, sender: 0, ciphertexts: Array(replies[0].ciphertexts.dropLast()))), from: 0)
        }
        for r in replies { try server.receive(.shareKeys(r), from: r.sender) }
        refused { try server.receive(.shareKeys(replies[1]), from: 1) }                            // duplicate
        var masked: [MaskedInput] = []
        for s in try server.closeSharing() { masked.append(try clients[Int(s.recipient)].maskedInput(s, input: inputs[Int(s.recipient)])) }
        refused { try server.receive(.maskedInput(MaskedInput(roundID: server.roundID, sender: 0, values: [1, 2])), from: 0) }   // wrong shape
        refused { try server.receive(.maskedInput(MaskedInput(roundID: server.roundID, sender: 0, values: [UInt64](repeating: 4096, count: 6))), from: 0) } // out of range
        // The same refusals for masked inputs summed straight from their bytes; a refused one leaves the sum as it was.
        func packed(_ m: MaskedInput) -> [UInt8] { SecAggMessage.maskedInput(m).encoded(bytesPerElement: 2) }
        refused { try server.receive(bytes: packed(MaskedInput(roundID: server.roundID, sender: 0, values: [1, 2])), from: 0) }
        refused { try server.receive(bytes: packed(MaskedInput(roundID: server.roundID, sender: 0, values: [1, 2, 3, 4, 5, 4096])), from: 0) }
        refused { try server.receive(bytes: packed(MaskedInput(roundID: server.roundID &+ 1, sender: 0, values: inputs[0])), from: 0) }
        refused { try server.receive(bytes: Array(packed(masked[0]).dropLast()), from: 0) }         // truncated
        refused { try server.receive(bytes: packed(masked[0]) + [0], from: 0) }                     // trailing byte
        refused { try server.receive(bytes: packed(masked[1]), from: 0) }                           // names another sender
        refused { try server.receive(bytes: packed(masked[0]), from: 9) }                           // unknown client
        for m in masked { try server.receive(bytes: packed(m), from: m.sender) }
        refused { try server.receive(.maskedInput(masked[2]), from: 2) }                          // replayed
        let requests = try server.closeMasking()
        // A client refuses a request that lists a neighbour both as surviving and as dropped.
        let bad = UnmaskingRequest(roundID: server.roundID, recipient: 3, survivors: requests[3].survivors,
                                   dropped: [requests[3].survivors.first { $0 != 3 }!], survivorCount: 8)
        var probe = clients[3]
        refused { _ = try probe.unmask(bad) }
        for r in requests {
            let response = try clients[Int(r.recipient)].unmask(r)
            if r.recipient == 4 {
                refused {                                                                            // answers about other clients
                    try server.receive(.unmaskingResponse(UnmaskingResponse(roundID: server.roundID, sender: 4,
                                                                            seedShares: Array(response.seedShares.dropFirst()),
                                                                            keyShares: response.keyShares)), from: 4)
                }
            }
            try server.receive(.unmaskingResponse(response), from: r.recipient)
        }
        let sum = try server.finish()
        let expected = (0..<6).map { i in inputs.reduce(UInt64(0)) { ($0 + $1[i]) % 4096 } }
        #expect(sum == expected)
        #expect(server.refusals.count == 20)
        #expect(server.refusals.allSatisfy { !$0.reason.isEmpty })
    }
}
