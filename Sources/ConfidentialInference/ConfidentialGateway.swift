import Foundation
import LocalInference
import PrivateTraining
import TransparencyLog
import TrustedExecution

/// The Oblivious HTTP gateway inside the inference server's process: publishes its key configurations
/// with attestation evidence and transparency proofs, opens encapsulated Open Inference Protocol
/// requests, runs them on the ``InferenceService`` and seals the answers.
///
/// Endpoints (mounted on the inference server, see ``routes``):
/// - `GET /confidential/evidence?nonce=HEX[&from=N]`: ``GatewayEvidence`` as JSON.
/// - `POST /confidential/ohttp` (`message/ohttp-req`): the encapsulated request; the answer is a
///   `message/ohttp-res`, or the RFC 9458 errors for what cannot be opened.
///
/// Inside the encapsulation the request is Binary HTTP `POST /v2/models/NAME/infer` (or `GET /v2/models`,
/// `GET /v2/models/NAME`) with a `date` field (RFC 9458 §6.5); both directions are padded to
/// ``SizeBuckets``. Plaintext buffers are overwritten once used; nothing about a request is logged.
public final class ConfidentialGateway: Sendable {
    public let ohttp: ObliviousHTTPGateway
    public let replay: ReplayWindow
    let service: InferenceService
    let evidenceProvider: any EvidenceProvider
    let published: PublishedMeasurement

    public init(ohttp: ObliviousHTTPGateway, service: InferenceService, evidenceProvider: any EvidenceProvider,
                published: PublishedMeasurement, replay: ReplayWindow = ReplayWindow()) {
        self.ohttp = ohttp
        self.service = service
        self.evidenceProvider = evidenceProvider
        self.published = published
        self.replay = replay
    }

    /// The evidence bundle for a client's nonce (16 to 64 bytes).
    public func evidence(nonce: [UInt8], fromSize: Int?) throws -> GatewayEvidence {
        guard (16...64).contains(nonce.count) else { throw ConfidentialInferenceError.invalid("the nonce must be 16 to 64 bytes") }
        let keys = OHTTPKeyConfiguration.encodeList(ohttp.configurations)
        let evidence = try evidenceProvider.evidence(reportData: GatewayEvidence.reportData(nonce: nonce, keyConfigurations: keys))
        let (inclusion, consistency) = try published.proofs(fromSize: fromSize)
        return GatewayEvidence(keyConfigurations: keys, evidence: evidence, manifest: published.entry.manifest,
                               inclusion: inclusion, head: published.head, consistency: consistency)
    }

    /// Answers one encapsulated request: the HTTP status, content type and body to send back.
    public func handle(encapsulated: [UInt8], now: Date = Date()) -> AdditionalRoute.Reply {
        var opened: (request: [UInt8], encapsulatedKey: [UInt8], response: ObliviousHTTPGateway.ResponseContext)
        do { opened = try ohttp.open(encapsulated, at: now) } catch let refusal as ObliviousHTTPGateway.Refusal {
            return AdditionalRoute.Reply(status: refusal.status,
                                         contentType: refusal == .keyConfigurationMismatch ? "application/problem+json" : "text/plain",
                                         body: refusal.body)
        } catch {
            return AdditionalRoute.Reply(status: 400, contentType: "text/plain", body: [])
        }
        // Overwritten in place (the only reference to its buffer), once answered.
        defer { opened.request.withUnsafeMutableBytes { zeroBytes($0) } }
        var inner = answer(opened.request, encapsulatedKey: opened.encapsulatedKey, now: now)
        defer { inner.withUnsafeMutableBytes { zeroBytes($0) } }
        do {
            return AdditionalRoute.Reply(status: 200, contentType: ObliviousRequest.responseMediaType,
                                         body: try opened.response.seal(inner))
        } catch {
            return AdditionalRoute.Reply(status: 500, contentType: "text/plain", body: [])
        }
    }

    /// The padded Binary HTTP response to a decrypted request.
    func answer(_ plaintext: [UInt8], encapsulatedKey: [UInt8], now: Date) -> [UInt8] {
        func reply(_ status: Int, _ body: [UInt8], extra: [HTTPField] = []) -> [UInt8] {
            BinaryHTTPResponse(status: status, headers: [HTTPField("content-type", "application/json")] + extra, content: body)
                .encoded(paddedToBucket: true)
        }
        func error(_ status: Int, _ message: String, extra: [HTTPField] = []) -> [UInt8] {
            reply(status, InferenceService.Answer.error(status, message).body, extra: extra)
        }
        // The content stays in `plaintext` (read in place, overwritten by the caller): no second copy of the request.
        guard let decoded = try? BinaryHTTPRequest.decodingLeavingContent(plaintext) else {
            return error(400, "the encapsulated request is not a Binary HTTP request")
        }
        let (request, content) = decoded
        let date = request.headers.first { $0.name.lowercased() == "date" }.flatMap { HTTPDate.date(from: $0.value) }
        switch replay.check(encapsulatedKey: encapsulatedKey, date: date, now: now) {
        case .accepted: break
        case .replayed: return error(400, "this request was already received")
        case .stale: return error(400, "the request's date is missing or outside the gateway's window",
                                  extra: [HTTPField("date", HTTPDate.string(from: now))])
        case .busy: return error(503, "the gateway is busy; retry later")
        }
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var answer: InferenceService.Answer
        switch (request.method, parts.count) {
        case ("POST", 4) where parts[0] == "v2" && parts[1] == "models" && parts[3] == "infer":
            answer = plaintext.withUnsafeBytes { service.infer(parts[2], body: UnsafeRawBufferPointer(rebasing: $0[content])) }
        case ("GET", 2) where parts == ["v2", "models"]:
            answer = service.modelList()
        case ("GET", 3) where parts[0] == "v2" && parts[1] == "models":
            answer = service.modelMetadata(parts[2])
        default:
            return error(404, "no such endpoint inside the gateway")
        }
        defer { answer.body.withUnsafeMutableBytes { zeroBytes($0) } }
        return reply(answer.status, answer.body)
    }

    /// The endpoints to mount on the inference server.
    public var routes: [AdditionalRoute] {
        [
            AdditionalRoute(.get, "/confidential/evidence") { [self] _, query in
                guard let nonceText = query["nonce"], let nonce = try? LogHex.decode(nonceText, field: "nonce") else {
                    return AdditionalRoute.Reply(status: 400, contentType: "application/json",
                                                 body: InferenceService.Answer.error(400, "give ?nonce=HEX (16 to 64 bytes)").body)
                }
                let from = query["from"].flatMap { Int($0) }
                do {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    return AdditionalRoute.Reply(status: 200, contentType: "application/json",
                                                 body: Array(try encoder.encode(try evidence(nonce: nonce, fromSize: from))))
                } catch {
                    return AdditionalRoute.Reply(status: 400, contentType: "application/json",
                                                 body: InferenceService.Answer.error(400, "\(error)").body)
                }
            },
            AdditionalRoute(.post, "/confidential/ohttp") { [self] body, _ in handle(encapsulated: body) },
        ]
    }
}
