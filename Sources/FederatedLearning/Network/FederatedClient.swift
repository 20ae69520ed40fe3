import AsyncHTTPClient
import Foundation
import Mechanisms
import NIOCore
import NIOHTTP1
import PrivateTraining
import SecureAggregation
import ServerTLS

/// One client of a federated run (`veil federated join`), over AsyncHTTPClient: it asks the server for work,
/// trains locally on its own data from the round's model with the server's local-training settings, and sends
/// its update `Δ = θ_local − θ_server` as a safetensors body. Its data never leaves it; only the update does.
public struct FederatedClient: Sendable {
    /// What a finished client did.
    public struct Outcome: Sendable {
        /// Rounds it sent an accepted update to.
        public var roundsContributed: Int
        /// Updates the server refused, with its reasons.
        public var refusals: [String]
    }

    /// The server's base URL (`http://127.0.0.1:PORT`).
    public let url: String
    public let clientID: String
    public let token: String
    /// The client's data: a CSV file, or a SQLite database with `table`.
    public let dataPath: String
    public let table: String?
    /// Give up when the server has not finished after this long.
    public let timeout: Duration
    /// The largest response body accepted (the model).
    public let maximumBodyBytes = 256 << 20

    /// PEM certificates trusted for an https server instead of the system's roots (nil: the system's).
    public let certificateAuthority: String?

    public init(url: String, clientID: String, token: String, dataPath: String, table: String?, timeout: Duration,
                certificateAuthority: String? = nil) {
        self.certificateAuthority = certificateAuthority
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.clientID = clientID
        self.token = token
        self.dataPath = dataPath
        self.table = table
        self.timeout = timeout
    }

