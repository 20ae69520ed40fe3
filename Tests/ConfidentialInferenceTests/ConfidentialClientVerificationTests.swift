import _TestSupport
import ConfidentialInference
import Crypto
import Foundation
import LocalInference
import Testing
import TransparencyLog
import TrustedExecution

/// The client's checks on a gateway's evidence bundle, in process: what it accepts, and the refusals for
/// an unlogged measurement, a stale nonce, evidence for another key and a forked log.
@Suite struct ConfidentialClientVerificationTests {
    struct World {
        let folder: URL
        let gateway: ConfidentialGateway
        let client: ConfidentialClient
        let logKey: Curve25519.Signing.PrivateKey
        let tree: MerkleTree
        let entry: MeasurementEntry
    }

    static func manifest(_ model: String) throws -> MeasurementEntry {
        try MeasurementEntry(manifest: "veil-enclave-manifest-v1\nbinary \(String(repeating: "ab", count: 48)) 1000 veil\nmodel \(Array(SHA384.hash(data: Array(model.utf8))).map { String(format: "%02x", $0) }.joined()) 10 \(model).safetensors\n")
    }

    /// A gateway running `served`, a log holding `logged` entries, a client pinning the log key.
    static func world(served: String = "health", logged: [String] = ["older", "health", "newer"]) throws -> World {
        let folder = try TemporaryDirectory.make("conf-client")
        let entry = try manifest(served)
        let logKey = Curve25519.Signing.PrivateKey()
        let tree = MerkleTree(leafHashes: try logged.map { try manifest($0).leafHash })
        let head = try SignedTreeHead(treeSize: tree.size, rootHash: try tree.rootHash(), timestamp: 1, signingKey: logKey)
        let provider = try SimulatedEvidenceProvider(keyFile: folder.appendingPathComponent("platform.pem"), measurement: entry.measurement)
        // A gateway whose manifest is not in the log cannot even be built; bypass that for the unlogged case
        // by publishing the logged entry's proofs under the served manifest (what a lying host would do).
        let publishedEntry = logged.contains(served) ? entry : try manifest(logged[0])
        let published = try PublishedMeasurement(entry: publishedEntry, tree: tree, head: head)
        let gateway = ConfidentialGateway(ohttp: ObliviousHTTPGateway(), service: InferenceService(models: []),
                                          evidenceProvider: provider, published: published)
        var policy = AttestationPolicy(tee: .simulated)
        policy.allowSimulated = true
        let client = ConfidentialClient(gateway: URL(string: "http://127.0.0.1:1")!, policy: policy,
                                        trustedLogKey: Array(logKey.publicKey.rawRepresentation),
                                        state: LogState(path: folder.appendingPathComponent("state.json").path))
        return World(folder: folder, gateway: gateway, client: client, logKey: logKey, tree: tree, entry: entry)
    }

    static func nonce() -> [UInt8] { (0..<32).map { _ in UInt8.random(in: 0...255) } }

    static func refusal(_ body: () throws -> Void) -> String {
        do { try body() } catch let error as ConfidentialInferenceError { return error.code == .refused ? error.message : "wrong code: \(error)" } catch {
            return "other error: \(error)"
        }
        return "accepted"
    }

    @Test func anHonestGatewayIsAcceptedAndItsHeadRemembered() throws {
        let world = try Self.world()
        defer { try? FileManager.default.removeItem(at: world.folder) }
        let nonce = Self.nonce()
        let verified = try world.client.verify(try world.gateway.evidence(nonce: nonce, fromSize: nil), nonce: nonce, remembered: nil)
        #expect(verified.measurement == world.entry.measurement)
        #expect(verified.configuration == world.gateway.ohttp.configurations[0])
        #expect(try world.client.state.load()?.treeSize == 3)
    }

    @Test func anUnloggedMeasurementIsRefused() throws {
        let world = try Self.world(served: "unreleased", logged: ["older", "health"])
        defer { try? FileManager.default.removeItem(at: world.folder) }
        let nonce = Self.nonce()
        let bundle = try world.gateway.evidence(nonce: nonce, fromSize: nil)
        // The host names the served manifest with another entry's proof, or the logged manifest: both fail.
        let renamed = GatewayEvidence(keyConfigurations: bundle.keyConfigurations, evidence: bundle.evidence,
                                      manifest: world.entry.manifest, inclusion: bundle.inclusion, head: bundle.head, consistency: nil)
        #expect(Self.refusal { _ = try world.client.verify(renamed, nonce: nonce, remembered: nil) }.contains("transparency log: the measurement is not in the log"))
        #expect(Self.refusal { _ = try world.client.verify(bundle, nonce: nonce, remembered: nil) }.contains("not the SHA-384 of the manifest"))
    }

    @Test func aStaleNonceIsRefused() throws {
        let world = try Self.world()
        defer { try? FileManager.default.removeItem(at: world.folder) }
        let old = Self.nonce()
        let bundle = try world.gateway.evidence(nonce: old, fromSize: nil)
        #expect(Self.refusal { _ = try world.client.verify(bundle, nonce: Self.nonce(), remembered: nil) }.contains("refused: the evidence fails the policy: policy.report_data"))
    }

    @Test func evidenceForAnotherKeyIsRefused() throws {
        let world = try Self.world()
        defer { try? FileManager.default.removeItem(at: world.folder) }
        let nonce = Self.nonce()
        let bundle = try world.gateway.evidence(nonce: nonce, fromSize: nil)
        // The host swaps in a key configuration of its own, keeping the attested evidence.
        let hostKeys = OHTTPKeyConfiguration.encodeList(ObliviousHTTPGateway().configurations)
        let swapped = GatewayEvidence(keyConfigurations: hostKeys, evidence: bundle.evidence, manifest: bundle.manifest,
                                      inclusion: bundle.inclusion, head: bundle.head, consistency: bundle.consistency)
        #expect(Self.refusal { _ = try world.client.verify(swapped, nonce: nonce, remembered: nil) }.contains("report_data"))
    }

    @Test func aForkedLogIsRefusedAgainstTheRememberedHead() throws {
        let world = try Self.world(logged: ["older", "health", "newer", "later"])
        defer { try? FileManager.default.removeItem(at: world.folder) }
        // The client remembers a head of size 2 from another history.
        let other = MerkleTree(leafHashes: try ["rewritten", "health"].map { try Self.manifest($0).leafHash })
        let remembered = try SignedTreeHead(treeSize: 2, rootHash: try other.rootHash(), timestamp: 0, signingKey: world.logKey)
        let nonce = Self.nonce()
        let bundle = try world.gateway.evidence(nonce: nonce, fromSize: 2)
        #expect(Self.refusal { _ = try world.client.verify(bundle, nonce: nonce, remembered: remembered) }.contains("forked or rewrote history"))
        // The honest history of size 2 is accepted, and the larger head replaces it.
        let honest = try SignedTreeHead(treeSize: 2, rootHash: try world.tree.rootHash(size: 2), timestamp: 0, signingKey: world.logKey)
        _ = try world.client.verify(bundle, nonce: nonce, remembered: honest)
        #expect(try world.client.state.load()?.treeSize == 4)
    }
}
