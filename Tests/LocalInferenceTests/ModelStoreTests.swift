import Foundation
import LocalInference
import Mechanisms
import PrivateTraining
import Testing

@Suite("Model store")
struct ModelStoreTests {
    @Test("add, list, entry, remove")
    func lifecycle() throws {
        let folder = try TestModels.temporaryFolder("store")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("health.safetensors").path
        try TestModels.writeTabular(to: file)
        let store = ModelStore(folder: folder.appendingPathComponent("models").path)
        #expect(store.list().models.isEmpty)
        let added = try store.add(file: file)
        #expect(added.name == "health")
        try store.add(file: file, name: "health-2")
        #expect(throws: VeilError.self) { try store.add(file: file) }  // the name is taken
        #expect(store.names() == ["health", "health-2"])
        let entry = try store.entry("health")
        #expect(entry.model.architectureName == "logistic")
        #expect(entry.model.card.epsilon == 1.25)
        #expect(entry.fileSize == (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int))
        try store.remove("health")
        #expect(store.names() == ["health-2"])
        #expect(throws: VeilError.self) { try store.remove("health") }
        #expect(throws: VeilError.self) { try store.entry("health") }
    }

    @Test("names that could be paths are refused", arguments: ["", "../x", "a/b", ".hidden", "-x", "a b", String(repeating: "a", count: 129)])
    func invalidNames(name: String) throws {
        let store = ModelStore(folder: "/nonexistent")
        #expect(!ModelStore.isValidName(name))
        #expect(throws: VeilError.self) { try store.path(of: name) }
    }

    @Test("add verifies the file and its privacy card before copying")
    func addVerifies() throws {
        let folder = try TestModels.temporaryFolder("store-verify")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = ModelStore(folder: folder.appendingPathComponent("models").path)
        let corrupt = folder.appendingPathComponent("corrupt.safetensors").path
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: corrupt))
        #expect(throws: VeilError.self) { try store.add(file: corrupt) }
        var card = TestModels.card
        card.epsilon = nil
        let noEpsilon = folder.appendingPathComponent("noeps.safetensors").path
        try TestModels.writeTabular(to: noEpsilon, card: card)
        #expect(throws: VeilError.self) { try store.add(file: noEpsilon) }
        card = TestModels.card
        card.differentiallyPrivate = false
        let contradictory = folder.appendingPathComponent("contradictory.safetensors").path
        try TestModels.writeTabular(to: contradictory, card: card)
        #expect(throws: VeilError.self) { try store.add(file: contradictory) }
        #expect(store.names().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: store.folder))
    }

    @Test("the folder: explicit, else $VEIL_MODELS, else ~/.veil/models")
    func folderChoice() {
        #expect(ModelStore.folder(explicit: "/a", environment: ["VEIL_MODELS": "/b", "HOME": "/h"]) == "/a")
        #expect(ModelStore.folder(explicit: nil, environment: ["VEIL_MODELS": "/b", "HOME": "/h"]) == "/b")
        #expect(ModelStore.folder(explicit: nil, environment: ["HOME": "/h"]) == "/h/.veil/models")
    }
}
