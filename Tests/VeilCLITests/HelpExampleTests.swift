import _TestSupport
import Foundation
import Testing

/// Every `Example:`/`Examples:` line of every `veil` command's `--help` either runs here, against the
/// repository's datasets/ and pipelines/ and a temporary ledger and model store, or is excused below
/// with the reason it cannot. A new example must be one or the other.
@Suite("Help examples")
struct HelpExampleTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Examples that cannot run in a test, by their exact text (continuation lines joined), with the reason.
    static let excused: [String: String] = [
        "veil train pipelines/mnist-cnn-eps3.yaml --epochs 2 --output /tmp/mnist.safetensors --analyst ana":
            "needs the MNIST files, which are not in the repository",
        "veil budget create mnist --epsilon 8 --delta 1e-5 --composition rdp":
            "the first step of the MNIST training example above",
        "veil audit training pipelines/mnist-cnn-nonprivate.yaml --epsilon 1 --json":
            "needs the MNIST files, which are not in the repository",
        "veil audit federated pipelines/mnist-mlp-federated-dpfedavg-eps8.yaml --canaries 500":
            "needs the MNIST files, which are not in the repository",
        "veil audit federated pipelines/mnist-mlp-federated-fedavg.yaml --epsilon 1 --canaries 500":
            "needs the MNIST files, which are not in the repository",
        "veil serve health --port 8080": "leaves a server running",
        "veil service --config service.yaml": "leaves a server running (and needs a configuration with the token's digest)",
        "veil query --service http://127.0.0.1:8470 --token-file ana.token --dataset health_panel \"SELECT year, COUNT(*) AS n FROM visits GROUP BY year\"":
            "needs the query service of the example above",
        "veil query --service http://127.0.0.1:8470 --token-file ana.token --dataset health_panel --epsilon 0.5 \"SELECT year, COUNT(*) AS n FROM visits GROUP BY year\"":
            "needs a running query service (veil service)",
        "curl -s localhost:8080/v2/models/health": "not a veil command; needs the server above",
        "veil models add models/health-panel-logistic-eps1.safetensors --name health":
            "needs a trained model file (models/ is written by veil train, not kept in the repository)",
        "veil models show health": "needs the model the add example stores",
        "veil models rm health": "needs the model the add example stores",
        "veil predict health --input datasets/health_panel_training.sqlite --table test --format json":
            "needs the stored model of the models example",
        "veil predict models/mnist.safetensors --input t10k-images-idx3-ubyte.gz":
            "needs a trained MNIST model and the MNIST test files",
        "veil evaluate model.safetensors --data t10k-images-idx3-ubyte.gz --labels t10k-labels-idx1-ubyte.gz --json":
            "needs a trained MNIST model and the MNIST test files",
        "veil evaluate models/health-panel-logistic-eps1.safetensors --data datasets/health_panel_training.sqlite --table test":
            "needs a trained model file (models/ is written by veil train)",
        "veil import csv panel.csv --db panel.sqlite --table visits --metadata privacy.yaml --rename id=person_id":
            "needs the user's CSV and metadata files",
        "veil query ... --epsilon 0.5 --delta 1e-6 --format json \"SELECT age, AVG(doctor_visits) FROM visits GROUP BY age\"":
            "`...` stands for the --db and --metadata of the example above",
        "veil query ... --keys ages.csv \"SELECT age, COUNT(*) FROM visits GROUP BY age\"":
            "`...` stands for the --db and --metadata of the example above",
        "veil query --db postgres://veil@db.example:5432/panel ... \"SELECT region, COUNT(*) FROM visits GROUP BY region\"":
            "needs a PostgreSQL server holding the table (QueryCommandTests runs the PostgreSQL form on a test server)",
        "veil import csv panel.csv --db postgres://veil@db.example:5432/panel --table visits --metadata privacy.yaml":
            "needs a PostgreSQL server and the user's CSV and metadata files",
        "veil query ... --explain \"SELECT MEDIAN(income) FROM visits\"":
            "`...` stands for the --db and --metadata of the example above",
        "veil query ... --dry-run \"SELECT SUM(hospital_days) FROM visits\"":
            "`...` stands for the --db and --metadata of the example above",
        "veil enclave evidence --provider configfs-tsm --nonce 00112233445566778899aabbccddeeff --enclave-public-key enclave.pub --output evidence.bin":
            "needs TDX/SEV-SNP hardware (configfs-tsm)",
        "veil enclave evidence --provider simulated --simulated-key sim.pem --measurement HEX --nonce 00112233445566778899aabbccddeeff --enclave-public-key enclave.pub --output evidence.bin":
            "HEX is a placeholder for a measurement",
        "veil enclave keygen --platform-secret secret --measurement HEX --sealed-key enclave.sealed --public-key enclave.pub":
            "HEX is a placeholder for a measurement",
        "veil enclave open-model model.sealed --wrapped-key wrapped.json --sealed-key enclave.sealed --platform-secret secret --measurement HEX --output model.safetensors":
            "HEX is a placeholder for a measurement",
        "veil enclave keybroker --keys broker-keys.json --key-id model-a --evidence evidence.bin --nonce 00112233445566778899aabbccddeeff --enclave-public-key enclave.pub --policy policy.yaml --output wrapped.json":
            "needs evidence and a key store made by the other enclave examples",
        "veil enclave verify quote_v4.dat --policy tdx-policy.yaml --collateral tdx/ --at 2023-07-01T01:00:00Z":
            "needs a TDX quote and its collateral",
        "veil enclave verify report.bin --policy snp-policy.yaml --collateral snp/ --json":
            "needs an SEV-SNP report and its collateral",
        "veil enclave measure --binary .build/release/veil --model models/mnist.safetensors --config serve.yaml":
            "needs a release build, a trained MNIST model and a serve configuration",
        "veil enclave seal model.safetensors --key-id model-a --keys broker-keys.json --output model.sealed":
            "needs a trained model and a broker key store",
        "veil transparency append --log releases.tlog --manifest manifest.txt":
            "needs a manifest printed by veil enclave measure --manifest",
        "veil transparency append --log releases.tlog --binary .build/release/veil --model mnist.safetensors --json":
            "needs a release build and a trained MNIST model",
        "veil transparency head --log releases.tlog --signing-key log.key --create-key --output head.json":
            "needs the log the append examples write (each command's examples run in a folder of their own)",
        "veil transparency head --log releases.tlog --signing-key log.key --json":
            "needs the log and key of the examples above",
        "veil transparency prove --log releases.tlog --manifest manifest.txt --from-size 3 > proof.json":
            "needs the log and manifest of the append examples; `>` is shell redirection",
        "veil transparency prove --log releases.tlog --index 0 --tree-size 1":
            "needs the log the append examples write",
        "veil transparency verify --proof proof.json --head head.json --log-key 3b6a27bc... --previous-head old-head.json":
            "needs a proof, heads and a log key made by the other transparency examples",
        "veil enclave query http://127.0.0.1:8080 --policy policy.yaml --model health --input request.json --log-key 3b6a27bc... --state log-state.json":
            "needs a running veil serve --confidential",
        "veil enclave relay --port 8081 --gateway http://127.0.0.1:8080":
            "leaves a relay running",
        "veil budget migrate --from veil-ledger.sqlite --to postgres://veil@db.internal:5432/veil":
            "needs a PostgreSQL server at db.internal (BudgetPostgresCommandTests runs migrate against the test server)",
    ]

    /// `veil ARGS --help` without line wrapping.
    static func help(_ path: [String]) throws -> String {
        let run = try runVeil(path + ["--help"], environment: ["COLUMNS": "10000"])
        #expect(run.status == 0, "\(path) --help: \(run.stderr)")
        return run.stdout
    }

    /// The subcommand names a help text lists under SUBCOMMANDS.
    static func subcommands(in help: String) -> [String] {
        guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        var names: [String] = []
        for line in help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { continue }
            let name = line.dropFirst(2).prefix { !$0.isWhitespace }
            if !name.isEmpty, name != "help" { names.append(String(name)) }
        }
        return names
    }

    /// The lines after `Example:` or `Examples:` up to the next blank line, continuation lines (`\`) joined.
    static func examples(in help: String) -> [String] {
        var examples: [String] = []
        var inBlock = false
        var pending = ""
        for raw in help.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line == "Example:" || line == "Examples:" { inBlock = true; continue }
            guard inBlock else { continue }
            if line.isEmpty { inBlock = false; continue }
            if line.hasSuffix("\\") {
                pending += line.dropLast().trimmingCharacters(in: .whitespaces) + " "
            } else {
                examples.append(pending + line)
                pending = ""
            }
        }
        return examples
    }

    /// Splits a command line into words: spaces separate, double quotes group.
    static func words(_ line: String) -> [String] {
        var words: [String] = [], current = "", quoted = false, started = false
        for character in line {
            if character == "\"" { quoted.toggle(); started = true }
            else if character == " " && !quoted {
                if started { words.append(current) }
                current = ""; started = false
            } else { current.append(character); started = true }
        }
        if started { words.append(current) }
        return words
    }

    /// Every command path of `veil`, depth first, with its help text.
    static func commands() throws -> [([String], String)] {
        var found: [([String], String)] = []
        func visit(_ path: [String]) throws {
            let text = try help(path)
            found.append((path, text))
            for name in subcommands(in: text) { try visit(path + [name]) }
        }
        try visit([])
        return found
    }

    @Test("every --help example runs (exit 0) against a temporary ledger, or is excused with a reason")
    func examplesRun() throws {
        let commands = try Self.commands()
        #expect(commands.count > 20, "found \(commands.map { $0.0.joined(separator: " ") })")
        var seen: Set<String> = []
        var ran = 0
        for (path, text) in commands {
            // Each command's examples run in order in a folder of their own (one may create a budget the next uses).
            let folder = try TemporaryDirectory.make("help")
            defer { try? FileManager.default.removeItem(at: folder) }
            for shared in ["datasets", "pipelines"] {
                try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent(shared),
                                                           withDestinationURL: Self.repository.appendingPathComponent(shared))
            }
            let environment = ["VEIL_LEDGER": folder.appendingPathComponent("ledger.sqlite").path,
                               "VEIL_MODELS": folder.appendingPathComponent("models").path, "USER": "ana"]
            for example in Self.examples(in: text) {
                seen.insert(example)
                if Self.excused[example] != nil { continue }
                let words = Self.words(example)
                #expect(words.first == "veil", "\(path): an example that is not a veil command: \(example)")
                guard words.first == "veil" else { continue }
                let arguments = words.dropFirst().map { $0.replacingOccurrences(of: "/tmp/", with: folder.path + "/") }
                let run = try runVeil(Array(arguments), environment: environment, currentDirectory: folder,
                                      timeout: .seconds(60))
                #expect(run.status == 0, "\(example)\nexit \(run.status): \(run.stderr)")
                ran += 1
            }
        }
        #expect(ran >= 6)
        // An excuse whose example is gone is stale.
        for example in Self.excused.keys { #expect(seen.contains(example), "excused but not in any --help: \(example)") }
    }
}
