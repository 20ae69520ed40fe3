import BudgetLedger
import Foundation
import Mechanisms

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a model file may be written: checked before a training run reserves its budget, so that a
/// bad `--output` fails while the failure still says nothing about the data (docs/design.md §2 rule 3).
///
/// A model file only ever replaces a regular file. An existing directory, symbolic link, device,
/// FIFO or socket at the path is refused: `--output /dev/full` must not replace the device node
/// with a regular file, and a symbolic link is neither followed nor replaced.
public enum ModelFileDestination {
    /// Checks `path` without changing anything: not empty, not naming a folder, and nothing but a
    /// regular file there (`AtomicFileWriter.checkReplaceable`).
    /// - Throws: `VeilError.invalidInput` with one line saying what is wrong.
    public static func validate(_ path: String) throws {
        guard !path.isEmpty else { throw VeilError(.invalidInput, "the output path is empty") }
        guard !path.hasSuffix("/") else {
            throw VeilError(.invalidInput, "the output path \(path) names a folder; name the model file")
        }
        try AtomicFileWriter.checkReplaceable(path)
    }

    /// ``validate(_:)``, then creates the folder (with parents) and checks that it is writable by
    /// creating and removing an empty temporary file in it.
    /// - Throws: `VeilError.invalidInput` with one line saying what is wrong.
    public static func prepare(_ path: String) throws {
        try validate(path)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw VeilError(.invalidInput, "the output folder \(folder) is a file") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw VeilError(.invalidInput, "cannot create the output folder \(folder): \(error.localizedDescription)")
            }
        }
        let probe = URL(fileURLWithPath: folder).appendingPathComponent(".veil-write-probe-\(UUID().uuidString)").path
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw VeilError(.invalidInput, "cannot write to the output folder \(folder): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        unlink(probe)
    }
}
