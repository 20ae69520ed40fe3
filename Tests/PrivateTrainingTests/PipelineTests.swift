import Foundation
import Mechanisms
import Testing
@testable import PrivateTraining

@Suite("Pipeline files")
struct PipelineTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../pipelines").standardized

    @Test("every shipped pipeline parses")
    func shipped() throws {
        // Federated pipelines (`*federated*`) add a section of their own; FederatedLearningTests parses them.
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
            .filter { $0.hasSuffix(".yaml") && !$0.contains("federated") }
        #expect(files.count >= 4)
        for file in files {
            let pipeline = try TrainingPipeline.load(path: Self.folder.appendingPathComponent(file).path)
            #expect(pipeline.output.hasSuffix(".safetensors"))
            #expect(!pipeline.layerSpecifications.isEmpty)
        }
        let cnn = try TrainingPipeline.load(path: Self.folder.appendingPathComponent("mnist-cnn-eps3.yaml").path)
        #expect(cnn.privacy?.targetEpsilon == 3)
        #expect(cnn.privacy?.delta == 1e-5)
        #expect(cnn.privacy?.clipNorm == 0.1)
        #expect(cnn.privacy?.accountant == .rdp)
        #expect(cnn.ledgerScope == "mnist")
    }

    static let minimal = """
        data: {train_images: a.gz, train_labels: b.gz, size: 100}
        model: {architecture: logistic}
        privacy: {target_epsilon: 1, delta: 1e-5, clip_norm: 1}
        training: {epochs: 1, expected_batch_size: 10, learning_rate: 0.1}
        output: m.safetensors
        """

    @Test("a minimal pipeline gets the documented defaults; relative paths follow the file's folder")
    func defaults() throws {
        let p = try TrainingPipeline.parse(yaml: Self.minimal, baseDirectory: "/data")
        #expect(p.output == "/data/m.safetensors")
        #expect(p.privacy?.accountant == .rdp)
        #expect(p.training.maxPhysicalBatchSize == 256)
        #expect(p.classes == 10)
        #expect(p.size == 100)
        guard case .idx(let images, _, nil, nil) = p.data else { Issue.record("expected idx data"); return }
        #expect(images == "/data/a.gz")
    }

    @Test("unknown, missing and mistyped keys are refused", arguments: [
        ("privacy: {target_epsilon: 1, delta: 1e-5, clip_norm: 1}", "privacy: {target_epsilon: 1, delta: 1e-5, clip_norm: 1, clipnorm: 2}", "unknown key clipnorm"),
        ("output: m.safetensors", "", "lacks the required key output"),
        ("epochs: 1,", "epochs: many,", "must be an integer"),
        ("model: {architecture: logistic}", "model: {architecture: transformer}", "logistic, mlp or cnn"),
    ])
    func refused(original: String, replacement: String, message: String) {
        let yaml = Self.minimal.replacingOccurrences(of: original, with: replacement)
        #expect {
            try TrainingPipeline.parse(yaml: yaml, baseDirectory: "/data")
        } throws: { error in
            (error as? VeilError)?.message.contains(message) == true
        }
    }
}

@Suite("Pipeline files written by someone else")
struct HostilePipelineTests {
    @Test("a list as a mapping key, and anchors that expand a billion-fold, are refused with the line")
    func structuredKeyAndAliases() {
        #expect {
            _ = try TrainingPipeline.parse(yaml: "data:\n  {[a]: b}: 1\n", baseDirectory: "/tmp", name: "p.yaml")
        } throws: { error in
            (error as? VeilError)?.code == .invalidInput
                && "\(error)".contains("p.yaml is not valid YAML: line 2: a mapping key is a list or a mapping")
        }
        var lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1...9 {
            lines.append("l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ") + "]")
        }
        #expect {
            _ = try TrainingPipeline.parse(yaml: lines.joined(separator: "\n"), baseDirectory: "/tmp", name: "p.yaml")
        } throws: { error in
            "\(error)".contains("expands to more than 262144 values")
        }
    }
}
