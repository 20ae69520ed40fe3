import Crypto
import Foundation
import Testing
import _TestSupport
@testable import TrustedExecution

/// `veil enclave …` end to end: the built binary on the reference evidence and on a simulated enclave.
@Suite struct EnclaveCommandTests {
    static let at = "2023-07-01T01:00:00Z"

    static func tempFolder() throws -> URL {
        let dir = try TemporaryDirectory.make("enclave-cli")
        return dir
    }

    static func write(_ text: String, _ url: URL) throws -> String {
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test func verifiesTheReferenceTDXQuoteAsTextAndJSON() throws {
        let dir = try Self.tempFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = try Self.write("""
        tee: tdx
        measurement: "\(Hex.encode(ReferenceAttestation.quoteMRTD))"
        accepted_tcb_statuses: [UpToDate, Unrecognized]
        """, dir.appendingPathComponent("tdx.yaml"))
        let quote = ReferenceAttestation.tdx.appendingPathComponent("quote_v4.dat").path
        let text = try runVeil(["enclave", "verify", quote, "--policy", policy, "--collateral", ReferenceAttestation.tdx.path, "--at", Self.at])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.hasPrefix("evidence tdx at 2023-07-01T01:00:00Z: ACCEPTED"))
        #expect(text.stdout.contains("PASS qe_report_signature"))
        let json = try runVeil(["enclave", "verify", quote, "--policy", policy, "--collateral", ReferenceAttestation.tdx.path,
                                "--at", Self.at, "--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["accepted"] as? Bool == true)
        #expect((object["checks"] as? [[String: Any]])?.count ?? 0 >= 15)
        // Without the collateral folder the verdict is a rejection (exit 1) naming the missing collateral.
        let bare = try runVeil(["enclave", "verify", quote, "--policy", policy, "--at", Self.at])
        #expect(bare.status == 1)
        #expect(bare.stderr.contains("collateral: no collateral given"))
    }

    @Test func theGenoaChainIsRejectedWithExitOne() throws {
        let dir = try Self.tempFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = try Self.write("tee: sev-snp\nallow_debug: true\n", dir.appendingPathComponent("snp.yaml"))
        let report = ReferenceAttestation.snp.appendingPathComponent("report_milan.bin").path
        let milan = try ReferenceAttestation.snpCollateralFolder(), genoa = try ReferenceAttestation.snpCollateralFolder(product: "genoa")
        defer { for folder in [milan, genoa] { try? FileManager.default.removeItem(at: folder) } }
        let good = try runVeil(["enclave", "verify", report, "--policy", policy, "--collateral", milan.path, "--at", Self.at])
        #expect(good.status == 0, "\(good.stdout)\(good.stderr)")
        let wrong = try runVeil(["enclave", "verify", report, "--policy", policy, "--collateral", genoa.path, "--at", Self.at])
        #expect(wrong.status == 1)
        #expect(wrong.stdout.contains("FAIL amd_chain"))
        #expect(wrong.stderr.split(separator: "\n").count == 1)
    }

    @Test("evidence, policy and collateral that are not small regular files are refused before they are read")
    func unboundedFilesRefused() throws {
        let dir = try Self.tempFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let zero = dir.appendingPathComponent("zero.yaml")
        try FileManager.default.createSymbolicLink(atPath: zero.path, withDestinationPath: "/dev/zero")
        let quote = ReferenceAttestation.tdx.appendingPathComponent("quote_v4.dat").path
        let policyFromDevice = try runVeil(["enclave", "verify", quote, "--policy", zero.path], timeout: .seconds(30))
        #expect(policyFromDevice.status == 2)
        #expect(policyFromDevice.stderr == "error: policy: \(zero.path) is not a regular file\n")

        let good = try Self.write("tee: tdx\n", dir.appendingPathComponent("good.yaml"))
        let evidenceFromDevice = try runVeil(["enclave", "verify", zero.path, "--policy", good], timeout: .seconds(30))
        #expect(evidenceFromDevice.status == 2)
        #expect(evidenceFromDevice.stderr.hasSuffix("\(zero.path) is not a regular file\n"))
    }

    @Test func badInputIsOneLineAndExitTwo() throws {
        let dir = try Self.tempFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = try Self.write("tee: tdx\nallow_debugging: true\n", dir.appendingPathComponent("bad.yaml"))
        let quote = ReferenceAttestation.tdx.appendingPathComponent("quote_v4.dat").path
        let unknownKey = try runVeil(["enclave", "verify", quote, "--policy", policy])
        #expect(unknownKey.status == 2)
        #expect(unknownKey.stderr == "error: policy: unknown key 'allow_debugging'\n")

        let good = try Self.write("tee: tdx\n", dir.appendingPathComponent("good.yaml"))
        let truncated = dir.appendingPathComponent("truncated.dat")
        try Data(ReferenceAttestation.quoteBytes.prefix(700)).write(to: truncated)
        let cut = try runVeil(["enclave", "verify", truncated.path, "--policy", good])
        #expect(cut.status == 2)
        #expect(cut.stderr.contains("TDX quote is truncated"))
        #expect(cut.stdout.isEmpty)

        let report = ReferenceAttestation.snp.appendingPathComponent("report_milan.bin").path
        let wrongTEE = try runVeil(["enclave", "verify", report, "--policy", good])
        #expect(wrongTEE.status == 2)
        #expect(wrongTEE.stderr == "error: evidence is sev-snp but the policy's tee is tdx\n")

        let garbage = dir.appendingPathComponent("garbage.bin")
        try Data(repeating: 0x41, count: 100).write(to: garbage)
        let unknown = try runVeil(["enclave", "verify", garbage.path, "--policy", good])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("neither a TDX quote v4"))
    }

    @Test func measureIsDeterministicAndCoversEveryInput() throws {
        let dir = try Self.tempFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = dir.appendingPathComponent("veil")
        let model = dir.appendingPathComponent("model.safetensors")
        let config = dir.appendingPathComponent("serve.yaml")
        try Data("binary".utf8).write(to: binary)
        try Data("weights and card".utf8).write(to: model)
        try Data("bind: 127.0.0.1\n".utf8).write(to: config)
        let args = ["enclave", "measure", "--binary", binary.path, "--model", model.path, "--config", config.path]
        let first = try runVeil(args)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try runVeil(args).stdout == first.stdout)
        // Known answer: SHA-384 of the manifest, recomputed here from its definition.
        func line(_ role: String, _ content: String, _ name: String) -> String {
            "\(role) \(Hex.encode(SHA384.hash(data: Array(content.utf8)))) \(content.utf8.count) \(name)"
        }
        let manifest = ["veil-enclave-manifest-v1", line("binary", "binary", "veil"), line("model", "weights and card", "model.safetensors"),
                        line("config", "bind: 127.0.0.1\n", "serve.yaml")].joined(separator: "\n") + "\n"
        #expect(first.stdout == Hex.encode(SHA384.hash(data: Array(manifest.utf8))) + "\n")
        try Data("weights and card!".utf8).write(to: model)
        #expect(try runVeil(args).stdout != first.stdout)
    }

