import CZlib
import Foundation
import Mechanisms

/// Reads a file, decompressing it with zlib when it is gzip-compressed (zlib's `gzread` passes
/// uncompressed files through unchanged), never more than the caller asks for: a small compressed
/// file can expand a thousandfold, so a reader first reads a header and then at most what it declares.
final class GzipFile {
    private let file: gzFile
    private let path: String

    /// Opens `path`.
    /// - Throws: `VeilError.invalidInput` when the file is missing or cannot be opened.
    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw VeilError(.invalidInput, "data file not found: \(path)")
        }
        guard let file = gzopen(path, "rb") else {
            throw VeilError(.invalidInput, "cannot open data file \(path)")
        }
        self.file = file
        self.path = path
    }

    deinit { gzclose(file) }

    /// Up to `count` more decompressed bytes (fewer only at the end of the data).
    /// - Throws: `VeilError.invalidInput` when the data cannot be decompressed.
    func read(upTo count: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(min(count, 1 << 26))
        var chunk = [UInt8](repeating: 0, count: min(max(count, 1), 1 << 20))
        while result.count < count {
            let wanted = UInt32(min(chunk.count, count - result.count))
            let got = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, wanted) }
            if got < 0 {
                var code: Int32 = 0
                let message = gzerror(file, &code).map { String(cString: $0) } ?? "unknown error"
                throw VeilError(.invalidInput, "cannot decompress \(path): \(message)")
            }
            if got == 0 { break }
            result.append(contentsOf: chunk[0..<Int(got)])
        }
        return result
    }

    /// Whether the data has bytes left after what was read.
    func hasMore() throws -> Bool {
        try !read(upTo: 1).isEmpty
    }
}
