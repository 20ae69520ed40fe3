import Foundation
import LinearAlgebra
import Mechanisms
import PrivateTraining

/// The Open Inference Protocol v2 over a set of models, independent of the HTTP server: answers health,
/// metadata and inference requests with a status and a JSON body.
///
/// Zero data retention: an inference request's bytes are parsed in place, its values are copied into
/// one matrix that is overwritten after the forward pass (as is every activation, see
/// ``PrivateTraining/SequentialModel/inferenceLogits(_:)``), and the response is built into a buffer the
/// caller overwrites once sent. Nothing of a request or response is logged, cached or written to a file.
public struct InferenceService: Sendable {
    /// A protocol answer: HTTP status and JSON body.
    public struct Answer: Sendable {
        /// The HTTP status code.
        public let status: Int
        /// The JSON body.
        public var body: [UInt8]

        /// An error answer `{"error": message}` (the protocol's error object).
        public static func error(_ status: Int, _ message: String) -> Answer {
            Answer(status: status, body: Array("{\"error\":\(PredictionWriter.quoted(message))}".utf8))
        }
    }

    /// The models served, by name.
    public let models: [String: InferenceModel]
    /// The server's name and version for `GET /v2`.
    public let serverVersion: String
    /// One predictor per model, sized once (not per request).
    private let predictors: [String: BatchPredictor]

    /// A service for `models` (their names must be distinct).
    public init(models: [InferenceModel], serverVersion: String = "1") {
        self.models = Dictionary(models.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.serverVersion = serverVersion
        predictors = self.models.mapValues { BatchPredictor(model: $0) }
    }

    private static func json(_ object: Any) -> [UInt8] {
        // Strings, numbers, Booleans, arrays and dictionaries only: serialisation cannot fail.
        Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// `GET /v2`: the server's metadata.
    public func serverMetadata() -> Answer {
        let object: [String: Any] = ["name": "veil", "version": serverVersion, "extensions": [String]()]
        return Answer(status: 200, body: Self.json(object))
    }

    /// `GET /v2/models`: the models served (names sorted).
    public func modelList() -> Answer {
        let entries = models.keys.sorted().map { name -> [String: Any] in ["name": name, "versions": ["1"], "ready": true] }
        return Answer(status: 200, body: Self.json(["models": entries]))
    }

    /// `GET /v2/models/{name}`: inputs, outputs, architecture and the privacy card.
    public func modelMetadata(_ name: String) -> Answer {
        guard let model = models[name] else { return unknownModel(name) }
        let encoder = JSONEncoder()
        let card = (try? encoder.encode(model.card)).flatMap { try? JSONSerialization.jsonObject(with: $0) } ?? NSNull()
        var parameters: [String: Any] = [
            "architecture": model.architectureName,
            "layers": model.model.architecture.map(\.description),
            "privacy_card": card,
        ]
        if let names = model.featureNames {
            parameters["feature_columns"] = names
            parameters["feature_bounds"] = (model.data?.featureBounds ?? [:]).mapValues { [$0.lower, $0.upper] }
        }
        let shape = model.featureNames == nil
            ? [-1, model.inputShape.height, model.inputShape.width, model.inputShape.channels] : [-1, model.inputCount]
        let input: [String: Any] = ["name": "input", "datatype": "FP32", "shape": shape]
        let classes: [String: Any] = ["name": "class", "datatype": "INT64", "shape": [-1]]
        let probabilities: [String: Any] = ["name": "probabilities", "datatype": "FP32", "shape": [-1, model.classCount]]
        let object: [String: Any] = [
            "name": name, "versions": ["1"], "platform": "veil",
            "inputs": [input], "outputs": [classes, probabilities], "parameters": parameters,
        ]
        return Answer(status: 200, body: Self.json(object))
    }

    /// `GET /v2/models/{name}/ready`.
    public func modelReady(_ name: String) -> Answer {
        let object: [String: Any] = ["name": name, "ready": true]
        return models[name] == nil ? unknownModel(name) : Answer(status: 200, body: Self.json(object))
    }

    func unknownModel(_ name: String) -> Answer {
        .error(404, "unknown model \(InferenceRequest.shown(name))")
    }

    /// `POST /v2/models/{name}/infer` with the request body `body`: 200 with the class (INT64, `[B]`) and
    /// probabilities (FP32, `[B, classes]`) of each example, 404 for an unknown model, 400 for a body that
    /// is not JSON, not a valid request, of the wrong shape or datatype, or holding non-finite values.
    /// Every buffer holding request values is overwritten before returning; the caller overwrites
    /// `body` and the answer's body once used.
    public func infer(_ name: String, body: UnsafeRawBufferPointer) -> Answer {
        guard let model = models[name] else { return unknownModel(name) }
        let document: JSONNode
        do { document = try JSONDocument.parse(body) } catch {
            return .error(400, "the request body is not valid JSON: \(error.reason) at byte \(error.offset)")
        }
        var request: InferenceRequest
        do { request = try InferenceRequest(document, inputCount: model.inputCount) } catch {
            return .error(400, error.message)
        }
        defer { SequentialModel.overwrite(&request.features) }
        do { try model.prepare(&request.features) } catch {
            // The message names positions and columns, never a value.
            return .error(400, (error as? VeilError)?.message ?? "the input was refused")
        }
        // Batch by batch, so that activation memory stays bounded whatever the request's batch.
        let classes = model.classCount
        var probabilities = Matrix(rows: request.features.rows, columns: classes)
        let predictor = predictors[name] ?? BatchPredictor(model: model)
        predictor.forEachBatch(request.features) { rows, p in
            probabilities.storage.replaceSubrange((rows.lowerBound * classes)..<(rows.upperBound * classes), with: p.storage)
        }
        defer { SequentialModel.overwrite(&probabilities) }
        return Answer(status: 200, body: Self.response(model: name, id: request.id, probabilities: probabilities))
    }

    /// The protocol's inference response.
    static func response(model: String, id: String?, probabilities: Matrix) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + probabilities.count * 14)
        func put(_ s: String) { out.append(contentsOf: s.utf8) }
        put("{\"model_name\":\(PredictionWriter.quoted(model))")
        if let id { put(",\"id\":\(PredictionWriter.quoted(id))") }
        let classes = BatchPredictor.predictedClasses(probabilities)
        put(",\"outputs\":[{\"name\":\"class\",\"datatype\":\"INT64\",\"shape\":[\(probabilities.rows)],\"data\":[")
        for (k, c) in classes.enumerated() { put(k == 0 ? "\(c)" : ",\(c)") }
        put("]},{\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[\(probabilities.rows),\(probabilities.columns)],\"data\":[")
        for (k, p) in probabilities.storage.enumerated() { put(k == 0 ? "\(p)" : ",\(p)") }
        put("]}]}")
        return out
    }
}
