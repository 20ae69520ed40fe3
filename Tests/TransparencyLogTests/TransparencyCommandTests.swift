import _TestSupport
import Foundation
import Testing
import TransparencyLog

/// `veil transparency append|head|prove|verify` as a user runs them.
@Suite("veil transparency")
struct TransparencyCommandTests {
    static func manifest(_ i: Int) -> String {
        "veil-enclave-manifest-v1\nbinary \(String(repeating: "cd", count: 48)) \(i) veil\n"
    }

    @Test("append, sign, prove and verify; a changed proof or a forked head fails with exit 1, bad input exits 2")
    func roundTrip() throws {
        let folder = try TemporaryDirectory.make("transparency-cli")
        defer { try? FileManager.default.removeItem(at: folder) }
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        func veil(_ arguments: [String]) throws -> VeilRun { try runVeil(arguments, currentDirectory: folder, timeout: .seconds(60)) }
        for i in 0..<6 {
            try Self.manifest(i).write(toFile: path("m\(i).txt"), atomically: true, encoding: .utf8)
            let appended = try veil(["transparency", "append", "--log", "log", "--manifest", "m\(i).txt", "--json"])
            try #require(appended.status == 0, "\(appended.stderr)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(appended.stdout.utf8)) as? [String: Any])
            #expect(object["index"] as? Int == i)
            #expect(object["tree_size"] as? Int == i + 1)
            if i == 2 {
                _ = try veil(["transparency", "head", "--log", "log", "--signing-key", "log.key", "--create-key", "--output", "old-head.json"])
            }
        }
        let head = try veil(["transparency", "head", "--log", "log", "--signing-key", "log.key", "--output", "head.json", "--json"])
        try #require(head.status == 0, "\(head.stderr)")
        let key = try #require((try JSONSerialization.jsonObject(with: Data(head.stdout.utf8)) as? [String: Any])?["public_key"] as? String)
        let proof = try veil(["transparency", "prove", "--log", "log", "--manifest", "m4.txt", "--from-size", "3"])
        try #require(proof.status == 0, "\(proof.stderr)")
        try proof.stdout.write(toFile: path("proof.json"), atomically: true, encoding: .utf8)

        let verify = ["transparency", "verify", "--proof", "proof.json", "--head", "head.json", "--log-key", key, "--previous-head", "old-head.json"]
        let verified = try veil(verify)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("entry 4 of the log at size 6"))

        // A changed proof byte: exit 1.
        let original = try String(contentsOfFile: path("proof.json"), encoding: .utf8)
        let bundle = try JSONDecoder().decode(ProofBundle.self, from: Data(original.utf8))
        let firstHash = try #require(bundle.inclusion.inclusion_path.first)
        let flipped = String(firstHash.prefix(63)) + (firstHash.last == "0" ? "1" : "0")
        try original.replacingOccurrences(of: firstHash, with: flipped).write(toFile: path("proof.json"), atomically: true, encoding: .utf8)
        let tampered = try veil(verify)
        #expect(tampered.status == 1)
        #expect(tampered.stderr.contains("not in the log"), "\(tampered.stderr)")
        try original.write(toFile: path("proof.json"), atomically: true, encoding: .utf8)

        // A head of another history at the old size (a fork): exit 1.
        _ = try veil(["transparency", "append", "--log", "fork", "--manifest", "m5.txt"])
        _ = try veil(["transparency", "append", "--log", "fork", "--manifest", "m1.txt"])
        _ = try veil(["transparency", "append", "--log", "fork", "--manifest", "m2.txt"])
        _ = try veil(["transparency", "head", "--log", "fork", "--signing-key", "log.key", "--output", "fork-head.json"])
        var forked = verify
        forked[forked.count - 1] = "fork-head.json"
        let caught = try veil(forked)
        #expect(caught.status == 1)
        #expect(caught.stderr.contains("forked or rewrote history"), "\(caught.stderr)")

        // Bad input: exit 2 with one line.
        let missing = try veil(["transparency", "prove", "--log", "no-such-log", "--index", "0"])
        #expect(missing.status == 2)
        #expect(missing.stderr.split(separator: "\n").count == 1)
        let badKey = try veil(["transparency", "verify", "--proof", "proof.json", "--head", "head.json", "--log-key", "zz"])
        #expect(badKey.status == 2)
        let recreate = try veil(["transparency", "head", "--log", "log", "--signing-key", "log.key", "--create-key"])
        #expect(recreate.status == 2, "an existing key is never replaced")
    }

    struct ProofBundle: Decodable {
        struct Inclusion: Decodable { let inclusion_path: [String] }
        let inclusion: Inclusion
    }

    @Test("append cuts a torn tail with a note, and refuses a damaged length field with exit 1, cutting nothing")
    func tornTailAndDamagedLength() throws {
        let folder = try TemporaryDirectory.make("transparency-cli-torn")
        defer { try? FileManager.default.removeItem(at: folder) }
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        func veil(_ arguments: [String]) throws -> VeilRun { try runVeil(arguments, currentDirectory: folder, timeout: .seconds(60)) }
        for i in 0..<4 {
            try Self.manifest(i).write(toFile: path("m\(i).txt"), atomically: true, encoding: .utf8)
        }
        for i in 0..<3 { try #require(try veil(["transparency", "append", "--log", "log", "--manifest", "m\(i).txt"]).status == 0) }
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path("log"))))
        let lastRecord = whole.count - (8 + Self.manifest(2).utf8.count + 32)

        // The last record's length field grown past the end of the file: refused, the file untouched.
        var damaged = whole
        damaged[lastRecord + 2] |= 0x80
        try Data(damaged).write(to: URL(fileURLWithPath: path("log")))
        let refused = try veil(["transparency", "append", "--log", "log", "--manifest", "m3.txt"])
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("damaged at byte \(lastRecord)") && refused.stderr.contains("nothing was cut"), "\(refused.stderr)")
        #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: path("log")))) == damaged)

        // A torn append (a header and part of an entry): cut with a note, and the append goes on.
        try Data(whole + Array(whole[lastRecord..<(lastRecord + 20)])).write(to: URL(fileURLWithPath: path("log")))
        let appended = try veil(["transparency", "append", "--log", "log", "--manifest", "m3.txt", "--json"])
        #expect(appended.status == 0, "\(appended.stderr)")
        #expect(appended.stderr.contains("cut 20 bytes of a torn last record"), "\(appended.stderr)")
        #expect(appended.stdout.contains("\"tree_size\":4"), "\(appended.stdout)")
    }
}
