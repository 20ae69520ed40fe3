import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TransparencyLog
import TrustedExecution

/// The client of a confidential inference gateway: fetches evidence with a fresh nonce, verifies it
/// against an attestation policy and the transparency log, then sends Open Inference Protocol requests
/// that only the attested process can open, optionally through a relay.
///
/// Before anything is sent: the evidence must satisfy the policy and carry report data binding this
/// client's nonce and the published key configurations; its measurement must be SHA-384 of the manifest
/// the gateway names, and that manifest must be in the log (inclusion under a head signed by the pinned
/// log key, and consistency with the largest head this client has seen, kept in ``LogState``).
public struct ConfidentialClient: Sendable {
    public let gateway: URL
    /// Where evidence requests and encapsulated requests go: the relay, or the gateway itself.
    public let relay: URL?
    public let policy: AttestationPolicy
    public let trustedLogKey: [UInt8]
    public let state: LogState

    public init(gateway: URL, relay: URL? = nil, policy: AttestationPolicy, trustedLogKey: [UInt8], state: LogState) {
        self.gateway = gateway
        self.relay = relay
        self.policy = policy
        self.trustedLogKey = trustedLogKey
        self.state = state
    }

    /// A gateway whose evidence verified: the key configuration to seal requests to.
    public struct VerifiedGateway: Sendable {
        public let configuration: OHTTPKeyConfiguration
        public let measurement: [UInt8]
        public let report: VerificationReport
    }

    /// Fetches and verifies the gateway's evidence for a fresh nonce.
    /// - Throws: `refused` naming the check that failed; `transport` for network faults.
    public func verifiedGateway() async throws -> VerifiedGateway {
        var nonce = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in nonce.indices { nonce[i] = UInt8.random(in: 0...255, using: &generator) }
        let remembered = try state.load()
        // Through the relay when there is one, like the sealed request: the gateway never sees this client's address.
        var components = URLComponents(url: (relay ?? gateway).appendingPathComponent("confidential/evidence"),
                                       resolvingAgainstBaseURL: false)!
        components.queryItems = [URLQueryItem(name: "nonce", value: LogHex.encode(nonce))]
            + (remembered.map { [URLQueryItem(name: "from", value: "\($0.treeSize)")] } ?? [])
        let (status, body) = try await Self.send(URLRequest(url: components.url!))
        guard status == 200 else { throw ConfidentialInferenceError(.transport, "the gateway answered \(status) to the evidence request") }
        let bundle: GatewayEvidence
        do { bundle = try JSONDecoder().decode(GatewayEvidence.self, from: Data(body)) } catch {
            throw ConfidentialInferenceError(.refused, "the gateway's evidence bundle is malformed")
        }
        return try verify(bundle, nonce: nonce, remembered: remembered)
    }

    /// The checks of ``verifiedGateway()`` on a fetched bundle; remembers the new log head on success.
    public func verify(_ bundle: GatewayEvidence, nonce: [UInt8], remembered: SignedTreeHead?, at time: Date = Date()) throws -> VerifiedGateway {
        func refuse(_ why: String) -> ConfidentialInferenceError { ConfidentialInferenceError(.refused, "refused: \(why)") }
        let report: VerificationReport
        do {
            report = try EvidenceVerifier.verify(evidence: bundle.evidence, policy: policy, at: time, collateralDirectory: nil,
                                                 expectedReportData: GatewayEvidence.reportData(nonce: nonce, keyConfigurations: bundle.keyConfigurations))
        } catch let error as TrustedExecutionError {
            throw refuse("the evidence cannot be verified: \(error.message)")
        }
        guard report.accepted else {
            throw refuse("the evidence fails the policy: \(report.firstFailure.map { "\($0.name): \($0.detail)" } ?? "no checks ran")")
        }
        let measurement = try Self.measurement(of: bundle.evidence)
        let entry: MeasurementEntry
        do { entry = try MeasurementEntry(manifest: bundle.manifest) } catch { throw refuse("the gateway's manifest is malformed") }
        guard entry.measurement == measurement else {
            throw refuse("the evidence's measurement is not the SHA-384 of the manifest the gateway names")
        }
        let newHead: SignedTreeHead
        do {
            newHead = try LogMembershipCheck.verify(entry: entry, inclusion: bundle.inclusion, head: bundle.head, trustedLogKey: trustedLogKey,
                                                    remembered: remembered, consistency: bundle.consistency)
        } catch let error as TransparencyLogError {
            throw refuse("transparency log: \(error.message)")
        }
        let configurations: [OHTTPKeyConfiguration]
        do { configurations = try OHTTPKeyConfiguration.decodeList(bundle.keyConfigurations) } catch {
            throw refuse("the key configurations are malformed")
        }
        guard let configuration = configurations.first(where: \.supportsVeilSuite) else {
            throw refuse("no key configuration offers DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM")
        }
        try state.save(newHead)
        return VerifiedGateway(configuration: configuration, measurement: measurement, report: report)
    }

