import Foundation

/// A source of attestation evidence on the machine Veil runs on: the hardware (through the kernel) or
/// the simulated platform. Every piece of evidence carries 64 bytes of caller data, which Veil sets to
/// ``ReportDataBinding/reportData(nonce:publicKey:)``.
public protocol EvidenceProvider: Sendable {
    /// `tdx`, `sev-snp` or `simulated`; shown in every log line about the evidence.
    var format: String { get }
    /// Evidence whose report data is exactly `reportData` (64 bytes).
    func evidence(reportData: [UInt8]) throws -> [UInt8]
}
