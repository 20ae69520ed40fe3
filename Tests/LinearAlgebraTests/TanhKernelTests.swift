import LinearAlgebra
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Vectorised tanh")
struct TanhKernelTests {
    @Test("within 1e-6 of the exact tanh on [-20, 20] in steps of 1/1024, never above 1 in magnitude, odd")
    func accuracy() {
        let values = (-20_480...20_480).map { Float($0) / 1024 }
        var y = values
        y.withUnsafeMutableBufferPointer { TanhKernel.apply($0) }
        var worst: Float = 0
        for (x, t) in zip(values, y) { worst = max(worst, abs(t - Float(Glibc.tanh(Double(x))))) }
        #expect(worst <= 1e-6)
        #expect(y.allSatisfy { abs($0) <= 1 })
        #expect((0..<values.count).allSatisfy { y[values.count - 1 - $0] == -y[$0] }, "tanh is odd")
    }

    @Test("known values: 0, -0, small inputs returned as they are, ±Inf to ±1 within 1e-6, NaN stays NaN")
    func specialValues() {
        var v: [Float] = [0, -0.0, 1e-5, -3e-4, .infinity, -.infinity, .nan, 0.5, 1]
        v.withUnsafeMutableBufferPointer { TanhKernel.apply($0) }
        #expect(v[0] == 0 && v[1] == 0 && v[1].sign == .minus)
        #expect(v[2] == 1e-5 && v[3] == -3e-4)
        #expect(abs(v[4] - 1) <= 1e-6 && abs(v[5] + 1) <= 1e-6)
        #expect(v[6].isNaN)
        #expect(abs(v[7] - 0.46211715726) <= 1e-6 && abs(v[8] - 0.76159415596) <= 1e-6)
    }

    @Test("every length from 0 to 20 (the 8-wide body and the tail) gives the value of each entry alone",
          arguments: 0...20)
    func lengths(n: Int) {
        let values = (0..<n).map { Float($0) * 0.37 - 3 }
        var all = values
        all.withUnsafeMutableBufferPointer { TanhKernel.apply($0) }
        for i in 0..<n {
            var one = [values[i]]
            one.withUnsafeMutableBufferPointer { TanhKernel.apply($0) }
            #expect(all[i] == one[0], "entry \(i) of \(n)")
        }
    }
}
