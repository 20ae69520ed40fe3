import BudgetLedger
import Foundation
import Mechanisms
import PrivateTraining

/// A folder of model files (`NAME.safetensors`, written by `veil train`), addressed by name, in the
/// manner of `ollama list/show/rm`. The default folder is `$VEIL_MODELS`, else `~/.veil/models`.
public struct ModelStore: Sendable {
    /// The file extension of stored models.
    public static let fileExtension = "safetensors"
    /// The environment variable naming the store's folder.
    public static let environmentVariable = "VEIL_MODELS"

    /// The store's folder.
    public let folder: String

    /// A store in `folder` (which need not exist until a model is added).
    public init(folder: String) { self.folder = folder }

    /// The folder to use: `explicit` if given, else `$VEIL_MODELS`, else `~/.veil/models`.
    public static func folder(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit { return explicit }
        if let fromEnvironment = environment[environmentVariable], !fromEnvironment.isEmpty { return fromEnvironment }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return (home as NSString).appendingPathComponent(".veil/models")
    }

    /// Whether `name` is a valid model name: 1 to 128 letters, digits, `.`, `_` or `-`, starting with
    /// a letter or digit (so a name is never a path).
    public static func isValidName(_ name: String) -> Bool {
        guard (1...128).contains(name.utf8.count), let first = name.unicodeScalars.first,
              first.properties.isASCIIHexDigit || ("a"..."z").contains(first) || ("A"..."Z").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { s in
            ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "." || s == "_" || s == "-"
        }
    }

    /// The file of the model `name` (which need not exist).
    /// - Throws: `VeilError.invalidInput` when `name` is not a valid model name.
    public func path(of name: String) throws -> String {
        guard Self.isValidName(name) else {
            throw VeilError(.invalidInput, "\"\(name.prefix(80))\" is not a valid model name (1 to 128 letters, digits, "
                            + "'.', '_' or '-', starting with a letter or digit)")
        }
        return (folder as NSString).appendingPathComponent("\(name).\(Self.fileExtension)")
    }

    /// The names of the stored models, sorted.
    public func names() -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return files.filter { $0.hasSuffix(".\(Self.fileExtension)") }
            .map { String($0.dropLast(Self.fileExtension.count + 1)) }
            .filter(Self.isValidName).sorted()
    }

    /// Every stored model that reads as a valid model file, sorted by name, and the names of files that
    /// do not (with the reason).
    public func list() -> (models: [StoredModel], invalid: [(name: String, reason: String)]) {
        var models: [StoredModel] = []
        var invalid: [(String, String)] = []
        for name in names() {
            do { models.append(try entry(name)) } catch let error as VeilError {
                invalid.append((name, error.message))
            } catch { invalid.append((name, "\(error)")) }
        }
        return (models, invalid)
    }

    /// The stored model `name`.
    /// - Throws: `VeilError.invalidInput` when there is no such model or its file is invalid.
    public func entry(_ name: String) throws -> StoredModel {
        let file = try path(of: name)
        guard FileManager.default.fileExists(atPath: file) else {
            throw VeilError(.invalidInput, "no model named \"\(name)\" in \(folder) (see `veil models list`)")
        }
        return try StoredModel(path: file, name: name)
    }

    /// The stored model `name`, loaded for inference.
    public func load(_ name: String) throws -> InferenceModel {
        try entry(name).model
    }

    /// Verifies the model file `source` (its tensors, architecture, data description and privacy card)
    /// and copies it into the store as `name` (default: the file's name without `.safetensors`).
    /// - Throws: `VeilError.invalidInput` when the file is invalid, the name is invalid or taken.
    @discardableResult
    public func add(file source: String, name: String? = nil) throws -> StoredModel {
        let base = ((source as NSString).lastPathComponent as NSString).deletingPathExtension
        let name = name ?? base
        let destination = try path(of: name)
        guard let bytes = FileManager.default.contents(atPath: source) else {
            throw VeilError(.invalidInput, "model file not found: \(source)")
        }
        let checked = try StoredModel(bytes: bytes, name: name, path: destination, source: source)
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw VeilError(.invalidInput, "a model named \"\(name)\" is already in \(folder); remove it first or choose --name")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw VeilError(.invalidInput, "cannot create the model folder \(folder): \(error.localizedDescription)")
        }
        try AtomicFileWriter(path: destination).write(bytes)
        return checked
    }

    /// Removes the stored model `name`.
    /// - Throws: `VeilError.invalidInput` when there is no such model.
    public func remove(_ name: String) throws {
        let file = try path(of: name)
        guard FileManager.default.fileExists(atPath: file) else {
            throw VeilError(.invalidInput, "no model named \"\(name)\" in \(folder) (see `veil models list`)")
        }
        do { try FileManager.default.removeItem(atPath: file) } catch {
            throw VeilError(.fileNotWritten, "cannot remove \(file): \(error.localizedDescription)")
        }
    }
}
