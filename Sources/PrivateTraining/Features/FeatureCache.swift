import BudgetLedger
import Crypto
import Foundation
import LinearAlgebra
import Mechanisms

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Fixed features of a data set kept on disk, so that a second run on the same data with the same
/// transform skips the extraction (the scattering transform of 70,000 MNIST images takes minutes).
///
/// An entry is named by a key: the SHA-256 of the data's fingerprint (``Dataset/sha256``), its number
/// of examples, the input shape and the transform's layers. A change to either the data or the
/// transform gives another key, so a stale entry is never read; an entry whose header does not match
/// what is asked for (another shape, a truncated file) is ignored and rewritten.
///
/// The entries are exact functions of the private data, like the data itself: they stay on the
/// operator's machine, in a folder only the owner may open (mode 0700, files 0600), and hold the
/// features only (no labels). A write goes to a temporary file in the same folder, is flushed, then
/// renamed, so a crash leaves either no entry or a whole one.
public struct FeatureCache: Sendable {
    /// The folder holding the entries.
    public let folder: String

    private static let magic = Array("VEILFEAT".utf8)
    private static let version: UInt32 = 1
    /// Magic, version, rows, columns and the 64-character key.
    static let headerLength = 8 + 4 + 8 + 8 + 64

    /// A cache in `folder` (created on the first write).
    public init(folder: String) { self.folder = folder }

    /// `VEIL_FEATURE_CACHE` if set, else `$XDG_CACHE_HOME/veil/features`, else `~/.cache/veil/features`.
    public static func defaultFolder(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit = environment["VEIL_FEATURE_CACHE"], !explicit.isEmpty { return explicit }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/veil/features" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/veil/features"
    }

    /// The key of the features `layers` give for `data`: lowercase hexadecimal SHA-256.
    public static func key(data: Dataset, layers: [LayerSpecification]) -> String {
        // Augmented views change the rows (their fingerprint names the augmentation too).
        let views = data.views == 1 ? "" : "×\(data.views)"
        let description = "veil-features-v\(version)|\(data.sha256)|\(data.count)\(views)|\(data.inputShape)|"
            + layers.map(\.description).joined(separator: ",")
        return SHA256.hash(data: Data(description.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    private func path(_ key: String) -> String { folder + "/" + key + ".features" }

    /// The entry for `key` if it exists and holds `rows × columns` values; `nil` otherwise.
    public func load(key: String, rows: Int, columns: Int) -> Matrix? {
        guard let bytes = FileManager.default.contents(atPath: path(key)),
              bytes.count == Self.headerLength + rows * columns * 4 else { return nil }
        return bytes.withUnsafeBytes { raw -> Matrix? in
            guard Array(raw[0..<8]) == Self.magic,
                  raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian == Self.version,
                  raw.loadUnaligned(fromByteOffset: 12, as: UInt64.self).littleEndian == UInt64(rows),
                  raw.loadUnaligned(fromByteOffset: 20, as: UInt64.self).littleEndian == UInt64(columns),
                  Array(raw[28..<92]) == Array(key.utf8) else { return nil }
            var values = [Float](repeating: 0, count: rows * columns)
            values.withUnsafeMutableBytes { destination in
                destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[Self.headerLength...]))
            }
            // Stored little-endian; every platform Veil builds for is little-endian.
            return Matrix(rows: rows, columns: columns, storage: values)
        }
    }

    /// Writes `features` as the entry for `key` (temporary file, flush, rename).
    /// - Throws: `VeilError.fileNotWritten` when the folder or the file cannot be written.
    public func store(_ features: Matrix, key: String) throws {
        precondition(key.utf8.count == 64, "a cache key is a SHA-256 in hexadecimal")
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            var header = Data(Self.magic)
            withUnsafeBytes(of: Self.version.littleEndian) { header.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt64(features.rows).littleEndian) { header.append(contentsOf: $0) }
            withUnsafeBytes(of: UInt64(features.columns).littleEndian) { header.append(contentsOf: $0) }
            header.append(contentsOf: Array(key.utf8))
            let temporary = folder + "/." + key + "." + UUID().uuidString + ".tmp"
            guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteNoPermission)
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            do {
                try handle.write(contentsOf: header)
                try features.storage.withUnsafeBytes { try handle.write(contentsOf: Data($0)) }
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                unlink(temporary)
                throw error
            }
            guard rename(temporary, path(key)) == 0 else {
                let code = errno
                unlink(temporary)
                throw POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)
            }
        } catch {
            throw VeilError(.fileNotWritten, "cannot write the feature cache in \(folder): \(error.localizedDescription)",
                            cause: error)
        }
    }
}
