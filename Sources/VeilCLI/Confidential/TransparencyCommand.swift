import ArgumentParser
import ConfidentialInference
import Crypto
import Foundation
import TransparencyLog
import TrustedExecution

/// `veil transparency`: the append-only log of every enclave measurement Veil may run.
struct TransparencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transparency",
        abstract: "The transparency log of released enclave measurements: append, signed heads, proofs, verification.",
        discussion: HelpText.reflow("""
        An RFC 9162 Merkle tree log (SHA-256, leaf prefix 0x00, node prefix 0x01) whose entries are enclave \
        manifests (binary, models, configuration; see `veil enclave measure --manifest`). Heads are signed \
        with Ed25519. See docs/confidential-inference.md.

        Exit codes: 0 success (verified), 1 a proof or signature that does not verify, or a fault,
        2 bad input (flags, files, malformed JSON).
        """),
        subcommands: [TransparencyAppendCommand.self, TransparencyHeadCommand.self, TransparencyProveCommand.self,
                      TransparencyVerifyCommand.self]
    )
}

/// Shared helpers of the `veil transparency` subcommands.
enum TransparencyCLI {
    /// Runs `body`, mapping library errors to one line and Veil's exit codes.
    static func run<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as TransparencyLogError {
            throw CLIFailure(error.message, exitCode: error.code == .invalidInput ? CLIExitCode.badInput : CLIExitCode.failure)
        } catch let error as TrustedExecutionError {
            throw CLIFailure(error.message, exitCode: error.code == .invalidInput ? CLIExitCode.badInput : CLIExitCode.failure)
        } catch let error as ConfidentialInferenceError {
            throw CLIFailure(error.message, exitCode: error.code == .invalidInput ? CLIExitCode.badInput : CLIExitCode.failure)
        }
    }

    /// Prints `value` as one line of JSON with sorted keys.
    static func printJSON<T: Encodable>(_ value: T) throws {
        print(String(decoding: try json(value), as: UTF8.self))
    }

    static func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Reads and decodes a JSON file; a missing or malformed file is bad input.
    static func decode<T: Decodable>(_ type: T.Type, from path: String, what: String) throws -> T {
        let bytes = try EnclaveCLI.read(path, what: what, limit: 1 << 20)
        do { return try JSONDecoder().decode(type, from: Data(bytes)) } catch let error as TransparencyLogError {
            throw CLIFailure("\(what) \(path): \(error.message)", exitCode: CLIExitCode.badInput)
        } catch {
            throw CLIFailure("\(what) \(path) is not valid JSON of the expected shape", exitCode: CLIExitCode.badInput)
        }
    }

    /// Loads the log's Ed25519 signing key (a file holding its 32 bytes as hex).
    static func signingKey(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        let text = String(decoding: try EnclaveCLI.read(path, what: "signing key", limit: 4096), as: UTF8.self)
        let bytes = try LogHex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines), field: "signing key \(path)")
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes) else {
            throw CLIFailure("signing key \(path) is not a 32-byte Ed25519 key in hex", exitCode: CLIExitCode.badInput)
        }
        return key
    }

    /// Creates a new signing key file readable by its owner only; refuses to replace one.
    static func createSigningKey(_ path: String) throws -> Curve25519.Signing.PrivateKey {
        let key = Curve25519.Signing.PrivateKey()
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw CLIFailure("cannot create the signing key \(path): \(String(cString: strerror(errno)))"
                             + (errno == EEXIST ? " (it exists; drop --create-key to use it)" : ""),
                             exitCode: errno == EEXIST ? CLIExitCode.badInput : CLIExitCode.failure)
        }
        defer { close(fd) }
        let text = Array((LogHex.encode(key.rawRepresentation) + "\n").utf8)
        guard write(fd, text, text.count) == text.count, fsync(fd) == 0 else {
            throw CLIFailure("cannot write the signing key \(path): \(String(cString: strerror(errno)))")
        }
        return key
    }
}

/// The entry a command is about: a manifest file, or the files to measure.
struct MeasurementEntryOptions: ParsableArguments {
    @Option(help: "A manifest file (the text `veil enclave measure --manifest` prints).")
    var manifest: String?

    @Option(help: "The veil binary of the enclave (measured like `veil enclave measure`).")
    var binary: String?

    @Option(help: "A model file it serves (repeat for several).")
    var model: [String] = []

    @Option(help: "Its serving configuration file.")
    var config: String?

    /// Whether any of the options was given.
    var isGiven: Bool { manifest != nil || binary != nil }

