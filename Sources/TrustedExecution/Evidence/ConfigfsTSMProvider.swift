import Foundation

/// Evidence from the Linux kernel's TSM report interface (configfs-tsm, Linux 6.7+): a TDX quote on a
/// TDX guest, an SEV-SNP report on an SNP guest.
///
/// ABI (Documentation/ABI/testing/configfs-tsm): `mkdir /sys/kernel/config/tsm/report/NAME`; write the 64
/// caller bytes to `inblob`; read `outblob` (the evidence) and `provider` (`tdx_guest`, `sev_guest`);
/// `auxblob` holds extra certificates when the provider has any. `generation` counts writes to the entry:
/// a reader reads it before writing `inblob` and after reading `outblob`, and if it moved by more than its
/// own write another process wrote in between, so the outblob may answer someone else's inblob; the read
/// is retried and then refused.
public struct ConfigfsTSMProvider: EvidenceProvider {
    /// The file operations the provider needs; the real one touches the kernel's configfs, tests give a fake
    /// that behaves as the ABI documents.
    public protocol FileSystem: Sendable {
        func makeDirectory(_ path: String) throws
        func read(_ path: String) throws -> [UInt8]
        func write(_ path: String, _ bytes: [UInt8]) throws
        func removeDirectory(_ path: String) throws
    }

    /// The machine's file system.
    public struct LocalFileSystem: FileSystem {
        public init() {}
        public func makeDirectory(_ path: String) throws {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        }
        public func read(_ path: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TrustedExecutionError(.platform, "configfs-tsm: cannot read \(path)")
            }
            return [UInt8](data)
        }
        public func write(_ path: String, _ bytes: [UInt8]) throws {
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw TrustedExecutionError(.platform, "configfs-tsm: cannot write \(path)")
            }
            defer { try? handle.close() }
            try handle.write(contentsOf: Data(bytes))
        }
        public func removeDirectory(_ path: String) throws { try FileManager.default.removeItem(atPath: path) }
    }

    public static let defaultRoot = "/sys/kernel/config/tsm/report"
    public static let attempts = 3

    public let root: String
    public let fileSystem: FileSystem
    public let format: String

    /// Opens an entry under `root` to learn the provider; fails when configfs-tsm is absent.
    public init(root: String = defaultRoot, fileSystem: FileSystem = LocalFileSystem()) throws {
        self.root = root
        self.fileSystem = fileSystem
        let entry = "\(root)/veil-probe-\(UUID().uuidString)"
        do { try fileSystem.makeDirectory(entry) } catch {
            throw TrustedExecutionError(.platform, "configfs-tsm is not available at \(root) (\(error)); is this a TDX or SNP guest with Linux 6.7+ and configfs mounted?")
        }
        defer { try? fileSystem.removeDirectory(entry) }
        format = try Self.format(of: try fileSystem.read("\(entry)/provider"))
    }

    static func format(of provider: [UInt8]) throws -> String {
        let name = String(decoding: provider, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        switch name {
        case "tdx_guest": return "tdx"
        case "sev_guest": return "sev-snp"
        default: throw TrustedExecutionError(.platform, "configfs-tsm provider '\(name)' is neither tdx_guest nor sev_guest")
        }
    }

    public func evidence(reportData: [UInt8]) throws -> [UInt8] {
        guard reportData.count == 64 else { throw TrustedExecutionError.invalid("report data must be 64 bytes, got \(reportData.count)") }
        let entry = "\(root)/veil-\(UUID().uuidString)"
        do { try fileSystem.makeDirectory(entry) } catch {
            throw TrustedExecutionError(.platform, "configfs-tsm: cannot create \(entry) (\(error))")
        }
        defer { try? fileSystem.removeDirectory(entry) }
        for _ in 0..<Self.attempts {
            let before = try generation(entry)
            try fileSystem.write("\(entry)/inblob", reportData)
            let outblob = try fileSystem.read("\(entry)/outblob")
            let after = try generation(entry)
            guard after == before + 1 else { continue }   // another writer touched the entry: retry
            guard try Self.format(of: try fileSystem.read("\(entry)/provider")) == format else {
                throw TrustedExecutionError(.platform, "configfs-tsm provider changed while reading evidence")
            }
            let bound = format == "tdx" ? try TDXQuote(bytes: outblob).reportData : try SNPReport(bytes: outblob).reportData
            guard bound == reportData else {
                throw TrustedExecutionError(.platform, "configfs-tsm: the evidence read does not carry the report data written")
            }
            return outblob
        }
        throw TrustedExecutionError(.platform, "configfs-tsm: generation of \(entry) kept changing under a concurrent writer; no evidence read after \(Self.attempts) attempts")
    }

    func generation(_ entry: String) throws -> UInt64 {
        let text = String(decoding: try fileSystem.read("\(entry)/generation"), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let value = UInt64(text) else { throw TrustedExecutionError(.platform, "configfs-tsm: generation '\(text)' is not a number") }
        return value
    }
}
