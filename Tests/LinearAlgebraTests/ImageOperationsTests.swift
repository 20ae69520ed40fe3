import LinearAlgebra
import Testing

@Suite("im2col and pooling against their definitions")
struct ImageOperationsTests {
    /// Pixel values with repeats (ties) so that the first-maximum rule of max pooling is exercised.
    private func images(_ batch: Int, _ shape: ImageShape) -> Matrix {
        Matrix(rows: batch, columns: shape.count,
               storage: (0..<(batch * shape.count)).map { Float(($0 * 5 + 2) % 7) - 3 })
    }

    @Test("im2col equals the patch-by-patch definition, inside the image and on the zero padding",
          arguments: [(1, 8, 2, 3), (2, 3, 2, 1), (3, 2, 1, 0), (2, 2, 3, 3), (1, 2, 1, 3)])
    func im2colDefinition(channels: Int, kernel: Int, stride: Int, padding: Int) {
        let shape = ImageShape(height: 9, width: 7, channels: channels)
        let geometry = WindowGeometry(input: shape, kernel: kernel, stride: stride, padding: padding)
        let x = images(2, shape)
        let cols = x.imageToColumns(geometry)
        for b in 0..<2 {
            for oy in 0..<geometry.outputHeight {
                for ox in 0..<geometry.outputWidth {
                    let row = (b * geometry.outputHeight + oy) * geometry.outputWidth + ox
                    for ky in 0..<kernel {
                        for kx in 0..<kernel {
                            for ch in 0..<channels {
                                let iy = oy * stride - padding + ky, ix = ox * stride - padding + kx
                                let inside = iy >= 0 && iy < shape.height && ix >= 0 && ix < shape.width
                                let expected = inside ? x[b, (iy * shape.width + ix) * channels + ch] : 0
                                #expect(cols[row, (ky * kernel + kx) * channels + ch] == expected)
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("max pooling takes each channel's first maximum in row order; a NaN first pixel stays (channels taken eight at a time and one by one)",
          arguments: [3, 8, 19])
    func maxPoolDefinition(channels: Int) {
        let shape = ImageShape(height: 5, width: 6, channels: channels)
        let geometry = WindowGeometry(input: shape, kernel: 2, stride: 1, padding: 0)
        var x = images(2, shape)
        x[1, 0] = .nan
        // A NaN inside the image: never a later pixel's replacement, the first pixel of one window.
        x[0, (2 * shape.width + 3) * channels + channels / 2] = .nan
        let (y, argmax) = x.maxPool(geometry)
        #expect(y[1, 0].isNaN && argmax[y.columns] == 0)
        for b in 0..<2 {
            for oy in 0..<geometry.outputHeight {
                for ox in 0..<geometry.outputWidth {
                    for ch in 0..<channels {
                        var best = -Float.infinity, bestIndex = -1
                        for ky in 0..<2 {
                            for kx in 0..<2 {
                                let index = ((oy + ky) * shape.width + ox + kx) * channels + ch
                                if bestIndex < 0 || x[b, index] > best { best = x[b, index]; bestIndex = index }
                            }
                        }
                        let o = (oy * geometry.outputWidth + ox) * channels + ch
                        if !best.isNaN { #expect(y[b, o] == best) }
                        #expect(Int(argmax[b * y.columns + o]) == bestIndex)
                    }
                }
            }
        }
    }
}
