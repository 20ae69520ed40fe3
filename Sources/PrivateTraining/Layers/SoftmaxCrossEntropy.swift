import LinearAlgebra

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Softmax cross-entropy loss of logits against integer class labels.
public enum SoftmaxCrossEntropy {
    /// Each example's loss `−log softmax(zᵢ)[yᵢ]` and the gradient of the *sum* of the losses
    /// with respect to the logits, `softmax(zᵢ) − onehot(yᵢ)` per row.
    /// - Parameters:
    ///   - logits: `B × classes`.
    ///   - labels: `B` labels in `0 ..< classes`.
    public static func lossAndGradient(logits: Matrix, labels: ArraySlice<Int32>) -> (losses: [Float], gradient: Matrix) {
        precondition(labels.count == logits.rows, "one label per row")
        var p = logits.softmaxRows()
        var losses = [Float](repeating: 0, count: logits.rows)
        let n = logits.columns
        for (r, label) in labels.enumerated() {
            let index = r * n + Int(label)
            losses[r] = -logf(max(p.storage[index], Float.leastNormalMagnitude))
            p.storage[index] -= 1
        }
        return (losses, p)
    }

    /// The predicted class of each row (the index of its largest logit).
    public static func predictions(logits: Matrix) -> [Int32] {
        (0..<logits.rows).map { r in
            var best = 0
            for j in 1..<max(1, logits.columns) where logits[r, j] > logits[r, best] { best = j }
            return Int32(best)
        }
    }
}
