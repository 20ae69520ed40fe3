import ArgumentParser
import Foundation
import TrustedExecution

struct EnclaveEvidenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence",
        abstract: "Produce attestation evidence binding a verifier's nonce and the enclave's public key.",
        discussion: HelpText.reflow("""
        --provider configfs-tsm asks the kernel (/sys/kernel/config/tsm/report) for a TDX quote or an \
        SEV-SNP report. --provider simulated signs with a software P-384 key kept in --simulated-key \
        (created if missing); its evidence says SIMULATED and proves no hardware.

        The 64 report-data bytes are SHA-512 over the nonce and the public key (docs/trusted-execution.md).

        Examples:
          veil enclave evidence --provider configfs-tsm --nonce 00112233445566778899aabbccddeeff \\
            --enclave-public-key enclave.pub --output evidence.bin
          veil enclave evidence --provider simulated --simulated-key sim.pem --measurement HEX \\
            --nonce 00112233445566778899aabbccddeeff --enclave-public-key enclave.pub --output evidence.bin
        """)
    )

    @Option(help: "configfs-tsm or simulated.")
    var provider: String

    @Option(help: "The verifier's nonce (hex).")
    var nonce: String

    @Option(help: "The enclave's public key file to bind (X9.63 P-384, from veil enclave keygen).")
    var enclavePublicKey: String

    @Option(help: "Simulated provider: the platform key file (PEM; created if missing).")
    var simulatedKey: String?

    @Option(help: "Simulated provider: the measurement to claim (hex, 48 bytes; from veil enclave measure).")
    var measurement: String?

    @Option(help: "configfs-tsm provider: the report folder.")
    var tsmRoot: String = ConfigfsTSMProvider.defaultRoot

    @Option(help: "Where to write the evidence.")
    var output: String

    func run() throws {
        try EnclaveCLI.run {
            let source: EvidenceProvider
            switch provider {
            case "configfs-tsm":
                source = try ConfigfsTSMProvider(root: tsmRoot)
            case "simulated":
                guard let simulatedKey, let measurement else {
                    throw ValidationError("--provider simulated needs --simulated-key and --measurement")
                }
                source = try SimulatedEvidenceProvider(keyFile: URL(fileURLWithPath: simulatedKey),
                                                       measurement: try EnclaveCLI.hex(measurement, option: "--measurement"))
            default:
                throw ValidationError("--provider must be configfs-tsm or simulated, got '\(provider)'")
            }
            let reportData = ReportDataBinding.reportData(
                nonce: try EnclaveCLI.hex(nonce, option: "--nonce"),
                publicKey: try EnclaveCLI.read(enclavePublicKey, what: "enclave public key", limit: 1 << 16))
            let evidence = try source.evidence(reportData: reportData)
            try EnclaveCLI.write(evidence, to: output)
            print("\(source.format) evidence written to \(output)\(source.format == "simulated" ? " (SIMULATED: no hardware protection)" : "")")
        }
    }
}
