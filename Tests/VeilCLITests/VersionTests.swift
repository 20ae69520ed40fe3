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

    @Test("veil-bench --models refuses an unknown or empty name with one line before measuring anything",
          arguments: [("inference", "gpt", "\"gpt\"; choose from logistic, mlp, cnn"),
                      ("inference", "", "\"\"; choose from logistic, mlp, cnn"),
                      ("training", "mlp,,cnn", "\"\"; choose from logistic, mlp, cnn, scattering"),
                      ("training", "cnn\u{1B}[2J", "\"cnn\\u001b[2J\"; choose from logistic, mlp, cnn, scattering")])
    func benchModelsRefused(area: String, models: String, named: String) throws {
        let bench = veilExecutableURL().deletingLastPathComponent().appendingPathComponent("veil-bench")
        let run = try runVeil([area, "--models", models], executable: bench)
        #expect(run.status != 0)
        #expect(run.stdout.isEmpty, "nothing measured or printed")
        #expect(run.stderr.contains("--models: unknown model \(named)"), "\(run.stderr)")
        #expect(!run.stderr.contains("blas_kernel"))
    }
}
