#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes
import PrivateTraining

/// Answers the inference requests that ``ServerWork/runsInline(bodyBytes:model:)`` allows to run where they
/// are read, inside the connection's channel pipeline, and hands every other request on to Hummingbird's
/// router unchanged.
///
/// Hummingbird turns each request into an async task fed by an async sequence of request parts, and its
/// response back into channel writes; for a request whose whole work is a few microseconds of parsing and
/// a small forward pass, that machinery costs more than the work (about 40 µs per request on loopback
/// against a server that only reads requests; `docs/inference.md`, "Latency"). This handler sits after
/// Hummingbird's `HTTPConnectionStateHandler`, which therefore still sees every request and response
/// (idle timeout, graceful shutdown), and answers a request once its last part is read, with the same
/// ``InferenceService/infer(_:body:)``, the same admission gate, headers and access-log line as the route.
///
/// A request is answered here only when all of this holds, else it goes to the router, which answers it as
/// before (401, 404, 413 and the rest):
/// - `POST /v2/models/NAME/infer` exactly (no query, no percent-encoding), for a model served;
/// - a `Content-Length` of at most ``ServerWork/inlineBodyLimit`` and of the server's body limit, no
///   `Transfer-Encoding`, no `Expect`, and no `Connection` header other than `keep-alive`;
/// - the bearer token, when the server has one, presented exactly;
/// - no earlier request of the connection still waiting for the router's response (responses keep the
///   order of pipelined requests);
/// - a place in the admission gate, taken when the head is read and held until the answer is made or
///   the connection closes, as the route holds it while it reads the body (a full gate leaves the request
///   to the router, which answers 503).
///
/// Zero data retention: each received fragment is overwritten in place as soon as it is copied into the
/// body array, whose capacity (the declared length) is reserved once, so it never moves; the array and the
/// answer are overwritten once the response is written, as in the route.
final class InlineInferenceHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What the handler needs of the server.
    struct Settings: Sendable {
        let service: InferenceService
        let gate: AdmissionGate
        let maximumBodyBytes: Int
        let bearerToken: String?
        let serverName: String
        let log: @Sendable (String) -> Void
    }

    /// A request being read for an answer here.
    private struct Pending {
        let model: String
        let path: String
        let declaredLength: Int
        let start: ContinuousClock.Instant
        var body: [UInt8]
        var overflowed = false
    }

    private let settings: Settings
    private let token: [UInt8]?
    /// The request read now, when it is answered here.
    private var pending: Pending?
    /// Whether the parts read now belong to a request handed to the router.
    private var forwarding = false
    /// Requests handed to the router whose response has not been written yet.
    private var forwardedAwaitingResponse = 0
    /// The `Date` header and the second it was made for.
    private var dateSecond = time_t(-1)
    private var dateHeader = ""

    init(_ settings: Settings) {
        self.settings = settings
        token = settings.bearerToken.map { Array($0.utf8) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if !forwarding, pending == nil, forwardedAwaitingResponse == 0, let accepted = answerable(head) {
                var body: [UInt8] = []
                body.reserveCapacity(max(accepted.length, 1))
                pending = Pending(model: accepted.model, path: accepted.path, declaredLength: accepted.length,
                                  start: .now, body: body)
            } else {
                forwarding = true
                forwardedAwaitingResponse += 1
                context.fireChannelRead(data)
            }
        case .body(let fragment):
            guard pending != nil else { return context.fireChannelRead(data) }
            fragment.withUnsafeReadableBytes { received in
                // Never beyond the reserved capacity: growing would leave a copy of the body in freed memory.
                if !pending!.overflowed, received.count <= pending!.body.capacity - pending!.body.count {
                    pending!.body.append(contentsOf: received)
                } else {
                    pending!.overflowed = true
                }
                zeroBytes(UnsafeMutableRawBufferPointer(mutating: received))
            }
        case .end:
            guard var request = pending else {
                forwarding = false
                return context.fireChannelRead(data)
            }
            pending = nil
            answer(&request, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Never below zero: the route also answers a request the decoder could not parse (400, then it closes),
        // which was never handed on as a request.
        if case .end = unwrapOutboundIn(data), forwardedAwaitingResponse > 0 { forwardedAwaitingResponse -= 1 }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        discardPending()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        discardPending()
    }

    private func discardPending() {
        guard pending != nil else { return }
        pending!.body.withUnsafeMutableBytes { zeroBytes($0) }
        pending = nil
        settings.gate.leave()
    }

    /// The model and declared body length of a request answered here, or nil for one left to the router.
    private func answerable(_ head: HTTPRequest) -> (model: String, path: String, length: Int)? {
        guard head.method == .post, let path = head.path else { return nil }
        let fields = head.headerFields
        guard fields[.transferEncoding] == nil, fields[.expect] == nil else { return nil }
        if let connection = fields[.connection], connection.lowercased() != "keep-alive" { return nil }
        guard let lengthText = fields[.contentLength], let length = Int(lengthText), length >= 0,
              length <= min(ServerWork.inlineBodyLimit, settings.maximumBodyBytes) else { return nil }
        let prefix = "/v2/models/", suffix = "/infer"
        guard path.hasPrefix(prefix), path.hasSuffix(suffix), path.utf8.count > prefix.utf8.count + suffix.utf8.count
        else { return nil }
        let name = String(path.dropFirst(prefix.count).dropLast(suffix.count))
        guard !name.utf8.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "?") }),
              let model = settings.service.models[name],
              ServerWork.runsInline(bodyBytes: length, model: model.model) else { return nil }
        if let token, !presentsBearerToken(fields[.authorization], token) { return nil }
        guard settings.gate.enter() else { return nil }
        return (name, path, length)
    }

    private func answer(_ request: inout Pending, context: ChannelHandlerContext) {
        defer { request.body.withUnsafeMutableBytes { zeroBytes($0) } }
        var answer: InferenceService.Answer
        if request.overflowed || request.body.count != request.declaredLength {
            answer = .error(400, "the request body could not be read (truncated?)")
        } else {
            answer = request.body.withUnsafeBytes { settings.service.infer(request.model, body: $0) }
        }
        settings.gate.leave()
        defer { answer.body.withUnsafeMutableBytes { zeroBytes($0) } }
        var buffer = context.channel.allocator.buffer(capacity: answer.body.count)
        buffer.writeBytes(answer.body)
        let head = HTTPResponse(status: .init(code: answer.status), headerFields: [
            .contentType: "application/json", .contentLength: String(answer.body.count),
            .date: date(), .server: settings.serverName,
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(buffer)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        settings.log(AccessLog.line(method: "POST", path: request.path, status: answer.status,
                                    requestSize: String(request.declaredLength), responseSize: nil,
                                    since: request.start))
    }

    /// The HTTP `Date` header (RFC 9110 §5.6.7), remade once a second.
    private func date() -> String {
        let now = time(nil)
        if now != dateSecond {
            dateSecond = now
            dateHeader = AccessLog.format(now, "%a, %d %b %Y %H:%M:%S GMT")
        }
        return dateHeader
    }
}
