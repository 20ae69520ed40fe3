#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A source of uniformly random 64-bit words, the only input of Veil's exact samplers.
///
/// Production code uses ``SecureRandomSource`` (the operating system's CSPRNG). Tests and
/// reproducible demos may use ``InsecureSeededRandomSource``; its name says it must never
/// protect real data (docs/design.md §2 rule 2).
public protocol RandomSource: RandomNumberGenerator {}

extension RandomSource {
    /// A uniform integer in `0 ..< bound` without modulo bias (Lemire's nearly-divisionless method).
    @inlinable
    public mutating func uniform(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "uniform(below:) needs a positive bound")
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }

    /// One fair random bit.
    @inlinable
    public mutating func bit() -> Bool { next() & 1 == 1 }
}

// MARK: - Operating-system CSPRNG

/// Random words from the operating system's cryptographically secure generator (`/dev/urandom`,
/// on Linux the same ChaCha20 generator that `getrandom(2)` serves), read in blocks of 4 KiB to
/// amortise the system call.
///
/// This is the default source for every mechanism. The buffer lives in this value: copying the
/// source copies unread words, so give each consumer its own instance rather than sharing copies.
public struct SecureRandomSource: RandomSource, Sendable {
    @usableFromInline static let blockWords = 512
    @usableFromInline var buffer: [UInt64]
    @usableFromInline var position: Int

    public init() {
        buffer = [UInt64](repeating: 0, count: Self.blockWords)
        position = Self.blockWords
    }

    @inlinable
    public mutating func next() -> UInt64 {
        if position == Self.blockWords { refill() }
        let word = buffer[position]
        position &+= 1
        return word
    }

    @usableFromInline
    mutating func refill() {
        buffer.withUnsafeMutableBytes { raw in
            Self.fillFromSystem(raw)
        }
        position = 0
    }

    /// The kernel CSPRNG device, opened once per process. It never blocks once the kernel's pool is
    /// initialised.
    private static let urandom: Int32 = {
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        precondition(fd >= 0, "cannot open /dev/urandom: no secure randomness available")
        return fd
    }()

    static func fillFromSystem(_ raw: UnsafeMutableRawBufferPointer) {
        var filled = 0
        while filled < raw.count {
            let got = read(urandom, raw.baseAddress! + filled, raw.count - filled)
            if got < 0 {
                if errno == EINTR { continue }
                fatalError("reading /dev/urandom failed (errno \(errno)): no secure randomness available")
            }
            precondition(got > 0, "/dev/urandom returned end of file")
            filled += got
        }
    }
}

// MARK: - Seeded generator for tests

/// A deterministic generator (xoshiro256**, Blackman & Vigna 2018) seeded from a 64-bit value
/// through SplitMix64.
///
/// **Not secure.** Its output is predictable from the seed; it exists so that statistical tests and
/// demos are reproducible. No Veil API uses it unless a caller passes it explicitly.
public struct InsecureSeededRandomSource: RandomSource, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = seed
        func nextSplitMix() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (nextSplitMix(), nextSplitMix(), nextSplitMix(), nextSplitMix())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }
}
