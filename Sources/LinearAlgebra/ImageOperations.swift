/// The shape of one image in a batch: height × width × channels, stored channel-minor
/// (`(y · width + x) · channels + c`), so a batch of images is a matrix with one image per row.
public struct ImageShape: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Rows of pixels.
    public let height: Int
    /// Columns of pixels.
    public let width: Int
    /// Values per pixel.
    public let channels: Int

    /// An image shape; every dimension must be ≥ 1.
    public init(height: Int, width: Int, channels: Int) {
        precondition(height >= 1 && width >= 1 && channels >= 1, "image dimensions must be ≥ 1")
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// Values per image (`height · width · channels`).
    public var count: Int { height * width * channels }
    /// Pixel positions per image (`height · width`).
    public var positions: Int { height * width }
    public var description: String { "\(height)x\(width)x\(channels)" }
}

/// The geometry of a sliding window (a convolution kernel or a pooling window) over an image.
public struct WindowGeometry: Sendable, Hashable {
    /// The input image shape.
    public let input: ImageShape
    /// Window height and width.
    public let kernel: Int
    /// Step between windows.
    public let stride: Int
    /// Zero padding on each border.
    public let padding: Int
    /// Output height: `(height + 2·padding − kernel) / stride + 1`.
    public let outputHeight: Int
    /// Output width.
    public let outputWidth: Int

    /// A window geometry; throws-free, traps on a window that does not fit (validated by callers).
    public init(input: ImageShape, kernel: Int, stride: Int, padding: Int) {
        precondition(kernel >= 1 && stride >= 1 && padding >= 0)
        precondition(input.height + 2 * padding >= kernel && input.width + 2 * padding >= kernel,
                     "window \(kernel) does not fit input \(input) with padding \(padding)")
        self.input = input
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        outputHeight = (input.height + 2 * padding - kernel) / stride + 1
        outputWidth = (input.width + 2 * padding - kernel) / stride + 1
    }

    /// Output positions per image.
    public var outputPositions: Int { outputHeight * outputWidth }
    /// Length of one unrolled patch (`kernel² · channels`), ordered by kernel row, column, channel.
    public var patchLength: Int { kernel * kernel * input.channels }
}

// MARK: - im2col / col2im

extension Matrix {
    /// Unrolls every window of every image into a row ("im2col"): the result has
    /// `batch · outputPositions` rows of `patchLength` values, so a convolution is one `sgemm`.
    /// - Parameter geometry: the window geometry; `columns` must equal `geometry.input.count`.
    public func imageToColumns(_ geometry: WindowGeometry) -> Matrix {
        precondition(columns == geometry.input.count, "im2col: image size mismatch")
        let (h, w, c) = (geometry.input.height, geometry.input.width, geometry.input.channels)
        let (k, s, pad) = (geometry.kernel, geometry.stride, geometry.padding)
        let (oh, ow) = (geometry.outputHeight, geometry.outputWidth)
        let patch = geometry.patchLength
        // Every entry is written below (the padding with zeros), so no zero fill first.
        var result = Matrix(uninitializedRows: rows * oh * ow, columns: patch)
        let imageCount = columns
        let batch = rows
        let windowRow = k * c
        // Output column ox's window rows all have the same horizontal layout: `before` zeros (left
        // padding), `inside` contiguous values from pixel column ox·s − pad + before, then zeros.
        let spans = (0..<ow).map { ox -> (before: Int, inside: Int, source: Int) in
            let ix0 = ox * s - pad
            let first = Swift.min(k, Swift.max(0, -ix0))
            let end = Swift.max(first, Swift.min(k, w - ix0))
            return (first * c, (end - first) * c, (ix0 + first) * c)
        }
        storage.withUnsafeBufferPointer { src in
            result.storage.withUnsafeMutableBufferPointer { dst in
                guard let s0 = src.baseAddress, let d0 = dst.baseAddress else { return }
                // Each image's rows are written from that image alone: the images split across threads.
                ParallelSlices.run(batch) { images in
                for b in images {
                    let image = s0 + b * imageCount
                    for oy in 0..<oh {
                        // The window rows inside the image: ky in firstRow ..< endRow.
                        let iy0 = oy * s - pad
                        let firstRow = Swift.min(k, Swift.max(0, -iy0))
                        let endRow = Swift.max(firstRow, Swift.min(k, h - iy0))
                        for ox in 0..<ow {
                            let span = spans[ox]
                            let after = windowRow &- span.before &- span.inside
                            var out = d0 + ((b * oh + oy) * ow + ox) * patch
                            Self.setShort(out, toZeroCount: firstRow &* windowRow)
                            out += firstRow &* windowRow
                            var from = image + ((iy0 &+ firstRow) &* w &* c &+ span.source)
                            for _ in firstRow..<endRow {
                                Self.setShort(out, toZeroCount: span.before)
                                Self.copyShort(out + span.before, from: from, count: span.inside)
                                Self.setShort(out + (span.before &+ span.inside), toZeroCount: after)
                                out += windowRow
                                from += w &* c
                            }
                            Self.setShort(out, toZeroCount: (k &- endRow) &* windowRow)
                        }
                    }
                }
                }
            }
        }
        return result
    }

