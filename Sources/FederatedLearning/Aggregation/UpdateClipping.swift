import LinearAlgebra
import PrivateTraining

/// Bounds one client's update to L2 norm C (McMahan et al. 2018, Algorithm 1, ClipFn): `Δ · min(1, C/‖Δ‖)`.
///
/// The factor is ``PerExampleClipping/factor(squaredNorm:clipNorm:)``, so an update whose norm is not a finite
/// number (a NaN or an infinity anywhere in it) is zeroed rather than entering the sum unclipped
/// (docs/design.md §2 rule 8): a single adversarial client cannot switch off the bound.
public enum UpdateClipping {
    /// A clipped update and the norm it had.
    public struct Clipped: Sendable {
        /// The update scaled to norm ≤ C (all zeros when its norm was not finite).
        public var update: [Float]
        /// ‖Δ‖ before clipping, `nil` when it was not finite.
        public var norm: Double?
    }

    /// Clips `update` to norm `clipNorm`.
    public static func clip(_ update: [Float], clipNorm: Double) -> Clipped {
        // In Double so that a long vector of large but finite values is not mistaken for an infinite norm.
        var squared = 0.0
        for v in update { squared += Double(v) * Double(v) }
        // NaN, an infinity, or a norm beyond Float's range: factor 0, the update is zeroed.
        let factor = PerExampleClipping.factor(squaredNorm: Float(squared), clipNorm: Float(clipNorm))
        guard factor > 0 else {
            return Clipped(update: [Float](repeating: 0, count: update.count), norm: nil)
        }
        var clipped = update
        if factor < 1 { Vector.scale(&clipped, by: factor) }
        return Clipped(update: clipped, norm: squared.squareRoot())
    }
}
