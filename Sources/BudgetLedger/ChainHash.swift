import Crypto
import Mechanisms

/// SHA-256 (FIPS 180-4) of the ledger's hash chain, as lowercase hexadecimal.
public enum ChainHash {
    /// The SHA-256 of the UTF-8 bytes of `text`, as 64 lowercase hexadecimal digits.
    public static func hex(of text: String) -> String {
        var text = text
        let digest = text.withUTF8 { SHA256.hash(data: $0) }
        return hex(digest)
    }

    /// The SHA-256 of `bytes`, as 64 lowercase hexadecimal digits.
    public static func hex(ofBytes bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        LowercaseHex.encode(digest)
    }
}
