/// The sizes Veil pads confidential requests and responses to, so that an observer (the relay, the host,
/// the network) learns only a coarse size class: the next power of two, at least 512 bytes. A request of
/// 700 bytes and one of 1,000 bytes both travel as 1,024 bytes of plaintext (plus the fixed overhead of
/// the encapsulation: 55 bytes for a request, 32 for a response).
public enum SizeBuckets {
    public static let minimum = 512

    /// The bucket a message of `size` bytes is padded to.
    public static func bucket(for size: Int) -> Int {
        var bucket = minimum
        while bucket < size { bucket <<= 1 }
        return bucket
    }

    /// `message` followed by zero bytes up to its bucket (Binary HTTP padding, RFC 9292 §3.8).
    public static func padded(_ message: [UInt8]) -> [UInt8] {
        var out = message
        pad(&out)
        return out
    }

    /// Appends zero bytes to `message` up to its bucket, in place (no copy when its capacity suffices, see
    /// ``capacity(forAtMost:)``).
    public static func pad(_ message: inout [UInt8]) {
        let target = bucket(for: message.count)
        message.reserveCapacity(target)
        message.append(contentsOf: repeatElement(0, count: target - message.count))
    }

    /// The capacity to reserve for a message of at most `size` bytes so that padding it never reallocates.
    static func capacity(forAtMost size: Int) -> Int { bucket(for: size) }
}