    /// keygen → evidence (simulated) → keybroker → seal → open-model, and the refusals on the way.
    @Test func aSimulatedEnclaveGetsItsModelKeyAndAChangedOneDoesNot() throws {
        let dir = try Self.tempFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let measurement = Hex.encode(SHA384.hash(data: Array("enclave".utf8)))
        let nonce = "00112233445566778899aabbccddeeff"
        #expect(try runVeil(["enclave", "keygen", "--platform-secret", path("secret"), "--measurement", measurement,
                             "--sealed-key", path("enclave.sealed"), "--public-key", path("enclave.pub")]).status == 0)
        let evidence = try runVeil(["enclave", "evidence", "--provider", "simulated", "--simulated-key", path("sim.pem"),
                                    "--measurement", measurement, "--nonce", nonce, "--enclave-public-key", path("enclave.pub"),
                                    "--output", path("evidence.bin")])
        #expect(evidence.status == 0, "\(evidence.stderr)")
        #expect(evidence.stdout.contains("SIMULATED"))
        _ = try Self.write("{\"keys\": {\"model-a\": \"\(String(repeating: "42", count: 32))\"}}", dir.appendingPathComponent("keys.json"))
        let policy = try Self.write("tee: simulated\nallow_simulated: true\nmeasurement: \"\(measurement)\"\n", dir.appendingPathComponent("p.yaml"))
        try Data("model weights".utf8).write(to: dir.appendingPathComponent("model.safetensors"))
        #expect(try runVeil(["enclave", "seal", path("model.safetensors"), "--key-id", "model-a", "--keys", path("keys.json"),
                             "--output", path("model.sealed")]).status == 0)

        // A stale nonce releases nothing.
        let stale = try runVeil(["enclave", "keybroker", "--keys", path("keys.json"), "--key-id", "model-a", "--evidence", path("evidence.bin"),
                                 "--nonce", "ffeeddccbbaa99887766554433221100", "--enclave-public-key", path("enclave.pub"),
                                 "--policy", policy, "--output", path("stale.json")])
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("policy.report_data"))
        #expect(!FileManager.default.fileExists(atPath: path("stale.json")))

        let release = try runVeil(["enclave", "keybroker", "--keys", path("keys.json"), "--key-id", "model-a", "--evidence", path("evidence.bin"),
                                   "--nonce", nonce, "--enclave-public-key", path("enclave.pub"), "--policy", policy, "--output", path("wrapped.json")])
        #expect(release.status == 0, "\(release.stdout)\(release.stderr)")
        let open = try runVeil(["enclave", "open-model", path("model.sealed"), "--wrapped-key", path("wrapped.json"), "--sealed-key", path("enclave.sealed"),
                                "--platform-secret", path("secret"), "--measurement", measurement, "--output", path("model.out")])
        #expect(open.status == 0, "\(open.stderr)")
        #expect(FileManager.default.contents(atPath: path("model.out")) == Data("model weights".utf8))

        // Another measurement cannot unseal the enclave key.
        var other = Array(SHA384.hash(data: Array("enclave".utf8)))
        other[0] ^= 1
        let changed = try runVeil(["enclave", "open-model", path("model.sealed"), "--wrapped-key", path("wrapped.json"), "--sealed-key", path("enclave.sealed"),
                                   "--platform-secret", path("secret"), "--measurement", Hex.encode(other), "--output", path("model.other")])
        #expect(changed.status == 1)
        #expect(changed.stderr.contains("cannot be unsealed here"))
        #expect(!FileManager.default.fileExists(atPath: path("model.other")))
    }
}
