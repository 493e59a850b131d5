// What the instrumented training loop needs of a model: the tensors it
// records at each recorded epoch (a layer's output, a feature map, a
// per-position state), its parameters for checkpoints, and, for training, one
// minibatch's loss and gradients.
//
//   RecordableModel     recorded tensors (names, per-sample shapes) and parameters
//   TrainableModel      + the loss and gradients of a minibatch, for an optimizer step
//   ClassifierModel     + logits, for the classification trainer's metrics
//   EpochTraining       what `InstrumentedRun` drives: an epoch of training and
//                       the epoch's metrics, with the optimizer and generator
//                       whose state a checkpoint saves
//
// MLP conforms (post-activations, softmax output); `RecordedMLP` is the MLP
// as `infoplane train` records it, post- or pre-activations. Both keep the
// MLP's fused fast paths (NarrowStep.swift) for training and evaluation.

import ActivationStore
import NeuralNets
import Tensors

/// One tensor a model records at each recorded epoch.
public struct RecordedTensorDescription: Sendable, Equatable {
    /// A name for the manifest and legends ("layer 1", "softmax", "block 2 features").
    public var name: String
    /// The shape of one sample's tensor, without the batch axis: [width] for a
    /// layer's output, [C, H, W] for a feature map, [L, D] for per-position states.
    public var shape: [Int]
    /// What produces it, for the manifest ("tanh", "relu", "linear", "softmax", …).
    public var activation: String

    public init(name: String, shape: [Int], activation: String) {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 > 0 },
                     "RecordedTensorDescription: shape \(shape) of \"\(name)\" must have rank ≥ 1 and positive sizes")
        self.name = name
        self.shape = shape
        self.activation = activation
    }

    /// The manifest's description of this tensor as the layer numbered `index` (1-based).
    public func layerDescription(index: Int) -> LayerDescription {
        LayerDescription(index: index, name: name, shape: shape, activation: activation)
    }
}

/// A model whose recordable tensors the instrumented loop writes into a run
/// directory, and whose parameters a checkpoint saves.
public protocol RecordableModel: Sendable {
    /// The tensors recorded at each recorded epoch, in file order (layer 1 first).
    var recordedTensors: [RecordedTensorDescription] { get }
    /// A forward pass without a tape over a batch [batch, …], returning the
    /// recorded tensors in the order of `recordedTensors`, each of shape
    /// [batch] + its `shape`.
    func recordedActivations(_ input: Tensor) -> [Tensor]
    /// The parameters, in a fixed order (checkpoints store them by position).
    var parameters: [Tensor] { get set }
    /// A name per parameter, in the order of `parameters` (the arrays of weights.npz).
    var parameterNames: [String] { get }
}

/// A model the loop trains one minibatch at a time with an `Optimizer`.
public protocol TrainableModel: RecordableModel {
    /// The mean loss of a minibatch and its gradient with respect to every
    /// parameter (in the order of `parameters`).
    ///
    /// - Parameters:
    ///   - inputs: [batch, …].
    ///   - targets: [batch, …]: target distributions for a classifier (one-hot
    ///     or mixed), values for a regression.
    func lossAndGradients(inputs: Tensor, targets: Tensor) -> (loss: Float, gradients: [Tensor])
    /// Lends the parameters to `body` for an in-place optimizer step (default:
    /// through `parameters`, which may copy them).
    mutating func updateParameters(_ body: (inout [Tensor]) -> Void)
    /// The parameters whose gradient statistics are recorded (gradients.csv),
    /// by position in `parameters`; row `layer` L is the L-th of them (default: none).
    var gradientStatisticsParameters: [Int] { get }
}

extension TrainableModel {
    public mutating func updateParameters(_ body: (inout [Tensor]) -> Void) {
        var p = parameters
        body(&p)
        parameters = p
    }

    public var gradientStatisticsParameters: [Int] { [] }
}

/// A model trained with softmax cross-entropy on class labels.
public protocol ClassifierModel: TrainableModel {
    /// Logits [batch, classes] for inputs [batch, …], without a tape.
    func logits(_ input: Tensor) -> Tensor
    /// Why the model cannot map samples of shape `inputShape` (without the
    /// batch axis) to `classes` classes; nil if it can (default: nil).
    func mismatch(inputShape: [Int], classes: Int) -> String?
}

extension ClassifierModel {
    public func mismatch(inputShape: [Int], classes: Int) -> String? { nil }
}

