import Mechanisms

/// One holder's share of a 32-byte secret: the holder's evaluation point `x` (≥ 1) and the value of
/// each piece's polynomial at `x`.
public struct SecretShare: Hashable, Sendable, Codable {
    /// The evaluation point, 1 ... 2^32 − 1 (0 is where the secret sits).
    public let x: UInt32
    /// One field element per piece of the secret (``ShamirSecretSharing/pieceCount``), each < p.
    public let values: [UInt64]

    public init(x: UInt32, values: [UInt64]) {
        self.x = x
        self.values = values
    }

    /// Encoded length in bytes: 4 for x, 8 per piece.
    public static let encodedCount = 4 + 8 * ShamirSecretSharing.pieceCount
}

/// Shamir's t-of-n secret sharing (Shamir 1979, "How to Share a Secret") of 32-byte secrets over
/// GF(2^61 − 1) (``MersenneField``).
///
/// The secret is cut into pieces of 7, 7, 7, 7 and 4 bytes (big-endian), each below 2^56 < p; piece
/// `i` is the constant term of its own polynomial of degree t − 1 with uniformly random other
/// coefficients, and holder `x` receives every polynomial's value at `x`. Any t shares determine each
/// polynomial by Lagrange interpolation at 0; any t − 1 shares are uniformly distributed whatever the
/// secret, so they say nothing about it.
///
/// Tampering: with more than t shares, ``reconstruct(_:threshold:)`` checks that every share lies on
/// the polynomial of the first t and refuses inconsistent sets. With exactly t shares a tampered share
/// changes the result undetectably, except that a reconstructed piece outside its byte range (which
/// a random error causes with probability 1 − 2^−5 per piece) is refused.
public enum ShamirSecretSharing {
    /// Bytes in a secret.
    public static let secretCount = 32
    /// Byte lengths of the pieces a secret is cut into.
    static let pieceLengths = [7, 7, 7, 7, 4]
    /// Pieces per secret.
    public static let pieceCount = 5

    /// Shares `secret` (32 bytes) among holders with evaluation points `points` so that any
    /// `threshold` of them reconstruct it.
    ///
    /// - Throws: ``VeilError`` (`invalid_parameter`) for a secret of the wrong length, a threshold outside
    ///   1 ... points.count, or points that are zero or repeated.
    public static func share<R: RandomSource>(
        _ secret: [UInt8], threshold: Int, points: [UInt32], using source: inout R
    ) throws -> [SecretShare] {
        try checkSharing(secret, threshold: threshold, points: points)
        let pieces = split(secret)
        var coefficients: [[UInt64]] = []
        coefficients.reserveCapacity(pieceCount)
        for piece in pieces {
            var row = [piece]
            for _ in 1..<threshold { row.append(source.uniform(below: MersenneField.modulus)) }
            coefficients.append(row)
        }
        return shares(coefficients: coefficients, points: points)
    }

    /// The shares of the polynomials with the given coefficients (constant term first), one row per piece.
    static func shares(coefficients: [[UInt64]], points: [UInt32]) -> [SecretShare] {
        points.map { x in
            SecretShare(x: x, values: coefficients.map { evaluate($0, at: UInt64(x)) })
        }
    }

    /// Horner evaluation of a polynomial (constant term first) at x.
    static func evaluate(_ coefficients: [UInt64], at x: UInt64) -> UInt64 {
        var result: UInt64 = 0
        for c in coefficients.reversed() {
            result = MersenneField.add(MersenneField.multiply(result, x), c)
        }
        return result
    }

