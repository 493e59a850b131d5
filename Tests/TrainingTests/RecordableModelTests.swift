// The instrumented loop with a model that is not an MLP: samples of shape
// [2, 3], a recorded feature map of shape [2, 3] per sample and the logits.

import ActivationStore
import ArrayIO
import Autodiff
import Foundation
import NeuralNets
import Tensors
import Testing
import Training

/// A toy classifier of [2, 3] samples: a tanh layer whose six outputs are
/// recorded as a [2, 3] feature map, then a linear layer of two logits.
struct FeatureMapModel: ClassifierModel {
    var hidden: Dense
    var output: Dense

    init(rng: inout RandomGenerator) {
        hidden = Dense(inputFeatures: 6, outputFeatures: 6, activation: .tanh, initializer: .truncatedNormal, rng: &rng)
        output = Dense(inputFeatures: 6, outputFeatures: 2, activation: .linear, initializer: .truncatedNormal, rng: &rng)
    }

    var recordedTensors: [RecordedTensorDescription] {
        [RecordedTensorDescription(name: "feature map", shape: [2, 3], activation: "tanh"),
         RecordedTensorDescription(name: "logits", shape: [2], activation: "linear")]
    }

    func recordedActivations(_ input: Tensor) -> [Tensor] {
        let n = input.shape[0]
        let h = hidden.forward(input.reshaped([n, 6])).output
        return [h.reshaped([n, 2, 3]), output.forward(h).output]
    }

    var parameters: [Tensor] {
        get { [hidden.weight, hidden.bias, output.weight, output.bias] }
        set { (hidden.weight, hidden.bias, output.weight, output.bias) = (newValue[0], newValue[1], newValue[2], newValue[3]) }
    }

    var parameterNames: [String] { ["hidden_weight", "hidden_bias", "output_weight", "output_bias"] }

    var gradientStatisticsParameters: [Int] { [0, 2] }

    func lossAndGradients(inputs: Tensor, targets: Tensor) -> (loss: Float, gradients: [Tensor]) {
        let tape = Tape()
        let x = tape.constant(inputs.reshaped([inputs.shape[0], 6]))
        let p = parameters.map { tape.variable($0) }
        let h = dense(x, weight: p[0], bias: p[1], activation: .tanh)
        let loss = softmaxCrossEntropy(logits: dense(h, weight: p[2], bias: p[3], activation: .linear), targets: targets)
        return (loss.value.scalar, tape.gradients(of: loss, withRespectTo: p))
    }

    func logits(_ input: Tensor) -> Tensor { recordedActivations(input)[1] }

    func mismatch(inputShape: [Int], classes: Int) -> String? {
        inputShape == [2, 3] && classes == 2 ? nil : "feature-map model for samples of shape \(inputShape) and \(classes) classes"
    }
}

typealias FeatureMapRun = InstrumentedRun<ClassificationTrainer<FeatureMapModel>>

let featureMapSamples = 96

func featureMapSettings(seed: UInt64 = 11, epochs: Int = 12, dtype: String = "float32") -> RunSettings {
    RunSettings(task: "feature-map-toy", dataSource: "generated", widths: [6, 6, 2], activation: "tanh",
                initializer: "truncatedNormal", optimizer: ["name": "adam", "learning_rate": "0.01"],
                batchSize: 16, epochs: epochs, seed: seed, trainingFraction: 0.75, splitMethod: "leading",
                schedule: "every:2", activations: "post", dtype: dtype, checkpointInterval: 4)
}

/// The toy task from the settings' seed: Gaussian [2, 3] samples, class 1
/// when the first row sums to more than the second; the first 3/4 train.
func featureMapSubject(_ settings: RunSettings) throws -> RunSubject<ClassificationTrainer<FeatureMapModel>> {
    var rng = RandomGenerator(seed: settings.seed)
    let n = featureMapSamples, nTrain = n * 3 / 4
    let inputs = Tensor(shape: [n, 2, 3], scalars: (0..<(n * 6)).map { _ in Float(rng.normal()) })
    let labels = (0..<n).map { i in
        let s = inputs.scalars[(6 * i)..<(6 * i + 6)]
        return s.prefix(3).reduce(0, +) > s.suffix(3).reduce(0, +) ? 1 : 0
    }
    let model = FeatureMapModel(rng: &rng)
    let train = Array(0..<nTrain), test = Array(nTrain..<n)
    let trainer = ClassificationTrainer(
        model: model, optimizer: try FeatureMapRun.optimizer(settings), rng: rng, batchSize: settings.batchSize,
        data: TrainingData(trainInputs: inputs.gatherRows(train), trainLabels: train.map { labels[$0] },
                           testInputs: inputs.gatherRows(test), testLabels: test.map { labels[$0] }, classes: 2))
    return RunSubject(trainer: trainer,
                      samples: RecordedSamples(inputs: inputs, labels: labels, trainMask: (0..<n).map { $0 < nTrain }))
}

