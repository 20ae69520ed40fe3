import FederatedLearning
import Foundation
import Mechanisms
import Testing

@Suite("Federated pipeline files")
struct FederatedPipelineTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../pipelines").standardized

    @Test("every shipped federated pipeline parses, with its clients and a client-level target (FedAvg baselines: none)")
    func shipped() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
            .filter { $0.hasSuffix(".yaml") && $0.contains("federated") }
        #expect(files.count >= 2)
        for file in files {
            let pipeline = try FederatedPipeline.load(path: Self.folder.appendingPathComponent(file).path)
            #expect(pipeline.base.output.hasSuffix(".safetensors"))
            if file.contains("-fedavg") {
                #expect(pipeline.base.privacy == nil, "\(file)")
            } else {
                #expect(pipeline.base.privacy != nil && pipeline.base.ledgerScope != nil, "\(file)")
            }
        }
        let panel = try FederatedPipeline.load(path: Self.folder.appendingPathComponent("health-panel-logistic-federated-eps1.yaml").path)
        #expect(panel.federated.clients == .column("person_id"))
        #expect(panel.federated.declaredClients == 6127 && panel.base.privacy?.targetEpsilon == 1)
        let mnist = try FederatedPipeline.load(path: Self.folder.appendingPathComponent("mnist-logistic-federated-dirichlet.yaml").path)
        #expect(mnist.federated.clients == .split(count: 6000, skew: .dirichlet(alpha: 0.5), seed: 1))
    }

    static let base = """
        data: {format: csv, train: t.csv, label_column: label, feature_columns: [a], classes: 2, size: 10}
        model: {architecture: logistic}
        privacy: {target_epsilon: 1, delta: 1e-5, clip_norm: 1, ledger_scope: s}
        training: {epochs: 1, expected_batch_size: 2, learning_rate: 0.1}
        output: m.safetensors
        """

    @Test("unknown keys, a missing section, a bad split or an undeclared column population are refused")
    func refusals() {
        func refuses(_ federated: String) -> Bool {
            (try? FederatedPipeline.parse(yaml: Self.base + "\n" + federated, baseDirectory: "/d")) == nil
        }
        #expect((try? FederatedPipeline.parse(yaml: Self.base, baseDirectory: "/d")) == nil, "no federated section")
        #expect(refuses("federated: {clients: {split: iid, count: 5}, rounds: 2, clients_per_round: 2, typo: 1}"))
        #expect(refuses("federated: {clients: {split: skewed, count: 5}, rounds: 2, clients_per_round: 2}"))
        #expect(refuses("federated: {clients: {split: dirichlet, count: 5, alpha: 0}, rounds: 2, clients_per_round: 2}"))
        #expect(refuses("federated: {clients: {column: person_id}, rounds: 2, clients_per_round: 2}"), "column needs sqlite")
        #expect(refuses("federated: {clients: {split: iid, count: 5}, rounds: 2, clients_per_round: 2, algorithm: sgd}"))
        #expect(!refuses("federated: {clients: {split: iid, count: 5}, rounds: 2, clients_per_round: 2}"))
    }
}
