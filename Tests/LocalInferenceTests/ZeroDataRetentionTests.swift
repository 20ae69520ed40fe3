import _TestSupport
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// Zero data retention of `veil serve`: requests carrying canary byte patterns, then a search of every
/// file the server wrote or could write and of its process memory. Linux only (`/proc`).
@Suite("veil serve keeps no request data", .serialized)
struct ZeroDataRetentionTests {
    /// The files under `folder` whose bytes contain any of `needles`.
    static func filesContaining(_ needles: [Data], under folder: URL) -> [String] {
        var hits: [String] = []
        let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            guard let data = try? Data(contentsOf: url) else { continue }
            if needles.contains(where: { data.range(of: $0) != nil }) { hits.append(url.path) }
        }
        return hits
    }

    static func randomDigits(_ count: Int) -> String {
        String((0..<count).map { _ in Character(String(Int.random(in: 1...9))) })
    }

    @Test("canary requests leave no trace in files or in the server's memory", .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/mem")),
          arguments: [(1, false), (1, true), (10_000, false)])
    func canary(rows: Int, keepAlive: Bool) throws {
        let (folder, store) = try ServeCommandTests.storeFolder("serve-zdr")
        defer { try? FileManager.default.removeItem(at: folder) }
        // The token stays in the server's memory for its whole life: finding it shows the search works.
        let control = "CONTROL-" + UUID().uuidString
        let tokenFile = folder.appendingPathComponent("token").path
        try control.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        // A process that is not dumpable can be read only with CAP_SYS_PTRACE (root here); elsewhere the
        // memory search runs on a server that allows core dumps (the buffers are scrubbed all the same).
        // The server's working folder and temporary folder ($TMPDIR) are both inside `folder`.
        let privileged = getuid() == 0
        let server = try ServerProcess(["--models", store, "--token-file", tokenFile]
                                       + (privileged ? [] : ["--allow-core-dumps"]), folder: folder)
        defer { server.stop() }

        let limits = try String(contentsOfFile: "/proc/\(server.pid)/limits", encoding: .utf8)
        let core = limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") } ?? ""
        if privileged { #expect(core.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2) == ["0", "0"]) }

        let id = "CANARY-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
        let values = (0..<3).map { _ in "0." + Self.randomDigits(18) }
        // One row of three canary values, or 10,000 rows (a body of about 630 KB, above glibc's mmap threshold).
        let data = Array(repeating: values.joined(separator: ","), count: rows).joined(separator: ",")
        let body = #"{"id":"\#(id)","inputs":[{"name":"input","shape":[\#(rows),3],"datatype":"FP32","data":[\#(data)]}]}"#
        // A new connection per request (`Connection: close`, answered through Hummingbird's router), or one
        // connection kept alive (a small request: answered in the connection's pipeline), closed before the search.
        var kept: RawConnection? = keepAlive ? try RawConnection(port: server.port) : nil
        for _ in 0..<20 {
            let headers = ["Authorization: Bearer \(control)"]
            let answer = try kept?.exchangeKeepingAlive(path: "/v2/models/health/infer", headers: headers, body: Array(body.utf8))
                ?? RawConnection.exchange(port: server.port, path: "/v2/models/health/infer", headers: headers, body: Array(body.utf8))
            #expect(RawConnection.status(answer) == 200)
            #expect(String(decoding: answer, as: UTF8.self).contains(id))  // the response carried the canary
        }
        kept = nil
        // The connections are closed; the server releases them on its own threads, so under load the
        // search is repeated (up to 5 times, 0.5 s apart) until no canary is left. Memory that is not
        // overwritten keeps a canary for the life of the process, so the last search still finds it.
        let canaries = ([id] + values).map { Data($0.utf8) }
        var found: [Data: Int] = [:]
        for _ in 0..<5 {
            usleep(500_000)
            found = try searchProcessMemory(pid: server.pid, for: canaries + [Data(control.utf8)])
            if canaries.allSatisfy({ found[$0, default: 0] == 0 }) { break }
        }
        #expect(found[Data(control.utf8), default: 0] > 0, "the memory search found its control string")
        for canary in canaries {
            #expect(found[canary, default: 0] == 0, "canary \(String(decoding: canary, as: UTF8.self)) found in server memory")
        }
        #expect(Self.filesContaining(canaries, under: folder).isEmpty)
        #expect(server.stop() == 0)
        #expect(Self.filesContaining(canaries, under: folder).isEmpty)
    }
}
