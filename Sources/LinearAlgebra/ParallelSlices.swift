import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Independent work items (the examples of a batch, the entries of an element-wise map) split
/// across the processor's cores.
///
/// One call cuts `0 ..< count` into at most ``workerCount`` contiguous slices and runs one slice
/// per thread. Every per-example kernel that uses it computes each item from that item's inputs alone
/// and writes only that item's outputs (no sums across slices), so its results are bit-for-bit the
/// same for every number of threads. Products (``ParallelProduct``) are the exception: a product cut
/// along its inner dimension adds partial sums, so its last bits follow the number of threads.
public enum ParallelSlices {
    /// Threads for per-example work: `VEIL_TRAINING_THREADS` when set to an integer in 1…64, else
    /// the number of online processors (at most 64).
    public static let workerCount: Int = {
        if let text = getenv("VEIL_TRAINING_THREADS"), let value = Int(String(cString: text)), (1...64).contains(value) {
            return value
        }
        return max(1, min(64, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    }()

    /// Calls `body` once for each slice of `0 ..< count`, the slices in parallel, and returns when
    /// all calls have returned. No slice has fewer than `minimumItems` items, so small inputs run
    /// on the calling thread alone.
    public static func run(_ count: Int, minimumItems: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let slices = sliceCount(count, minimumItems: minimumItems)
        if slices <= 1 {
            body(0..<count)
            return
        }
        // The slices are disjoint and `body` returns before this call does: the kernels hand each
        // thread pointers to its own items only, which the compiler cannot check.
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let work = body
            DispatchQueue.concurrentPerform(iterations: slices) { s in
                work(slice(s, of: count, into: slices))
            }
        }
    }

    /// The number of slices ``run(_:minimumItems:_:)`` cuts `count` items into: at most
    /// ``workerCount``, none smaller than `minimumItems`, at least one.
    public static func sliceCount(_ count: Int, minimumItems: Int = 1) -> Int {
        max(1, min(workerCount, count / max(1, minimumItems)))
    }

    /// Slice `index` of `count` items cut into `slices` contiguous slices of nearly equal size.
    public static func slice(_ index: Int, of count: Int, into slices: Int) -> Range<Int> {
        (index * count / slices)..<((index + 1) * count / slices)
    }
}
