import Foundation
import LinearAlgebra
import Mechanisms

/// Loads image classification data in the IDX format of MNIST and Fashion-MNIST
/// (LeCun et al.: big-endian magic `0x00000803` for images `N × rows × cols` of `UInt8`,
/// `0x00000801` for `N` labels), gzip-compressed or not.
public enum IDXLoader {
    /// Images and labels as a ``Dataset`` with pixels scaled to `[0, 1]` (`value / 255`, a fixed
    /// map that depends on no data).
    /// - Parameters:
    ///   - imagesPath: the `*-images-idx3-ubyte[.gz]` file.
    ///   - labelsPath: the `*-labels-idx1-ubyte[.gz]` file.
    ///   - classCount: number of classes (10 for MNIST).
    ///   - limit: keep only the first `limit` examples (the fingerprint still covers the whole files).
    /// - Throws: `VeilError.invalidInput` on a missing or malformed file or mismatched counts.
    public static func load(imagesPath: String, labelsPath: String, classCount: Int = 10, limit: Int? = nil) throws -> Dataset {
        let imageBytes = try GzipFile.read(path: imagesPath)
        let labelBytes = try GzipFile.read(path: labelsPath)
        let images = try header(imageBytes, magic: 0x0000_0803, dimensions: 3, path: imagesPath)
        let labels = try header(labelBytes, magic: 0x0000_0801, dimensions: 1, path: labelsPath)
        let (n, rows, columns) = (images[0], images[1], images[2])
        guard labels[0] == n else {
            throw VeilError(.invalidInput, "\(imagesPath) has \(n) images but \(labelsPath) has \(labels[0]) labels")
        }
        let pixels = rows * columns
        guard imageBytes.count == 16 + n * pixels, labelBytes.count == 8 + n else {
            throw VeilError(.invalidInput, "IDX file size does not match its header (\(imagesPath), \(labelsPath))")
        }
        let kept = min(n, max(0, limit ?? n))
        let scale: Float = 1 / 255
        let features = Matrix(rows: kept, columns: pixels,
                              storage: imageBytes[16..<(16 + kept * pixels)].map { Float($0) * scale })
        let labelValues = labelBytes[8..<(8 + kept)].map { Int32($0) }
        return try Dataset(features: features, labels: labelValues,
                           inputShape: ImageShape(height: rows, width: columns, channels: 1),
                           classCount: classCount, sha256: ContentDigest.sha256Hex(of: [imageBytes, labelBytes]) + (kept < n ? ":first\(kept)" : ""))
    }

    private static func header(_ bytes: [UInt8], magic: UInt32, dimensions: Int, path: String) throws -> [Int] {
        let headerLength = 4 + 4 * dimensions
        guard bytes.count >= headerLength else { throw VeilError(.invalidInput, "\(path) is too short for an IDX file") }
        func word(_ offset: Int) -> UInt32 {
            (UInt32(bytes[offset]) << 24) | (UInt32(bytes[offset + 1]) << 16) | (UInt32(bytes[offset + 2]) << 8)
                | UInt32(bytes[offset + 3])
        }
        guard word(0) == magic else {
            throw VeilError(.invalidInput, "\(path) is not an IDX file of the expected kind (magic \(String(word(0), radix: 16)))")
        }
        return (0..<dimensions).map { Int(word(4 + 4 * $0)) }
    }
}