    /// Runs of at most this many values are moved by vector instructions inline rather than by a call to
    /// `memmove`/`memset`: a window row of a single-channel image is 8 values for an 8×8 kernel, where
    /// the calls took half of im2col's time.
    private static let shortRun = 32

    /// Copies `count` values from `source` to `destination` (not overlapping).
    @inline(__always)
    private static func copyShort(_ destination: UnsafeMutablePointer<Float>, from source: UnsafePointer<Float>,
                                  count: Int) {
        guard count <= shortRun else {
            destination.update(from: source, count: count)
            return
        }
        var i = 0
        while i + 8 <= count {
            UnsafeMutableRawPointer(destination + i).storeBytes(
                of: UnsafeRawPointer(source + i).loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            destination[i] = source[i]
            i += 1
        }
    }

    /// Sets `count` values at `destination` to zero.
    @inline(__always)
    private static func setShort(_ destination: UnsafeMutablePointer<Float>, toZeroCount count: Int) {
        guard count <= shortRun else {
            destination.update(repeating: 0, count: count)
            return
        }
        var i = 0
        while i + 8 <= count {
            UnsafeMutableRawPointer(destination + i).storeBytes(of: SIMD8<Float>(), as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            destination[i] = 0
            i += 1
        }
    }

    /// The adjoint of ``imageToColumns(_:)`` ("col2im"): adds every patch value back to the
    /// pixel it came from. `self` has `batch · outputPositions` rows of `patchLength` values.
    public func columnsToImage(_ geometry: WindowGeometry, batch: Int) -> Matrix {
        precondition(rows == batch * geometry.outputPositions && columns == geometry.patchLength,
                     "col2im: shape mismatch")
        let (h, w, c) = (geometry.input.height, geometry.input.width, geometry.input.channels)
        let (k, s, pad) = (geometry.kernel, geometry.stride, geometry.padding)
        let (oh, ow) = (geometry.outputHeight, geometry.outputWidth)
        let patch = geometry.patchLength
        let imageCount = geometry.input.count
        var result = Matrix(rows: batch, columns: imageCount)
        storage.withUnsafeBufferPointer { src in
            result.storage.withUnsafeMutableBufferPointer { dst in
                guard let s0 = src.baseAddress, let d0 = dst.baseAddress else { return }
                // Image b receives the patches of image b only: the images split across threads, and
                // each pixel's sum is taken in the same order whatever the number of threads.
                ParallelSlices.run(batch) { images in
                for b in images {
                    let image = d0 + b * imageCount
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            var from = s0 + ((b * oh + oy) * ow + ox) * patch
                            for ky in 0..<k {
                                let iy = oy * s - pad + ky
                                if iy < 0 || iy >= h { from += k * c; continue }
                                for kx in 0..<k {
                                    let ix = ox * s - pad + kx
                                    if ix >= 0 && ix < w {
                                        let to = image + (iy * w + ix) * c
                                        for ch in 0..<c { to[ch] += from[ch] }
                                    }
                                    from += c
                                }
                            }
                        }
                    }
                }
                }
            }
        }
        return result
    }
}

