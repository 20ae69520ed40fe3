import Foundation
import LinearAlgebra

/// Writes predictions batch by batch, as CSV (`row,class,p_0,…,p_{k−1}`) or as one JSON object
/// `{"model": NAME, "classes": k, "predictions": [{"row", "class", "probabilities"}, …]}`, so that
/// output memory is bounded by a batch.
public struct PredictionWriter {
    /// The output format.
    public enum Format: String, Sendable, CaseIterable {
        case csv, json
    }

    /// The format.
    public let format: Format
    private let modelName: String
    private let classCount: Int
    private let emit: (String) throws -> Void
    private var wroteRow = false

    /// A writer that passes text to `emit` in order.
    public init(format: Format, modelName: String, classCount: Int, emit: @escaping (String) throws -> Void) {
        self.format = format
        self.modelName = modelName
        self.classCount = classCount
        self.emit = emit
    }

    /// The header (CSV) or the object's opening (JSON).
    public mutating func begin() throws {
        switch format {
        case .csv:
            try emit((["row", "class"] + (0..<classCount).map { "p_\($0)" }).joined(separator: ",") + "\n")
        case .json:
            try emit("{\"model\":\(Self.quoted(modelName)),\"classes\":\(classCount),\"predictions\":[")
        }
    }

    /// The predictions of rows `rows` with their `probabilities` (one row each).
    public mutating func write(rows: Range<Int>, probabilities: Matrix) throws {
        let classes = BatchPredictor.predictedClasses(probabilities)
        var text = ""
        for (k, row) in rows.enumerated() {
            let p = (0..<probabilities.columns).map { "\(probabilities[k, $0])" }
            switch format {
            case .csv:
                text += "\(row),\(classes[k]),\(p.joined(separator: ","))\n"
            case .json:
                text += (wroteRow ? "," : "") + "{\"row\":\(row),\"class\":\(classes[k]),\"probabilities\":[\(p.joined(separator: ","))]}"
                wroteRow = true
            }
        }
        try emit(text)
    }

    /// The JSON object's closing (nothing for CSV).
    public mutating func end() throws {
        if format == .json { try emit("]}\n") }
    }

    /// `s` as a JSON string literal (control characters escaped).
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
