import Crypto
import Foundation
import Testing
@testable import ConfidentialInference

/// The complete worked example of RFC 9458 Appendix A, byte for byte, and the Binary HTTP examples of
/// RFC 9292 §5.
@Suite struct ObliviousHTTPKnownAnswerTests {
    static func hex(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        var chars = Array(text.utf8).makeIterator()
        func nibble(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10 }
        while let a = chars.next(), let b = chars.next() { out.append(nibble(a) << 4 | nibble(b)) }
        return out
    }

    // RFC 9458 Appendix A.
    static let gatewayPrivateKey = hex("3c168975674b2fa8e465970b79c8dcf09f1c741626480bd4c6162fc5b6a98e1a")
    static let keyConfiguration = hex("01002031e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e79815500080001000100010003")
    static let request = hex("00034745540568747470730b6578616d706c652e636f6d012f")
    static let ephemeralPrivateKey = hex("bc51d5e930bda26589890ac7032f70ad12e4ecb37abb1b65b1256c9c48999c73")
    static let encapsulatedRequest = hex("010020000100014b28f881333e7c164ffc499ad9796f877f4e1051ee6d31bad19dec96c208b4726374e469135906992e1268c594d2a10c695d858c40a026e7965e7d86b83dd440b2c0185204b4d63525")
    static let response = hex("0140c8")
    static let responseNonce = hex("c789e7151fcba46158ca84b04464910d")
    static let encapsulatedResponse = hex("c789e7151fcba46158ca84b04464910d86f9013e404feea014e7be4a441f234f857fbd")

