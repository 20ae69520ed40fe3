import _TestSupport
import Foundation
import Synchronization
import Testing
@testable import TrustedExecution

/// The configfs-tsm provider against a fake `/sys/kernel/config/tsm/report` that behaves as the kernel ABI
/// documents (Documentation/ABI/testing/configfs-tsm): each entry has `provider`, `generation`, `inblob`,
/// `outblob`; writing `inblob` bumps `generation` and makes `outblob` the platform's evidence for it.
@Suite struct EvidenceProviderTests {
    /// A fake kernel: the platform answers an inblob with the reference SNP report with the inblob spliced
    /// in as report data (not signed — the provider only reads it). `concurrentWrites` extra writers bump
    /// the generation between the provider's write and its read, as another process would.
    final class FakeTSM: ConfigfsTSMProvider.FileSystem, @unchecked Sendable {
        struct Entry { var generation: UInt64 = 0; var inblob: [UInt8] = []; }
        let lock = Mutex<[String: Entry]>([:])
        let provider: String
        let concurrentWrites: Mutex<Int>
        let template: [UInt8]

        init(provider: String = "sev_guest", concurrentWrites: Int = 0) {
            self.provider = provider
            self.concurrentWrites = Mutex(concurrentWrites)
            template = ReferenceAttestation.snpReportBytes
        }

        func makeDirectory(_ path: String) throws {
            try lock.withLock { entries in
                guard entries[path] == nil else { throw TrustedExecutionError(.platform, "exists") }
                entries[path] = Entry()
            }
        }
        func removeDirectory(_ path: String) throws { _ = lock.withLock { $0.removeValue(forKey: path) } }

        func split(_ path: String) -> (String, String) {
            let url = URL(fileURLWithPath: path)
            return (url.deletingLastPathComponent().path, url.lastPathComponent)
        }

        func write(_ path: String, _ bytes: [UInt8]) throws {
            let (entry, attribute) = split(path)
            guard attribute == "inblob" else { throw TrustedExecutionError(.platform, "read-only \(attribute)") }
            try lock.withLock { entries in
                guard var e = entries[entry] else { throw TrustedExecutionError(.platform, "no entry") }
                e.inblob = bytes
                e.generation += 1
                entries[entry] = e
            }
        }

        func read(_ path: String) throws -> [UInt8] {
            let (entry, attribute) = split(path)
            return try lock.withLock { entries in
                guard var e = entries[entry] else { throw TrustedExecutionError(.platform, "no entry") }
                switch attribute {
                case "provider": return Array((provider + "\n").utf8)
                case "generation": return Array("\(e.generation)\n".utf8)
                case "outblob":
                    // A concurrent writer replaces the inblob just before the platform answers.
                    if concurrentWrites.withLock({ n in n > 0 ? { n -= 1; return true }() : false }) {
                        e.inblob = [UInt8](repeating: 0xEE, count: 64)
                        e.generation += 1
                        entries[entry] = e
                    }
                    var report = template
                    report.replaceSubrange(0x50..<0x90, with: e.inblob)
                    return report
                default: throw TrustedExecutionError(.platform, "no attribute \(attribute)")
                }
            }
        }
    }

    static let reportData = [UInt8](repeating: 0x5A, count: 64)

    @Test func readsEvidenceCarryingTheReportData() throws {
        let fake = FakeTSM()
        let provider = try ConfigfsTSMProvider(root: "/fake/tsm/report", fileSystem: fake)
        #expect(provider.format == "sev-snp")
        let evidence = try provider.evidence(reportData: Self.reportData)
        #expect(try SNPReport(bytes: evidence).reportData == Self.reportData)
        #expect(fake.lock.withLock { $0.isEmpty })   // entries are removed afterwards
    }

    @Test func aConcurrentWriterIsDetectedAndRetried() throws {
        // One interfering write: the first attempt sees the generation jump by 2 and retries.
        let once = try ConfigfsTSMProvider(root: "/fake", fileSystem: FakeTSM(concurrentWrites: 1))
        #expect(try SNPReport(bytes: try once.evidence(reportData: Self.reportData)).reportData == Self.reportData)
        // A writer that never stops: refused after the attempts, never someone else's evidence.
        let always = try ConfigfsTSMProvider(root: "/fake", fileSystem: FakeTSM(concurrentWrites: 100))
        #expect(throws: TrustedExecutionError.self) { try always.evidence(reportData: Self.reportData) }
    }

    @Test func anUnknownProviderOrAMissingInterfaceIsAPlatformError() throws {
        #expect(throws: TrustedExecutionError.self) { try ConfigfsTSMProvider(root: "/fake", fileSystem: FakeTSM(provider: "arm_cca_guest")) }
        #expect(throws: TrustedExecutionError.self) { try ConfigfsTSMProvider(root: "/nonexistent/veil/tsm/report") }
    }

    @Test func simulatedEvidenceSaysSoAndNeedsAPolicyThatAllowsIt() throws {
        let dir = try TemporaryDirectory.make("sim")
        defer { try? FileManager.default.removeItem(at: dir) }
        let measurement = [UInt8](repeating: 3, count: 48)
        let provider = try SimulatedEvidenceProvider(keyFile: dir.appendingPathComponent("key.pem"), measurement: measurement)
        let evidence = try provider.evidence(reportData: Self.reportData)
        #expect(String(decoding: evidence.prefix(23), as: UTF8.self) == "VEIL-SIMULATED-EVIDENCE")
        #expect(try EvidenceVerifier.format(of: evidence) == .simulated)
        #expect(throws: TrustedExecutionError.invalid("policy: tee 'simulated' needs allow_simulated: true")) {
            try AttestationPolicy(yaml: "tee: simulated\n")
        }
        let policy = try AttestationPolicy(yaml: "tee: simulated\nallow_simulated: true\nmeasurement: \"\(Hex.encode(measurement))\"\n")
        let report = try EvidenceVerifier.verify(evidence: evidence, policy: policy, at: Date(), collateralDirectory: nil)
        #expect(report.accepted)
        #expect(report.evidenceFormat == "simulated")
        // A changed digit of the signed measurement is rejected.
        let key = Array("\"measurement\":\"".utf8)
        let start = try #require((0..<(evidence.count - key.count)).first { Array(evidence[$0..<($0 + key.count)]) == key })
        var text = evidence
        text[start + key.count] = UInt8(ascii: "1")
        #expect(try EvidenceVerifier.verify(evidence: text, policy: policy, at: Date(), collateralDirectory: nil).accepted == false)
    }
}
