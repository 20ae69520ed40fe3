import LinearAlgebra
import Testing
@testable import PrivateTraining

@Suite("Backward pass stops at the first layer with parameters")
struct BackwardPassTests {
    /// Wraps a layer and records the `needsInputGradient` of every backward call.
    struct RecordingLayer: Layer {
        var inner: any Layer
        var requests: [Bool] = []
        var specification: LayerSpecification { inner.specification }
        var outputShape: ImageShape { inner.outputShape }
        var parameters: [Matrix] {
            get { inner.parameters }
            set { inner.parameters = newValue }
        }
        mutating func forward(_ input: Matrix) -> Matrix { inner.forward(input) }
        mutating func backward(_ outputGradient: Matrix, needsInputGradient: Bool) -> Matrix? {
            requests.append(needsInputGradient)
            return inner.backward(outputGradient, needsInputGradient: needsInputGradient)
        }
        func perExampleSquaredNorms(rowsPerExample: Int) -> [Float] { inner.perExampleSquaredNorms(rowsPerExample: rowsPerExample) }
        func parameterGradients(exampleScales: [Float]?, rowsPerExample: Int) -> [Matrix] {
            inner.parameterGradients(exampleScales: exampleScales, rowsPerExample: rowsPerExample)
        }
        mutating func clearCaches() { inner.clearCaches() }
    }

    @Test("an MLP computes no input gradient for its first dense layer and never runs flatten backward")
    func firstDenseLayerGetsNoInputGradientRequest() {
        var model = TestModels.model(ModelArchitecture.multilayerPerceptron(hidden: [5], classes: 3, activation: .tanh))
        for i in model.layers.indices { model.layers[i] = RecordingLayer(inner: model.layers[i]) }
        let (x, y) = TestModels.randomBatch(rows: 4, shape: TestModels.imageShape, classes: 3, seed: 3)
        let logits = model.forward(x)
        model.backward(SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: y[...]).gradient)
        let requests = model.layers.map { ($0 as! RecordingLayer).requests }
        // flatten, dense(5), tanh, dense(3): flatten is never asked, the first dense layer only for its caches.
        #expect(requests == [[], [false], [true], [true]])
        // The parameter gradients are still complete: the last layer's bias gradient sums the logit gradient.
        #expect(model.parameterGradients(exampleScales: nil).count == 4)
    }
}
