import _TestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Hostile and absurd inputs to `veil train` and `veil evaluate`, one row each: every one must end with
/// one line on stderr and exit code 2 — never a trap, an abort, a huge allocation or a hang — and a
/// refused training run must leave no reservation or charge in the ledger.
///
/// A new subcommand that reads pipelines, model files or data gets its rows here.
@Suite("Hostile inputs to veil train and veil evaluate")
struct HostileTrainingInputTests {
    /// One hostile input.
    struct Case: Sendable, CustomTestStringConvertible {
        /// Which command runs.
        enum Command: Sendable { case train, evaluate }

        let name: String
        let command: Command
        /// train: replacements applied to ``basePipeline``; evaluate: unused.
        var pipeline: [(String, String)] = []
        /// Arguments after the pipeline (train) or the model file (evaluate); `{folder}` is the case's folder.
        var arguments: [String] = []
        /// evaluate: the model file's `veil.architecture` JSON (the file holds no tensors).
        var architecture: String? = nil
        /// Files the case needs, made in its folder before the run.
        var setup: @Sendable (URL) throws -> Void = { _ in }
        /// A condition on the folder after the run (e.g. a file left as it was).
        var after: @Sendable (URL) throws -> Bool = { _ in true }
        let message: String

        var testDescription: String { name }
    }

    /// A DP pipeline over `points.csv` (40 rows) charged to the budget `points`; each case changes a part.
    static let basePipeline = """
        data:
          format: csv
          train: points.csv
          label_column: label
          classes: 2
          size: 40
        model:
          architecture: logistic
        privacy:
          target_epsilon: 1
          delta: 1e-5
          clip_norm: 1
          ledger_scope: points
        training:
          epochs: 2
          expected_batch_size: 10
          learning_rate: 0.1
        output: m.safetensors
        """

    /// IDX data: `images` and `labels` in the case's folder, at most `size` examples declared.
    static func idxData(images: String) -> [(String, String)] {
        [("  format: csv\n  train: points.csv\n  label_column: label\n",
          "  format: idx\n  train_images: \(images)\n  train_labels: labels.idx\n")]
    }

    /// Runs `command` through a shell; fails the test when it does not exit 0.
    static func shell(_ command: String, in folder: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = folder
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(command)")
    }

    /// An IDX images file of gzip-compressed zeros whose header declares `count` images of `side`×`side`
    /// pixels, with `megabytes` MB of zeros after the header and its gzip trailer cut off: a reader that
    /// decompresses it to the end fails there ("cannot decompress"), one that trusts the header never gets there.
    static func gzipBomb(count: UInt32, side: UInt32, megabytes: Int) -> @Sendable (URL) throws -> Void {
        { folder in
            func word(_ v: UInt32) -> String { (0..<4).map { String(format: "\\%03o", (v >> (24 - 8 * $0)) & 0xFF) }.joined() }
            try shell("""
                { printf '\(word(0x803))\(word(count))\(word(side))\(word(side))'; head -c \(megabytes)000000 /dev/zero; } \
                | gzip -1 > full.gz && head -c $(( $(wc -c < full.gz) - 8 )) full.gz > bomb.gz && rm full.gz
                """, in: folder)
            var labels = Data([0, 0, 8, 1] + (0..<4).map { UInt8((count >> (24 - 8 * $0)) & 0xFF) })
            labels.append(contentsOf: [UInt8](repeating: 0, count: Int(min(count, 100))))
            try labels.write(to: folder.appendingPathComponent("labels.idx"))
        }
    }

