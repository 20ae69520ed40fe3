#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Element-wise maps have no BLAS routine; they run as passes over contiguous storage, split across
// the cores (``ParallelSlices``) when the matrix is large. Each entry depends on its own inputs
// only, so the results do not depend on the number of threads.

extension Matrix {
    /// Entries per thread below which an element-wise map runs on one thread.
    static let elementsPerSlice = 1 << 15

    /// `max(0, x)` for every entry (a NaN entry stays NaN).
    public func relu() -> Matrix {
        var result = self
        result.storage.withUnsafeMutableBufferPointer { p in
            ParallelSlices.run(p.count, minimumItems: Self.elementsPerSlice) { range in
                Self.zeroLanes(of: UnsafeMutableBufferPointer(rebasing: p[range]), where: UnsafeBufferPointer(rebasing: p[range]),
                               .lessThanZero)
            }
        }
        return result
    }

    /// The backward pass of ``relu()``: `gradient · 1[input > 0]` (`self` is the gradient).
    public func reluBackward(input: Matrix) -> Matrix {
        precondition(input.count == count, "reluBackward: shape mismatch")
        var result = self
        input.storage.withUnsafeBufferPointer { x in
            result.storage.withUnsafeMutableBufferPointer { g in
                ParallelSlices.run(g.count, minimumItems: Self.elementsPerSlice) { range in
                    Self.zeroLanes(of: UnsafeMutableBufferPointer(rebasing: g[range]), where: UnsafeBufferPointer(rebasing: x[range]),
                                   .atMostZero)
                }
            }
        }
        return result
    }

    /// `tanh(x)` for every entry, by ``TanhKernel`` (within 10⁻⁶ of the exact value, |tanh| ≤ 1, NaN stays NaN).
    public func tanh() -> Matrix {
        var result = Matrix(uninitializedRows: rows, columns: columns)  // every entry written below
        storage.withUnsafeBufferPointer { x in
            result.storage.withUnsafeMutableBufferPointer { y in
                ParallelSlices.run(y.count, minimumItems: Self.elementsPerSlice) { range in
                    TanhKernel.apply(x.baseAddress! + range.lowerBound, into: y.baseAddress! + range.lowerBound,
                                     count: range.count)
                }
            }
        }
        return result
    }

    /// The backward pass of ``tanh()``: `gradient · (1 − y²)` where `y` is the forward output
    /// (`self` is the gradient).
    public func tanhBackward(output: Matrix) -> Matrix {
        precondition(output.count == count, "tanhBackward: shape mismatch")
        var result = Matrix(uninitializedRows: rows, columns: columns)  // every entry written below
        storage.withUnsafeBufferPointer { g in
            output.storage.withUnsafeBufferPointer { y in
                result.storage.withUnsafeMutableBufferPointer { r in
                    ParallelSlices.run(r.count, minimumItems: Self.elementsPerSlice) { range in
                        for i in range { r[i] = g[i] * (1 - y[i] * y[i]) }
                    }
                }
            }
        }
        return result
    }

    /// Row-wise softmax, computed stably (the row maximum is subtracted before `exp`).
    public func softmaxRows() -> Matrix {
        var result = self
        let n = columns
        result.storage.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                let row = p.baseAddress! + r * n
                var m = -Float.infinity
                for j in 0..<n { m = Swift.max(m, row[j]) }
                var sum: Float = 0
                for j in 0..<n {
                    row[j] = expf(row[j] - m)
                    sum += row[j]
                }
                let inverse = 1 / sum
                for j in 0..<n { row[j] *= inverse }
            }
        }
        return result
    }
}

extension Matrix {
    /// Which entries of the mask ``zeroLanes(of:where:_:)`` sets to zero: `x < 0` (ReLU; a NaN stays) or `x ≤ 0`
    /// (ReLU's gradient; a NaN input keeps its gradient).
    enum ZeroCondition {
        case lessThanZero, atMostZero
    }

    /// `values[i] = 0` wherever `mask[i]` meets `condition` (`values` and `mask` may be the same memory), eight
    /// lanes at a time by lane-wise selection: a branch per value is mispredicted about half the time on
    /// activations of either sign.
    static func zeroLanes(of values: UnsafeMutableBufferPointer<Float>, where mask: UnsafeBufferPointer<Float>,
                          _ condition: ZeroCondition) {
        precondition(values.count == mask.count, "zeroLanes: \(values.count) values, \(mask.count) mask entries")
        let n = values.count
        guard n > 0 else { return }
        let to = UnsafeMutableRawPointer(values.baseAddress!), from = UnsafeRawPointer(mask.baseAddress!)
        let zero = SIMD8<Float>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let m = from.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let v = to.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            let zeroed = condition == .lessThanZero ? m .< zero : m .<= zero
            to.storeBytes(of: v.replacing(with: 0, where: zeroed), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n {
            if condition == .lessThanZero ? mask[i] < 0 : mask[i] <= 0 { values[i] = 0 }
            i += 1
        }
    }
}
