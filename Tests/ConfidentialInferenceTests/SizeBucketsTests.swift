import ConfidentialInference
import Testing

/// The size classes of sealed messages: 512 bytes up to 512, then Padmé (Nikitin et al. 2019), against values
/// computed independently from the paper's definition (Python, `E = ⌊log₂ L⌋`, `S = ⌊log₂ E⌋ + 1`).
@Suite("Size buckets")
struct SizeBucketsTests {
    @Test("Known sizes", arguments: [
        (1, 512), (512, 512), (513, 544), (700, 704), (1_000, 1_024), (1_024, 1_024), (1_025, 1_088),
        (4_097, 4_352), (100_000, 100_352), (409_600, 409_600), (420_000, 425_984), (524_289, 540_672),
        (1_048_577, 1_081_344),
    ])
    func known(size: Int, bucket: Int) {
        #expect(SizeBuckets.bucket(for: size) == bucket)
    }

    @Test("Every bucket holds its message, is its own bucket, grows with the size and costs under 1/9 past 512 bytes")
    func properties() {
        var previous = 0
        for size in Array(1...70_000) + stride(from: 70_001, through: 5_000_000, by: 997).map({ $0 }) {
            let bucket = SizeBuckets.bucket(for: size)
            #expect(bucket >= size && bucket >= previous && SizeBuckets.bucket(for: bucket) == bucket)
            if size > SizeBuckets.minimum { #expect(Double(bucket - size) <= Double(size) / 9) }
            previous = bucket
        }
    }

    @Test("Padding appends zero bytes up to the bucket")
    func padding() {
        let message = [UInt8](repeating: 7, count: 700)
        let padded = SizeBuckets.padded(message)
        #expect(padded.count == 704 && padded.prefix(700) == message[...] && padded.suffix(4).allSatisfy { $0 == 0 })
    }
}
