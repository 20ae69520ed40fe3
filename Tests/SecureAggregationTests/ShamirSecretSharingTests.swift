import Mechanisms
import Testing
@testable import SecureAggregation

/// Shamir sharing over GF(2^61 − 1): known answers computed here with plain 128-bit arithmetic,
/// reconstruction from any t shares, refusal below t and of tampered sets.
@Suite("Shamir secret sharing")
struct ShamirSecretSharingTests {
    static let p = UInt128((1 << 61) - 1)

    /// Reference evaluation with 128-bit remainders, independent of the field's Mersenne reduction.
    static func referenceEvaluate(_ coefficients: [UInt64], at x: UInt64) -> UInt64 {
        var result = UInt128(0), power = UInt128(1)
        for c in coefficients {
            result = (result + UInt128(c) * power) % p
            power = power * UInt128(x) % p
        }
        return UInt64(result)
    }

    @Test("Field arithmetic matches 128-bit remainders, including values next to p")
    func fieldKnownAnswers() {
        var source = InsecureSeededRandomSource(seed: 1)
        let edge: [UInt64] = [0, 1, 2, MersenneField.modulus - 1, MersenneField.modulus - 2, 1 << 60]
        let values = edge + (0..<200).map { _ in source.uniform(below: MersenneField.modulus) }
        for a in values {
            for b in values.prefix(20) {
                #expect(MersenneField.multiply(a, b) == UInt64(UInt128(a) * UInt128(b) % Self.p))
                #expect(MersenneField.add(a, b) == UInt64((UInt128(a) + UInt128(b)) % Self.p))
                #expect(MersenneField.subtract(a, b) == UInt64((UInt128(a) + Self.p - UInt128(b)) % Self.p))
            }
            if a != 0 { #expect(MersenneField.multiply(a, MersenneField.inverse(a)) == 1) }
        }
    }

    @Test("Shares of f(x) = 1234 + 166x + 94x² and their interpolation at 0")
    func smallKnownAnswer() throws {
        // f(1..6) by hand: 1494, 1942, 2578, 3402, 4414, 5614.
        let shares = ShamirSecretSharing.shares(coefficients: [[1234, 166, 94], [0], [0], [0], [0]], points: [1, 2, 3, 4, 5, 6])
        #expect(shares.map { $0.values[0] } == [1494, 1942, 2578, 3402, 4414, 5614])
        let secret = try ShamirSecretSharing.reconstruct([shares[1], shares[3], shares[4]], threshold: 3)
        #expect(secret == [0, 0, 0, 0, 0, 0x04, 0xD2] + [UInt8](repeating: 0, count: 25))
    }

    @Test("Shares of random polynomials equal a reference evaluation")
    func randomKnownAnswers() throws {
        var source = InsecureSeededRandomSource(seed: 2)
        let secret = (0..<32).map { _ in UInt8(truncatingIfNeeded: source.next()) }
        let points: [UInt32] = [1, 7, 100, 4_000_000_000]
        // Replay the generator to get the coefficients `share` draws, then evaluate independently.
        var replay = InsecureSeededRandomSource(seed: 2)
        for _ in 0..<32 { _ = replay.next() }
        let shares = try ShamirSecretSharing.share(secret, threshold: 3, points: points, using: &source)
        let pieces = ShamirSecretSharing.split(secret)
        #expect(pieces[0] == secret[0..<7].reduce(0) { $0 << 8 | UInt64($1) })
        for (index, piece) in pieces.enumerated() {
            let coefficients = [piece, replay.uniform(below: MersenneField.modulus), replay.uniform(below: MersenneField.modulus)]
            for share in shares {
                #expect(share.values[index] == Self.referenceEvaluate(coefficients, at: UInt64(share.x)))
            }
        }
    }

    @Test("Any t of n shares reconstruct the secret (random subsets, fixed seed)")
    func reconstructAtThreshold() throws {
        var source = InsecureSeededRandomSource(seed: 3)
        for (n, t) in [(5, 3), (10, 4), (23, 12), (40, 21)] {
            for _ in 0..<10 {
                let secret = KeyDerivation.randomBytes(32, using: &source)
                let points = (1...n).map(UInt32.init)
                let shares = try ShamirSecretSharing.share(secret, threshold: t, points: points, using: &source)
                var subset = shares
                subset.shuffle(using: &source)
                #expect(try ShamirSecretSharing.reconstruct(Array(subset.prefix(t)), threshold: t) == secret)
                #expect(try ShamirSecretSharing.reconstruct(subset, threshold: t) == secret)
            }
        }
    }

    @Test("Below t: refused, and t − 1 shares interpolated as if enough give a wrong secret")
    func belowThreshold() throws {
        var source = InsecureSeededRandomSource(seed: 4)
        let secret = KeyDerivation.randomBytes(32, using: &source)
        let shares = try ShamirSecretSharing.share(secret, threshold: 5, points: Array(1...9), using: &source)
        #expect(throws: VeilError.self) { try ShamirSecretSharing.reconstruct(Array(shares.prefix(4)), threshold: 5) }
        // Four shares of a degree-4 polynomial define another polynomial of degree 3: not the secret
        // (or no valid secret at all); equality has probability about 2^-280.
        let wrong = try? ShamirSecretSharing.reconstruct(Array(shares.prefix(4)), threshold: 4)
        #expect(wrong != secret)
    }

    @Test("Tampered, repeated and malformed shares are refused")
    func tampering() throws {
        var source = InsecureSeededRandomSource(seed: 5)
        let secret = KeyDerivation.randomBytes(32, using: &source)
        let shares = try ShamirSecretSharing.share(secret, threshold: 3, points: [1, 2, 3, 4, 5], using: &source)
        var tampered = shares
        var values = tampered[2].values
        values[1] = MersenneField.add(values[1], 1)
        tampered[2] = SecretShare(x: tampered[2].x, values: values)
        // With a spare share the inconsistency is detected wherever the tampered share sits.
        for order in [[0, 1, 2, 3], [2, 0, 1, 4], [0, 1, 4, 2]] {
            #expect(throws: VeilError.self) { try ShamirSecretSharing.reconstruct(order.map { tampered[$0] }, threshold: 3) }
        }
        // With exactly t shares it cannot be detected in general, but the result is never the secret.
        let result = try? ShamirSecretSharing.reconstruct([tampered[0], tampered[1], tampered[2]], threshold: 3)
        #expect(result != secret)
        #expect(throws: VeilError.self) { try ShamirSecretSharing.reconstruct([shares[0], shares[0], shares[1]], threshold: 3) }
        #expect(throws: VeilError.self) {
            try ShamirSecretSharing.reconstruct([shares[0], shares[1], SecretShare(x: 3, values: [MersenneField.modulus, 0, 0, 0, 0])], threshold: 3)
        }
        #expect(throws: VeilError.self) { try ShamirSecretSharing.share(secret, threshold: 6, points: [1, 2, 3, 4, 5], using: &source) }
        #expect(throws: VeilError.self) { try ShamirSecretSharing.share(secret, threshold: 2, points: [0, 1], using: &source) }
    }
}
