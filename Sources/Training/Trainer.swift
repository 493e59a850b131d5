// The training loop for classifiers (MLPs, and any `ClassifierModel`):
// shuffled minibatches, one optimizer step per batch scaled by a
// learning-rate schedule, optional mixup of the training batches, per-epoch
// metrics, and per-layer gradient statistics on request.
//
// Everything random (initial weights, the order of minibatches, mixup's λ and
// partners) comes from the trainer's own `RandomGenerator`, so a run is a pure
// function of its seed, and saving the generator's state with the weights and
// the optimizer state is enough to resume it exactly (the schedule is a pure
// function of the epoch and batch).

import ActivationStore
import NeuralNets
import Tensors

/// The data a classification run trains and evaluates on.
public struct TrainingData: Sendable {
    /// Training inputs [nTrain, features] (or [nTrain, …] for models that take
    /// samples of higher rank).
    public var trainInputs: Tensor
    /// Training labels, each in 0..<classes.
    public var trainLabels: [Int]
    /// Test inputs [nTest, …] (may have zero rows), samples shaped as the training ones.
    public var testInputs: Tensor
    /// Test labels.
    public var testLabels: [Int]
    /// The number of classes.
    public var classes: Int

    public init(trainInputs: Tensor, trainLabels: [Int], testInputs: Tensor, testLabels: [Int], classes: Int) {
        precondition(trainInputs.rank >= 2 && trainInputs.shape[0] == trainLabels.count,
                     "TrainingData: \(trainInputs.shape) training inputs for \(trainLabels.count) labels")
        precondition(testInputs.rank >= 2 && testInputs.shape[0] == testLabels.count,
                     "TrainingData: \(testInputs.shape) test inputs for \(testLabels.count) labels")
        precondition(testInputs.shape.dropFirst() == trainInputs.shape.dropFirst(),
                     "TrainingData: training samples of shape \(Array(trainInputs.shape.dropFirst())), test samples of shape \(Array(testInputs.shape.dropFirst()))")
        self.trainInputs = trainInputs
        self.trainLabels = trainLabels
        self.testInputs = testInputs
        self.testLabels = testLabels
        self.classes = classes
    }
}

/// Accumulates Σg and Σg² per weight element over minibatches, in Double.
public struct GradientAccumulator: Sendable {
    private var sums: [[Double]]
    private var squares: [[Double]]
    public private(set) var batches = 0

    /// An accumulator for weight tensors of the given element counts.
    public init(counts: [Int]) {
        sums = counts.map { [Double](repeating: 0, count: $0) }
        squares = sums
    }

    /// Adds one minibatch's weight gradients (one tensor per layer).
    public mutating func add(_ gradients: [Tensor]) {
        precondition(gradients.count == sums.count, "GradientAccumulator: \(gradients.count) layers, expected \(sums.count)")
        for l in gradients.indices {
            gradients[l].scalars.withUnsafeBufferPointer { g in
                sums[l].withUnsafeMutableBufferPointer { s in
                    squares[l].withUnsafeMutableBufferPointer { q in
                        for i in 0..<g.count {
                            let v = Double(g[i])
                            s[i] += v
                            q[i] += v * v
                        }
                    }
                }
            }
        }
        batches += 1
    }

    /// m and s per layer (see `LayerGradientStatistics`), with the weight norms.
    public func statistics(epoch: Int, weights: [Tensor]) -> [LayerGradientStatistics] {
        precondition(batches > 0, "GradientAccumulator: no minibatches")
        let n = Double(batches)
        return sums.indices.map { l in
            var meanSquare = 0.0, variance = 0.0
            for i in sums[l].indices {
                let mean = sums[l][i] / n
                meanSquare += mean * mean
                // E[g²] - E[g]², clamped: rounding can make it slightly negative.
                variance += max(squares[l][i] / n - mean * mean, 0)
            }
            return LayerGradientStatistics(epoch: epoch, layer: l + 1, meanNorm: meanSquare.squareRoot(),
                                           standardDeviationNorm: variance.squareRoot(),
                                           weightNorm: weights[l].norm(), batches: batches)
        }
    }
}

/// Trains an MLP with softmax cross-entropy, one epoch at a time.
public typealias Trainer = ClassificationTrainer<MLP>

/// Trains a classifier with softmax cross-entropy, one epoch at a time.
///
/// Its epoch and evaluation are compiled for `MLP` and `RecordedMLP` (the
/// callers in other modules would otherwise run the unspecialized generic
/// code, 15 % slower on the 12-bit task).
public struct ClassificationTrainer<Model: ClassifierModel>: EpochTraining {
    /// The network being trained.
    public var model: Model
    /// The optimizer, with its state.
    public var optimizer: any Optimizer
    /// The generator for minibatch order (and mixup's draws).
    public var rng: RandomGenerator
    /// The learning-rate schedule: its multiplier η_t for each batch is
    /// passed to `optimizer.update` (`.constant`: η_t = 1).
    public var schedule: LearningRateSchedule
    /// mixup of the training batches (nil: plain ERM). Evaluation never mixes.
    public var mixup: Mixup?
    /// Epochs completed so far.
    public var epoch: Int
    /// Samples per minibatch; the last minibatch of an epoch may be smaller.
    public let batchSize: Int
    /// The data.
    public let data: TrainingData

