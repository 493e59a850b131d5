// The trainer with a learning-rate schedule and mixup, against the loop
// written out by hand: the constant schedule without mixup gives the bytes of
// the plain loop, a schedule's multiplier reaches every batch, mixup draws
// from the trainer's generator in a fixed order, and α → 0 trains like ERM.

import Foundation
import NeuralNets
import Tensors
import Testing
import Training

/// One epoch of the trainer's loop, written out: a permutation of the
/// training rows, then per batch the rows, mixup's draws (if any), the
/// gradients, and one optimizer step with multiplier eta(batch).
private func referenceEpoch(model: inout MLP, optimizer: inout any Optimizer, rng: inout RandomGenerator,
                            data: TrainingData, batchSize: Int, mixup: Mixup? = nil,
                            eta: (Int) -> Float = { _ in 1 }) {
    let n = data.trainLabels.count
    let order = rng.permutation(n)
    var start = 0, batch = 0
    while start < n {
        let rows = Array(order[start..<min(start + batchSize, n)])
        start += batchSize
        var x = data.trainInputs.gatherRows(rows)
        var y = oneHot(rows.map { data.trainLabels[$0] }, classes: data.classes)
        if let mixup {
            let lambda = Float(rng.beta(mixup.alpha, mixup.alpha))
            let partners = rng.permutation(rows.count)
            x = Mixup.mixRows(x, lambdas: [lambda], permutation: partners)
            y = Mixup.mixRows(y, lambdas: [lambda], permutation: partners)
        }
        let grads = model.crossEntropyGradients(x: x, targets: y).gradients
        var parameters = model.parameters
        optimizer.update(&parameters, gradients: grads, multiplier: eta(batch))
        model.parameters = parameters
        batch += 1
    }
}

@Test func constant_schedule_without_mixup_is_the_plain_loop_bitwise() {
    var trainer = tishbyTrainer(activation: .tanh, seed: 31, optimizer: Adam(learningRate: 1e-3, weightDecay: .decoupled(1e-4)))
    #expect(trainer.schedule == .constant && trainer.mixup == nil)
    var (model, optimizer, rng) = (trainer.model, trainer.optimizer, trainer.rng)
    var none: GradientAccumulator? = nil
    for _ in 0..<2 {
        trainer.trainEpoch(gradients: &none)
        referenceEpoch(model: &model, optimizer: &optimizer, rng: &rng, data: trainer.data, batchSize: trainer.batchSize)
    }
    #expect(trainer.model.parameters.map(\.scalars) == model.parameters.map(\.scalars))
    #expect(trainer.optimizer.state == optimizer.state)
    #expect(trainer.rng == rng)
}

@Test func cosine_multiplier_reaches_every_batch() {
    let base = tishbyTrainer(activation: .tanh, seed: 32, optimizer: SGD(learningRate: 0.05, momentum: 0.9))
    var trainer = base
    trainer.schedule = .cosine(epochs: 3)
    let nb = (trainer.data.trainLabels.count + trainer.batchSize - 1) / trainer.batchSize
    #expect(trainer.batchesPerEpoch == nb)
    var (model, optimizer, rng) = (trainer.model, trainer.optimizer, trainer.rng)
    var none: GradientAccumulator? = nil
    for e in 0..<2 {
        trainer.trainEpoch(gradients: &none)
        // η = 0.5 (1 + cos(π t / 3)) at t = e + b / nb, by hand.
        referenceEpoch(model: &model, optimizer: &optimizer, rng: &rng, data: trainer.data, batchSize: trainer.batchSize) { b in
            Float(0.5 * (1 + cos(Double.pi * ((Double(e) + Double(b) / Double(nb)) / 3))))
        }
    }
    for (a, b) in zip(trainer.model.parameters, model.parameters) {
        for (x, y) in zip(a.scalars, b.scalars) { #expect(abs(x - y) <= 1e-6 * max(1, abs(y))) }
    }
    // The schedule matters: the constant one ends elsewhere.
    var constant = base
    for _ in 0..<2 { constant.trainEpoch(gradients: &none) }
    #expect(constant.model.parameters.map(\.scalars) != trainer.model.parameters.map(\.scalars))
}

@Test func mixup_draws_from_the_trainer_generator_in_order() {
    var trainer = tishbyTrainer(activation: .relu, seed: 33, optimizer: SGD(learningRate: 0.1))
    trainer.mixup = Mixup(alpha: 1)
    var (model, optimizer, rng) = (trainer.model, trainer.optimizer, trainer.rng)
    var none: GradientAccumulator? = nil
    for _ in 0..<2 {
        trainer.trainEpoch(gradients: &none)
        referenceEpoch(model: &model, optimizer: &optimizer, rng: &rng, data: trainer.data,
                       batchSize: trainer.batchSize, mixup: Mixup(alpha: 1))
    }
    #expect(trainer.model.parameters.map(\.scalars) == model.parameters.map(\.scalars))
    #expect(trainer.rng == rng)
}

@Test func evaluation_never_mixes() {
    var trainer = tishbyTrainer(activation: .tanh, seed: 34)
    trainer.mixup = Mixup(alpha: 8)
    let rng = trainer.rng
    let metrics = trainer.evaluate()
    let direct = crossEntropyAndAccuracy(logits: trainer.model(trainer.data.trainInputs), labels: trainer.data.trainLabels)
    #expect(metrics.trainLoss == direct.loss && metrics.trainAccuracy == direct.accuracy)
    #expect(trainer.rng == rng)
}

@Test func mixup_with_alpha_to_zero_trains_like_erm() {
    // Within an epoch the batches are the same (the order is drawn first), and
    // λ ∈ {0, 1} leaves each batch's mean gradient as it is.
    var erm = tishbyTrainer(activation: .tanh, seed: 35, optimizer: SGD(learningRate: 0.1))
    var mixed = erm
    mixed.mixup = Mixup(alpha: 1e-4)
    var none: GradientAccumulator? = nil
    erm.trainEpoch(gradients: &none)
    mixed.trainEpoch(gradients: &none)
    for (a, b) in zip(mixed.model.parameters, erm.model.parameters) {
        for (x, y) in zip(a.scalars, b.scalars) { #expect(abs(x - y) <= 1e-5 * max(1, abs(y))) }
    }
    // …while α = 1 really changes the training.
    var real = tishbyTrainer(activation: .tanh, seed: 35, optimizer: SGD(learningRate: 0.1))
    real.mixup = Mixup(alpha: 1)
    real.trainEpoch(gradients: &none)
    let difference = zip(real.model.parameters[0].scalars, erm.model.parameters[0].scalars).map { abs($0 - $1) }.max()!
    #expect(difference > 1e-4)
}

@Test func schedule_and_mixup_runs_are_deterministic() {
    func make() -> Trainer {
        var t = tishbyTrainer(activation: .tanh, seed: 36,
                              optimizer: Adam(learningRate: 1e-3, weightDecay: .decoupledScaledByLearningRate(1e-2)))
        t.schedule = .warmRestarts(firstPeriod: 1, periodMultiplier: 2)
        t.mixup = Mixup(alpha: 0.4, perExample: true)
        return t
    }
    var a = make(), b = make()
    var none: GradientAccumulator? = nil
    for _ in 0..<3 {
        let la = a.trainEpoch(gradients: &none), lb = b.trainEpoch(gradients: &none)
        #expect(la == lb)
    }
    #expect(a.model.parameters.map(\.scalars) == b.model.parameters.map(\.scalars))
    #expect(a.rng == b.rng && a.optimizer.state == b.optimizer.state)
}