    func entry() throws -> MeasurementEntry {
        if let manifest {
            guard binary == nil, model.isEmpty, config == nil else {
                throw CLIFailure("give either --manifest or --binary/--model/--config, not both", exitCode: CLIExitCode.badInput)
            }
            let bytes = try EnclaveCLI.read(manifest, what: "manifest", limit: MeasurementEntry.maximumSize)
            return try MeasurementEntry(bytes: bytes)
        }
        guard let binary else {
            throw CLIFailure("name the entry: --manifest FILE, or --binary FILE [--model FILE ...] [--config FILE]",
                             exitCode: CLIExitCode.badInput)
        }
        let measurement = try EnclaveMeasurement(binary: URL(fileURLWithPath: binary),
                                                 models: model.map { URL(fileURLWithPath: $0) },
                                                 configuration: config.map { URL(fileURLWithPath: $0) })
        return try MeasurementEntry(manifest: measurement.manifest)
    }
}

struct TransparencyAppendCommand: ParsableCommand {
    struct AppendReport: Encodable {
        let index: Int
        let tree_size: Int
        let measurement: String
        let leaf_hash: String
    }

    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append an enclave measurement to the log (created when missing); an entry already there keeps its index.",
        discussion: HelpText.reflow("""
        Each append is written and fsync'd before the command reports it; a crash mid-append leaves the log \
        as it was before (the torn record is cut when the log is next opened).

        Examples:
          veil transparency append --log releases.tlog --manifest manifest.txt
          veil transparency append --log releases.tlog --binary .build/release/veil --model mnist.safetensors --json
        """)
    )

    @Option(help: "The log file.")
    var log: String

    @OptionGroup var entry: MeasurementEntryOptions

    @Flag(help: "Print one JSON object: index, tree_size, measurement, leaf_hash.")
    var json = false

    func run() throws {
        try TransparencyCLI.run {
            let entry = try entry.entry()
            let logFile = try LogFile(path: log, create: true)
            if logFile.discardedTailBytes > 0 {
                FileHandle.standardError.write(Data("veil transparency: cut \(logFile.discardedTailBytes) bytes of a torn last record (an append interrupted before it was acknowledged)\n".utf8))
            }
            let index = try logFile.append(entry)
            if json {
                try TransparencyCLI.printJSON(AppendReport(index: index, tree_size: logFile.size,
                                                           measurement: LogHex.encode(entry.measurement),
                                                           leaf_hash: LogHex.encode(entry.leafHash)))
            } else {
                print("entry \(index) of \(logFile.size): measurement \(LogHex.encode(entry.measurement))")
            }
        }
    }
}

struct TransparencyHeadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "head",
        abstract: "Sign and print the log's current tree head (size, root, time) with the log's Ed25519 key.",
        discussion: HelpText.reflow("""
        The key file holds the 32-byte Ed25519 private key in hex; --create-key makes a new one (mode 0600) \
        and refuses to replace an existing file. Clients pin the public key printed in the head.

        Examples:
          veil transparency head --log releases.tlog --signing-key log.key --create-key --output head.json
          veil transparency head --log releases.tlog --signing-key log.key --json
        """)
    )

    @Option(help: "The log file.")
    var log: String

    @Option(name: .customLong("signing-key"), help: "The log's signing key file (hex).")
    var signingKey: String

    @Flag(name: .customLong("create-key"), help: "Create the signing key file (it must not exist).")
    var createKey = false

    @Option(help: "Also write the signed head (JSON) to this file.")
    var output: String?

    @Flag(help: "Print the signed head as JSON.")
    var json = false

    func run() throws {
        try TransparencyCLI.run {
            let logFile = try LogFile(path: log, readOnly: true)
            let key = createKey ? try TransparencyCLI.createSigningKey(signingKey) : try TransparencyCLI.signingKey(signingKey)
            let head = try logFile.signedHead(signingKey: key, timestamp: UInt64(Date().timeIntervalSince1970 * 1000))
            if let output { try EnclaveCLI.write(Array(try TransparencyCLI.json(head)), to: output) }
            if json {
                try TransparencyCLI.printJSON(head)
            } else {
                print("tree size \(head.treeSize), root \(LogHex.encode(head.rootHash)), log key \(LogHex.encode(head.publicKey))")
            }
        }
    }
}

/// What `veil transparency prove` prints: the entry, its inclusion proof and, when asked, a consistency
/// proof from an earlier size.
struct TransparencyProofBundle: Codable {
    let manifest: String
    let inclusion: InclusionProof
    let consistency: ConsistencyProof?
}

