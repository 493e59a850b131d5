// The training step: the moving average, the optimizer resets, the logged
// schedule, determinism and learning on real data.

import Foundation
import NeuralNets
@testable import ProgressiveGAN
import Tensors
import Testing
import TestSupport

@Test func the_moving_average_update_by_hand() {
    var average = ParameterStore(), current = ParameterStore()
    average.add("a", Tensor(shape: [3], scalars: [1, -2, 0.5]))
    average.add("b", Tensor(shape: [1], scalars: [7]))
    current.add("a", Tensor(shape: [3], scalars: [3, 2, 0.5]))
    current.add("b", Tensor(shape: [1], scalars: [-7]))
    ProgressiveTrainer.updateAverage(&average, toward: current, decay: 0.9, indices: [0])
    // θ̄ ← θ + β(θ̄ - θ): 3 + 0.9·(1 - 3) = 1.2, 2 + 0.9·(-2 - 2) = -1.6, and 0.5 stays 0.5 exactly.
    let a = average["a"].scalars
    #expect(abs(a[0] - 1.2) < 1e-6 && abs(a[1] + 1.6) < 1e-6 && a[2] == 0.5)
    // Parameters not listed are not touched.
    #expect(average["b"].scalars == [7])
}

/// 16x16 squares, three stages of 32 images each with 32-image fade-ins,
/// batch 8: 20 steps through every phase.
func tinyTrainer(seed: UInt64 = 5) -> ProgressiveTrainer {
    let architecture = GANArchitecture(latentDimension: 8, featureMaps: [8, 8, 8])
    let configuration = ProgressiveTrainingConfiguration(
        architecture: architecture, schedule: GrowthSchedule(stageCount: 3, stabilizationImages: 32, fadeInImages: 32),
        batchSize: 8, seed: seed)
    return ProgressiveTrainer(configuration: configuration, images: squares(count: 40, resolution: 16, seed: 9))
}

@Test func a_run_logs_its_stage_and_alpha_and_resets_adam_when_the_phase_changes() {
    var trainer = tinyTrainer()
    var records = [GANStepRecord]()
    var phaseStart = 0
    while !trainer.isFinished {
        let phaseBefore = trainer.phase
        let record = trainer.step()
        if trainer.phase != phaseBefore { phaseStart = record.step - 1 }
        records.append(record)
        // Fresh moments at every phase: Adam's step count restarts.
        #expect(trainer.generatorOptimizer.state.step == record.step - phaseStart)
        #expect(trainer.discriminatorOptimizer.state.step == record.step - phaseStart)
        // The optimizers hold moments for the parameters of the level only.
        #expect(trainer.generatorOptimizer.state.slots[1].count == trainer.generator.parameterNames(at: record.level).count)
    }
    #expect(records.count == 20 && records.last!.imagesShown == 160)
    #expect(records.map(\.level.stage) == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2])
    #expect(records.map(\.resolution) == records.map { 4 << $0.level.stage })
    let alphas = records.map(\.level.alpha)
    #expect(alphas == [1, 1, 1, 1, 0, 0.25, 0.5, 0.75, 1, 1, 1, 1, 0, 0.25, 0.5, 0.75, 1, 1, 1, 1])
    #expect(records.map(\.level.isFadingIn) == [4, 4, 4, 4, 4].enumerated().flatMap { k, n in
        [Bool](repeating: k % 2 == 1, count: n)
    })
    #expect(records.allSatisfy { $0.criticLoss.isFinite && $0.generatorLoss.isFinite && $0.gradientPenalty >= 0 })
}

@Test func the_averaged_generator_follows_the_trained_one_with_decay_0_999() {
    var trainer = tinyTrainer()
    let initial = trainer.generatorParameters
    trainer.step()
    let trained = trainer.generatorParameters, average = trainer.averagedGenerator
    let active = Set(trainer.generator.parameterNames(at: .stable(0)))
    var moved = 0
    for (k, name) in initial.names.enumerated() {
        if active.contains(name) {
            // θ̄₁ = θ₁ + 0.999 (θ₀ - θ₁), θ̄₀ = θ₀.
            let expected = zip(trained.tensors[k].scalars, initial.tensors[k].scalars).map { $0 + 0.999 * ($1 - $0) }
            #expect(average.tensors[k].scalars == expected, "\(name)")
            if trained.tensors[k] != initial.tensors[k] { moved += 1 }
        } else {
            #expect(trained.tensors[k] == initial.tensors[k] && average.tensors[k] == initial.tensors[k], "\(name) moved")
        }
    }
    #expect(moved == active.count)
}

