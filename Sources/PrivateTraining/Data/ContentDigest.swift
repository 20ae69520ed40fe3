import Crypto
import Foundation
import Mechanisms

/// SHA-256 fingerprints: of a data set (recorded in a training run's ledger reservation, never in the
/// released model file) and of a released model file (the digest its ledger charge is committed with).
public enum ContentDigest {
    /// The lowercase hexadecimal SHA-256 of the concatenation of `parts`.
    public static func sha256Hex<D: DataProtocol>(of parts: [D]) -> String {
        var hasher = SHA256()
        for part in parts { hasher.update(data: part) }
        return LowercaseHex.encode(hasher.finalize())
    }

    /// The lowercase hexadecimal SHA-256 of the file at `path`.
    public static func sha256Hex(ofFileAt path: String) throws -> String {
        sha256Hex(of: [try Data(contentsOf: URL(fileURLWithPath: path))])
    }
}
