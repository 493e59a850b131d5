// The training loop: determinism, learning the 12-bit task, and gradient
// statistics against a direct computation.

import ActivationStore
import Datasets
import Foundation
import NeuralNets
import Tensors
import Testing
import Training

func tishbyTrainer(activation: Activation, seed: UInt64, optimizer: any Optimizer = Adam(learningRate: 4e-4)) -> Trainer {
    let data = TishbyTask.dataset(split: Split.random(count: 4096, seed: seed))
    var rng = RandomGenerator(seed: seed)
    let model = MLP(widths: [12, 10, 7, 5, 4, 3, 2], hiddenActivation: activation, initializer: .truncatedNormal, rng: &rng)
    let train = data.train, test = data.test
    return Trainer(model: model, optimizer: optimizer, rng: rng, batchSize: 256,
                   data: TrainingData(trainInputs: train.inputs, trainLabels: train.labels,
                                      testInputs: test.inputs, testLabels: test.labels, classes: 2))
}

@Test func same_seed_gives_bitwise_identical_weights() {
    var a = tishbyTrainer(activation: .tanh, seed: 3), b = tishbyTrainer(activation: .tanh, seed: 3)
    var none: GradientAccumulator? = nil
    for _ in 0..<3 { a.trainEpoch(gradients: &none); b.trainEpoch(gradients: &none) }
    #expect(a.model.parameters.map(\.scalars) == b.model.parameters.map(\.scalars))
    var c = tishbyTrainer(activation: .tanh, seed: 4)
    c.trainEpoch(gradients: &none)
    #expect(c.model.parameters.map(\.scalars) != a.model.parameters.map(\.scalars))
}

@Test func tanh_network_learns_the_12_bit_task() {
    // The paper's settings (Adam, 4e-4, batch 256, 80 % split): about 91 %
    // training accuracy after 100 epochs on the original data.
    var trainer = tishbyTrainer(activation: .tanh, seed: 1)
    var none: GradientAccumulator? = nil
    let before = trainer.evaluate()
    for _ in 0..<150 { trainer.trainEpoch(gradients: &none) }
    let after = trainer.evaluate()
    #expect(after.trainAccuracy >= 0.9, "training accuracy \(after.trainAccuracy) after 150 epochs")
    #expect(after.trainLoss < before.trainLoss)
}

@Test func gradient_statistics_match_a_direct_computation() {
    // With a zero learning rate the weights stay put, so each minibatch's
    // gradient can be recomputed independently from the same minibatch order.
    var trainer = tishbyTrainer(activation: .tanh, seed: 5, optimizer: SGD(learningRate: 0))
    let model = trainer.model
    var orderRNG = trainer.rng
    let order = orderRNG.permutation(trainer.data.trainLabels.count)
    var accumulator: GradientAccumulator? = GradientAccumulator(counts: model.layers.map(\.weight.count))
    trainer.trainEpoch(gradients: &accumulator)
    let stats = accumulator!.statistics(epoch: 1, weights: trainer.weights)

    var perBatch = [[Tensor]]()
    var start = 0
    while start < order.count {
        let idx = Array(order[start..<min(start + 256, order.count)])
        start += 256
        let x = trainer.data.trainInputs.gatherRows(idx)
        let t = oneHot(idx.map { trainer.data.trainLabels[$0] }, classes: 2)
        let grads = model.crossEntropyGradients(x: x, targets: t).gradients
        perBatch.append(stride(from: 0, to: grads.count, by: 2).map { grads[$0] })
    }
    #expect(stats.count == 6)
    for l in 0..<6 {
        let n = Double(perBatch.count)
        var m2 = 0.0, s2 = 0.0
        for i in 0..<perBatch[0][l].count {
            let values = perBatch.map { Double($0[l].scalars[i]) }
            let mean = values.reduce(0, +) / n
            m2 += mean * mean
            s2 += values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
        }
        #expect(stats[l].batches == 13)
        #expect(abs(stats[l].meanNorm - m2.squareRoot()) <= 1e-9 + 1e-6 * m2.squareRoot())
        #expect(abs(stats[l].standardDeviationNorm - s2.squareRoot()) <= 1e-9 + 1e-5 * s2.squareRoot())
        #expect(abs(stats[l].weightNorm - model.layers[l].weight.norm()) < 1e-12)
    }
}
