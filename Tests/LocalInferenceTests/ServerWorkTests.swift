@testable import LocalInference
import LinearAlgebra
import NIOCore
import NIOPosix
import PrivateTraining
import Testing

@Suite("Inference server: where requests run, how bodies are read")
struct ServerWorkTests {
    private static func buffer(_ bytes: [UInt8]) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return buffer
    }

    private static func stream(_ fragments: [ByteBuffer], failing: Bool = false) -> AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream { continuation in
            for fragment in fragments { continuation.yield(fragment) }
            struct Broken: Error {}
            continuation.finish(throwing: failing ? Broken() : nil)
        }
    }

    @Test("a body is the fragments in order, and each fragment is overwritten in the storage it arrived in")
    func bodyGatheredAndFragmentsWiped() async throws {
        let fragments = [Self.buffer(Array(1...200)), Self.buffer([]), Self.buffer(Array(repeating: 0xAB, count: 3_000))]
        // The declared length over-states the body: only what arrives is kept.
        let bytes = try await WipingBodyReader.bytes(of: Self.stream(fragments), upTo: 10_000, declaredLength: 9_999)
        #expect(bytes == Array(1...200) + Array(repeating: 0xAB, count: 3_000))
        // The test's references share the fragments' storage: an overwrite in place shows through them.
        for fragment in fragments { #expect(fragment.readableBytesView.allSatisfy { $0 == 0 }) }
    }

    @Test("a body over the limit is refused; what arrived is overwritten")
    func bodyTooLarge() async {
        let fragments = [Self.buffer(Array(repeating: 7, count: 600)), Self.buffer(Array(repeating: 9, count: 500))]
        await #expect(throws: WipingBodyReader.Failure.tooLarge) {
            try await WipingBodyReader.bytes(of: Self.stream(fragments), upTo: 1_000, declaredLength: nil)
        }
        for fragment in fragments { #expect(fragment.readableBytesView.allSatisfy { $0 == 0 }) }
        // Exactly at the limit is accepted.
        let exact = try? await WipingBodyReader.bytes(of: Self.stream([Self.buffer(Array(repeating: 1, count: 1_000))]),
                                                      upTo: 1_000, declaredLength: 1_000)
        #expect(exact?.count == 1_000)
    }

    @Test("a connection that fails mid-body gives 'unreadable', not a partial body")
    func bodyUnreadable() async {
        let fragment = Self.buffer(Array(repeating: 5, count: 100))
        await #expect(throws: WipingBodyReader.Failure.unreadable) {
            try await WipingBodyReader.bytes(of: Self.stream([fragment], failing: true), upTo: 1_000, declaredLength: 200)
        }
        #expect(fragment.readableBytesView.allSatisfy { $0 == 0 })
    }

    @Test("a request runs on the connection's loop when its body is small and its forward pass cheap")
    func inlineOnlyForCheapRequests() throws {
        let small = ServerWork.inlineBodyLimit
        #expect(ServerWork.runsInline(bodyBytes: small, model: TestModels.mlp))
        #expect(ServerWork.runsInline(bodyBytes: small, model: TestModels.logistic))
        #expect(!ServerWork.runsInline(bodyBytes: small + 1, model: TestModels.mlp))
        #expect(ServerWork.runsInline(bodyBytes: 100, model: TestModels.cnn))
        // 784 × 2,000 multiply-adds per example: one example (a 1 KB body) fits the limit; the 42 examples
        // a 64 KiB body could hold (two bytes a value) cost 66M, past it.
        let wide = TestModels.model([.flatten, .dense(units: 2_000)], inputShape: ImageShape(height: 28, width: 28, channels: 1))
        #expect(ServerWork.runsInline(bodyBytes: 1_000, model: wide))
        #expect(!ServerWork.runsInline(bodyBytes: small, model: wide))
        // The scattering transform's cost is not counted: never inline.
        let scattering = TestModels.model([.scattering2D(scales: 2, orientations: 8), .flatten, .dense(units: 10)],
                                          inputShape: ImageShape(height: 28, width: 28, channels: 1))
        #expect(scattering.footprint.forwardMultiplyAdds == nil)
        #expect(!ServerWork.runsInline(bodyBytes: 100, model: scattering))
    }

    @Test("the forward pass's multiply-adds, layer by layer")
    func forwardMultiplyAdds() throws {
        // conv 3×3, 4 filters on 8×8×1 (padding 1): 8·8·9·4 = 2,304; tanh 8·8·4 = 256; max pool 2×2: 4·4·4·4 = 256;
        // conv 3×3, 3 filters on 4×4×4: 2·2·36·3 = 432; relu 2·2·3 = 12; average pool 2×2 stride 1: 1·1·3·4 = 12;
        // flatten 3; dense 3 → 10: 30.
        #expect(TestModels.cnn.footprint.forwardMultiplyAdds == 2_304 + 256 + 256 + 432 + 12 + 12 + 3 + 30)
        // Logistic regression on 3 inputs, 3 classes: flatten 3 (if any) and 3·3.
        let logistic = try ArchitectureFootprint(architecture: [.dense(units: 3)], inputShape: ImageShape(height: 1, width: 1, channels: 3))
        #expect(logistic.forwardMultiplyAdds == 9)
    }

    @Test("growing the body's storage keeps its bytes and makes room for the declared count")
    func growthKeepsBytes() {
        var bytes: [UInt8] = Array(1...100)
        WipingBodyReader.grow(&bytes, toHold: 1_000, limit: 10_000)
        #expect(bytes == Array(1...100) && bytes.capacity >= 1_000)
    }

    @Test("with the connection's executor, a handler stays on its event loop across suspensions; large bodies and other modules' endpoints leave it")
    func connectionExecutor() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let (before, after, small, large, pool) = await withTaskExecutorPreference(EventLoopTaskExecutor(loop)) {
            let before = loop.inEventLoop
            await Task.yield()
            try? await Task.sleep(for: .milliseconds(1))
            let after = loop.inEventLoop
            let small = await ServerWork.run(bodyBytes: ServerWork.inlineBodyLimit) { loop.inEventLoop }
            let large = await ServerWork.run(bodyBytes: ServerWork.inlineBodyLimit + 1) { loop.inEventLoop }
            let pool = await ServerWork.onSharedPool { loop.inEventLoop }
            return (before, after, small, large, pool)
        }
        try await group.shutdownGracefully()
        #expect(before && after && small)
        #expect(!large && !pool)
    }
}
