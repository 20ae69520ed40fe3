import CBLAS

#if canImport(Glibc)
import Glibc
#endif

/// The BLAS that ``Matrix`` products run on in this process.
///
/// Every `cblas_*` call of this module must reach OpenBLAS. A process that also loads another
/// CBLAS (GSL's reference `libgslcblas`, which `libgsl` depends on) gets whichever library the
/// dynamic linker finds first, so the link order decides; ``sgemmLibraryPath`` tells which won.
public enum BLASLibrary {
    /// The CPU kernel OpenBLAS selected (`openblas_get_corename`), e.g. `Haswell` or `SkylakeX`.
    /// `OPENBLAS_CORETYPE` in the environment pins it.
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// The number of threads OpenBLAS uses for one call (`openblas_get_num_threads`): 1 once a product has
    /// run, because ``ParallelProduct`` splits products across the cores itself; before that, what
    /// `OPENBLAS_NUM_THREADS` set.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// The file of the shared library that the process's `cblas_sgemm` resolves to (from the
    /// mapping of /proc/self/maps that holds its address), or nil when that cannot be read.
    public static var sgemmLibraryPath: String? {
        #if os(Linux)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "cblas_sgemm"),
              let maps = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(maps) }
        let address = UInt(bitPattern: symbol)
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, maps) > 0, let line {
            // "start-end perms offset device inode path"
            let fields = String(cString: line).split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            let range = fields[0].split(separator: "-")
            guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
                  start <= address, address < end else { continue }
            return String(fields[5...].joined(separator: " ").filter { $0 != "\n" })
        }
        return nil
        #else
        return nil
        #endif
    }
}