@Test func the_same_seed_gives_the_same_run_bit_for_bit() {
    var a = tinyTrainer(seed: 6), b = tinyTrainer(seed: 6), c = tinyTrainer(seed: 7)
    var ra = [GANStepRecord](), rb = [GANStepRecord](), rc = [GANStepRecord]()
    a.train { ra.append($0) }
    b.train { rb.append($0) }
    for _ in 0..<3 { rc.append(c.step()) }
    #expect(ra == rb)
    #expect(ra.map(\.csvRow) == rb.map(\.csvRow))
    #expect(a.generatorParameters == b.generatorParameters && a.discriminatorParameters == b.discriminatorParameters)
    #expect(a.averagedGenerator == b.averagedGenerator)
    #expect(Array(ra.prefix(3)) != rc)
    let z = ProgressiveTrainer.latents(count: 4, dimension: 8, seed: 1)
    #expect(bitwiseEqual(a.samples(z), b.samples(z)))
    #expect(a.samples(z).shape == [4, 1, 16, 16])
}

@Test(arguments: [4, 7, 12])
func a_trainer_resumed_from_its_state_continues_bit_for_bit(after steps: Int) {
    var original = tinyTrainer()
    for _ in 0..<steps { original.step() }
    let saved = original.state
    var resumed = ProgressiveTrainer(configuration: original.configuration, images: original.images, resumingFrom: saved)
    #expect(resumed.state == saved)
    var a = [GANStepRecord](), b = [GANStepRecord]()
    original.train { a.append($0) }
    resumed.train { b.append($0) }
    #expect(a.count == 20 - steps && a == b)
    #expect(original.state == resumed.state)
}

let fashionMNISTPresent = FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
    || FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte")

@Test func fashion_mnist_is_padded_to_32_by_32_in_minus_one_to_one() throws {
    let tiny = TrainingImages.padded([0, 255, 51, 102, 0, 0], count: 1, rows: 2, columns: 3, labels: [4])
    #expect(tiny.resolution == 4 && tiny.labels == [4])
    #expect(tiny.bytes == [0, 0, 0, 0, 0, 255, 51, 0, 102, 0, 0, 0, 0, 0, 0, 0])
    let batch = tiny.batch([0, 0])
    #expect(batch.shape == [2, 1, 4, 4] && batch.scalars[0] == -1 && batch.scalars[5] == 1 && abs(batch.scalars[6] + 0.6) < 1e-6)
    guard fashionMNISTPresent else { return }
    let images = try TrainingImages.fashionMNIST(count: 20)
    #expect(images.count == 20 && images.resolution == 32 && images.channels == 1 && images.labels.count == 20)
    let x = images.batch(Array(0..<20))
    for n in 0..<20 {
        for i in 0..<32 {
            for (r, c) in [(0, i), (1, i), (30, i), (31, i), (i, 0), (i, 1), (i, 30), (i, 31)] {
                #expect(x.scalars[n * 1024 + r * 32 + c] == -1)
            }
        }
    }
    #expect(x.scalars.allSatisfy { $0 >= -1 && $0 <= 1 } && x.scalars.contains { $0 > 0.9 })
}

/// Stage 0 on 200 Fashion-MNIST images, 500 steps of 16: the critic's
/// gradients come to norm 1 at the mixtures (the penalty falls tenfold) and
/// its loss falls, and the generator's 4x4 images approach the reals' mean
/// image (their distance first grows as G chases the untrained critic, then
/// falls below half its start).
@Test(.enabled(if: fashionMNISTPresent))
func a_short_run_on_fashion_mnist_learns() throws {
    let images = try TrainingImages.fashionMNIST(count: 200)
    let architecture = GANArchitecture(latentDimension: 16, featureMaps: [16, 16, 8, 8])
    let configuration = ProgressiveTrainingConfiguration(
        architecture: architecture, schedule: GrowthSchedule(stageCount: 4, stabilizationImages: 1_000_000, fadeInImages: 1),
        batchSize: 16, seed: 3)
    var trainer = ProgressiveTrainer(configuration: configuration, images: images)
    let reals = images.batch(Array(0..<200)).realImages(at: .stable(0), resolution: 4)
    let z = ProgressiveTrainer.latents(count: 200, dimension: 16, seed: 4)
    func meanImageDistance() -> Float {
        let fakes = trainer.samples(z, averaged: false)
        var d: Float = 0
        for p in 0..<16 {
            var real: Float = 0, fake: Float = 0
            for n in 0..<200 { real += reals.scalars[n * 16 + p]; fake += fakes.scalars[n * 16 + p] }
            d += (real / 200 - fake / 200) * (real / 200 - fake / 200)
        }
        return d.squareRoot()
    }
    let before = meanImageDistance()
    var records = [GANStepRecord]()
    for _ in 0..<500 { records.append(trainer.step()) }
    let after = meanImageDistance()
    let firstPenalty = records.prefix(10).map(\.gradientPenalty).reduce(0, +) / 10
    let lastPenalty = records.suffix(50).map(\.gradientPenalty).reduce(0, +) / 50
    let firstLoss = records.prefix(10).map(\.criticLoss).reduce(0, +) / 10
    let lastLoss = records.suffix(50).map(\.criticLoss).reduce(0, +) / 50
    #expect(after < 0.5 * before, "mean-image distance \(before) → \(after)")
    #expect(lastPenalty < 0.1 * firstPenalty, "gradient penalty \(firstPenalty) → \(lastPenalty)")
    #expect(lastLoss < firstLoss - 1, "critic loss \(firstLoss) → \(lastLoss)")
}