    public init(model: Model, optimizer: any Optimizer, rng: RandomGenerator, batchSize: Int, data: TrainingData, epoch: Int = 0,
                schedule: LearningRateSchedule = .constant, mixup: Mixup? = nil) {
        precondition(batchSize > 0, "Trainer: batch size \(batchSize)")
        if let mismatch = model.mismatch(inputShape: Array(data.trainInputs.shape.dropFirst()), classes: data.classes) {
            preconditionFailure("Trainer: \(mismatch)")
        }
        self.model = model
        self.optimizer = optimizer
        self.rng = rng
        self.batchSize = batchSize
        self.data = data
        self.epoch = epoch
        self.schedule = schedule
        self.mixup = mixup
    }

    /// Minibatches per epoch, ⌈nTrain / batchSize⌉ (the last may be smaller).
    public var batchesPerEpoch: Int { (data.trainLabels.count + batchSize - 1) / batchSize }

    /// One pass over the training data in a fresh random order.
    ///
    /// Per batch b of this epoch (e = `epoch` before the pass): the rows of
    /// the next slice of the permutation; with `mixup`, its λ and partners
    /// (drawn from `rng` after the epoch's permutation, batch by batch); the
    /// cross-entropy gradients (`model.lossAndGradients`); then one optimizer step with multiplier
    /// `schedule.multiplier(epoch: e, batch: b, batchesPerEpoch:)`.
    ///
    /// - Parameter gradients: when given, every minibatch's gradients of
    ///   `weights` (`model.gradientStatisticsParameters`) are added to it (for
    ///   `LayerGradientStatistics`).
    /// - Returns: the mean minibatch loss during the pass (against the mixed
    ///   targets when mixup is on).
    @_specialize(where Model == MLP)
    @_specialize(where Model == RecordedMLP)
    @discardableResult
    public mutating func trainEpoch(gradients: inout GradientAccumulator?) -> Double {
        let n = data.trainLabels.count
        let order = rng.permutation(n)
        let batchCount = batchesPerEpoch
        let statisticsParameters = gradients == nil ? [] : model.gradientStatisticsParameters
        var lossSum = 0.0, batches = 0
        var start = 0
        while start < n {
            let indices = Array(order[start..<min(start + batchSize, n)])
            start += batchSize
            var x = data.trainInputs.gatherRows(indices)
            var targets = oneHot(indices.map { data.trainLabels[$0] }, classes: data.classes)
            if let mixup {
                let mixed = mixup.mix(inputs: x, targets: targets, rng: &rng)
                x = mixed.inputs
                targets = mixed.targets
            }
            let (loss, grads) = model.lossAndGradients(inputs: x, targets: targets)
            if gradients != nil {
                gradients!.add(statisticsParameters.map { grads[$0] })
            }
            let multiplier = schedule.multiplier(epoch: epoch, batch: batches, batchesPerEpoch: batchCount)
            model.updateParameters { optimizer.update(&$0, gradients: grads, multiplier: multiplier) }
            lossSum += Double(loss)
            batches += 1
        }
        epoch += 1
        return lossSum / Double(max(batches, 1))
    }

    /// Loss and accuracy of the current network on both splits.
    @_specialize(where Model == MLP)
    @_specialize(where Model == RecordedMLP)
    public func evaluate() -> EpochMetrics {
        let train = crossEntropyAndAccuracy(logits: model.logits(data.trainInputs), labels: data.trainLabels)
        let test = data.testLabels.isEmpty
            ? (loss: Double.nan, accuracy: Double.nan)
            : crossEntropyAndAccuracy(logits: model.logits(data.testInputs), labels: data.testLabels)
        return EpochMetrics(epoch: epoch, trainLoss: train.loss, trainAccuracy: train.accuracy,
                            testLoss: test.loss, testAccuracy: test.accuracy)
    }

    /// `evaluate()` together with the predicted class (argmax of the
    /// logits) of every training sample, from the same forward pass.
    @_specialize(where Model == MLP)
    @_specialize(where Model == RecordedMLP)
    public func evaluateWithTrainPredictions() -> (metrics: EpochMetrics, trainPredictions: [Int]?) {
        let logits = model.logits(data.trainInputs)
        let train = crossEntropyAndAccuracy(logits: logits, labels: data.trainLabels)
        let test = data.testLabels.isEmpty
            ? (loss: Double.nan, accuracy: Double.nan)
            : crossEntropyAndAccuracy(logits: model.logits(data.testInputs), labels: data.testLabels)
        return (EpochMetrics(epoch: epoch, trainLoss: train.loss, trainAccuracy: train.accuracy,
                             testLoss: test.loss, testAccuracy: test.accuracy), logits.argmaxRows())
    }

    /// The tensors whose gradient statistics are recorded (for an MLP the
    /// weight matrices, one per layer).
    public var weights: [Tensor] {
        let parameters = model.parameters
        return model.gradientStatisticsParameters.map { parameters[$0] }
    }
}
