import Crypto

/// The 64 report-data bytes of every piece of Veil evidence: SHA-512 over a domain label, the verifier's
/// nonce and the enclave's public key (each length-prefixed), so the evidence is fresh (the nonce) and
/// names the key that a released secret may be wrapped to.
public enum ReportDataBinding {
    static let label = Array("veil-attestation-report-data-v1".utf8)

    /// `SHA-512(label ‖ u32be(|nonce|) ‖ nonce ‖ u32be(|key|) ‖ key)`.
    public static func reportData(nonce: [UInt8], publicKey: [UInt8]) -> [UInt8] {
        var hasher = SHA512()
        hasher.update(data: label)
        for part in [nonce, publicKey] {
            let n = UInt32(part.count)
            hasher.update(data: [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)])
            hasher.update(data: part)
        }
        return Array(hasher.finalize())
    }
}
