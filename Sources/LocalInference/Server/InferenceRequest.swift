import LinearAlgebra

/// An inference request of the Open Inference Protocol v2 (the KServe / Triton / MLServer REST API):
/// `{"id"?, "parameters"?, "inputs": [{"name", "shape", "datatype", "data", "parameters"?}], "outputs"?}`,
/// decoded for one model. Veil's models take one input tensor of shape `[batch, …]` whose trailing
/// dimensions hold the model's input values (`[B, features]` for tabular models; `[B, height, width,
/// channels]`, `[B, height, width]` or `[B, height·width·channels]` for image models), datatype `FP32` or
/// `INT64`, data flat in row-major order or nested to the shape.
public struct InferenceRequest: Sendable {
    /// The largest batch one request may carry.
    public static let maximumBatch = 65_536

    /// The request's `id`, echoed in the response.
    public let id: String?
    /// The input tensor's name, echoed nowhere (kept for error messages).
    public let inputName: String
    /// The examples, one per row, as sent (not yet checked or scaled: see ``InferenceModel/prepare(_:)``).
    public var features: Matrix

    /// Why a request is refused (HTTP 400 with this message).
    public struct Invalid: Error, Sendable, Equatable {
        public let message: String
        init(_ message: String) { self.message = message }
    }

    /// Decodes `document` for a model taking `inputCount` values per example.
    public init(_ document: JSONNode, inputCount: Int) throws(Invalid) {
        guard case .object = document else { throw Invalid("the request body must be a JSON object") }
        switch document["id"] {
        case nil, .null?: id = nil
        case .string(let s)?: id = s
        default: throw Invalid("\"id\" must be a string")
        }
        guard case .array(let inputs)? = document["inputs"] else { throw Invalid("\"inputs\" must be an array of tensors") }
        guard inputs.count == 1 else { throw Invalid("the model takes exactly one input tensor, got \(inputs.count)") }
        let tensor = inputs[0]
        guard case .string(let name)? = tensor["name"] else { throw Invalid("the input tensor needs a \"name\" string") }
        inputName = name
        guard case .string(let datatype)? = tensor["datatype"] else { throw Invalid("the input tensor needs a \"datatype\" string") }
        guard datatype == "FP32" || datatype == "INT64" else {
            throw Invalid("datatype \(Self.shown(datatype)) is not supported (FP32 or INT64)")
        }
        guard let shapeNodes = tensor["shape"]?.items, !shapeNodes.isEmpty, shapeNodes.count <= 8 else {
            throw Invalid("\"shape\" must be an array of 1 to 8 dimensions")
        }
        var shape: [Int] = []
        for node in shapeNodes {
            guard case .number(let d) = node, d >= 1, d <= Double(1 << 31), d == d.rounded() else {
                throw Invalid("every dimension of \"shape\" must be a positive integer")
            }
            shape.append(Int(d))
        }
        let batch = shape[0]
        guard batch <= Self.maximumBatch else { throw Invalid("a request may carry at most \(Self.maximumBatch) examples") }
        var perExample = 1
        for d in shape.dropFirst() {
            let (p, overflow) = perExample.multipliedReportingOverflow(by: d)
            guard !overflow, p <= inputCount else { perExample = inputCount + 1; break }
            perExample = p
        }
        guard shape.count >= 2, perExample == inputCount else {
            throw Invalid("shape \(shape) does not fit the model: expected [batch, …] with \(inputCount) values per example")
        }
        guard let data = tensor["data"] else { throw Invalid("the input tensor needs \"data\"") }
        // No capacity reserved from the claimed shape: a small body claiming a large shape must not allocate for it.
        // The array grows with the values actually sent, which the bounded body size limits.
        var values = [Float]()
        try Self.flatten(data, integer: datatype == "INT64", into: &values, limit: batch * inputCount)
        guard values.count == batch * inputCount else {
            throw Invalid("\"data\" holds \(values.count) values; shape \(shape) needs \(batch * inputCount)")
        }
        features = Matrix(rows: batch, columns: inputCount, storage: values)
    }

    private static func flatten(_ node: JSONNode, integer: Bool, into values: inout [Float], limit: Int) throws(Invalid) {
        switch node {
        case .number(let v):
            guard values.count < limit else { throw Invalid("\"data\" holds more values than its shape") }
            try append(v, integer: integer, to: &values)
        case .numbers(let items):
            guard items.count <= limit - values.count else { throw Invalid("\"data\" holds more values than its shape") }
            values.reserveCapacity(values.count + items.count)  // values that were sent, not claimed
            for v in items { try append(v, integer: integer, to: &values) }
        case .array(let items):
            for item in items { try flatten(item, integer: integer, into: &values, limit: limit) }
        default:
            throw Invalid("\"data\" must hold numbers only (NaN and infinities are not numbers)")
        }
    }

    private static func append(_ v: Double, integer: Bool, to values: inout [Float]) throws(Invalid) {
        guard v.isFinite, Float(v).isFinite else { throw Invalid("\"data\" holds a value that is not a finite FP32 number") }
        if integer {
            guard v == v.rounded(), abs(v) <= 9_007_199_254_740_992 else {
                throw Invalid("\"data\" of an INT64 tensor holds a value that is not an integer")
            }
        }
        values.append(Float(v))
    }

    /// A client-supplied value for an error message: at most 40 characters, quoted.
    static func shown(_ s: String) -> String {
        "\"" + String(s.unicodeScalars.prefix(40).filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init)) + "\""
    }
}
