import NIOCore
import PrivateTraining

/// Reads a request body into one array, overwriting each received fragment with zeros as soon as it is
/// copied, so that the array is the only place holding the body when the handler runs (the caller
/// overwrites it afterwards). One copy of the body instead of two: Hummingbird's `collectBody` gathers the
/// fragments into a buffer that then had to be copied into an array and wiped (and wiping it while the
/// request still referenced it made a third copy and left the original unwiped).
enum WipingBodyReader {
    /// Why a body could not be read.
    enum Failure: Error, Equatable {
        /// More than the limit arrived.
        case tooLarge
        /// The connection failed or closed before the body was complete.
        case unreadable
    }

    /// The most capacity reserved ahead from a declared `Content-Length` (the rest grows with the bytes
    /// that actually arrive): a claim alone must not make the server allocate much.
    static let maximumReservation = 4 << 20

    /// The concatenated fragments of `body`, at most `limit` bytes; `declaredLength` (the request's
    /// `Content-Length`) sizes the array ahead, up to ``maximumReservation``.
    /// - Throws: ``Failure``; every fragment received and the bytes gathered so far are overwritten first.
    static func bytes<Body: AsyncSequence>(of body: Body, upTo limit: Int, declaredLength: Int?) async throws(Failure) -> [UInt8]
    where Body.Element == ByteBuffer {
        var bytes: [UInt8] = []
        if let declaredLength, declaredLength > 0 { bytes.reserveCapacity(min(declaredLength, limit, maximumReservation)) }
        do {
            for try await fragment in body {
                let fits = fragment.readableBytes <= limit - bytes.count
                if fits && bytes.count + fragment.readableBytes > bytes.capacity {
                    grow(&bytes, toHold: bytes.count + fragment.readableBytes, limit: limit)
                }
                fragment.withUnsafeReadableBytes { received in
                    if fits { bytes.append(contentsOf: received) }
                    // In place, in the storage the connection read into (no copy-on-write duplicate).
                    zeroBytes(UnsafeMutableRawBufferPointer(mutating: received))
                }
                guard fits else { throw Failure.tooLarge }
            }
        } catch {
            bytes.withUnsafeMutableBytes { zeroBytes($0) }
            throw (error as? Failure) ?? .unreadable
        }
        return bytes
    }

    /// Moves `bytes` into storage for at least `count` bytes (doubling, up to `limit`) and overwrites the old
    /// storage, so that growing leaves no partial copy of the body behind in freed memory.
    static func grow(_ bytes: inout [UInt8], toHold count: Int, limit: Int) {
        var larger: [UInt8] = []
        larger.reserveCapacity(min(max(count, 2 * bytes.capacity), max(count, limit)))
        larger.append(contentsOf: bytes)
        bytes.withUnsafeMutableBytes { zeroBytes($0) }
        bytes = larger
    }
}
