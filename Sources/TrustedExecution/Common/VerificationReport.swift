import Foundation

/// One named check of a verification, with its outcome and the reason in words.
public struct VerificationCheck: Codable, Equatable, Sendable {
    /// A stable name (`quote_signature`, `pck_chain`, `policy.mrtd`, …).
    public let name: String
    public let passed: Bool
    /// Why it passed or failed, in one line.
    public let detail: String

    public init(_ name: String, passed: Bool, _ detail: String) {
        self.name = name
        self.passed = passed
        self.detail = detail
    }
}

/// The outcome of verifying one piece of evidence: every check made, in order, with pass/fail and why.
///
/// Evidence is accepted only when every check passed; a check that could not run because an earlier one
/// failed is listed as failed with the reason "not reached".
public struct VerificationReport: Codable, Equatable, Sendable {
    /// `tdx`, `sev-snp` or `simulated`.
    public let evidenceFormat: String
    /// The time the certificates and collateral were judged at (ISO 8601).
    public let verifiedAt: String
    public private(set) var checks: [VerificationCheck]
    /// The claims read from the evidence (measurements, TCB, report data) in hex, for the relying party.
    public private(set) var claims: [String: String]

    public var accepted: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }

    /// The first failed check, if any.
    public var firstFailure: VerificationCheck? { checks.first { !$0.passed } }

    public init(evidenceFormat: String, verifiedAt: Date) {
        self.evidenceFormat = evidenceFormat
        self.verifiedAt = CertificateChainCheck.iso(verifiedAt)
        self.checks = []
        self.claims = [:]
    }

    mutating func record(_ name: String, _ passed: Bool, _ detail: String) {
        checks.append(VerificationCheck(name, passed: passed, detail))
    }

    mutating func claim(_ name: String, _ value: String) { claims[name] = value }

    /// Runs `body`; a thrown error becomes a failed check named `name` with the error's message.
    @discardableResult
    mutating func check(_ name: String, _ body: () throws -> String) -> Bool {
        do {
            record(name, true, try body())
            return true
        } catch {
            record(name, false, "\(error)")
            return false
        }
    }

    /// The report as text: a verdict line, one line per check (`PASS name: detail`), then the claims.
    public var text: String {
        var lines = ["evidence \(evidenceFormat) at \(verifiedAt): \(accepted ? "ACCEPTED" : "REJECTED")"]
        for c in checks { lines.append("  \(c.passed ? "PASS" : "FAIL") \(c.name): \(c.detail)") }
        for (name, value) in claims.sorted(by: { $0.key < $1.key }) { lines.append("  claim \(name): \(value)") }
        return lines.joined(separator: "\n")
    }

    /// The report as one JSON object (`accepted`, `evidence_format`, `verified_at`, `checks`, `claims`).
    public var json: String {
        struct Wire: Encodable {
            let accepted: Bool
            let evidence_format: String
            let verified_at: String
            let checks: [VerificationCheck]
            let claims: [String: String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try! encoder.encode(Wire(accepted: accepted, evidence_format: evidenceFormat,
                                            verified_at: verifiedAt, checks: checks, claims: claims))
        return String(decoding: data, as: UTF8.self)
    }
}
