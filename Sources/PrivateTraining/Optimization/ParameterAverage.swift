import LinearAlgebra

/// An exponential moving average of the parameters over the training steps, released instead of the
/// last iterate.
///
/// Averaging the iterates smooths out the noise that DP-SGD adds at every step; De et al. 2022
/// ("Unlocking High-Accuracy Differentially Private Image Classification through Scale", §3.2) report it
/// among the changes that raise DP-SGD's accuracy. It is post-processing of the noisy iterates, so it
/// costs no privacy. After step `t` the average moves towards the parameters by `1 − β_t` with
/// `β_t = min(β, (1 + t)/(10 + t))`, the warm-up of TensorFlow's `ExponentialMovingAverage`, so that the
/// random initial parameters are forgotten within the first steps whatever β.
struct ParameterAverage {
    /// β ∈ [0, 1).
    let decay: Double
    /// The average so far.
    private(set) var parameters: [Matrix]
    private var updates = 0

    /// An average that starts at `initial`.
    init(decay: Double, initial: [Matrix]) {
        self.decay = decay
        parameters = initial
    }

    /// The privacy card's note.
    var cardNote: String {
        "released parameters: exponential moving average of the iterates (β = \(decay), warm-up min(β, (1 + t)/(10 + t))); "
            + "post-processing, no privacy cost"
    }

    /// Moves the average towards the parameters after one more step.
    mutating func update(with current: [Matrix]) {
        updates += 1
        let beta = Float(min(decay, Double(1 + updates) / Double(10 + updates)))
        for i in parameters.indices {
            parameters[i].scale(by: beta)
            parameters[i].add(current[i], scaledBy: 1 - beta)
        }
    }
}
