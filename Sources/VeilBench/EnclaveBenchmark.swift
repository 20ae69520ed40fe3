import ArgumentParser
import Foundation
import TrustedExecution

/// Attestation verification throughput on the reference evidence (datasets/attestation): TDX
/// quotes and SNP reports per second with and without the collateral checks, beside `openssl speed`'s
/// ECDSA P-256 / P-384 verify rates on the same machine. A full verification needs several signature
/// checks, so the floor is openssl's rate divided by that count; the ratio says how close Veil comes.
/// Also: `veil enclave measure`'s hashing of a 100 MB model against `sha384sum` of the same file.
enum EnclaveBenchmark {
    /// ECDSA verifications in one TDX verification with collateral: quote, QE report, PCK chain (3: leaf,
    /// CA, root self-signature), PCK CRL, root CRL, TCB info + its chain (3), QE identity + its chain (3).
    static let tdxSignatureChecks = 13
    /// Without collateral: quote, QE report, PCK chain (3).
    static let tdxSignatureChecksWithoutCollateral = 5
    /// SNP: the report (P-384) plus three RSA-4096 PSS verifications (VCEK, ASK, ARK), counted as one
    /// P-384 floor for the report; RSA verification is cheaper than ECDSA and not part of the floor.
    static let snpSignatureChecks = 1

    static func run(reference: URL, iterations: Int) throws -> BenchmarkReport {
        var report = BenchmarkReport(area: "enclave")
        let time = ISO8601DateFormatter().date(from: "2023-07-01T01:00:00Z")!
        let tdxFolder = reference.appendingPathComponent("tdx")
        let snpFolder = reference.appendingPathComponent("snp")
        if let quoteData = FileManager.default.contents(atPath: tdxFolder.appendingPathComponent("quote_v4.dat").path),
           let snpData = FileManager.default.contents(atPath: snpFolder.appendingPathComponent("report_milan.bin").path) {
            try verificationFigures(quoteData: quoteData, snpData: snpData, tdxFolder: tdxFolder, snpFolder: snpFolder,
                                    time: time, iterations: iterations, into: &report)
        } else {
            // `make bench` runs every area: without the reference folder only the measurement is timed.
            FileHandle.standardError.write(Data("  reference evidence not found under \(reference.path) (--reference DIR): verification figures skipped\n".utf8))
        }
        try measurementFigures(into: &report)
        return report
    }

