import LinearAlgebra
import Mechanisms

/// The fixed feature layers that open an architecture (a scattering transform, group normalisation)
/// and the trainable head after them.
///
/// The feature layers have no parameters and do not depend on the data, so DP-SGD only needs their
/// output: a training run computes it once for the whole data set (through a ``FeatureCache``) and
/// trains the head on it, instead of recomputing the transform at every step. The model file keeps
/// the whole architecture, so inference applies the same features from the file alone.
public struct FixedFeatureLayers: Sendable {
    /// The leading fixed feature layers (possibly none).
    public let features: [LayerSpecification]
    /// The layers after them.
    public let head: [LayerSpecification]

    /// Splits `architecture` after its leading fixed feature layers.
    public init(architecture: [LayerSpecification]) {
        features = Array(architecture.prefix(while: \.isFixedFeatureLayer))
        head = Array(architecture.dropFirst(features.count))
    }

    /// The given feature layers followed by `head`.
    public init(features: [LayerSpecification], head: [LayerSpecification]) {
        self.features = features
        self.head = head
    }

    /// Whether the architecture opens with no feature layer.
    public var isEmpty: Bool { features.isEmpty }

    /// The data set's examples through the feature layers (labels and fingerprint kept). A leading
    /// scattering transform is read from `cache` when an entry for this data and transform exists, and
    /// stored there otherwise; the layers after it are cheap and always applied.
    /// `status` receives a line before the transform is computed and one when it is done or read from the cache,
    /// naming `part` ("training images") and the time taken: never a count of examples, which is exact data.
    /// - Throws: `VeilError.invalidParameter` when a layer does not fit the data's shape;
    ///   `VeilError.fileNotWritten` when the cache cannot be written.
    public func apply(to data: Dataset, cache: FeatureCache?, part: String = "images",
                      status: (String) -> Void = { _ in }) throws -> Dataset {
        guard !features.isEmpty else { return data }
        var random = SecureRandomSource()  // the feature layers draw nothing; the builder asks for a source
        var shape = data.inputShape
        var x = data.features
        for (index, specification) in features.enumerated() {
            var layer = try specification.makeLayer(inputShape: shape, random: &random)
            if index == 0, case .scattering2D = specification, let cache {
                let key = FeatureCache.key(data: data, layers: [specification])
                if let stored = cache.load(key: key, rows: x.rows, columns: layer.outputShape.count) {
                    x = stored
                    status("features: scattering transform of the \(part) read from the cache (\(cache.folder))")
                } else {
                    status("features: computing the scattering transform of the \(part) "
                           + "(about 2 ms of CPU per 28 × 28 image; kept in \(cache.folder) for later runs)")
                    let start = ContinuousClock.now
                    x = layer.forward(x)
                    try cache.store(x, key: key)
                    let elapsed = (ContinuousClock.now - start).components
                    let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
                    status("features: \(part) done in \(TrainingProgress.clockText(seconds: seconds))")
                }
            } else {
                x = layer.forward(x)
            }
            shape = layer.outputShape
        }
        return try Dataset(features: x, labels: data.labels, inputShape: shape, classCount: data.classCount,
                           sha256: data.sha256, featureNames: nil, views: data.views)
    }

    /// A training set and its optional test split through the feature layers, cached in the folder that
    /// `settings` names (`model.features.cache`) or the default one. See ``apply(to:cache:part:status:)``.
    public func apply(train: Dataset, test: Dataset?, settings: FeaturePipelineSettings,
                      status: (String) -> Void = { _ in }) throws -> (train: Dataset, test: Dataset?) {
        guard !features.isEmpty else { return (train, test) }
        let cache = FeatureCache(folder: settings.cacheFolder ?? FeatureCache.defaultFolder())
        return (try apply(to: train, cache: cache, part: "training images", status: status),
                try test.map { try apply(to: $0, cache: cache, part: "test images", status: status) })
    }

    /// The model a file holds: the feature layers (they have no parameters) in front of the trained `head`,
    /// taking the raw examples of shape `rawInputShape`, so that inference needs the file alone.
    public func released(head: SequentialModel, rawInputShape: ImageShape) throws -> SequentialModel {
        guard !features.isEmpty else { return head }
        var random = SecureRandomSource()  // the layers are built and then given the head's parameters
        var model = try SequentialModel(architecture: features + head.architecture, inputShape: rawInputShape,
                                        random: &random)
        model.parameters = head.parameters
        return model
    }
}