    /// Takes part until the server says the run is over.
    /// - Parameters:
    ///   - onRound: called after each update the server accepted (the round number).
    ///   - beforeSending: called with the round before its update is sent (a test hook: a client that exits here
    ///     drops out mid-round).
    ///   - afterSending: called in a round of secure aggregation with the round and the step whose message was just
    ///     sent (``SecureStep``; a test hook: a client that exits here drops out after that step).
    /// - Throws: `VeilError.invalidInput` when the server refuses the client (401) or its data cannot be read;
    ///   `VeilError` (failure) when the server cannot be reached or the timeout passes.
    public func run(onRound: @Sendable (Int) -> Void = { _ in },
                    beforeSending: @Sendable (Int) -> Void = { _ in },
                    afterSending: @Sendable (Int, SecureStep) -> Void = { _, _ in }) async throws -> Outcome {
        guard let address = URL(string: url), LoopbackHost.allowsToken(to: address) else {
            throw VeilError(.invalidParameter, "\(url): the client's token is only sent over https, or over http to a "
                            + "loopback address")
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(
            tlsConfiguration: try ServerTLS.clientConfiguration(certificateAuthority: certificateAuthority)))
        do {
            let outcome = try await loop(client, onRound: onRound, beforeSending: beforeSending, afterSending: afterSending)
            try await client.shutdown()
            return outcome
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// A step of SecAgg+ after which a client has sent a message.
    public enum SecureStep: String, Sendable, CaseIterable {
        case keys, shares, maskedInput = "masked-input", unmasking
    }

    /// Runs the client's side of SecAgg+ (``SecAggClient``, the state machine the simulation drives) for `input`:
    /// advertise keys, fetch the key directory, send encrypted shares, fetch the neighbours' shares, send the masked
    /// input, fetch the unmasking request, answer it. Returns whether its masked input was accepted and the round
    /// finished its part; false when the server went on without it or the round aborted (410).
    private func secureRound(_ client: HTTPClient, round: Int, index: UInt32, description: SecureRoundDescription,
                             input: [UInt64], afterSending: @Sendable (Int, SecureStep) -> Void) async throws -> Bool {
        var secure = SecureRandomSource()
        let configuration = description.configuration
        let width = configuration.bytesPerElement
        var protocolClient = try SecAggClient(index: index, configuration: configuration, roundID: description.roundID,
                                              using: &secure)
        func post(_ message: SecAggMessage, _ step: SecureStep) async throws -> Bool {
            let answer = try await client.execute(request("/federated/v1/secagg/\(round)", method: .POST,
                                                          body: Data(message.encoded(bytesPerElement: width))),
                                                  timeout: .seconds(60))
            _ = try await answer.body.collect(upTo: 1 << 16)
            guard answer.status.code == 200 else { return false }
            afterSending(round, step)
            return true
        }
        /// The server's message of `step`, nil when the round went on without this client.
        func fetch(_ step: Int) async throws -> SecAggMessage? {
            while true {
                let answer = try await client.execute(request("/federated/v1/secagg/\(round)/\(step)"), timeout: .seconds(30))
                let body = try await answer.body.collect(upTo: maximumBodyBytes)
                switch answer.status.code {
                case 200: return try SecAggMessage(decoding: Array(body.readableBytesView))
                case 204: try await Task.sleep(for: .milliseconds(20))
                case 401: throw VeilError(.invalidInput, "the server refused client \(clientID): unknown client or wrong token")
                default: return nil
                }
            }
        }
        do {
            guard try await post(.advertiseKeys(protocolClient.advertiseKeys()), .keys),
                  case .keyDirectory(let directory) = try await fetch(1),
                  try await post(.shareKeys(try protocolClient.shareKeys(directory, using: &secure)), .shares),
                  case .encryptedShares(let shares) = try await fetch(2),
                  try await post(.maskedInput(try protocolClient.maskedInput(shares, input: input)), .maskedInput),
                  case .unmaskingRequest(let unmasking) = try await fetch(3),
                  try await post(.unmaskingResponse(try protocolClient.unmask(unmasking)), .unmasking) else { return false }
            return true
        } catch let error as VeilError where error.code == .roundAborted || error.code == .messageRefused {
            // The round went wrong on this client's side (too few neighbours, a share that does not decrypt): it
            // takes no further part; the server's step deadline absorbs it.
            return false
        }
    }

    private func request(_ path: String, method: HTTPMethod = .GET, body: Data? = nil) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Veil-Client", value: clientID)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/octet-stream")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    private func loop(_ client: HTTPClient, onRound: @Sendable (Int) -> Void, beforeSending: @Sendable (Int) -> Void,
                      afterSending: @Sendable (Int, SecureStep) -> Void) async throws -> Outcome {
        let giveUp = ContinuousClock.now.advanced(by: timeout)
        var data: Dataset? = nil
        var contributed = 0
        var refusals: [String] = []
        var secure = SecureRandomSource()
        var reached = false
        while ContinuousClock.now < giveUp {
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request("/federated/v1/task"), timeout: .seconds(30))
            } catch {
                // Not up yet: try again. Gone after it answered us: the run is over (its last answer was missed).
                if reached { return Outcome(roundsContributed: contributed, refusals: refusals) }
                try await Task.sleep(for: .milliseconds(100))
                continue
            }
            reached = true
            let body = try await response.body.collect(upTo: maximumBodyBytes)
            switch response.status.code {
            case 410:
                return Outcome(roundsContributed: contributed, refusals: refusals)
            case 204:
                try await Task.sleep(for: .milliseconds(50))
                continue
            case 401:
                throw VeilError(.invalidInput, "the server refused client \(clientID): unknown client or wrong token")
            case 200:
                break
            default:
                throw VeilError(.federatedNetwork, "the server answered \(response.status.code) to a request for work")
            }
            guard let round = response.headers.first(name: "Veil-Round").flatMap({ Int($0) }) else {
                throw VeilError(.federatedNetwork, "the server's model has no Veil-Round header")
            }
            let contents = try SafetensorsFile.decode(Data(body.readableBytesView), name: "the server's model")
            guard let localJSON = contents.metadata[FederatedServerRun.localTrainingKey],
                  let settings = try? JSONDecoder().decode(LocalTraining.self, from: Data(localJSON.utf8)),
                  let description = try TrainingDataDescription(metadata: contents.metadata) else {
                throw VeilError(.invalidInput, "the server's model lacks its local-training settings or data layout")
            }
            let local = try LocalTraining(epochs: settings.epochs, batchSize: settings.batchSize,
                                          optimizer: settings.optimizer, learningRate: settings.learningRate,
                                          maxPhysicalBatchSize: settings.maxPhysicalBatchSize)
            if data == nil {
                data = try description.loadTabular(path: dataPath, table: table, classCount: contents.model.classCount)
            }
            let examples = data!
            let update = local.update(from: contents.model, data: examples, examples: Array(0..<examples.count),
                                      order: &secure)
            if let index = response.headers.first(name: "Veil-SecAgg-Index").flatMap({ UInt32($0) }) {
                guard let json = contents.metadata[SecureRoundDescription.metadataKey],
                      let description = try? JSONDecoder().decode(SecureRoundDescription.self, from: Data(json.utf8)) else {
                    throw VeilError(.invalidInput, "the server's model of a secure round lacks its secure-aggregation parameters")
                }
                let input = try description.encode(update, using: &secure)
                if try await secureRound(client, round: round, index: index, description: description, input: input,
                                         afterSending: afterSending) {
                    contributed += 1
                    onRound(round)
                }
                continue
            }
            beforeSending(round)
            let answer = try await client.execute(
                request("/federated/v1/update/\(round)", method: .POST,
                        body: try UpdateMessage.encode(update: update, like: contents.model)),
                timeout: .seconds(60))
            let text = try await answer.body.collect(upTo: 1 << 16)
            if answer.status.code == 200 {
                contributed += 1
                onRound(round)
            } else {
                refusals.append("\(answer.status.code) \(String(buffer: text))")
            }
        }
        throw VeilError(.federatedNetwork, "the federated run did not finish within the client's timeout")
    }
}