    static func verificationFigures(quoteData: Data, snpData: Data, tdxFolder: URL, snpFolder: URL, time: Date,
                                    iterations: Int, into report: inout BenchmarkReport) throws {
        let quote = try TDXQuote(bytes: [UInt8](quoteData))
        let collateral = try TDXCollateral(directory: tdxFolder)
        var tdxPolicy = AttestationPolicy(tee: .tdx)
        tdxPolicy.acceptedTCBStatuses = ["UpToDate", "Unrecognized"]
        var bare = tdxPolicy
        bare.requireCollateral = false

        let withCollateral = try rate(iterations) {
            guard TDXQuoteVerifier.verify(quote, collateral: collateral, policy: tdxPolicy, at: time).accepted else {
                throw ValidationError("the reference TDX quote did not verify")
            }
        }
        let withoutCollateral = try rate(iterations) {
            guard TDXQuoteVerifier.verify(quote, collateral: nil, policy: bare, at: time).accepted else {
                throw ValidationError("the reference TDX quote did not verify without collateral")
            }
        }
        report.add("tdx_verifications_per_s_with_collateral", withCollateral, unit: "quotes/s")
        report.add("tdx_verifications_per_s_without_collateral", withoutCollateral, unit: "quotes/s")

        let snp = try SNPReport(bytes: [UInt8](snpData))
        let vcek = try AMDCertificate(derEncoded: [UInt8](FileManager.default.contents(atPath: snpFolder.appendingPathComponent("vcek_milan.der").path)!), what: "VCEK")
        let chainPEM = String(decoding: FileManager.default.contents(atPath: snpFolder.appendingPathComponent("ask_ark_milan.pem").path)!, as: UTF8.self)
        let chain = try AMDCertificate.bundle(pem: chainPEM)
        var snpPolicy = AttestationPolicy(tee: .sevSNP)
        snpPolicy.allowDebug = true
        let snpFull = try rate(iterations) {
            guard SNPReportVerifier.verify(snp, vcek: vcek, chain: chain, policy: snpPolicy, at: time).accepted else {
                throw ValidationError("the reference SNP report did not verify")
            }
        }
        let snpSignatureOnly = try rate(iterations) { try SNPReportVerifier.verifySignature(snp, vcek: vcek) }
        report.add("snp_verifications_per_s_with_chain", snpFull, unit: "reports/s")
        report.add("snp_verifications_per_s_signature_only", snpSignatureOnly, unit: "reports/s")

        if let speeds = opensslVerifyRates() {
            report.add("openssl_ecdsa_p256_verify_per_s", speeds.p256, unit: "verifications/s")
            report.add("openssl_ecdsa_p384_verify_per_s", speeds.p384, unit: "verifications/s")
            report.add("tdx_with_collateral_ratio_to_openssl_floor", withCollateral / (speeds.p256 / Double(tdxSignatureChecks)), unit: "ratio")
            report.add("tdx_without_collateral_ratio_to_openssl_floor",
                       withoutCollateral / (speeds.p256 / Double(tdxSignatureChecksWithoutCollateral)), unit: "ratio")
            report.add("snp_signature_ratio_to_openssl_floor", snpSignatureOnly / (speeds.p384 / Double(snpSignatureChecks)), unit: "ratio")
        }

    }

    /// `EnclaveMeasurement` of a 100 MB model file against `sha384sum` of the same file.
    static func measurementFigures(into report: inout BenchmarkReport) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-bench-enclave-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = folder.appendingPathComponent("model.safetensors")
        let binary = folder.appendingPathComponent("veil")
        var bytes = [UInt8](repeating: 0, count: 100_000_000)
        for i in stride(from: 0, to: bytes.count, by: 4096) { bytes[i] = UInt8(truncatingIfNeeded: i / 4096) }
        try Data(bytes).write(to: model)
        try Data("binary".utf8).write(to: binary)
        let measure = try bestTime { blackHole(try EnclaveMeasurement(binary: binary, models: [model], configuration: nil)) }
        report.add("measure_100MB_model_s", measure, unit: "s")
        if let sha = try? bestTime({ try runTool("/usr/bin/sha384sum", [model.path]) }) {
            report.add("sha384sum_100MB_s", sha, unit: "s")
            report.add("measure_ratio_to_sha384sum", measure / sha, unit: "ratio")
        }
    }

    static func rate(_ iterations: Int, _ body: () throws -> Void) throws -> Double {
        try body()   // warm-up
        let seconds = try bestTime(repeats: 3) { for _ in 0..<iterations { try body() } }
        return Double(iterations) / seconds
    }

    /// `openssl speed -seconds 1 ecdsap256 ecdsap384`, the verify/s column.
    static func opensslVerifyRates() -> (p256: Double, p384: Double)? {
        guard let output = try? runTool("/usr/bin/openssl", ["speed", "-seconds", "1", "ecdsap256", "ecdsap384"]) else { return nil }
        func verify(_ bits: String) -> Double? {
            guard let line = output.split(separator: "\n").first(where: { $0.contains("\(bits) bits ecdsa") }) else { return nil }
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        guard let p256 = verify("256"), let p384 = verify("384") else { return nil }
        return (p256, p384)
    }

    @discardableResult
    static func runTool(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("\(path) exited with \(process.terminationStatus)") }
        return String(decoding: data, as: UTF8.self)
    }
}