struct TransparencyProveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prove",
        abstract: "Print the inclusion proof of an entry (and a consistency proof from an earlier tree size) as JSON.",
        discussion: HelpText.reflow("""
        Examples:
          veil transparency prove --log releases.tlog --manifest manifest.txt --from-size 3 > proof.json
          veil transparency prove --log releases.tlog --index 0 --tree-size 1
        """)
    )

    @Option(help: "The log file.")
    var log: String

    @Option(help: "The entry's index (instead of naming the entry).")
    var index: Int?

    @OptionGroup var entry: MeasurementEntryOptions

    @Option(name: .customLong("tree-size"), help: "Prove against the tree of this many entries (default: all).")
    var treeSize: Int?

    @Option(name: .customLong("from-size"), help: "Also prove consistency from the tree of this size.")
    var fromSize: Int?

    func run() throws {
        try TransparencyCLI.run {
            let logFile = try LogFile(path: log, readOnly: true)
            let leafIndex: Int
            if let index {
                guard !entry.isGiven else {
                    throw CLIFailure("give either --index or the entry, not both", exitCode: CLIExitCode.badInput)
                }
                leafIndex = index
            } else {
                let wanted = try entry.entry()
                guard let found = logFile.index(ofLeafHash: wanted.leafHash) else {
                    throw CLIFailure("the measurement \(LogHex.encode(wanted.measurement)) is not in the log \(log)")
                }
                leafIndex = found
            }
            let size = treeSize ?? logFile.size
            let inclusion = InclusionProof(leafIndex: leafIndex, treeSize: size,
                                           path: try logFile.tree.inclusionProof(index: leafIndex, size: size))
            let consistency = try fromSize.map {
                ConsistencyProof(oldSize: $0, newSize: size, path: try logFile.tree.consistencyProof(oldSize: $0, newSize: size))
            }
            try TransparencyCLI.printJSON(TransparencyProofBundle(manifest: try logFile.entry(at: leafIndex).manifest,
                                                                  inclusion: inclusion, consistency: consistency))
        }
    }
}

struct TransparencyVerifyCommand: ParsableCommand {
    struct VerifyReport: Encodable {
        let verified: Bool
        let tree_size: Int
        let measurement: String
    }

    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a proof bundle against a signed head and the pinned log key (and consistency from an earlier head).",
        discussion: HelpText.reflow("""
        Verifies the head's Ed25519 signature under --log-key, the entry's inclusion under the head and, with \
        --previous-head, that the log is consistent with the earlier head (a forked or rewritten log fails).

        Exit code 0 when everything verifies, 1 when something does not.

        Examples:
          veil transparency verify --proof proof.json --head head.json --log-key 3b6a27bc... --previous-head old-head.json
        """)
    )

    @Option(help: "The proof bundle printed by `veil transparency prove`.")
    var proof: String

    @Option(help: "The signed tree head (JSON) the inclusion proof is for.")
    var head: String

    @Option(name: .customLong("log-key"), help: "The log's Ed25519 public key (hex) that the client pins.")
    var logKey: String

    @Option(name: .customLong("previous-head"), help: "An earlier signed head the log must be consistent with.")
    var previousHead: String?

    @Flag(help: "Print one JSON object: verified, tree_size, measurement.")
    var json = false

    func run() throws {
        try TransparencyCLI.run {
            let bundle = try TransparencyCLI.decode(TransparencyProofBundle.self, from: proof, what: "proof")
            let signedHead = try TransparencyCLI.decode(SignedTreeHead.self, from: head, what: "head")
            let previous = try previousHead.map { try TransparencyCLI.decode(SignedTreeHead.self, from: $0, what: "previous head") }
            let key = try LogHex.decode(logKey, field: "--log-key")
            let entry = try MeasurementEntry(manifest: bundle.manifest)
            try LogMembershipCheck.verify(entry: entry, inclusion: bundle.inclusion, head: signedHead, trustedLogKey: key,
                                          remembered: previous, consistency: bundle.consistency)
            if json {
                try TransparencyCLI.printJSON(VerifyReport(verified: true, tree_size: signedHead.treeSize,
                                                           measurement: LogHex.encode(entry.measurement)))
            } else {
                print("verified: measurement \(LogHex.encode(entry.measurement)) is entry \(bundle.inclusion.leafIndex) of the log at size \(signedHead.treeSize)")
            }
        }
    }
}
