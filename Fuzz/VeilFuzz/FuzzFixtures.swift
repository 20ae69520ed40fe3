import Accounting
import Foundation
import PrivateSQL

/// What the harnesses share: a scratch folder for inputs that are read from files, and the fixed metadata
/// and budget the SQL target plans against.
enum FuzzFixtures {
    /// A folder of this process under `TMPDIR` (scripts/fuzz.sh points it into `.build/fuzz`).
    static let scratch: URL = {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("veil-fuzz-\(ProcessInfo.processInfo.processIdentifier)", isDirectory: true)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }()

    /// Replaces `file`'s contents with `bytes`; a harness that cannot write its input stops the run.
    static func write(_ bytes: Data, to file: URL) {
        do { try bytes.write(to: file) } catch { fatalError("veil-fuzz: cannot write \(file.path): \(error)") }
    }

    /// The SQL target's metadata: one private table with every column type, a public lookup table.
    static let planner: QueryPlanner = {
        let yaml = """
        scope: fuzz
        tables:
          visits:
            privacy_unit: person_id
            max_partitions_per_unit: 5
            max_rows_per_partition: 1
            columns:
              person_id: {type: integer}
              year: {type: integer, public_values: [1984, 1985, 1986]}
              doctor_visits: {type: integer, lower: 0, upper: 30}
              income: {type: real, lower: 0, upper: 15}
              region: {type: text, public_values: [north, south]}
              female: {type: boolean, public_values: [0, 1]}
          people:
            privacy_unit: person_id
            max_partitions_per_unit: 1
            max_rows_per_partition: 1
            columns:
              person_id: {type: integer}
              age: {type: integer, lower: 25, upper: 64}
          regions:
            public: true
            columns:
              region: {type: text}
              population: {type: integer}
        """
        do { return QueryPlanner(metadata: try PrivacyMetadata.parse(yaml: yaml, source: "fuzz metadata")) } catch {
            fatalError("veil-fuzz: the fixed metadata does not load: \(error)")
        }
    }()

    /// The SQL target's budget: ε = 1, δ = 10⁻⁶ (so partition selection and Gaussian noise are planned too).
    static let budget: PrivacyParameters = {
        do { return try PrivacyParameters(epsilon: 1, delta: 1e-6) } catch { fatalError("veil-fuzz: \(error)") }
    }()
}
