import ArgumentParser
import Crypto
import Foundation
import TrustedExecution

struct EnclaveKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create the enclave's HPKE key pair; the private key is sealed to the platform and measurement.",
        discussion: HelpText.reflow("""
        The private key is sealed (AES-GCM under HKDF(platform secret, measurement)): another binary, model \
        or configuration — another measurement — cannot unseal it. --platform-secret names the simulated \
        platform secret file (created if missing; it says SIMULATED).

        Example:
          veil enclave keygen --platform-secret secret --measurement HEX --sealed-key enclave.sealed --public-key enclave.pub
        """)
    )

    @Option(help: "The simulated platform secret file (created if missing).")
    var platformSecret: String

    @Option(help: "The enclave measurement (hex, from veil enclave measure).")
    var measurement: String

    @Option(help: "Where to write the sealed private key.")
    var sealedKey: String

    @Option(help: "Where to write the public key (X9.63 P-384).")
    var publicKey: String

    func run() throws {
        try EnclaveCLI.run {
            let key = try EnclaveCLI.sealingKey(platformSecret: platformSecret, measurement: measurement)
            let privateKey = P384.KeyAgreement.PrivateKey()
            try EnclaveCLI.write(try SealedSecret.seal(Array(privateKey.rawRepresentation), label: EnclaveCLI.enclaveKeyLabel, key: key), to: sealedKey)
            try EnclaveCLI.write(Array(privateKey.publicKey.x963Representation), to: publicKey)
            print("enclave key pair: public key \(publicKey), private key sealed to the measurement in \(sealedKey) (simulated platform secret)")
        }
    }
}
