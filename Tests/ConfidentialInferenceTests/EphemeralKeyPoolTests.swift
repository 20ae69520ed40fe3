import ConfidentialInference
import Crypto
import Foundation
import Testing

/// Ephemeral keys made ahead of time: each is handed out once, requests sealed with them open at the gateway, and
/// the in-place padded encodings equal the padded plain encodings.
@Suite struct EphemeralKeyPoolTests {
    @Test func everyKeyIsHandedOutOnceAndSealsRequestsTheGatewayOpens() throws {
        let pool = EphemeralKeyPool(size: 8)
        let keys = (0..<200).map { _ in pool.take().publicKey.rawRepresentation }
        #expect(Set(keys).count == 200, "a key was handed out twice")
        let gateway = ObliviousHTTPGateway()
        var encapsulatedKeys: Set<[UInt8]> = []
        for i in 0..<20 {
            let message = Array("request \(i)".utf8)
            let sealed = try ObliviousRequest(request: message, configuration: gateway.configurations[0], ephemeralKeys: pool)
            let opened = try gateway.open(sealed.encapsulated)
            #expect(opened.request == message)
            encapsulatedKeys.insert(opened.encapsulatedKey)
            #expect(try sealed.openResponse(try opened.response.seal(Array("answer \(i)".utf8))) == Array("answer \(i)".utf8))
        }
        #expect(encapsulatedKeys.count == 20)
    }

    @Test(arguments: [0, 1, 400, 511, 512, 5_000, 200_000])
    func paddedEncodingsEqualPaddingThePlainEncoding(contentSize: Int) throws {
        let content = (0..<contentSize).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) }
        let request = BinaryHTTPRequest(method: "POST", scheme: "http", authority: "127.0.0.1", path: "/v2/models/m/infer",
                                        headers: [HTTPField("content-type", "application/json"), HTTPField("date", "Wed, 02 Dec 2026 07:00:00 GMT")],
                                        content: content)
        #expect(request.encoded(paddedToBucket: true) == SizeBuckets.padded(request.encoded()))
        #expect(try BinaryHTTPRequest(decoding: request.encoded(paddedToBucket: true)) == request)
        let response = BinaryHTTPResponse(status: 200, headers: [HTTPField("content-type", "application/json")], content: content)
        #expect(response.encoded(paddedToBucket: true) == SizeBuckets.padded(response.encoded()))
        #expect(response.encoded(paddedToBucket: true).count == SizeBuckets.bucket(for: response.encoded().count))
        // A non-zero byte in the padding is refused.
        var damaged = response.encoded(paddedToBucket: true)
        if damaged.count > response.encoded().count {
            damaged[damaged.count - 1] = 1
            #expect(throws: ConfidentialInferenceError.self) { _ = try BinaryHTTPResponse(decoding: damaged) }
        }
    }
}
