import BudgetLedger
import Foundation
import LinearAlgebra
import Mechanisms

/// Reads and writes models as safetensors files: an 8-byte little-endian header length, a JSON
/// header naming each tensor's dtype, shape and byte range, then the raw little-endian tensors.
/// The header's `__metadata__` holds `veil.architecture` (JSON: input shape and layers),
/// `veil.privacy` (JSON: the ``PrivacyCard``) and `format` = `veil-v1`.
public enum SafetensorsFile {
    /// Largest header accepted when reading (guards against absurd lengths in corrupt files).
    static let maximumHeaderLength = 100 << 20

    struct Architecture: Codable {
        var inputShape: ImageShape
        var layers: [LayerSpecification]
        enum CodingKeys: String, CodingKey {
            case inputShape = "input_shape"
            case layers
        }
    }

    /// A model read back from a file.
    public struct Contents: Sendable {
        /// The model with its trained parameters.
        public var model: SequentialModel
        /// Its privacy card.
        public var card: PrivacyCard
        /// Every `__metadata__` entry.
        public var metadata: [String: String]
    }

    /// The tensors' names and shapes in file order (weights as `[out, in]` for dense layers and
    /// `[filters, kernel, kernel, channels]` for convolutions; biases as `[out]`), from the checked
    /// sizes of the architecture, so a reader can compare them with a file before building anything.
    static func tensorLayout(_ footprint: ArchitectureFootprint) -> [(name: String, shape: [Int], layer: Int, slot: Int)] {
        var result: [(String, [Int], Int, Int)] = []
        for (i, shapes) in footprint.parameterShapes.enumerated() {
            result.append(contentsOf: zip(["weight", "bias"], shapes).enumerated().map { slot, entry in
                ("layers.\(i).\(entry.0)", entry.1, i, slot)
            })
        }
        return result
    }

