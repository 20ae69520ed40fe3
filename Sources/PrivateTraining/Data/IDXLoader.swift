import Foundation
import LinearAlgebra
import Mechanisms

/// Loads image classification data in the IDX format of MNIST and Fashion-MNIST
/// (LeCun et al.: big-endian magic `0x00000803` for images `N × rows × cols` of `UInt8`,
/// `0x00000801` for `N` labels), gzip-compressed or not.
public enum IDXLoader {
    /// The largest decompressed IDX file accepted (the MNIST training images are 47 MB).
    public static let maximumFileSize = 1 << 30

    /// Images and labels as a ``Dataset`` with pixels scaled to `[0, 1]` (`value / 255`, a fixed
    /// map that depends on no data).
    ///
    /// Each file's header is read first and the counts it declares are checked (against each other and
    /// against ``maximumFileSize``) before the rest is decompressed, and never more than the header
    /// declares is decompressed: a gzip bomb is refused after reading a few bytes more than its header
    /// announced.
    /// - Parameters:
    ///   - imagesPath: the `*-images-idx3-ubyte[.gz]` file.
    ///   - labelsPath: the `*-labels-idx1-ubyte[.gz]` file.
    ///   - classCount: number of classes (10 for MNIST).
    ///   - limit: keep only the first `limit` examples (the fingerprint still covers the whole files).
    /// - Throws: `VeilError.invalidInput` on a missing or malformed file, mismatched counts, or a size
    ///   that differs from the header's.
    public static func load(imagesPath: String, labelsPath: String, classCount: Int = 10, limit: Int? = nil) throws -> Dataset {
        let images = try readImages(path: imagesPath)
        let labelFile = try GzipFile(path: labelsPath)
        let labelHeader = try labelFile.read(upTo: 8)
        let labels = try header(labelHeader, magic: 0x0000_0801, dimensions: 1, path: labelsPath)
        let n = images.count
        guard labels[0] == n else {
            throw VeilError(.invalidInput, "\(imagesPath) has \(n) images but \(labelsPath) has \(labels[0]) labels")
        }
        let labelBody = try labelFile.read(upTo: n)
        guard labelBody.count == n, try !labelFile.hasMore() else {
            throw VeilError(.invalidInput, "IDX file size does not match its header (\(labelsPath))")
        }
        let kept = min(n, max(0, limit ?? n))
        let labelValues = labelBody[0..<kept].map { Int32($0) }
        let digest = ContentDigest.sha256Hex(of: [images.header, images.body, labelHeader, labelBody])
        return try Dataset(features: images.features(first: kept), labels: labelValues, inputShape: images.shape,
                           classCount: classCount, sha256: digest + (kept < n ? ":first\(kept)" : ""))
    }

    /// The images of an IDX images file alone (no labels: for prediction), pixels scaled to `[0, 1]` as ``load``
    /// scales them, one image per row.
    /// - Throws: `VeilError.invalidInput` on a missing or malformed file or a size that differs from the header's.
    public static func images(path: String) throws -> (features: Matrix, shape: ImageShape) {
        let images = try readImages(path: path)
        return (images.features(first: images.count), images.shape)
    }

    /// An images file's header and pixels, checked against each other.
    private struct ImageBytes {
        let header: [UInt8]
        let body: [UInt8]
        let count: Int
        let shape: ImageShape

        /// The first `kept` images, pixels scaled by 1/255 (a fixed map that depends on no data).
        func features(first kept: Int) -> Matrix {
            let pixels = shape.count
            let scale: Float = 1 / 255
            return Matrix(rows: kept, columns: pixels, storage: body[0..<(kept * pixels)].map { Float($0) * scale })
        }
    }

    /// Reads the header, checks the counts it declares (against ``maximumFileSize``) before the rest is
    /// decompressed, then decompresses no more than it declares.
    private static func readImages(path: String) throws -> ImageBytes {
        let file = try GzipFile(path: path)
        let imageHeader = try file.read(upTo: 16)
        let images = try header(imageHeader, magic: 0x0000_0803, dimensions: 3, path: path)
        let (n, rows, columns) = (images[0], images[1], images[2])
        guard n >= 1, rows >= 1, columns >= 1 else {
            throw VeilError(.invalidInput, "\(path) declares \(n) images of \(rows)×\(columns) pixels")
        }
        // Each count is below 2³², so their product can exceed Int.max: both products are overflow-checked.
        let (pixels, pixelOverflow) = rows.multipliedReportingOverflow(by: columns)
        let (imageBytes, overflow) = n.multipliedReportingOverflow(by: pixels)
        guard !pixelOverflow, !overflow, imageBytes <= maximumFileSize - 16 else {
            throw VeilError(.invalidInput, "\(path) declares \(n) images of \(rows)×\(columns) pixels, more than the "
                            + "\(maximumFileSize) bytes an IDX file may hold")
        }
        let body = try file.read(upTo: imageBytes)
        guard body.count == imageBytes, try !file.hasMore() else {
            throw VeilError(.invalidInput, "IDX file size does not match its header (\(path))")
        }
        return ImageBytes(header: imageHeader, body: body, count: n,
                          shape: ImageShape(height: rows, width: columns, channels: 1))
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
