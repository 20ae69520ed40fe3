import Mechanisms

/// The allowed range of every number a training run takes from a pipeline file or a flag.
///
/// Each is checked before any data is read or any budget reserved, with one message naming the
/// setting and its range, so that no value can make a conversion trap, an allocation abort or a
/// loop run without end. The ranges are generous for the models Veil trains; a setting outside
/// them is almost certainly a typo.
public enum TrainingLimits {
    /// Number of classes.
    public static let classes = 2...65_536
    /// The declared number of training examples `N` (and `limit`).
    public static let datasetSize = 1...1_000_000_000
    /// Passes over the data.
    public static let epochs = 1...1_000_000
    /// The largest physical batch.
    public static let maximumPhysicalBatchSize = 1...65_536
    /// Steps of one run, `⌈epochs · N / expected batch size⌉`.
    public static let steps = 1...10_000_000
    /// Width of one hidden dense layer.
    public static let hiddenWidth = 1...1_048_576
    /// Number of hidden layers of an MLP.
    public static let hiddenLayers = 0...64
    /// Upper bound of real-valued settings (learning rate, clip norm, noise multiplier, ε).
    public static let largestReal = 1e6

    /// Checks that `value` lies in `range`.
    /// - Throws: `VeilError.invalidParameter` naming `name` and the range.
    public static func check(_ value: Int, in range: ClosedRange<Int>, name: String) throws {
        guard range.contains(value) else {
            throw VeilError.invalidParameter(name, value, allowed: "an integer in \(range.lowerBound)...\(range.upperBound)")
        }
    }

    /// Checks that `value` is finite, > 0 and at most ``largestReal``.
    /// - Throws: `VeilError.invalidParameter` naming `name` and the range.
    public static func checkPositive(_ value: Double, name: String) throws {
        guard value.isFinite, value > 0, value <= largestReal else {
            throw VeilError.invalidParameter(name, value, allowed: "a number in (0, \(Int(largestReal))]")
        }
    }
}
