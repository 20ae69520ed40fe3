import _TestSupport
import Foundation
import Mechanisms
import Testing

/// `veil --version` and `veil-bench --version` print the one version Veil declares.
@Suite("Version")
struct VersionTests {
    @Test("veil --version prints VeilVersion.string, a 0.x.y version, on stdout and exits 0")
    func veilVersion() throws {
        let run = try runVeil(["--version"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == VeilVersion.string + "\n")
        #expect(run.stderr.isEmpty)
        #expect(VeilVersion.string.wholeMatch(of: /0\.[0-9]+\.[0-9]+/) != nil)
    }

    @Test("veil-bench --version prints the same version")
    func benchVersion() throws {
        let bench = veilExecutableURL().deletingLastPathComponent().appendingPathComponent("veil-bench")
        let run = try runTool(bench.path, ["--version"])
        #expect(run.status == 0)
        #expect(run.stdout == VeilVersion.string + "\n")
    }
}
