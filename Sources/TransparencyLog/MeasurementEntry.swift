import Crypto

/// A log entry: the canonical manifest of an enclave measurement (the `veil` binary, each model and the
/// serving configuration, each by SHA-384, size and file name; see `EnclaveMeasurement` in
/// TrustedExecution). The measurement that attestation evidence carries is SHA-384 of this text, so anyone
/// holding the evidence can recompute it, and anyone reading the log sees which files each released
/// measurement stands for.
public struct MeasurementEntry: Sendable, Equatable {
    /// The first line of every manifest (the same as `EnclaveMeasurement.header`).
    public static let manifestHeader = "veil-enclave-manifest-v1"
    /// Entries larger than this are refused (a manifest is a few hundred bytes).
    public static let maximumSize = 64 << 10

    public let manifest: String

    /// - Throws: `invalidInput` when the text is not a Veil enclave manifest.
    public init(manifest: String) throws {
        guard manifest.hasPrefix(Self.manifestHeader + "\n"), manifest.hasSuffix("\n"),
              manifest.utf8.count <= Self.maximumSize else {
            throw TransparencyLogError.invalid("not an enclave manifest: it must start with the line '\(Self.manifestHeader)', end with a newline and stay under \(Self.maximumSize) bytes")
        }
        self.manifest = manifest
    }

    /// - Throws: `invalidInput` when the bytes are not UTF-8 or not a manifest.
    public init(bytes: [UInt8]) throws {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw TransparencyLogError.invalid("a log entry is not UTF-8 text")
        }
        try self.init(manifest: text)
    }

    /// The entry's bytes as stored and hashed into the tree.
    public var bytes: [UInt8] { Array(manifest.utf8) }

    /// SHA-384 of the manifest: the value attestation evidence reports.
    public var measurement: [UInt8] { Array(SHA384.hash(data: bytes)) }

    /// Its RFC 9162 leaf hash.
    public var leafHash: [UInt8] { MerkleHashing.leafHash(bytes) }
}
