import Foundation
import LinearAlgebra
import LocalInference
import Mechanisms
import PrivateTraining
import Testing

@Suite("Open Inference Protocol: JSON, requests, answers")
struct InferenceProtocolTests {
    private func parse(_ text: String) throws -> JSONNode {
        try Array(text.utf8).withUnsafeBytes { try JSONDocument.parse($0) }
    }

    @Test("JSON values parse to the expected tree")
    func jsonValues() throws {
        let node = try parse(#" {"a": [1, -2.5, 3e2, 0.125, -0E-3], "b": {"c": "x\"\u00e9\ud83d\ude00\n"}, "d": [true, false, null]} "#)
        #expect(node["a"] == .array([.number(1), .number(-2.5), .number(300), .number(0.125), .number(-0.0)]))
        #expect(node["b"]?["c"] == .string("x\"é😀\n"))
        #expect(node["d"] == .array([.bool(true), .bool(false), .null]))
        #expect(try parse("0.1") == .number(0.1))
        #expect(try parse("123456789012345678901234") == .number(123456789012345678901234))
        #expect(try parse("1e400") == .number(.infinity))
    }

    @Test("an array of numbers only is stored flat, and equals the same array of number nodes")
    func numberArrays() throws {
        guard case .numbers(let flat) = try parse("[1, -2.5 ,3e2,0]") else { Issue.record("not stored flat"); return }
        #expect(flat == [1, -2.5, 300, 0])
        #expect(try parse("[1,2]") == .array([.number(1), .number(2)]))
        #expect(try parse("[1,2]") != .array([.number(1), .number(3)]))
        #expect(try parse("[]") == .array([]))
        // Another kind of item after numbers: the general form, with every item kept in order.
        #expect(try parse(#"[1, 2, "x", 3]"#) == .array([.number(1), .number(2), .string("x"), .number(3)]))
        #expect(try parse("[1,[2]]") == .array([.number(1), .numbers([2])]))
        #expect(try parse("[1,2]").items == [.number(1), .number(2)])
        #expect(JSONNode.number(1).items == nil)
        // Errors keep their offsets: the "3" that should have been "," or "]" is byte 6.
        let misplaced = #expect(throws: JSONDocument.SyntaxError.self) { try parse("[1, 2 3]") }
        #expect(misplaced?.reason == "expected ',' or ']'" && misplaced?.offset == 6)
        let fraction = #expect(throws: JSONDocument.SyntaxError.self) { try parse("[1.]") }
        #expect(fraction?.reason == "expected a digit after '.'" && fraction?.offset == 3)
    }

    @Test("numbers parse to the correctly rounded double, as the compiler reads the same literal", arguments: [
        // Neither an exact integer nor an exact power of ten: one rounding is right, two are not.
        ("76249.76106782012", 76249.76106782012), ("2.2554765817554266e-7", 2.2554765817554266e-7),
        ("1.0931268227206996e-21", 1.0931268227206996e-21), ("4.5728741722792727E-9", 4.5728741722792727e-9),
        ("0.1", 0.1), ("-2.5e+3", -2500), ("1e22", 1e22), ("1e23", 1e23), ("9007199254740993", 9007199254740993),
        ("17976931348623157e292", 1.7976931348623157e308), ("2.2250738585072014e-308", 2.2250738585072014e-308),
        ("4.9e-324", 4.9e-324), ("1e-400", 0), ("0.000000000000000000000000000000000000001", 1e-39),
        ("3.14159265358979323846264338327950288", 3.14159265358979323846264338327950288),
        // Each side of the short form's limits (19 digits, 2⁵³, 22 decimals): read with one division or digit by digit.
        ("9007199254740992", 9007199254740992), ("-0.9007199254740993", -0.9007199254740993),
        ("0.1234567890123456789", 0.1234567890123456789), ("123.4560000000000000000001", 123.4560000000000000000001),
        ("0.0000000000000000000001", 1e-22), ("0.00000000000000000000001", 1e-23), ("0.5e1", 5),
    ])
    func numberKnownAnswers(text: String, expected: Double) throws {
        #expect(try parse(text) == .number(expected))
    }

    @Test("-0 keeps its sign; FP32 values sent as their shortest decimal come back exact, denormals included")
    func floatKnownAnswers() throws {
        for text in ["-0", "-0.0", "-0e10"] {
            guard case .number(let v) = try parse(text) else { Issue.record("not a number"); continue }
            #expect(v == 0 && v.sign == .minus)
        }
        let values: [Float] = [.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, -.ulpOfOne,
                               Float(bitPattern: 0x0001_16C2), 0.3, 16_777_216, 3.4028235e38, .leastNormalMagnitude.nextDown, Float(bitPattern: 5)]
        let text = values.map { "\($0)" }.joined(separator: ",")
        let decoded = try request(#"{"inputs":[{"name":"x","shape":[1,\#(values.count)],"datatype":"FP32","data":[\#(text)]}]}"#,
                                  inputCount: values.count)
        #expect(decoded.features.storage.map(\.bitPattern) == values.map(\.bitPattern))
        // Just beyond FP32's range (rounds to infinity as FP32): refused like NaN and infinity.
        #expect(throws: InferenceRequest.Invalid.self) {
            try request(#"{"inputs":[{"name":"x","shape":[1,1],"datatype":"FP32","data":[3.4028236e38]}]}"#, inputCount: 1)
        }
    }

    @Test("malformed JSON is refused with an offset", arguments: [
        "", "{", "{\"a\":}", "[1,]", "[1,,2]", "[1 2]", "[1,-]", "[01]", "1.", "-", "\"abc", "{\"a\" 1}", "nul", "[1] 2", "\"\\x\"", "\"\u{01}\"",
        "NaN", "Infinity", "[\"\\ud800\\u0041\"]", String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
    ])
    func malformedJSON(text: String) {
        #expect(throws: JSONDocument.SyntaxError.self) { try parse(text) }
    }

    private func request(_ text: String, inputCount: Int = 3) throws -> InferenceRequest {
        try InferenceRequest(try parse(text), inputCount: inputCount)
    }

    @Test("requests: FP32 flat and nested data, INT64, the id")
    func validRequests() throws {
        let flat = try request(#"{"id":"r1","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}]}"#)
        #expect(flat.id == "r1")
        #expect(flat.features == Matrix(rows: 2, columns: 3, storage: [1, 2, 3, 4, 5, 6]))
        let nested = try request(#"{"inputs":[{"name":"x","shape":[2,3],"datatype":"INT64","data":[[1,2,3],[4,5,6]]}]}"#)
        #expect(nested.features == flat.features && nested.id == nil)
        let image = try request(#"{"inputs":[{"name":"x","shape":[1,2,2,1],"datatype":"FP32","data":[0,0.5,1,0]}]}"#, inputCount: 4)
        #expect(image.features.rows == 1 && image.features.columns == 4)
    }

    @Test("requests with the wrong shape, datatype or values are refused", arguments: [
        #"[]"#,
        #"{"inputs":[]}"#,
        #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP16","data":[1,2,3]}]}"#,
        #"{"inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"#,
        #"{"inputs":[{"name":"x","shape":[3],"datatype":"FP32","data":[1,2,3]}]}"#,
        #"{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3]}]}"#,
        #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3,4]}]}"#,
        #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,"NaN",3]}]}"#,
        #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,1e39,3]}]}"#,
        #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"INT64","data":[1,2.5,3]}]}"#,
        #"{"inputs":[{"name":"x","shape":[0,3],"datatype":"FP32","data":[]}]}"#,
        #"{"inputs":[{"name":"x","shape":[-1,3],"datatype":"FP32","data":[1,2,3]}]}"#,
        #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32"}]}"#,
        #"{"inputs":[{"shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"#,
        #"{"id":7,"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"#,
        #"{"inputs":[{"name":"x","shape":[99999999,3],"datatype":"FP32","data":[1,2,3]}]}"#,
    ])
    func invalidRequests(text: String) {
        #expect(throws: InferenceRequest.Invalid.self) { try request(text) }
    }

    @Test("the service answers inference with the known probabilities, and errors with 4xx JSON")
    func serviceAnswers() throws {
        var dense = TestModels.model([.dense(units: 2)], inputShape: ImageShape(height: 1, width: 1, channels: 2))
        dense.parameters = [Matrix(rows: 2, columns: 2, storage: [1, 2, 3, 4]), Matrix(rows: 1, columns: 2, storage: [0.5, -0.5])]
        let service = InferenceService(models: [try TestModels.inferenceModel(dense, name: "d")])
        func infer(_ model: String, _ text: String) -> (Int, [String: Any]) {
            let answer = Array(text.utf8).withUnsafeBytes { service.infer(model, body: $0) }
            return (answer.status, (try? JSONSerialization.jsonObject(with: Data(answer.body))) as? [String: Any] ?? [:])
        }
        let (status, body) = infer("d", #"{"id":"q","inputs":[{"name":"x","shape":[2,2],"datatype":"FP32","data":[1,1,0,-1]}]}"#)
        #expect(status == 200)
        #expect(body["model_name"] as? String == "d" && body["id"] as? String == "q")
        let outputs = body["outputs"] as? [[String: Any]] ?? []
        #expect(outputs.first?["data"] as? [Int] == [1, 0])
        let p = (outputs.last?["data"] as? [Double]) ?? []
        #expect(p.count == 4)
        #expect(abs(p[0] - 0.047425874) < 1e-6 && abs(p[2] - 0.95257413) < 1e-6)
        #expect(outputs.last?["shape"] as? [Int] == [2, 2])
        #expect(infer("nope", "{}").0 == 404)
        let (bad, error) = infer("d", "{not json")
        #expect(bad == 400 && (error["error"] as? String)?.contains("not valid JSON") == true)
        #expect(infer("d", #"{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"#).0 == 400)
        let metadata = service.modelMetadata("d")
        let object = try JSONSerialization.jsonObject(with: Data(metadata.body)) as? [String: Any]
        let card = (object?["parameters"] as? [String: Any])?["privacy_card"] as? [String: Any]
        #expect(card?["epsilon"] as? Double == 1.25 && card?["ledger_entry"] as? String == "entry-7")
        #expect(service.modelMetadata("x").status == 404)
    }

    @Test("a request larger than one batch is answered batch by batch with the probabilities of one pass")
    func largeRequest() throws {
        let model = try TestModels.inferenceModel(TestModels.mlp, name: "mlp")
        let rows = BatchPredictor.defaultBatchSize * 2 + 3
        let values = (0..<(rows * 5)).map { Float($0 % 17) / 17 - 0.5 }
        let text = #"{"inputs":[{"name":"x","shape":[\#(rows),5],"datatype":"FP32","data":[\#(values.map { "\($0)" }.joined(separator: ","))]}]}"#
        let answer = Array(text.utf8).withUnsafeBytes { InferenceService(models: [model]).infer("mlp", body: $0) }
        #expect(answer.status == 200)
        let object = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
        let served = (object?["outputs"] as? [[String: Any]])?.last?["data"] as? [Double] ?? []
        let expected = BatchPredictor(model: model, batchSize: rows).probabilities(Matrix(rows: rows, columns: 5, storage: values))
        #expect(served.count == expected.count)
        #expect(zip(served, expected.storage).allSatisfy { abs($0 - Double($1)) < 1e-6 })
    }

    @Test("the admission gate admits at most its capacity")
    func admissionGate() {
        let gate = AdmissionGate(capacity: 2)
        #expect(gate.enter() && gate.enter())
        #expect(!gate.enter())
        gate.leave()
        #expect(gate.enter())
        #expect(gate.current == 2)
    }

    @Test("only loopback may go without TLS and a token")
    func exposure() throws {
        var c = InferenceServer.Configuration()
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1"] {
            c.host = host
            #expect(throws: Never.self) { try c.validate() }
        }
        c.host = "0.0.0.0"
        #expect(throws: VeilError.self) { try c.validate() }
        c.tlsCertificate = "c.pem"
        c.tlsKey = "k.pem"
        #expect(throws: VeilError.self) { try c.validate() }
        c.bearerToken = "t"
        #expect(throws: Never.self) { try c.validate() }
        #expect(!LoopbackHost.contains("128.0.0.1"))
        #expect(!LoopbackHost.contains("127.0.0.256"))
    }
}

