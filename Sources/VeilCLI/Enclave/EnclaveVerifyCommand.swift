import ArgumentParser
import Foundation
import TrustedExecution

struct EnclaveVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify TDX, SEV-SNP or simulated evidence against a policy; list every check.",
        discussion: HelpText.reflow("""
        TDX: --collateral DIR holds the Intel PCS collateral (tcb_info.json, tcb_info_issuer_chain.pem, \
        qe_identity.json, qe_identity_issuer_chain.pem, pck_crl.der, root_crl.der). SEV-SNP: DIR holds \
        the VCEK (vcek.der) and the ASK/ARK chain (cert_chain.pem).

        Freshness: --nonce HEX with --enclave-public-key FILE expects the report data to be \
        SHA-512 over the nonce and the key (see docs/trusted-execution.md); otherwise the policy's \
        report_data, if any, is compared.

        Exit codes: 0 accepted, 1 rejected (the failed checks are listed), 2 bad input.

        Examples:
          veil enclave verify quote_v4.dat --policy tdx-policy.yaml --collateral tdx/ --at 2023-07-01T01:00:00Z
          veil enclave verify report.bin --policy snp-policy.yaml --collateral snp/ --json
        """)
    )

    @Argument(help: "The evidence file (TDX quote, SEV-SNP report, or Veil simulated evidence).")
    var evidence: String

    @Option(help: "The relying party's policy (YAML).")
    var policy: String

    @Option(help: "Judge certificates and collateral at this time (ISO 8601; default now).")
    var at: String?

    @Option(help: "Folder with the collateral (TDX: PCS collateral; SEV-SNP: VCEK and ASK/ARK).")
    var collateral: String?

    @Option(help: "The verifier's nonce (hex) that the evidence must bind.")
    var nonce: String?

    @Option(help: "The enclave public key file the evidence must bind (with --nonce).")
    var enclavePublicKey: String?

    @Flag(help: "Print one JSON object: accepted, checks (name, passed, detail), claims.")
    var json = false

    func run() throws {
        try EnclaveCLI.run {
            let time = try EnclaveCLI.time(at)
            guard (nonce == nil) == (enclavePublicKey == nil) else {
                throw ValidationError("--nonce and --enclave-public-key go together")
            }
            let policy = try AttestationPolicy(yaml: String(decoding: try EnclaveCLI.read(self.policy, what: "policy", limit: 1 << 16), as: UTF8.self))
            let bytes = try EnclaveCLI.read(evidence, what: "evidence", limit: 1 << 20)
            var expected: [UInt8]?
            if let nonce, let enclavePublicKey {
                expected = ReportDataBinding.reportData(nonce: try EnclaveCLI.hex(nonce, option: "--nonce"),
                                                        publicKey: try EnclaveCLI.read(enclavePublicKey, what: "enclave public key", limit: 1 << 16))
            }
            let report = try EvidenceVerifier.verify(evidence: bytes, policy: policy, at: time,
                                                     collateralDirectory: collateral.map { URL(fileURLWithPath: $0) },
                                                     expectedReportData: expected)
            print(json ? report.json : report.text)
            if !report.accepted {
                throw CLIFailure("evidence rejected: \(report.firstFailure.map { "\($0.name): \($0.detail)" } ?? "no checks")")
            }
        }
    }
}
