import Foundation

/// Reads one file of a collateral folder (at most 1 MiB); a missing or oversized file is bad input.
enum CollateralFile {
    static let maximumSize = 1 << 20

    static func read(_ name: String, in directory: URL) throws -> [UInt8] {
        let path = directory.appendingPathComponent(name).path
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrustedExecutionError.invalid("collateral: cannot read \(path)")
        }
        guard data.count <= maximumSize else { throw TrustedExecutionError.invalid("collateral: \(name) is larger than 1 MiB") }
        return [UInt8](data)
    }
}
