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
        message + [UInt8](repeating: 0, count: bucket(for: message.count) - message.count)
    }
}