// MARK: - Pooling

extension Matrix {
    /// `0, 1, …, 7`: the channel offsets of the eight lanes of a vectorised pooling step.
    private static let laneOffsets = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)

    /// Max pooling of each channel over each window (no padding). Returns the pooled batch and,
    /// for each output value, the index within the image of the input value chosen (for the
    /// backward pass).
    public func maxPool(_ geometry: WindowGeometry) -> (output: Matrix, argmax: [Int32]) {
        precondition(columns == geometry.input.count && geometry.padding == 0, "maxPool: shape mismatch")
        let (w, c) = (geometry.input.width, geometry.input.channels)
        let (k, s) = (geometry.kernel, geometry.stride)
        let (oh, ow) = (geometry.outputHeight, geometry.outputWidth)
        let outCount = oh * ow * c
        var output = Matrix(uninitializedRows: rows, columns: outCount)  // every entry written below
        var argmax = [Int32](unsafeUninitializedCapacity: rows * outCount) { _, n in n = rows * outCount }
        let imageCount = columns
        let batch = rows
        storage.withUnsafeBufferPointer { src in
            output.storage.withUnsafeMutableBufferPointer { dst in
                argmax.withUnsafeMutableBufferPointer { arg in
                    // Image b's outputs come from image b alone: the images split across threads.
                    ParallelSlices.run(batch) { images in
                    for b in images {
                        let image = src.baseAddress! + b * imageCount
                        let outBase = b * outCount
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                // All channels of a pixel at once (they are contiguous): start from the
                                // window's first pixel, then a later pixel replaces a channel's value only
                                // when strictly larger, so the first maximum in row order wins (and a NaN
                                // first pixel stays, as nothing compares larger than NaN).
                                // Eight channels at a time by lane-wise selection (no branch per value,
                                // whose outcome is a coin flip on real activations), then the rest one by one.
                                let best = dst.baseAddress! + outBase + (oy * ow + ox) * c
                                let bestIndex = arg.baseAddress! + outBase + (oy * ow + ox) * c
                                let first = ((oy * s) * w + ox * s) * c
                                var ch = 0
                                while ch + 8 <= c {
                                    var value = UnsafeRawPointer(image + first + ch).loadUnaligned(as: SIMD8<Float>.self)
                                    var index = SIMD8<Int32>(repeating: Int32(first + ch)) &+ Self.laneOffsets
                                    for ky in 0..<k {
                                        for kx in 0..<k where ky > 0 || kx > 0 {
                                            let pixel = ((oy * s + ky) * w + (ox * s + kx)) * c + ch
                                            let candidate = UnsafeRawPointer(image + pixel).loadUnaligned(as: SIMD8<Float>.self)
                                            let larger = candidate .> value
                                            value.replace(with: candidate, where: larger)
                                            index.replace(with: SIMD8<Int32>(repeating: Int32(pixel)) &+ Self.laneOffsets,
                                                          where: larger)
                                        }
                                    }
                                    UnsafeMutableRawPointer(best + ch).storeBytes(of: value, as: SIMD8<Float>.self)
                                    UnsafeMutableRawPointer(bestIndex + ch).storeBytes(of: index, as: SIMD8<Int32>.self)
                                    ch += 8
                                }
                                let scalarChannels = ch..<c
                                for ch in scalarChannels {
                                    best[ch] = image[first + ch]
                                    bestIndex[ch] = Int32(first + ch)
                                }
                                for ky in 0..<k {
                                    for kx in 0..<k where ky > 0 || kx > 0 {
                                        let pixel = ((oy * s + ky) * w + (ox * s + kx)) * c
                                        for ch in scalarChannels where image[pixel + ch] > best[ch] {
                                            best[ch] = image[pixel + ch]
                                            bestIndex[ch] = Int32(pixel + ch)
                                        }
                                    }
                                }
                            }
                        }
                    }
                    }
                }
            }
        }
        return (output, argmax)
    }

    /// The backward pass of ``maxPool(_:)``: routes each output gradient to the input it came from.
    public func maxPoolBackward(_ geometry: WindowGeometry, argmax: [Int32]) -> Matrix {
        precondition(argmax.count == count, "maxPoolBackward: argmax size mismatch")
        let imageCount = geometry.input.count
        var result = Matrix(rows: rows, columns: imageCount)
        let outCount = columns
        let batch = rows
        storage.withUnsafeBufferPointer { g in
            argmax.withUnsafeBufferPointer { arg in
                result.storage.withUnsafeMutableBufferPointer { dst in
                    // Image b's gradient receives image b's outputs only: the images split across threads.
                    ParallelSlices.run(batch) { images in
                        for b in images {
                            for o in 0..<outCount {
                                let index = Int(arg[b * outCount + o])
                                precondition(index >= 0 && index < imageCount, "maxPoolBackward: argmax out of range")
                                dst[b * imageCount + index] += g[b * outCount + o]
                            }
                        }
                    }
                }
            }
        }
        return result
    }

    /// Average pooling of each channel over each window (no padding).
    public func averagePool(_ geometry: WindowGeometry) -> Matrix {
        precondition(columns == geometry.input.count && geometry.padding == 0, "averagePool: shape mismatch")
        let (w, c) = (geometry.input.width, geometry.input.channels)
        let (k, s) = (geometry.kernel, geometry.stride)
        let (oh, ow) = (geometry.outputHeight, geometry.outputWidth)
        let outCount = oh * ow * c
        let inverse = 1 / Float(k * k)
        var output = Matrix(rows: rows, columns: outCount)
        let imageCount = columns
        let batch = rows
        storage.withUnsafeBufferPointer { src in
            output.storage.withUnsafeMutableBufferPointer { dst in
                for b in 0..<batch {
                    let image = src.baseAddress! + b * imageCount
                    let out = dst.baseAddress! + b * outCount
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let o = out + (oy * ow + ox) * c
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let i = image + ((oy * s + ky) * w + (ox * s + kx)) * c
                                    for ch in 0..<c { o[ch] += i[ch] }
                                }
                            }
                            for ch in 0..<c { o[ch] *= inverse }
                        }
                    }
                }
            }
        }
        return output
    }

    /// The backward pass of ``averagePool(_:)``: spreads each output gradient evenly over its window.
    public func averagePoolBackward(_ geometry: WindowGeometry) -> Matrix {
        let (w, c) = (geometry.input.width, geometry.input.channels)
        let (k, s) = (geometry.kernel, geometry.stride)
        let (oh, ow) = (geometry.outputHeight, geometry.outputWidth)
        let outCount = oh * ow * c
        precondition(columns == outCount, "averagePoolBackward: shape mismatch")
        let inverse = 1 / Float(k * k)
        let imageCount = geometry.input.count
        var result = Matrix(rows: rows, columns: imageCount)
        let batch = rows
        storage.withUnsafeBufferPointer { src in
            result.storage.withUnsafeMutableBufferPointer { dst in
                for b in 0..<batch {
                    let g = src.baseAddress! + b * outCount
                    let image = dst.baseAddress! + b * imageCount
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let go = g + (oy * ow + ox) * c
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let i = image + ((oy * s + ky) * w + (ox * s + kx)) * c
                                    for ch in 0..<c { i[ch] += go[ch] * inverse }
                                }
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}
