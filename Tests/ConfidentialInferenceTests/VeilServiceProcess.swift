import _TestSupport
import Foundation

/// A long-running `veil` process (a server or a relay) started by a test with `--port 0`.
typealias VeilServiceProcess = VeilServerProcess

extension VeilServerProcess {
    /// Starts `veil ARGUMENTS --port 0` in `folder`, standard error in `folder/NAME.log`.
    convenience init(_ arguments: [String], folder: URL, name: String) throws {
        try self.init(arguments, folder: folder, logName: name)
    }

    /// How many writable memory regions of the process hold `needle`.
    func memoryRegionsContaining(_ needle: Data) throws -> Int {
        try searchProcessMemory(pid: pid, for: [needle])[needle] ?? 0
    }
}