@Test func a_model_with_feature_maps_records_tensors_of_their_shape() throws {
    let dir = try temporaryDirectory() + "/run"
    var run = try FeatureMapRun.start(settings: featureMapSettings(), at: dir, subject: featureMapSubject)
    try run.run()
    let reader = try RunReader(path: dir)
    let manifest = reader.manifest
    #expect(manifest.complete && manifest.recordedEpochs == [0, 2, 4, 6, 8, 10, 12])
    #expect(manifest.layers == [
        LayerDescription(index: 1, name: "feature map", shape: [2, 3], activation: "tanh"),
        LayerDescription(index: 2, name: "logits", width: 2, activation: "linear"),
    ])
    #expect(manifest.layers[0].width == 6 && manifest.layers[0].sampleShape == [2, 3])
    #expect(manifest.sampleCount == featureMapSamples && manifest.trainCount == 72 && manifest.testCount == 24)
    // The manifest names the shape of the feature map only; it reads back the same.
    let json = String(decoding: try AtomicFile.read(reader.directory.manifest), as: UTF8.self)
    #expect(json.contains("\"shape\" : [\n        2,\n        3\n      ]"))
    #expect(json.components(separatedBy: "\"shape\"").count == 2)
    #expect(try RunManifest.decode(AtomicFile.read(reader.directory.manifest), path: dir) == manifest)

    // The .npy files keep the shapes; the last epoch's are the final model's tensors.
    let inputs = try NPY.read(path: reader.directory.inputs)
    #expect(inputs.shape == [featureMapSamples, 2, 3])
    let expected = run.trainer.model.recordedActivations(Tensor(shape: inputs.shape, scalars: inputs.floats()))
    for (l, tensor) in expected.enumerated() {
        let file = try NPY.read(path: reader.directory.activations(epoch: 12, layer: l + 1))
        #expect(file.dtype == .float32 && file.shape == tensor.shape)
        #expect(file.floats() == tensor.scalars)
        // The reader gives one flattened row per sample.
        let matrix = try reader.activations(epoch: 12, layer: l + 1)
        #expect(matrix.rows == featureMapSamples && matrix.columns == manifest.layers[l].width && matrix.values == tensor.scalars)
    }
    #expect(try NPY.read(path: reader.directory.activations(epoch: 0, layer: 1)).shape == [featureMapSamples, 2, 3])
    #expect(try reader.inputs().columns == 6)
    // Gradient statistics of the two weight matrices, final weights by name.
    #expect(try reader.gradientStatistics().map(\.layer) == Array(repeating: [1, 2], count: 6).flatMap { $0 })
    #expect(try NPZ.read(path: reader.directory.weights).map(\.name) == ["hidden_weight", "hidden_bias", "output_weight", "output_bias"])
    #expect(try reader.metrics().last!.trainAccuracy > 0.8)
}

@Test func a_feature_map_run_with_the_same_seed_writes_the_same_bytes() throws {
    let root = try temporaryDirectory()
    for name in ["a", "b"] {
        var run = try FeatureMapRun.start(settings: featureMapSettings(), at: root + "/" + name, subject: featureMapSubject)
        try run.run()
    }
    #expect(try snapshot(root + "/a") == snapshot(root + "/b"))
    var other = try FeatureMapRun.start(settings: featureMapSettings(seed: 12), at: root + "/c", subject: featureMapSubject)
    try other.run()
    #expect(try AtomicFile.read(root + "/c/weights.npz") != AtomicFile.read(root + "/a/weights.npz"))
}

@Test("a feature-map run resumed after an interruption is byte-identical", arguments: [1, 4, 7, 10])
func feature_map_resume_is_byte_identical(stopAfter: Int) throws {
    let root = try temporaryDirectory()
    for dtype in ["float32", "float16"] {
        let settings = featureMapSettings(dtype: dtype)
        var whole = try FeatureMapRun.start(settings: settings, at: root + "/whole-" + dtype, subject: featureMapSubject)
        try whole.run()
        var cut = try FeatureMapRun.start(settings: settings, at: root + "/cut-" + dtype, subject: featureMapSubject)
        cut.commitInterval = .infinity
        try cut.run(stopAfter: stopAfter)
        let committed = try RunReader(path: root + "/cut-" + dtype).manifest
        #expect(!committed.complete && committed.epochsCompleted <= stopAfter)
        var resumed = try FeatureMapRun.resume(at: root + "/cut-" + dtype, subject: featureMapSubject)
        #expect(resumed.epoch == committed.checkpointEpoch ?? 0)
        try resumed.run()
        #expect(try snapshot(root + "/whole-" + dtype) == snapshot(root + "/cut-" + dtype))
    }
}

@Test func a_manifest_whose_shape_does_not_match_its_width_is_damaged() throws {
    let dir = try temporaryDirectory() + "/run"
    var run = try FeatureMapRun.start(settings: featureMapSettings(epochs: 2), at: dir, subject: featureMapSubject)
    try run.run()
    let path = RunDirectory(dir).manifest
    let text = String(decoding: try AtomicFile.read(path), as: UTF8.self)
    try AtomicFile.write(Array(text.replacingOccurrences(of: "\"width\" : 6", with: "\"width\" : 5").utf8), to: path)
    #expect { try RunReader(path: dir) } throws: { "\($0)".contains("layer 1 has shape [2, 3] for width 5") }
    // Resuming with a model that records other tensors is refused.
    try AtomicFile.write(Array(text.replacingOccurrences(of: "feature map", with: "other map").utf8), to: path)
    #expect { try FeatureMapRun.resume(at: dir, subject: featureMapSubject) } throws: { "\($0)".contains("do not match") }
}

@Test func mlp_manifests_describe_layers_as_before() throws {
    // Vector layers carry no shape: MLP manifests keep their bytes, and a
    // rank-1 shape is the same description as a width.
    #expect(LayerDescription(index: 1, name: "layer 1", shape: [10], activation: "tanh")
            == LayerDescription(index: 1, name: "layer 1", width: 10, activation: "tanh"))
    let dir = try temporaryDirectory() + "/mlp"
    var run = try RecordedRun.start(settings: smallSettings(epochs: 2), at: dir)
    try run.run()
    let text = String(decoding: try AtomicFile.read(RunDirectory(dir).manifest), as: UTF8.self)
    #expect(!text.contains("shape"))
    let manifest = try RunReader(path: dir).manifest
    #expect(manifest.layers.map(\.sampleShape) == [[10], [7], [5], [4], [3], [2]])
    #expect(manifest.layers.map(\.name).last == "softmax")
}