    static let cases: [Case] = [
        // Outputs: refused before the ledger is touched: no budget is lost to a failure that could be checked first.
        Case(name: "empty --output", command: .train, arguments: ["--output", ""], message: "the output path is empty"),
        Case(name: "--output is an existing folder", command: .train, arguments: ["--output", "{folder}/models"],
             setup: { try FileManager.default.createDirectory(at: $0.appendingPathComponent("models"), withIntermediateDirectories: true) },
             message: "it is a directory; Veil writes only regular files"),
        Case(name: "--output ends in a slash", command: .train, arguments: ["--output", "{folder}/new/"],
             message: "names a folder"),
        // A device node of its own (the device of /dev/full), never the real one: a build without the check
        // would replace it. Where device nodes cannot be made (not root), a FIFO stands in.
        Case(name: "--output is a device", command: .train, arguments: ["--output", "{folder}/full"],
             setup: { folder in
                 let path = folder.appendingPathComponent("full").path
                 if mknod(path, S_IFCHR | 0o666, 0x107 /* makedev(1, 7) */) != 0 { try #require(mkfifo(path, 0o600) == 0) }
             },
             after: { folder in
                 let type = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("full").path)[.type]
                 return type as? FileAttributeType != .typeRegular
             },
             message: "Veil writes only regular files"),
        Case(name: "--output is a FIFO", command: .train, arguments: ["--output", "{folder}/fifo"],
             setup: { try #require(mkfifo($0.appendingPathComponent("fifo").path, 0o600) == 0) },
             message: "is a FIFO"),
        Case(name: "--output is a symbolic link", command: .train, arguments: ["--output", "{folder}/link.safetensors"],
             setup: { folder in
                 try "keep".write(to: folder.appendingPathComponent("target"), atomically: true, encoding: .utf8)
                 try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("link.safetensors").path,
                                                            withDestinationPath: folder.appendingPathComponent("target").path)
             },
             after: { folder in
                 try String(contentsOf: folder.appendingPathComponent("target"), encoding: .utf8) == "keep"
                     && (try FileManager.default.destinationOfSymbolicLink(atPath: folder.appendingPathComponent("link.safetensors").path)).hasSuffix("target")
             },
             message: "is a symbolic link"),
        Case(name: "--output in a folder that cannot be created", command: .train,
             arguments: ["--output", "/proc/veil-no-such-folder/m.safetensors"], message: "cannot create the output folder"),
        Case(name: "a model too large to allocate", command: .train,
             pipeline: [("  architecture: logistic", "  architecture: mlp\n  hidden: [1048576, 1048576]")],
             message: "parameters"),
        Case(name: "an unknown ledger scope is refused before the data is read", command: .train,
             pipeline: [("ledger_scope: points", "ledger_scope: nosuch"), ("train: points.csv", "train: missing.csv")],
             message: "no budget named \"nosuch\""),
        Case(name: "a run without a declared size", command: .train, pipeline: [("  size: 40\n", "")],
             message: "data.size is required: declare the number of training examples N"),

        // Numbers out of range (pipeline fields and flags).
        Case(name: "classes: 1e9", command: .train, pipeline: [("classes: 2", "classes: 1e9")],
             message: "classes must be an integer in 2...65536"),
        Case(name: "classes: 1000000000", command: .train, pipeline: [("classes: 2", "classes: 1000000000")],
             message: "classes must be an integer in 2...65536"),
        Case(name: "limit: -1", command: .train, pipeline: [("  size: 40", "  size: 40\n  limit: -1")],
             message: "limit must be an integer in 1...1000000000"),
        Case(name: "size: 0", command: .train, pipeline: [("size: 40", "size: 0")], message: "size must be an integer in 1"),
        Case(name: "--epochs Int.max", command: .train, arguments: ["--epochs", "9223372036854775807"],
             message: "--epochs must be an integer in 1...1000000"),
        Case(name: "epochs: Int.max", command: .train, pipeline: [("epochs: 2", "epochs: 9223372036854775807")],
             message: "epochs must be an integer in 1...1000000"),
        Case(name: "epochs: 0", command: .train, pipeline: [("epochs: 2", "epochs: 0")], message: "epochs must be an integer in 1"),
        Case(name: "steps beyond the limit", command: .train,
             pipeline: [("size: 40", "size: 1000000000"), ("epochs: 2", "epochs: 1000000")],
             message: "at most 10000000 are allowed"),
        Case(name: "expected_batch_size: Int.max", command: .train,
             pipeline: [("expected_batch_size: 10", "expected_batch_size: 9223372036854775807")],
             message: "expected_batch_size must be an integer in 1"),
        Case(name: "max_physical_batch_size: 0", command: .train,
             pipeline: [("expected_batch_size: 10", "expected_batch_size: 10\n  max_physical_batch_size: 0")],
             message: "max_physical_batch_size must be an integer in 1...65536"),
        Case(name: "hidden: [0]", command: .train, pipeline: [("  architecture: logistic", "  architecture: mlp\n  hidden: [0]")],
             message: "hidden must be a list of integers in 1...1048576"),
        Case(name: "clip_norm: .inf", command: .train, pipeline: [("clip_norm: 1", "clip_norm: .inf")],
             message: "clip norm must be a number in (0, 1000000]"),
        Case(name: "learning_rate: -1", command: .train, pipeline: [("learning_rate: 0.1", "learning_rate: -1")],
             message: "learning rate must be a number in (0, 1000000]"),
        Case(name: "momentum: 1", command: .train, pipeline: [("learning_rate: 0.1", "learning_rate: 0.1\n  momentum: 1")],
             message: "momentum must be in [0, 1)"),
        Case(name: "adam_epsilon: .inf", command: .train,
             pipeline: [("learning_rate: 0.1", "learning_rate: 0.1\n  optimizer: adam\n  adam_epsilon: .inf")],
             message: "0 < epsilon ≤ 1"),
        Case(name: "noise_multiplier: 1e300", command: .train, pipeline: [("clip_norm: 1", "clip_norm: 1\n  noise_multiplier: 1e300")],
             message: "noise multiplier must be a number in (0, 1000000]"),
        Case(name: "seed: -1", command: .train, pipeline: [("learning_rate: 0.1", "learning_rate: 0.1\n  seed: -1")],
             message: "seed must be an integer in 0"),
        Case(name: "feature_bounds with lower ≥ upper", command: .train,
             pipeline: [("  size: 40", "  size: 40\n  feature_bounds: {a: {lower: 1, upper: 1}}")],
             message: "bounds of feature column \"a\" must be finite numbers lower < upper"),
        Case(name: "a raw feature of 2e19 without declared bounds", command: .train,
             setup: { try "a,b,label\n2e19,1,0\n".write(to: $0.appendingPathComponent("points.csv"), atomically: true, encoding: .utf8) },
             message: "the largest raw feature value accepted"),

        // IDX files: the header is checked before decompressing, and never more than it declares is decompressed.
        Case(name: "an IDX gzip bomb declaring one 1×1 image", command: .train, pipeline: idxData(images: "bomb.gz"),
             setup: gzipBomb(count: 1, side: 1, megabytes: 20), message: "IDX file size does not match its header"),
        Case(name: "an IDX header declaring 2³¹ images of 28×28", command: .train, pipeline: idxData(images: "bomb.gz"),
             setup: gzipBomb(count: 1 << 31, side: 28, megabytes: 20), message: "more than the 1073741824 bytes an IDX file may hold"),

        // Model files whose header claims sizes their bytes do not hold.
        Case(name: "a dense layer of 1e8 units", command: .evaluate,
             architecture: #"{"input_shape":{"height":1,"width":1,"channels":2},"layers":[{"dense":{"units":100000000}}]}"#,
             message: "dense units must be an integer in 1...16777216"),
        Case(name: "a dense layer of Int.max units", command: .evaluate,
             architecture: #"{"input_shape":{"height":1,"width":1,"channels":2},"layers":[{"dense":{"units":9223372036854775807}}]}"#,
             message: "dense units must be an integer in 1...16777216"),
        Case(name: "a huge input shape", command: .evaluate,
             architecture: #"{"input_shape":{"height":4294967296,"width":4294967296,"channels":1},"layers":[{"flatten":{}},{"dense":{"units":2}}]}"#,
             message: "input height must be an integer in 1...16777216"),
        Case(name: "an input shape whose product overflows", command: .evaluate,
             architecture: #"{"input_shape":{"height":16777216,"width":16777216,"channels":16777216},"layers":[{"dense":{"units":2}}]}"#,
             message: "exceeds 16777216 values per example"),
        Case(name: "a negative input shape", command: .evaluate,
             architecture: #"{"input_shape":{"height":1,"width":1,"channels":-3},"layers":[{"dense":{"units":2}}]}"#,
             message: "input channels must be an integer in 1...16777216"),
        Case(name: "a convolution whose patches exceed the limit", command: .evaluate,
             architecture: #"{"input_shape":{"height":4096,"width":4096,"channels":1},"layers":[{"convolution2D":{"filters":1,"kernel":4096,"stride":1,"padding":4096}}]}"#,
             message: "exceeds 16777216 values per example"),
        Case(name: "a model file whose tensors are absent", command: .evaluate,
             architecture: #"{"input_shape":{"height":1,"width":1,"channels":2},"layers":[{"dense":{"units":2}}]}"#,
             message: "expected 2 tensors, found 0"),
    ]