    static func gateway() throws -> ObliviousHTTPGateway {
        ObliviousHTTPGateway(current: .init(keyID: 1, privateKey: try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: gatewayPrivateKey)))
    }

    @Test func theKeyConfigurationDecodesAndEncodesToTheSameBytes() throws {
        let configuration = try OHTTPKeyConfiguration(decoding: Self.keyConfiguration)
        #expect(configuration.keyID == 1)
        #expect(configuration.publicKey == Self.hex("31e1f05a740102115220e9af918f738674aec95f54db6e04eb705aae8e798155"))
        #expect(configuration.algorithms == [.init(kdf: 1, aead: 1), .init(kdf: 1, aead: 3)])
        #expect(configuration.encoded == Self.keyConfiguration)
        #expect(configuration.supportsVeilSuite)
        let list = OHTTPKeyConfiguration.encodeList([configuration, configuration])
        #expect(list == [0x00, 0x2d] + Self.keyConfiguration + [0x00, 0x2d] + Self.keyConfiguration)
        #expect(try OHTTPKeyConfiguration.decodeList(list) == [configuration, configuration])
        #expect(throws: ConfidentialInferenceError.self) { try OHTTPKeyConfiguration.decodeList(Array(list.dropLast())) }
        #expect(throws: ConfidentialInferenceError.self) { try OHTTPKeyConfiguration(decoding: Self.keyConfiguration + [0]) }
    }

    @Test func theClientProducesTheRFCsEncapsulatedRequestFromTheSameKeys() throws {
        let configuration = try OHTTPKeyConfiguration(decoding: Self.keyConfiguration)
        let sealed = try ObliviousRequest(request: Self.request, configuration: configuration,
                                          fixedEphemeralKeyForTesting: try .init(rawRepresentation: Self.ephemeralPrivateKey))
        #expect(sealed.encapsulated == Self.encapsulatedRequest)
        // And it opens the RFC's encapsulated response to the RFC's response.
        #expect(try sealed.openResponse(Self.encapsulatedResponse) == Self.response)
    }

    @Test func theGatewayOpensTheRFCsRequestAndProducesTheRFCsResponse() throws {
        let opened = try Self.gateway().open(Self.encapsulatedRequest)
        #expect(opened.request == Self.request)
        #expect(opened.encapsulatedKey == Self.hex("4b28f881333e7c164ffc499ad9796f877f4e1051ee6d31bad19dec96c208b472"))
        #expect(try opened.response.seal(Self.response, responseNonce: Self.responseNonce) == Self.encapsulatedResponse)
        // The response key schedule's intermediate values (RFC 9458 Appendix A).
        #expect(opened.response.secret == Self.hex("62d87a6ba569ee81014c2641f52bea36"))
        let (key, nonce) = ObliviousResponseKeys.derive(secret: opened.response.secret, encapsulatedKey: opened.encapsulatedKey,
                                                        responseNonce: Self.responseNonce)
        #expect(key.withUnsafeBytes { Array($0) } == Self.hex("5d0172a080e428b16d298c4ea0db620d"))
        #expect(nonce == Self.hex("f6bf1aeb88d6df87007fa263"))
        // The request is Binary HTTP `GET https://example.com/`, encoded with its empty sections cut off.
        let decoded = try BinaryHTTPRequest(decoding: opened.request)
        #expect(decoded == BinaryHTTPRequest(method: "GET", scheme: "https", authority: "example.com", path: "/"))
        #expect(decoded.encoded() == Self.request)
        #expect(try BinaryHTTPResponse(decoding: Self.response) == BinaryHTTPResponse(status: 200))
        #expect(BinaryHTTPResponse(status: 200).encoded() == Self.response)
    }

    /// The hand-written HPKE sender against swift-crypto's HPKE recipient, and swift-crypto's sender
    /// against the gateway, with fresh keys.
    @Test func theFixedKeySenderAndSwiftCryptosHPKEAgree() throws {
        for _ in 0..<20 {
            let gateway = ObliviousHTTPGateway()
            let configuration = gateway.configurations[0]
            let message = Array("veil \(UUID().uuidString)".utf8)
            let fixed = try ObliviousRequest(request: message, configuration: configuration,
                                             fixedEphemeralKeyForTesting: Curve25519.KeyAgreement.PrivateKey())
            let random = try ObliviousRequest(request: message, configuration: configuration)
            for sealed in [fixed, random] {
                let opened = try gateway.open(sealed.encapsulated)
                #expect(opened.request == message)
                #expect(try sealed.openResponse(try opened.response.seal(Array("answer".utf8))) == Array("answer".utf8))
            }
            #expect(fixed.encapsulated != random.encapsulated)
        }
    }

    @Test func badEncapsulationsGetTheRFCsErrors() throws {
        let gateway = try Self.gateway()
        var unknownKey = Self.encapsulatedRequest
        unknownKey[0] = 2
        #expect(throws: ObliviousHTTPGateway.Refusal.keyConfigurationMismatch) { try gateway.open(unknownKey) }
        var otherSuite = Self.encapsulatedRequest
        otherSuite[6] = 3   // ChaCha20-Poly1305: offered by the RFC's configuration, not by Veil's gateway
        #expect(throws: ObliviousHTTPGateway.Refusal.keyConfigurationMismatch) { try gateway.open(otherSuite) }
        #expect(ObliviousHTTPGateway.Refusal.keyConfigurationMismatch.status == 422)
        // Every single-byte change after the header, and every truncation, is 400.
        for i in 7..<Self.encapsulatedRequest.count {
            var tampered = Self.encapsulatedRequest
            tampered[i] ^= 0x01
            #expect(throws: ObliviousHTTPGateway.Refusal.undecryptable) { try gateway.open(tampered) }
        }
        for length in [0, 3, 7, 39, 54, Self.encapsulatedRequest.count - 1] {
            let cut = Array(Self.encapsulatedRequest.prefix(length))
            #expect(throws: ObliviousHTTPGateway.Refusal.self) { try gateway.open(cut) }
        }
        #expect(ObliviousHTTPGateway.Refusal.undecryptable.status == 400)
    }

    @Test func rotationKeepsThePreviousKeyAndDropsTheOneBefore() throws {
        let gateway = ObliviousHTTPGateway()
        let first = gateway.configurations[0]
        let toFirst = try ObliviousRequest(request: [1, 2, 3], configuration: first)
        gateway.rotate(to: .init(keyID: 2, privateKey: .init()))
        #expect(gateway.configurations.map(\.keyID) == [2, 1])
        #expect(try gateway.open(toFirst.encapsulated).request == [1, 2, 3])
        gateway.rotate(to: .init(keyID: 3, privateKey: .init()))
        #expect(throws: ObliviousHTTPGateway.Refusal.keyConfigurationMismatch) { try gateway.open(toFirst.encapsulated) }
    }

    @Test func httpDatesAreIMFFixdates() {
        // RFC 9110 §5.6.7's example, 784111777 seconds after the epoch.
        #expect(HTTPDate.string(from: Date(timeIntervalSince1970: 784_111_777)) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.date(from: "Sun, 06 Nov 1994 08:49:37 GMT") == Date(timeIntervalSince1970: 784_111_777))
        for bad in ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 UTC",
                    "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", ""] {
            #expect(HTTPDate.date(from: bad) == nil, "\(bad)")
        }
    }

    @Test func replayWindowRefusesRepeatsAndStaleDates() {
        let window = ReplayWindow(window: 60, capacity: 3)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(window.check(encapsulatedKey: [1], date: now, now: now) == .accepted)
        #expect(window.check(encapsulatedKey: [1], date: now, now: now.addingTimeInterval(5)) == .replayed)
        #expect(window.check(encapsulatedKey: [2], date: now.addingTimeInterval(-61), now: now) == .stale)
        #expect(window.check(encapsulatedKey: [2], date: nil, now: now) == .stale)
        #expect(window.check(encapsulatedKey: [2], date: now, now: now) == .accepted)
        #expect(window.check(encapsulatedKey: [3], date: now, now: now) == .accepted)
        #expect(window.check(encapsulatedKey: [4], date: now, now: now) == .busy)
        // Past twice the window the old keys are forgotten (a replay of them is stale by its Date anyway).
        let later = now.addingTimeInterval(121)
        #expect(window.check(encapsulatedKey: [4], date: later, now: later) == .accepted)
        #expect(window.check(encapsulatedKey: [1], date: now, now: later) == .stale)
    }
}
