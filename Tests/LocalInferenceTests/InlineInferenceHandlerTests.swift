import HTTPTypes
import LinearAlgebra
@testable import LocalInference
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import PrivateTraining
import Synchronization
import Testing

@Suite("Inference server: small requests answered in the channel pipeline")
struct InlineInferenceHandlerTests {
    /// The access-log lines a handler wrote.
    final class LogLines: Sendable {
        let lines = Mutex<[String]>([])
    }

    /// A handler in an embedded channel, serving `tabular` (logistic, 3 inputs) and `wide` (784 → 2,000).
    struct Harness {
        let channel: EmbeddedChannel
        let service: InferenceService
        let gate: AdmissionGate
        let log = LogLines()

        init(token: String? = nil, queue: Int = 4) throws {
            let wide = TestModels.model([.flatten, .dense(units: 2_000)], inputShape: ImageShape(height: 28, width: 28, channels: 1))
            service = InferenceService(models: [try TestModels.inferenceModel(TestModels.logistic, name: "tabular"),
                                                try TestModels.inferenceModel(wide, name: "wide")])
            gate = AdmissionGate(capacity: queue)
            let log = self.log
            channel = EmbeddedChannel(handler: InlineInferenceHandler(.init(
                service: service, gate: gate, maximumBodyBytes: 1 << 20, bearerToken: token, serverName: "veil",
                log: { line in log.lines.withLock { $0.append(line) } })))
        }

        /// Feeds one request; returns the body fragment as the handler received it.
        @discardableResult
        func send(_ path: String, body: [UInt8], declaredLength: Int? = nil, fields: HTTPFields = [:],
                  end: Bool = true) throws -> ByteBuffer {
            var fields = fields
            fields[.contentLength] = String(declaredLength ?? body.count)
            let head = HTTPRequest(method: .post, scheme: "http", authority: "x", path: path, headerFields: fields)
            try channel.writeInbound(HTTPRequestPart.head(head))
            let fragment = channel.allocator.buffer(bytes: body)
            if !body.isEmpty { try channel.writeInbound(HTTPRequestPart.body(fragment)) }
            if end { try channel.writeInbound(HTTPRequestPart.end(nil)) }
            return fragment
        }

        /// The response the handler wrote, if it wrote one.
        func response() throws -> (head: HTTPResponse, body: [UInt8])? {
            guard case .head(let head)? = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
            guard case .body(let body)? = try channel.readOutbound(as: HTTPResponsePart.self),
                  case .end? = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
            return (head, Array(body.readableBytesView))
        }

        /// The request parts handed on to the router.
        func forwarded() throws -> [HTTPRequestPart] {
            var parts: [HTTPRequestPart] = []
            while let part = try channel.readInbound(as: HTTPRequestPart.self) { parts.append(part) }
            return parts
        }

        /// Writes a response as the router does (it passes through the handler on its way out).
        func routerResponds() throws {
            try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try channel.writeOutbound(HTTPResponsePart.end(nil))
            while try channel.readOutbound(as: HTTPResponsePart.self) != nil {}
        }
    }

    static let body = ServeCommandTests.inferBody([[1, 2, 3]], id: "req-inline")
    static let path = "/v2/models/tabular/infer"

    @Test("a small request is answered in the pipeline, as the service answers it; its bytes are overwritten")
    func answersInline() throws {
        let harness = try Harness()
        let fragment = try harness.send(Self.path, body: Self.body)
        let expected = Self.body.withUnsafeBytes { harness.service.infer("tabular", body: $0) }
        let (head, body) = try #require(try harness.response())
        #expect(head.status.code == 200 && expected.status == 200)
        #expect(body == expected.body)
        #expect(head.headerFields[.contentType] == "application/json")
        #expect(head.headerFields[.contentLength] == String(body.count))
        #expect(head.headerFields[.server] == "veil")
        #expect(head.headerFields[.date]?.hasSuffix(" GMT") == true)
        #expect(try harness.forwarded().isEmpty)
        #expect(fragment.readableBytesView.allSatisfy { $0 == 0 })
        #expect(harness.gate.current == 0)
        let lines = harness.log.lines.withLock { $0 }
        #expect(lines.count == 1)
        #expect(lines.first?.contains("POST \(Self.path) 200 in=\(Self.body.count) out=- ") == true)
        #expect(lines.first?.contains("req-inline") == false)
    }

