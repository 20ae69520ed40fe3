/// The sizes Veil pads confidential requests and responses to, so that an observer (the relay, the host,
/// the network) learns only a coarse size class (plus the fixed overhead of the encapsulation: 55 bytes for
/// a request, 32 for a response).
///
/// Messages of at most 512 bytes all travel as 512 bytes. Larger ones are padded with Padmé (Nikitin,
/// Barman, Lueks, Underwood, Hubaux, Ford 2019, "Reducing Metadata Leakage from Encrypted Files and
/// Communication with PURBs", PETS, §4): a size `L` with `E = ⌊log₂ L⌋` keeps its top `⌊log₂ E⌋ + 1` bits
/// and is rounded up in the rest. That costs at most about `1/(2·log₂ L)` of extra bytes (under 12%, and
/// about 3% at the 400 KB of a 64-row MNIST request, where the next power of two cost up to 100%), and
/// leaves `O(log log L)` bits of size information: 2·⌊log₂ E⌋ + 1 bits where powers of two leave
/// ⌊log₂ E⌋ + 1. A 700-byte and a 704-byte request travel alike (704 bytes); a 1,000-byte one as 1,024.
public enum SizeBuckets {
    public static let minimum = 512

    /// The bucket a message of `size` bytes is padded to: 512 up to 512 bytes, else Padmé's size.
    public static func bucket(for size: Int) -> Int {
        guard size > minimum else { return minimum }
        let exponent = Int.bitWidth - 1 - size.leadingZeroBitCount           // E = ⌊log₂ L⌋ ≥ 9
        let kept = Int.bitWidth - exponent.leadingZeroBitCount               // S = ⌊log₂ E⌋ + 1
        let mask = (1 << (exponent - kept)) - 1                              // the E − S low bits
        return (size + mask) & ~mask
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
