import LinearAlgebra
import Mechanisms

/// Augmentation multiplicity with shifted views (De et al. 2022, "Unlocking High-Accuracy Differentially
/// Private Image Classification through Scale", §3.1): every training image takes part in a step as itself and
/// as copies of itself shifted by `pixels` in the four axis directions (and the four diagonal ones with
/// `diagonals`), and its gradient is the mean of its views' gradients, clipped once.
///
/// ```yaml
/// training:
///   augmentation: {type: shifts, pixels: 1}          # 5 views; diagonals: true gives 9
/// ```
///
/// Privacy: each view is computed from its own example alone, so adding or removing one example still adds or
/// removes one clipped gradient of norm at most C, and the accounting is unchanged. The views are a fixed set
/// rather than De et al.'s random draws per step: with fixed features (a scattering transform) their features
/// are computed once and cached like the originals', instead of at every step. A shifted view moves the image
/// by whole pixels and fills the uncovered border with zeros (the background of MNIST-like images).
public struct ShiftAugmentation: Sendable, Equatable {
    /// The shift in pixels (1 to ``pixelRange``'s upper end).
    public var pixels: Int
    /// Whether the diagonal shifts are views too.
    public var diagonals: Bool

    /// Allowed shifts.
    public static let pixelRange = 1...8

    /// - Throws: `VeilError.invalidParameter` for a shift outside ``pixelRange``.
    public init(pixels: Int, diagonals: Bool = false) throws {
        guard Self.pixelRange.contains(pixels) else {
            throw VeilError.invalidParameter("augmentation pixels", pixels, allowed: "1 to \(Self.pixelRange.upperBound)")
        }
        self.pixels = pixels
        self.diagonals = diagonals
    }

    /// Reads `training.augmentation`.
    /// - Throws: `VeilError.invalidInput` naming the key.
    init(reading section: inout Section) throws {
        let type = try section.string("type")
        guard type == "shifts" else {
            throw VeilError(.invalidInput, "\(section.path).type must be shifts, got \(type)")
        }
        let pixels = try section.int("pixels", default: 1, in: Self.pixelRange)
        let diagonals = try section.bool("diagonals", default: false)
        try section.finish()
        try self.init(pixels: pixels, diagonals: diagonals)
    }

    /// The `(down, right)` offsets of the views, the original first.
    public var offsets: [(down: Int, right: Int)] {
        let p = pixels
        let axes = [(0, 0), (-p, 0), (p, 0), (0, -p), (0, p)]
        let corners = diagonals ? [(-p, -p), (-p, p), (p, -p), (p, p)] : []
        return (axes + corners).map { (down: $0.0, right: $0.1) }
    }

    /// Views per example.
    public var views: Int { offsets.count }

    /// The note a model's privacy card carries.
    public var cardNote: String {
        "augmentation multiplicity: each example's gradient is the mean over \(views) views of it (itself and its "
            + "shifts by \(pixels) pixel\(pixels == 1 ? "" : "s")\(diagonals ? " along the axes and diagonals" : " along the axes")), "
            + "clipped once (De et al. 2022); the accounting is unchanged"
    }

    /// The data set with each image followed by its shifted views (``Dataset/views``); labels and classes kept,
    /// the fingerprint names the augmentation.
    /// - Throws: `VeilError.invalidInput` for data that is not images, or already has views.
    public func apply(to data: Dataset) throws -> Dataset {
        let shape = data.inputShape
        guard data.views == 1, shape.height > pixels, shape.width > pixels, data.featureNames == nil else {
            throw VeilError(.invalidInput, "training.augmentation shifts images; the training examples are "
                            + (data.featureNames != nil ? "table rows" : "\(shape) values"))
        }
        let offsets = self.offsets
        let (h, w, c) = (shape.height, shape.width, shape.channels)
        let perImage = shape.count
        var out = [Float](repeating: 0, count: data.count * offsets.count * perImage)
        data.features.storage.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                for example in 0..<data.count {
                    let image = source.baseAddress! + example * perImage
                    for (view, offset) in offsets.enumerated() {
                        let copy = target.baseAddress! + (example * offsets.count + view) * perImage
                        // Row y of the view is row y − down of the image; pixels from outside stay 0.
                        for y in max(0, offset.down)..<min(h, h + offset.down) {
                            let x0 = max(0, offset.right), x1 = min(w, w + offset.right)
                            guard x0 < x1 else { continue }
                            let from = image + ((y - offset.down) * w + x0 - offset.right) * c
                            (copy + (y * w + x0) * c).update(from: from, count: (x1 - x0) * c)
                        }
                    }
                }
            }
        }
        let suffix = "shifts\(pixels)\(diagonals ? "d" : "")"
        return try Dataset(features: Matrix(rows: data.count * offsets.count, columns: perImage, storage: out),
                           labels: data.labels, inputShape: shape, classCount: data.classCount,
                           sha256: "\(data.sha256):\(suffix)", views: offsets.count)
    }
}