    @Test("a bad request gets the service's 4xx answer in the pipeline")
    func badRequestInline() throws {
        let harness = try Harness()
        let bad = Array(#"{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2]}]}"#.utf8)
        try harness.send(Self.path, body: bad)
        let expected = bad.withUnsafeBytes { harness.service.infer("tabular", body: $0) }
        let (head, body) = try #require(try harness.response())
        #expect(head.status.code == 400 && body == expected.body)
        // A body shorter than its declared length (the HTTP decoder would not let it through; still refused).
        try harness.send(Self.path, body: Array(Self.body.prefix(10)), declaredLength: Self.body.count)
        let (short, _) = try #require(try harness.response())
        #expect(short.status.code == 400)
        #expect(harness.gate.current == 0)
    }

    @Test("requests the route must answer are handed on unchanged, with all their parts",
          arguments: [
            ("/v2/models/tabular/infer?verbose=1", HTTPFields()),
            ("/v2/models/missing/infer", HTTPFields()),
            ("/v2/models/tab%75lar/infer", HTTPFields()),
            ("/v2/models/tabular/ready", HTTPFields()),
            ("/v2/models/tabular/infer", HTTPFields([HTTPField(name: .connection, value: "close")])),
            ("/v2/models/tabular/infer", HTTPFields([HTTPField(name: .expect, value: "100-continue")])),
          ])
    func forwardsOthers(path: String, fields: HTTPFields) throws {
        let harness = try Harness()
        try harness.send(path, body: Self.body, fields: fields)
        let parts = try harness.forwarded()
        #expect(parts.count == 3)
        guard case .head(let head)? = parts.first else { Issue.record("no head forwarded"); return }
        #expect(head.path == path)
        #expect(try harness.response() == nil)
        #expect(harness.gate.current == 0)
    }

    @Test("a body above 64 KiB, or one whose forward pass could cost too much, goes to the route")
    func forwardsLarge() throws {
        let harness = try Harness()
        try harness.send(Self.path, body: [], declaredLength: ServerWork.inlineBodyLimit + 1, end: false)
        #expect(try harness.forwarded().count == 1)
        try harness.channel.writeInbound(HTTPRequestPart.end(nil))
        _ = try harness.forwarded()
        try harness.routerResponds()
        // 784 × 2,000 multiply-adds per example: one example's body fits the limit, 64 KiB of them does not.
        try harness.send("/v2/models/wide/infer", body: [], declaredLength: 1_000, end: false)
        #expect(try harness.forwarded().isEmpty)
        try harness.channel.writeInbound(HTTPRequestPart.end(nil))
        #expect(try harness.response()?.head.status.code == 400)  // declared 1,000 bytes, sent none
        try harness.send("/v2/models/wide/infer", body: [], declaredLength: ServerWork.inlineBodyLimit, end: false)
        #expect(try harness.forwarded().count == 1)
    }

    @Test("while the route owes a response, later requests go to it too, so responses keep their order")
    func keepsOrder() throws {
        let harness = try Harness()
        let get = HTTPRequest(method: .get, scheme: "http", authority: "x", path: "/v2/models", headerFields: [:])
        try harness.channel.writeInbound(HTTPRequestPart.head(get))
        try harness.channel.writeInbound(HTTPRequestPart.end(nil))
        #expect(try harness.forwarded().count == 2)
        try harness.send(Self.path, body: Self.body)  // pipelined behind the GET
        #expect(try harness.forwarded().count == 3)
        #expect(try harness.response() == nil)
        try harness.routerResponds()  // the GET's response
        try harness.routerResponds()  // the first inference request's
        try harness.send(Self.path, body: Self.body)
        #expect(try harness.forwarded().isEmpty)
        #expect(try harness.response()?.head.status.code == 200)
    }

    @Test("with a bearer token, only a request presenting it exactly is answered here")
    func bearerToken() throws {
        let harness = try Harness(token: "s3cret")
        for presented in [nil, "Bearer wrong!", "bearer s3cret", "Bearer s3cret2", "s3cret"] {
            var fields = HTTPFields()
            if let presented { fields[.authorization] = presented }
            try harness.send(Self.path, body: Self.body, fields: fields)
            #expect(try harness.forwarded().count == 3, "\(presented ?? "none") was answered in the pipeline")
            try harness.routerResponds()
        }
        try harness.send(Self.path, body: Self.body, fields: [.authorization: "Bearer s3cret"])
        #expect(try harness.forwarded().isEmpty)
        #expect(try harness.response()?.head.status.code == 200)
    }

    @Test("a request holds a place in the gate while its body is read; a full gate leaves it to the route")
    func admission() throws {
        let harness = try Harness(queue: 1)
        try harness.send(Self.path, body: Array(Self.body.prefix(5)), declaredLength: Self.body.count, end: false)
        #expect(harness.gate.current == 1)
        #expect(!harness.gate.enter())  // the route would answer 503 now
        // The connection closes mid-body: the place is given back and the partial body dropped.
        try harness.channel.close().wait()
        #expect(harness.gate.current == 0)
        let second = try Harness(queue: 1)
        #expect(second.gate.enter())
        try second.send(Self.path, body: Self.body)
        #expect(try second.forwarded().count == 3)
    }
}
