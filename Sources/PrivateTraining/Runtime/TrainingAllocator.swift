#if canImport(Glibc)
import CMalloc
#endif

/// Process-wide settings of the C allocator for a process that trains models.
public enum TrainingAllocator {
    /// Blocks up to this size come from the heap rather than from their own `mmap`: the ceiling that
    /// glibc's dynamic mmap threshold reaches on 64-bit systems.
    public static let mmapThreshold: Int32 = 32 << 20
    /// Free memory at the top of the heap up to this size stays mapped instead of going back to the kernel.
    public static let trimThreshold: Int32 = 256 << 20

    /// Fixes glibc malloc's mmap and trim thresholds (``mmapThreshold``, ``trimThreshold``) so that the
    /// memory freed by one physical batch is reused by the next instead of being returned to the kernel
    /// and faulted in again.
    ///
    /// Each physical batch allocates its activations afresh and frees them once its gradients are summed
    /// (``DPSGDTrainer/accumulate(model:data:indices:chunk:clipNorm:loss:)``). With glibc's default,
    /// dynamic thresholds, the freed top of the heap then exceeds the trim threshold (twice the largest
    /// block freed so far) after every batch, so glibc returns it to the kernel and the next batch faults
    /// it in again: for the MNIST CNN at physical batch 256, 6,000 to 8,000 page faults (23 to 31 MiB) per
    /// batch. Keeping it mapped costs 1 to 3 MiB of peak resident size for that model (measurements in
    /// docs/training.md, "Speed and memory").
    ///
    /// Call once at the start of the process. Does nothing where the C library is not glibc.
    /// - Returns: whether glibc accepted both settings (false elsewhere).
    @discardableResult
    public static func configure() -> Bool {
        #if canImport(Glibc)
        let mmap = mallopt(M_MMAP_THRESHOLD, mmapThreshold)
        let trim = mallopt(M_TRIM_THRESHOLD, trimThreshold)
        return mmap == 1 && trim == 1
        #else
        return false
        #endif
    }
}