/// What `InstrumentedRun` drives: training epoch by epoch, and each epoch's
/// metrics. Everything random must come from `rng`, so that a checkpoint of
/// the model's parameters, the optimizer state, `rng` and `epoch` resumes the
/// run exactly.
public protocol EpochTraining: Sendable {
    associatedtype Model: RecordableModel
    /// The model being trained.
    var model: Model { get set }
    /// The optimizer over `model.parameters`, with its state.
    var optimizer: any Optimizer { get set }
    /// The generator of every random draw of training.
    var rng: RandomGenerator { get set }
    /// Epochs completed so far.
    var epoch: Int { get set }
    /// One epoch of training; returns the mean minibatch loss.
    ///
    /// - Parameter gradients: when given, every minibatch's gradients of
    ///   `weights` are added to it (for `LayerGradientStatistics`).
    @discardableResult
    mutating func trainEpoch(gradients: inout GradientAccumulator?) -> Double
    /// The current model's metrics (subjects without an accuracy report NaN).
    func evaluate() -> EpochMetrics
    /// `evaluate()` with the predicted class of every training sample, in
    /// training order (for label-noise runs); nil predictions for models that
    /// do not classify (the default).
    func evaluateWithTrainPredictions() -> (metrics: EpochMetrics, trainPredictions: [Int]?)
    /// The tensors whose gradient statistics `trainEpoch` accumulates, one per
    /// gradients.csv layer.
    var weights: [Tensor] { get }
}

extension EpochTraining {
    public func evaluateWithTrainPredictions() -> (metrics: EpochMetrics, trainPredictions: [Int]?) {
        (evaluate(), nil)
    }
}

// MARK: MLPs

extension MLP: ClassifierModel {
    /// The hidden layers' post-activations ("layer 1", …), then the softmax of
    /// the output layer ("softmax").
    public var recordedTensors: [RecordedTensorDescription] { mlpRecordedTensors(self, preActivation: false) }

    public func recordedActivations(_ input: Tensor) -> [Tensor] { layerOutputs(input) }

    /// W1, b1, W2, b2, …
    public var parameterNames: [String] {
        parameters.indices.map { "\($0 % 2 == 0 ? "W" : "b")\($0 / 2 + 1)" }
    }

    /// Softmax cross-entropy through `crossEntropyGradients` (the fused
    /// path for narrow networks).
    public func lossAndGradients(inputs: Tensor, targets: Tensor) -> (loss: Float, gradients: [Tensor]) {
        crossEntropyGradients(x: inputs, targets: targets)
    }

    /// The weight matrices W1, W2, …
    public var gradientStatisticsParameters: [Int] { Array(stride(from: 0, to: 2 * layers.count, by: 2)) }

    public func logits(_ input: Tensor) -> Tensor { self(input) }

    public func mismatch(inputShape: [Int], classes: Int) -> String? {
        inputShape == [widths.first!] && widths.last == classes
            ? nil : "network \(widths) for inputs of shape \(inputShape) and \(classes) classes"
    }
}

/// The recorded tensors of an MLP: the hidden layers ("layer l"), then the output ("softmax").
private func mlpRecordedTensors(_ mlp: MLP, preActivation: Bool) -> [RecordedTensorDescription] {
    mlp.layers.indices.map { l in
        l == mlp.layers.count - 1
            ? RecordedTensorDescription(name: "softmax", shape: [mlp.layers[l].outputFeatures],
                                        activation: preActivation ? "linear" : "softmax")
            : RecordedTensorDescription(name: "layer \(l + 1)", shape: [mlp.layers[l].outputFeatures],
                                        activation: mlp.layers[l].activation.rawValue)
    }
}

/// An MLP as `infoplane train` records it: every layer's post-activations
/// (the softmax of the output layer), or with `preActivation` every layer's
/// pre-activations (the logits). Training is the MLP's own.
public struct RecordedMLP: ClassifierModel, Equatable {
    /// The network.
    public var network: MLP
    /// Whether pre-activations are recorded instead of post-activations.
    public var preActivation: Bool

    public init(network: MLP, preActivation: Bool) {
        self.network = network
        self.preActivation = preActivation
    }

    public var recordedTensors: [RecordedTensorDescription] { mlpRecordedTensors(network, preActivation: preActivation) }

    public func recordedActivations(_ input: Tensor) -> [Tensor] {
        network.layerOutputs(input, preActivation: preActivation)
    }

    public var parameters: [Tensor] {
        get { network.parameters }
        set { network.parameters = newValue }
    }

    public var parameterNames: [String] { network.parameterNames }

    public func lossAndGradients(inputs: Tensor, targets: Tensor) -> (loss: Float, gradients: [Tensor]) {
        network.lossAndGradients(inputs: inputs, targets: targets)
    }

    public mutating func updateParameters(_ body: (inout [Tensor]) -> Void) { network.updateParameters(body) }

    public var gradientStatisticsParameters: [Int] { network.gradientStatisticsParameters }

    public func logits(_ input: Tensor) -> Tensor { network(input) }

    public func mismatch(inputShape: [Int], classes: Int) -> String? {
        network.mismatch(inputShape: inputShape, classes: classes)
    }
}
