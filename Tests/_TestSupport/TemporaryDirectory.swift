import Foundation

/// Fresh folders for tests that write files (tests run in parallel, so each gets its own).
public enum TemporaryDirectory {
    /// Creates and returns an empty folder `veil-NAME-UUID` in the system's temporary folder; the caller
    /// removes it (`defer { try? FileManager.default.removeItem(at: folder) }`).
    public static func make(_ name: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("veil-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// A path `veil-NAME-UUID.EXTENSION` in the system's temporary folder, not created.
    public static func file(_ name: String, extension pathExtension: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("veil-\(name)-\(UUID().uuidString).\(pathExtension)")
    }
}

/// A fresh folder (see `TemporaryDirectory.make`) removed with everything in it when the value is released.
public final class TemporaryFolder: @unchecked Sendable {
    public let url: URL

    public init(_ name: String = "test") throws {
        url = try TemporaryDirectory.make(name)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The path of `name` inside the folder.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}