    /// A model file with `architecture`, a privacy card and no tensors.
    static func modelFile(architecture: String) throws -> Data {
        let card = #"{"differentially_private":false,"steps":1,"privacy_unit":"x","sampling":"x","notes":[],"dataset_sha256":"x","dataset_size":1}"#
        let header = try JSONSerialization.data(withJSONObject: [
            "__metadata__": ["format": "veil-v1", "veil.architecture": architecture, "veil.privacy": card],
        ])
        var file = Data((0..<8).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) })
        file.append(header)
        return file
    }

    @Test("refused with one line and exit code 2; a refused run reserves nothing", arguments: cases)
    func hostile(_ row: Case) throws {
        let folder = try TemporaryDirectory.make("hostile")
        defer { try? FileManager.default.removeItem(at: folder) }
        let ledger = folder.appendingPathComponent("ledger.sqlite").path
        var csv = "a,b,label\n"
        for i in 0..<40 { csv += "\(i % 7 - 3),\(i % 5),\(i % 2)\n" }
        try csv.write(to: folder.appendingPathComponent("points.csv"), atomically: true, encoding: .utf8)
        try row.setup(folder)
        let arguments = row.arguments.map { $0.replacingOccurrences(of: "{folder}", with: folder.path) }

        let run: VeilRun
        switch row.command {
        case .train:
            let created = try runVeil(["budget", "create", "points", "--epsilon", "10", "--delta", "1e-3", "--ledger", ledger])
            try #require(created.status == 0, "\(created.stderr)")
            var yaml = Self.basePipeline
            for (old, new) in row.pipeline {
                try #require(yaml.contains(old), "\(old)")
                yaml = yaml.replacingOccurrences(of: old, with: new)
            }
            let file = folder.appendingPathComponent("p.yaml")
            try yaml.write(to: file, atomically: true, encoding: .utf8)
            run = try runVeil(["train", file.path, "--ledger", ledger] + arguments)
        case .evaluate:
            let model = folder.appendingPathComponent("hostile.safetensors")
            try Self.modelFile(architecture: try #require(row.architecture)).write(to: model)
            run = try runVeil(["evaluate", model.path, "--data", folder.appendingPathComponent("points.csv").path] + arguments)
        }
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains(row.message), "\(run.stderr)")
        #expect(run.stderr.hasPrefix("error: ") && run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(try row.after(folder))
        if row.command == .train {
            let show = try runVeil(["budget", "show", "points", "--json", "--ledger", ledger])
            let status = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
            #expect(status["epsilon_reserved"] as? Double == 0 && status["epsilon_spent"] as? Double == 0)
            #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("m.safetensors").path))
        }
    }
}
