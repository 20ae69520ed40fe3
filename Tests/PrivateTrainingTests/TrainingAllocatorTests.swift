import Testing
import PrivateTraining

@Suite("Allocator settings for training")
struct TrainingAllocatorTests {
    @Test("glibc accepts the fixed mmap and trim thresholds")
    func accepted() {
        #if canImport(Glibc)
        #expect(TrainingAllocator.configure())
        #else
        #expect(!TrainingAllocator.configure())
        #endif
    }
}
