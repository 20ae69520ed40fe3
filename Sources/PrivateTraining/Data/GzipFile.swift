import CZlib
import Foundation
import Mechanisms

/// Reads a whole file, decompressing it with zlib when it is gzip-compressed (zlib's `gzread`
/// passes uncompressed files through unchanged).
enum GzipFile {
    static func read(path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw VeilError(.invalidInput, "data file not found: \(path)")
        }
        guard let file = gzopen(path, "rb") else {
            throw VeilError(.invalidInput, "cannot open data file \(path)")
        }
        defer { gzclose(file) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let got = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
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
}
