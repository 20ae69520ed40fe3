import Mechanisms

/// The fixed features of a training pipeline: `model.features` and `model.normalization`.
///
/// ```yaml
/// model:
///   architecture: logistic            # the linear head on the features (or mlp, cnn)
///   features: {type: scattering, J: 2, L: 8}
///   normalization: {type: group, groups: 27}
///   # or: normalization: {type: dp, noise_multiplier: 8, mean_clip: 0.2, square_clip: 0.05}
/// ```
///
/// The transform and group normalisation are data-independent maps applied to each example on its own,
/// so they cost no privacy; the model file starts with them (``LayerSpecification/scattering2D(scales:orientations:)``,
/// ``LayerSpecification/groupNormalization(groups:)``), so inference applies them from the file alone.
/// `type: dp` instead normalises each channel by statistics of the whole training set released under DP
/// (``DPChannelNormalization``): a training run reserves their cost with DP-SGD's, releases them, and the
/// model file holds them (``LayerSpecification/channelNormalization(shift:scale:)``).
public struct FeaturePipelineSettings: Sendable, Equatable {
    /// The transform of `model.features`.
    public enum Transform: Sendable, Equatable {
        /// The order-2 scattering transform with J scales and L orientations.
        case scattering(scales: Int, orientations: Int)
    }

    /// The feature transform, if any.
    public var transform: Transform?
    /// Groups of the group normalisation, if any.
    public var normalizationGroups: Int?
    /// The per-channel normalisation with DP statistics, if any (never together with groups).
    public var dpNormalization: DPChannelNormalization?
    /// The feature cache folder (`model.features.cache`; default ``FeatureCache/defaultFolder(environment:)``).
    public var cacheFolder: String?

    /// No features.
    public init(transform: Transform? = nil, normalizationGroups: Int? = nil, cacheFolder: String? = nil) {
        self.transform = transform
        self.normalizationGroups = normalizationGroups
        self.cacheFolder = cacheFolder
    }

    /// The fixed feature layers that open the model.
    public var layers: [LayerSpecification] {
        var layers: [LayerSpecification] = []
        if case .scattering(let j, let l) = transform { layers.append(.scattering2D(scales: j, orientations: l)) }
        if let normalizationGroups { layers.append(.groupNormalization(groups: normalizationGroups)) }
        return layers
    }

    /// Reads `features` and `normalization` from a pipeline's model section.
    /// - Parameter resolve: makes a relative cache path absolute (against the pipeline's folder).
    /// - Throws: `VeilError.invalidInput` naming the key.
    init(reading model: inout Section, resolve: (String) -> String) throws {
        self.init()
        if var features = try model.optionalSection("features") {
            let type = try features.string("type")
            guard type == "scattering" else {
                throw VeilError(.invalidInput, "\(features.path).type must be scattering, got \(type)")
            }
            transform = .scattering(scales: try features.int("J", default: 2, in: ScatteringTransform2D.scaleRange),
                                    orientations: try features.int("L", default: 8, in: ScatteringTransform2D.orientationRange))
            cacheFolder = try features.optionalString("cache").map(resolve)
            try features.finish()
        }
        if var normalization = try model.optionalSection("normalization") {
            let type = try normalization.string("type")
            switch type {
            case "group":
                normalizationGroups = try normalization.int("groups", in: 1...65_536)
            case "dp":
                func positive(_ key: String, default value: Double? = nil, minimum: Double = 0) throws -> Double {
                    let x = try normalization.double(key, default: value)
                    guard x.isFinite, minimum > 0 ? x >= minimum : x > 0 else {
                        throw VeilError(.invalidInput, "\(normalization.path).\(key) must be a finite number "
                                        + (minimum > 0 ? "of at least \(minimum)" : "> 0") + ", got \(x)")
                    }
                    guard x <= TrainingLimits.largestReal else {
                        throw VeilError(.invalidInput, "\(normalization.path).\(key) must be at most "
                                        + "\(Int(TrainingLimits.largestReal)), got \(x)")
                    }
                    return x
                }
                dpNormalization = try DPChannelNormalization(noiseMultiplier: positive("noise_multiplier", default: 8, minimum: DPChannelNormalization.minimumNoiseMultiplier),
                                                             meanClip: positive("mean_clip"),
                                                             squareClip: positive("square_clip"))
            default:
                throw VeilError(.invalidInput, "\(normalization.path).type must be group or dp, got \(type)")
            }
            try normalization.finish()
        }
    }

    /// The privacy card's note on the data-independent features, or `nil` without any
    /// (``DPChannelNormalization/cardNote`` describes a DP normalisation).
    public var cardNote: String? {
        guard transform != nil || normalizationGroups != nil else { return nil }
        var parts: [String] = []
        if case .scattering(let j, let l) = transform { parts.append("scattering transform (J = \(j), L = \(l), order 2)") }
        if let g = normalizationGroups { parts.append("group normalisation (\(g) groups, per-example statistics)") }
        return "fixed features: " + parts.joined(separator: ", then ") + "; data-independent, no privacy cost"
    }
}
