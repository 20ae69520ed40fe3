import HummingbirdCore
import PrivateTraining
import Logging
import NIOCore

/// A Swift task executor that runs its jobs on one NIO event loop.
///
/// A connection's handler that prefers this executor (``ConnectionBoundChannel``) runs on the thread that
/// reads and writes the connection's socket: a request part read by the loop resumes the handler in the
/// same thread, and the response written by the handler reaches the socket without waking another thread.
/// Without it every request crosses threads twice (the loop hands the request to Swift's shared pool, the
/// pool hands the response back to the loop), each crossing a wake-up that costs microseconds on an idle
/// machine and up to a scheduling slice on a loaded one.
final class EventLoopTaskExecutor: TaskExecutor {
    /// The loop the jobs run on.
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// A server child channel (HTTP/1.1, with or without TLS) whose connection handler runs on the
/// connection's own event loop (see ``EventLoopTaskExecutor``), with an ``InlineInferenceHandler`` in its
/// pipeline when `inline` is given. Work that may hold the loop for long goes back to the shared pool with
/// ``ServerWork/run(bodyBytes:_:)``.
struct ConnectionBoundChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let inline: InlineInferenceHandler.Settings?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            if let inline {
                // After the connection-state handler, so that it still sees every request and response.
                let pipeline = channel.pipeline.syncOperations
                let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
                try pipeline.addHandler(InlineInferenceHandler(inline), position: .after(state))
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}

/// Where a request's work runs: a small request on the connection's event loop (no thread crossing), a large
/// one on Swift's shared pool, so that one large batch does not hold up the other connections of its loop.
enum ServerWork {
    /// Requests with a body above this size (64 KiB: a few dozen MNIST-sized examples in JSON, a forward pass
    /// of well under a millisecond for the benchmark's models at batch 1) run on the shared pool.
    static let inlineBodyLimit = 64 << 10

    /// The most multiply-adds a request run inline may cost: a few milliseconds of one core at worst, the
    /// longest the other connections of a loop wait for it.
    static let inlineMultiplyAddLimit = 1 << 24

    /// Whether a request of `bodyBytes` bytes is run where it was received.
    static func runsInline(bodyBytes: Int) -> Bool { bodyBytes <= inlineBodyLimit }

    /// Whether a request of `bodyBytes` bytes for `model` is run where it was received: a small body whose
    /// forward pass costs at most ``inlineMultiplyAddLimit`` even if the body held as many examples as
    /// its bytes allow (each value takes at least two bytes of JSON, a digit and a comma). A model opening
    /// with the scattering transform, whose cost the count does not model, always runs on the shared pool.
    static func runsInline(bodyBytes: Int, model: SequentialModel) -> Bool {
        guard runsInline(bodyBytes: bodyBytes), let perExample = model.footprint.forwardMultiplyAdds else { return false }
        let examples = (bodyBytes / 2 + 1) / max(model.inputShape.count, 1) + 1
        let (cost, overflow) = examples.multipliedReportingOverflow(by: perExample)
        return !overflow && cost <= inlineMultiplyAddLimit
    }

    /// Runs `operation` where ``runsInline(bodyBytes:)`` says.
    static func run<T>(bodyBytes: Int, _ operation: () async -> T) async -> T {
        if runsInline(bodyBytes: bodyBytes) { return await operation() }
        return await onSharedPool(operation)
    }

    /// Runs an inference request's `operation` where ``runsInline(bodyBytes:model:)`` says.
    static func run<T>(bodyBytes: Int, model: SequentialModel, _ operation: () async -> T) async -> T {
        if runsInline(bodyBytes: bodyBytes, model: model) { return await operation() }
        return await onSharedPool(operation)
    }

    /// Runs `operation` on Swift's shared pool, whatever executor the caller prefers.
    static func onSharedPool<T>(_ operation: () async -> T) async -> T {
        await withTaskExecutorPreference(globalConcurrentExecutor) { await operation() }
    }
}
