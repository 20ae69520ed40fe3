/// The prime field GF(p) with p = 2^61 − 1, the Mersenne prime in which Veil's Shamir sharing works.
///
/// Why this field: Shamir's scheme is information-theoretically hiding in any field larger than the
/// number of share holders, so the field only has to hold the secret's pieces and the share indices.
/// A 32-byte secret is split into five pieces of at most 56 bits (``ShamirSecretSharing``), each
/// shared with its own random polynomial; every piece is below p, and a reduction modulo a Mersenne
/// prime is a shift and an add on 128-bit products, with no big-number arithmetic.
public struct MersenneField: Sendable {
    /// p = 2^61 − 1.
    public static let modulus: UInt64 = (1 << 61) - 1

    /// (a + b) mod p for a, b < p.
    @inlinable
    public static func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let s = a &+ b                      // < 2^62: no overflow
        return s >= modulus ? s - modulus : s
    }

    /// (a − b) mod p for a, b < p.
    @inlinable
    public static func subtract(_ a: UInt64, _ b: UInt64) -> UInt64 {
        a >= b ? a - b : a &+ (modulus - b)
    }

    /// (a · b) mod p for a, b < p: the 122-bit product splits at bit 61, and 2^61 ≡ 1 (mod p).
    @inlinable
    public static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        let low = product.low & modulus
        let high = (product.low >> 61) | (product.high << 3)
        return add(low, high)
    }

    /// a^e mod p by square-and-multiply.
    public static func power(_ a: UInt64, _ e: UInt64) -> UInt64 {
        var result: UInt64 = 1, base = a, e = e
        while e > 0 {
            if e & 1 == 1 { result = multiply(result, base) }
            base = multiply(base, base)
            e >>= 1
        }
        return result
    }

    /// a^(−1) mod p for a ≠ 0 (Fermat: a^(p−2)).
    public static func inverse(_ a: UInt64) -> UInt64 {
        precondition(a != 0 && a < modulus, "zero has no inverse")
        return power(a, modulus - 2)
    }
}
