import Foundation
import PrivateSQL
import PrivateTraining

/// One parser of untrusted input, fed raw bytes through its public entry point. A harness run must never
/// crash: errors are the expected outcome for almost every input and are ignored.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// The SQL lexer and parser (`Parser.parse`), then the planner (`QueryPlanner.plan`) against the health
    /// panel's metadata for every query that parses.
    case sql
    /// The privacy metadata loader (`PrivacyMetadata.load(contentsOf:)`), from a file holding the bytes.
    case privacyMetadata = "privacy-metadata"
    /// The training pipeline loader (`TrainingPipeline.load(path:)`), from a file holding the bytes.
    case trainingPipeline = "training-pipeline"
    /// The model file reader (`SafetensorsFile.decode`).
    case safetensors
    /// The CSV importer (`CSVImporter.importCSV`), from a file holding the bytes into a scratch SQLite file.
    case csvImport = "csv-import"

    /// The target named by `VEIL_FUZZ_TARGET` (libFuzzer's callback is a C function and cannot capture it);
    /// the process exits with status 2 when the variable is missing or names no target.
    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["VEIL_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("veil-fuzz: set VEIL_FUZZ_TARGET to one of: \(names) (got '\(name)')\n".utf8))
            exit(2)
        }
        return target
    }()

    /// Whether to print each input's outcome (`VEIL_FUZZ_VERBOSE=1`, for checking seeds and replaying inputs).
    static let verbose = ProcessInfo.processInfo.environment["VEIL_FUZZ_VERBOSE"] == "1"

    /// Runs the target on one input; an error is the expected outcome and only printed when ``verbose``.
    func run(_ bytes: Data) {
        do {
            try attempt(bytes)
            if Self.verbose { print("veil-fuzz \(rawValue): accepted") }
        } catch {
            if Self.verbose { print("veil-fuzz \(rawValue): \(error)") }
        }
    }

    private func attempt(_ bytes: Data) throws {
        switch self {
        case .sql:
            let query = String(decoding: bytes, as: UTF8.self)
            _ = try Parser.parse(query)
            _ = try FuzzFixtures.planner.plan(query, budget: FuzzFixtures.budget)
        case .privacyMetadata:
            let file = FuzzFixtures.scratch.appendingPathComponent("privacy.yaml")
            FuzzFixtures.write(bytes, to: file)
            _ = try PrivacyMetadata.load(contentsOf: file)
        case .trainingPipeline:
            let file = FuzzFixtures.scratch.appendingPathComponent("pipeline.yaml")
            FuzzFixtures.write(bytes, to: file)
            _ = try TrainingPipeline.load(path: file.path)
        case .safetensors:
            _ = try SafetensorsFile.decode(bytes)
        case .csvImport:
            let file = FuzzFixtures.scratch.appendingPathComponent("input.csv")
            let database = FuzzFixtures.scratch.appendingPathComponent("import.sqlite")
            FuzzFixtures.write(bytes, to: file)
            defer { try? FileManager.default.removeItem(at: database) }
            _ = try CSVImporter.importCSV(at: file, into: database.path,
                                          options: CSVImportOptions(table: "fuzz", nullTokens: ["NA"]))
        }
    }
}
