/// Which of the two neighbouring inputs a run used.
public enum NeighbouringInput: String, Sendable, Hashable, Codable, CaseIterable {
    /// The dataset `D`.
    case original
    /// The dataset `D'`, one privacy unit away from `D`.
    case neighbour

    /// The other input.
    public var other: NeighbouringInput { self == .original ? .neighbour : .original }
}

/// An output event over a scalar statistic of the output: `{x ≥ t}` or `{x ≤ t}`.
///
/// DP-Sniper (Bichsel, Steffen, Bogunovic, Vechev 2021, "DP-Sniper: Black-Box Discovery of Differential
/// Privacy Violations using Classifiers", IEEE S&P) searches threshold events over a score of the output;
/// here the score is a statistic the audit target chooses (the released number, the selected index, the
/// position of the first positive answer), and both directions are tried.
public struct ThresholdEvent: Sendable, Hashable, Codable {
    /// The direction of the comparison.
    public enum Direction: String, Sendable, Hashable, Codable {
        /// `x ≥ threshold`.
        case atLeast
        /// `x ≤ threshold`.
        case atMost
    }

    /// The threshold `t`.
    public let threshold: Double
    /// `≥` or `≤`.
    public let direction: Direction
    /// The input on which the event is the more likely (`D` in `P[M(D) ∈ S] ≤ e^ε P[M(D') ∈ S] + δ`).
    public let favoured: NeighbouringInput

    /// Creates an event.
    public init(threshold: Double, direction: Direction, favoured: NeighbouringInput) {
        self.threshold = threshold
        self.direction = direction
        self.favoured = favoured
    }

    /// Whether `x` is in the event. NaN is in no event.
    public func contains(_ x: Double) -> Bool {
        switch direction {
        case .atLeast: x >= threshold
        case .atMost: x <= threshold
        }
    }

    /// The event as text, e.g. `x ≥ 3 (more likely on original)`.
    public var description: String {
        "x \(direction == .atLeast ? "≥" : "≤") \(threshold.formatted()) (more likely on \(favoured.rawValue))"
    }
}

extension Double {
    /// The shortest text that reads back as this number, without a trailing `.0` for integers.
    func formatted() -> String {
        if self == rounded(), magnitude < 1e15 { return String(Int64(self)) }
        return String(self)
    }
}