    /// The file's bytes for `model` and `card`, with extra metadata entries.
    public static func encode(model: SequentialModel, card: PrivacyCard, extraMetadata: [String: String] = [:]) throws -> Data {
        let json = JSONEncoder()
        json.outputFormatting = [.sortedKeys]
        let architecture = Architecture(inputShape: model.inputShape, layers: model.architecture)
        var metadata = extraMetadata
        metadata["format"] = "veil-v1"
        metadata["veil.architecture"] = String(decoding: try json.encode(architecture), as: UTF8.self)
        metadata["veil.privacy"] = String(decoding: try json.encode(card), as: UTF8.self)

        var header: [String: Any] = ["__metadata__": metadata]
        var body = Data()
        for entry in tensorLayout(model.footprint) {
            let values = model.layers[entry.layer].parameters[entry.slot].storage
            let start = body.count
            for v in values {
                let bits = v.bitPattern
                body.append(contentsOf: [UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                                         UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24)])
            }
            header[entry.name] = ["dtype": "F32", "shape": entry.shape, "data_offsets": [start, body.count]] as [String: Any]
        }
        var headerBytes = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var file = Data()
        let length = UInt64(headerBytes.count)
        file.append(contentsOf: (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) })
        file.append(headerBytes)
        file.append(body)
        return file
    }

    /// Writes the model atomically (a temporary file renamed into place), so a failure leaves no partial file.
    /// Only a regular file is replaced (``ModelFileDestination/checkReplaceable(_:)``).
    /// - Returns: the lowercase hexadecimal SHA-256 of the bytes written.
    @discardableResult
    public static func write(model: SequentialModel, card: PrivacyCard, to path: String,
                             extraMetadata: [String: String] = [:]) throws -> String {
        let data = try encode(model: model, card: card, extraMetadata: extraMetadata)
        try AtomicFileWriter(path: path).write(data)
        return ContentDigest.sha256Hex(of: [data])
    }

    /// Reads a model file written by ``write(model:card:to:extraMetadata:)``.
    /// - Throws: `VeilError.invalidInput` on a missing, truncated or corrupt file.
    public static func read(path: String) throws -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VeilError(.invalidInput, "model file not found: \(path)")
        }
        return try decode(data, name: path)
    }

    /// Decodes a model file's bytes; `name` appears in error messages.
    public static func decode(_ data: Data, name: String = "model file") throws -> Contents {
        func corrupt(_ why: String) -> VeilError { VeilError(.invalidInput, "\(name) is not a valid Veil model file: \(why)") }
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw corrupt("shorter than the 8-byte header length") }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(maximumHeaderLength), 8 + Int(length) <= bytes.count else {
            throw corrupt("header length \(length) exceeds the file size \(bytes.count) (truncated?)")
        }
        let headerEnd = 8 + Int(length)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd])),
              let header = object as? [String: Any] else { throw corrupt("header is not a JSON object") }
        guard let metadata = header["__metadata__"] as? [String: String] else { throw corrupt("no __metadata__ strings") }
        guard let architectureJSON = metadata["veil.architecture"],
              let architecture = try? JSONDecoder().decode(Architecture.self, from: Data(architectureJSON.utf8)) else {
            throw corrupt("missing or unreadable veil.architecture")
        }
        guard let cardJSON = metadata["veil.privacy"],
              let card = try? JSONDecoder().decode(PrivacyCard.self, from: Data(cardJSON.utf8)) else {
            throw corrupt("missing or unreadable veil.privacy")
        }
        // Every size the header implies is checked against the bytes actually present before anything is
        // allocated: the architecture's sizes with overflow-checked arithmetic, then each tensor's shape
        // and byte range, then that the tensors cover the body exactly.
        let footprint: ArchitectureFootprint
        do {
            footprint = try ArchitectureFootprint(architecture: architecture.layers, inputShape: architecture.inputShape)
        } catch let error as VeilError { throw corrupt("architecture does not build: \(error.message)") }
        let bodyCount = bytes.count - headerEnd
        let layout = tensorLayout(footprint)
        guard header.count == layout.count + 1 else { throw corrupt("expected \(layout.count) tensors, found \(header.count - 1)") }
        var ranges: [Range<Int>] = []
        for entry in layout {
            guard let info = header[entry.name] as? [String: Any], info["dtype"] as? String == "F32",
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2 else {
                throw corrupt("tensor \(entry.name) is missing or not F32")
            }
            guard shape == entry.shape else { throw corrupt("tensor \(entry.name) has shape \(shape), expected \(entry.shape)") }
            // The footprint bounds every shape's product, so `4 * count` cannot overflow.
            let count = entry.shape.reduce(1, *)
            let (start, end) = (offsets[0], offsets[1])
            guard start >= 0, start <= end, end <= bodyCount, end - start == 4 * count else {
                throw corrupt("tensor \(entry.name) has byte range \(start)..<\(end), not \(4 * count) bytes inside the "
                              + "\(bodyCount)-byte body (truncated?)")
            }
            ranges.append(start..<end)
        }
        let covered = ranges.reduce(0) { $0 + $1.count }
        guard covered == bodyCount else { throw corrupt("tensor data covers \(covered) of \(bodyCount) body bytes") }
        var placeholder = ConstantWords()  // every tensor is replaced from the file below
        var model: SequentialModel
        do {
            model = try SequentialModel(architecture: architecture.layers, inputShape: architecture.inputShape, random: &placeholder)
        } catch { throw corrupt("architecture does not build: \(error)") }
        for (entry, range) in zip(layout, ranges) {
            let (start, count) = (range.lowerBound, range.count / 4)
            var values = [Float](repeating: 0, count: count)
            for k in 0..<count {
                let o = headerEnd + start + 4 * k
                let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
                values[k] = Float(bitPattern: bits)
            }
            guard values.allSatisfy(\.isFinite) else { throw corrupt("tensor \(entry.name) holds non-finite values") }
            let old = model.layers[entry.layer].parameters[entry.slot]
            var params = model.layers[entry.layer].parameters
            params[entry.slot] = Matrix(rows: old.rows, columns: old.columns, storage: values)
            model.layers[entry.layer].parameters = params
        }
        return Contents(model: model, card: card, metadata: metadata)
    }
}

/// A word source that always returns 0: builds a model's shape whose weights are then read from a file.
private struct ConstantWords: RandomSource {
    mutating func next() -> UInt64 { 0 }
}
