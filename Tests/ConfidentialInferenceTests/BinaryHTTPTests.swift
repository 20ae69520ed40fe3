import Testing
@testable import ConfidentialInference

/// RFC 9292 §5's examples.
@Suite struct BinaryHTTPTests {
    static let hex = ObliviousHTTPKnownAnswerTests.hex

    /// §5.1, known-length request.
    static let request = hex("0003474554056874747073000a2f68656c6c6f2e747874406c0a757365722d6167656e74346375726c2f372e31362e33206c69626375726c2f372e31362e33204f70656e53534c2f302e392e376c207a6c69622f312e322e3304686f73740f7777772e6578616d706c652e636f6d0f6163636570742d6c616e677561676506656e2c206d690000")
    /// §5.2, known-length response with a trailer.
    static let response = hex("0140c8001d5468697320636f6e74656e7420636f6e7461696e732043524c462e0d0a0d07747261696c65720474657874")

    @Test func theKnownLengthRequestExampleDecodesAndEncodesBack() throws {
        let decoded = try BinaryHTTPRequest(decoding: Self.request)
        let expected = BinaryHTTPRequest(method: "GET", scheme: "https", authority: "", path: "/hello.txt", headers: [
            HTTPField("user-agent", "curl/7.16.3 libcurl/7.16.3 OpenSSL/0.9.7l zlib/1.2.3"),
            HTTPField("host", "www.example.com"),
            HTTPField("accept-language", "en, mi"),
        ])
        #expect(decoded == expected)
        #expect(expected.encoded(truncated: false) == Self.request)
        // Cutting the empty content and trailers, or adding zero padding, changes nothing.
        #expect(try BinaryHTTPRequest(decoding: Array(Self.request.dropLast(2))) == expected)
        #expect(try BinaryHTTPRequest(decoding: SizeBuckets.padded(Self.request)) == expected)
        #expect(SizeBuckets.padded(Self.request).count == 512)
    }

    @Test func theKnownLengthResponseExampleDecodesAndEncodesBack() throws {
        let decoded = try BinaryHTTPResponse(decoding: Self.response)
        let expected = BinaryHTTPResponse(status: 200, content: Array("This content contains CRLF.\r\n".utf8),
                                          trailers: [HTTPField("trailer", "text")])
        #expect(decoded == expected)
        #expect(expected.encoded() == Self.response)
    }

    @Test func aRequestsContentIsFoundInPlaceWithTheSameChecksAsWhenCopied() throws {
        let content = Array("{\"inputs\":[]}".utf8) + [0, 0]  // zero bytes inside the content are content, not padding
        let request = BinaryHTTPRequest(method: "POST", authority: "gateway", path: "/v2/models/m/infer",
                                        headers: [HTTPField("date", "Tue, 01 Dec 2026 10:00:00 GMT")], content: content,
                                        trailers: [HTTPField("x", "y")])
        for bytes in [request.encoded(), request.encoded(paddedToBucket: true), request.encoded(truncated: false)] {
            let (head, range) = try BinaryHTTPRequest.decodingLeavingContent(bytes)
            #expect(Array(bytes[range]) == content)
            var withoutContent = request
            withoutContent.content = []
            #expect(head == withoutContent)
            #expect(try BinaryHTTPRequest(decoding: bytes) == request)
        }
        // No content: an empty range, at the end of a truncated message.
        let (_, none) = try BinaryHTTPRequest.decodingLeavingContent(Array(Self.request.dropLast(2)))
        #expect(none.isEmpty)
        for bad in [[0x01] + Array(Self.request.dropFirst()), Array(Self.request.prefix(40)), Self.request + [0, 0, 1]] as [[UInt8]] {
            #expect(throws: ConfidentialInferenceError.self) { try BinaryHTTPRequest.decodingLeavingContent(bad) }
        }
    }

    @Test func malformedMessagesAreRefusedNotRepaired() {
        for bad in [[], [0x01] + Array(Self.request.dropFirst()), Array(Self.request.prefix(40)), Self.request + [0, 0, 1],
                    Self.hex("0003474554")] as [[UInt8]] {
            #expect(throws: ConfidentialInferenceError.self) { try BinaryHTTPRequest(decoding: bad) }
        }
        #expect(throws: ConfidentialInferenceError.self) { try BinaryHTTPResponse(decoding: Self.hex("0140")) }
        #expect(throws: ConfidentialInferenceError.self) { try BinaryHTTPResponse(decoding: Self.hex("0140c800ff")) }
    }
}