    /// Sends one Open Inference Protocol request for `model` to a verified gateway and returns the answer's
    /// status and body.
    public func infer(model: String, body: [UInt8], gateway verified: VerifiedGateway, date: Date = Date()) async throws -> (status: Int, body: [UInt8]) {
        let sealed = try Self.sealInference(model: model, body: body, to: verified.configuration, gateway: gateway, date: date)
        var request = URLRequest(url: (relay ?? gateway).appendingPathComponent("confidential/ohttp"))
        request.httpMethod = "POST"
        request.setValue(ObliviousRequest.requestMediaType, forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(sealed.encapsulated)
        let (status, reply) = try await Self.send(request)
        guard status == 200 else {
            throw ConfidentialInferenceError(status == 422 ? .decryptionFailed : .transport,
                                             "the gateway refused the encapsulated request (HTTP \(status))")
        }
        let response = try BinaryHTTPResponse(decoding: try sealed.openResponse(reply))
        return (response.status, response.content)
    }

    /// The encapsulated request for one Open Inference Protocol call: Binary HTTP `POST /v2/models/MODEL/infer` with
    /// its `date` field (RFC 9458 §6.5), padded to its size bucket and sealed to `configuration`.
    /// With `ephemeralKeys`, the HPKE ephemeral key comes from the pool (made ahead of time, used once).
    public static func sealInference(model: String, body: [UInt8], to configuration: OHTTPKeyConfiguration, gateway: URL,
                                     date: Date = Date(), ephemeralKeys: EphemeralKeyPool? = nil) throws -> ObliviousRequest {
        let inner = BinaryHTTPRequest(method: "POST", scheme: gateway.scheme ?? "http", authority: gateway.host ?? "",
                                      path: "/v2/models/\(model)/infer",
                                      headers: [HTTPField("content-type", "application/json"),
                                                HTTPField("date", HTTPDate.string(from: date))],
                                      content: body)
        let padded = inner.encoded(paddedToBucket: true)
        if let ephemeralKeys { return try ObliviousRequest(request: padded, configuration: configuration, ephemeralKeys: ephemeralKeys) }
        return try ObliviousRequest(request: padded, configuration: configuration)
    }

    /// The measurement the evidence reports (48 bytes).
    static func measurement(of evidence: [UInt8]) throws -> [UInt8] {
        switch try EvidenceVerifier.format(of: evidence) {
        case .simulated: return try SimulatedEvidence(bytes: evidence).measurement
        case .tdx: return try TDXQuote(bytes: evidence).mrTD
        case .sevSNP: return try SNPReport(bytes: evidence).measurement
        }
    }

    static func send(_ request: URLRequest) async throws -> (Int, [UInt8]) {
        var request = request
        request.timeoutInterval = 30
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, Array(data))
        } catch {
            throw ConfidentialInferenceError(.transport, "cannot reach \(request.url?.absoluteString ?? "the server"): \(error.localizedDescription)")
        }
    }
}

/// The largest signed tree head a client has accepted, kept in a small JSON file so that a later log that
/// forks or rewrites history is caught (the head only ever grows).
public struct LogState: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func load() throws -> SignedTreeHead? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do { return try JSONDecoder().decode(SignedTreeHead.self, from: data) } catch {
            throw ConfidentialInferenceError.invalid("the log state file \(path) is not a signed tree head")
        }
    }

    public func save(_ head: SignedTreeHead) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { try encoder.encode(head).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw ConfidentialInferenceError(.transport, "cannot write the log state file \(path): \(error.localizedDescription)")
        }
    }
}