    /// Reconstructs the secret from at least `threshold` shares.
    ///
    /// - Throws: ``VeilError`` (`shares_refused`) with fewer than `threshold` shares, repeated or zero
    ///   points, values outside the field, shares that do not lie on one polynomial of degree
    ///   threshold − 1, or a result that is not a valid encoding of 32 bytes.
    public static func reconstruct(_ shares: [SecretShare], threshold: Int) throws -> [UInt8] {
        guard threshold >= 1 else {
            throw VeilError.invalidParameter("threshold", threshold, allowed: "an integer ≥ 1")
        }
        guard shares.count >= threshold else {
            throw VeilError(.sharesRefused, "\(shares.count) shares cannot reconstruct a secret shared with threshold \(threshold)")
        }
        var seen = Set<UInt32>()
        for share in shares {
            guard share.x != 0, seen.insert(share.x).inserted else {
                throw VeilError(.sharesRefused, "share point \(share.x) is zero or repeated")
            }
            guard share.values.count == pieceCount, share.values.allSatisfy({ $0 < MersenneField.modulus }) else {
                throw VeilError(.sharesRefused, "share at point \(share.x) is not \(pieceCount) field elements below 2^61 − 1")
            }
        }
        let basis = Array(shares.prefix(threshold))
        let points = basis.map { UInt64($0.x) }
        // Every further share must lie on the interpolating polynomials of the first `threshold`.
        for extra in shares.dropFirst(threshold) {
            let weights = lagrangeWeights(points: points, at: UInt64(extra.x))
            for piece in 0..<pieceCount where combine(basis, piece: piece, weights: weights) != extra.values[piece] {
                throw VeilError(.sharesRefused, "share at point \(extra.x) is inconsistent with the others: tampered or from another secret")
            }
        }
        let weights = lagrangeWeights(points: points, at: 0)
        var secret: [UInt8] = []
        secret.reserveCapacity(secretCount)
        for (piece, length) in pieceLengths.enumerated() {
            let value = combine(basis, piece: piece, weights: weights)
            guard value >> (8 * UInt64(length)) == 0 else {
                throw VeilError(.sharesRefused, "the shares do not reconstruct a valid secret: tampered, too few, or from different secrets")
            }
            for byte in (0..<length).reversed() { secret.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte)))) }
        }
        return secret
    }

    /// Σ_j weights[j] · shares[j].values[piece].
    static func combine(_ shares: [SecretShare], piece: Int, weights: [UInt64]) -> UInt64 {
        var sum: UInt64 = 0
        for (share, weight) in zip(shares, weights) {
            sum = MersenneField.add(sum, MersenneField.multiply(share.values[piece], weight))
        }
        return sum
    }

    /// The Lagrange basis values ℓ_j(target) = Π_{m≠j} (target − x_m)/(x_j − x_m) for distinct points.
    static func lagrangeWeights(points: [UInt64], at target: UInt64) -> [UInt64] {
        points.indices.map { j in
            var numerator: UInt64 = 1, denominator: UInt64 = 1
            for m in points.indices where m != j {
                numerator = MersenneField.multiply(numerator, MersenneField.subtract(target, points[m]))
                denominator = MersenneField.multiply(denominator, MersenneField.subtract(points[j], points[m]))
            }
            return MersenneField.multiply(numerator, MersenneField.inverse(denominator))
        }
    }

    /// The secret's pieces, big-endian, as field elements.
    static func split(_ secret: [UInt8]) -> [UInt64] {
        var pieces: [UInt64] = []
        var offset = 0
        for length in pieceLengths {
            var value: UInt64 = 0
            for byte in secret[offset..<(offset + length)] { value = value << 8 | UInt64(byte) }
            pieces.append(value)
            offset += length
        }
        return pieces
    }

    static func checkSharing(_ secret: [UInt8], threshold: Int, points: [UInt32]) throws {
        guard secret.count == secretCount else {
            throw VeilError.invalidParameter("secret length", secret.count, allowed: "\(secretCount) bytes")
        }
        guard threshold >= 1, threshold <= points.count else {
            throw VeilError.invalidParameter("threshold", threshold, allowed: "in 1 ... \(points.count) (the number of holders)")
        }
        guard !points.contains(0), Set(points).count == points.count else {
            throw VeilError.invalidParameter("share points", points, allowed: "distinct and non-zero")
        }
    }
}
