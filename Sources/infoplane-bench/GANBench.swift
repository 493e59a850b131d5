// Benchmarks of the progressive GAN (ProgressiveGAN): one training step at
// each stage — a critic step with the WGAN-GP penalty differentiated through
// the recorded backward pass, a generator step, both Adam updates and the
// moving average — and a whole training run on Fashion-MNIST that writes
// grids of the averaged generator's samples.
//
//   infoplane-bench gan                        steps at every stage, batch 16, 1 and 2 threads,
//                                              and the parts of the last stage's step
//   infoplane-bench gan-run [K] [DIRECTORY]    a run of K thousand images per phase (default 8),
//                                              grids in DIRECTORY (default gan-run)
//
// The same step in PyTorch's CPU build (same architecture, loss, optimizer
// and average) is timed by a script kept outside the repository, as PyTorch
// is not a dependency.

import Autodiff
import Foundation
import NeuralNets
import Plotting
import ProgressiveGAN
import Tensors

/// Random bytes in the Fashion-MNIST layout: the step's cost does not depend on the pixels.
private func benchImages(count: Int, resolution: Int) -> TrainingImages {
    var rng = RandomGenerator(seed: 11)
    let bytes = (0..<(count * resolution * resolution)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    return TrainingImages(bytes: bytes, count: count, channels: 1, resolution: resolution,
                          labels: [Int](repeating: 0, count: count))
}

/// Milliseconds per `ProgressiveTrainer.step()` at each stage, default
/// architecture, batch 16, on 1 and 2 BLAS threads.
func runGANBenchmarks() {
    let architecture = GANArchitecture()
    let images = benchImages(count: 256, resolution: architecture.finalResolution)
    for threads in [1, 2] {
        print("\nProgressive GAN step (critic with gradient penalty, generator, Adam, average), batch 16, "
              + "BLAS.threads = \(threads)")
        BLAS.withThreads(threads) {
            for stage in 0..<architecture.stageCount {
                let schedule = GrowthSchedule(stageCount: architecture.stageCount, initialStage: stage,
                                              stabilizationImages: 1 << 40, fadeInImages: 0)
                var trainer = ProgressiveTrainer(
                    configuration: ProgressiveTrainingConfiguration(architecture: architecture, schedule: schedule,
                                                                    batchSize: 16, seed: 1),
                    images: images)
                for _ in 0..<3 { trainer.step() }
                let ns = nanosecondsPerCall(batches: 5) { trainer.step() }
                let r = architecture.resolution(ofStage: stage)
                print("  \(padded("stage \(stage), \(r)x\(r)", 20)) \(format(ns / 1e6, 2)) ms")
            }
            printStepParts(architecture, images: images)
        }
    }
}

/// The parts of a step at the last stage, each through the public API on its
/// own tape: G's forward pass, D's, the critic's loss with its gradients (the
/// penalty's double backward included), the generator's loss with its gradients.
private func printStepParts(_ architecture: GANArchitecture, images: TrainingImages) {
    var rng = RandomGenerator(seed: 3)
    var gp = ParameterStore(), dp = ParameterStore()
    let g = ProgressiveGenerator(architecture, store: &gp, rng: &rng)
    let d = ProgressiveDiscriminator(architecture, store: &dp, rng: &rng)
    let level = GrowthLevel.stable(architecture.stageCount - 1)
    let z = ProgressiveTrainer.latents(count: 16, dimension: architecture.latentDimension, seed: 4)
    let reals = images.batch(Array(0..<16))
    let fakes = g.generate(z, parameters: gp, level: level)
    let mixing = (0..<16).map { _ in rng.nextFloat() }
    let parts: [(String, () -> Void)] = [
        ("G forward", { _ = g.generate(z, parameters: gp, level: level) }),
        ("D forward", { _ = d.scores(reals, parameters: dp, level: level) }),
        ("critic loss and gradients", {
            let tape = Tape()
            let p = dp.bind(to: tape)
            let terms = WGANGPLoss().criticTerms(d, p, real: reals, fake: fakes, mixing: mixing, level: level)
            _ = tape.gradients(of: terms.loss, withRespectTo: p.variables)
        }),
        ("generator loss and gradients", {
            let tape = Tape()
            let pg = gp.bind(to: tape)
            let scores = d(g(tape.constant(z), pg, level: level), dp.bind(to: tape, requiringGradients: false), level: level)
            _ = tape.gradients(of: WGANGPLoss().generatorLoss(fakeScores: scores), withRespectTo: pg.variables)
        }),
    ]
    for (name, body) in parts {
        print("    \(padded(name, 30)) \(format(nanosecondsPerCall(batches: 5, body) / 1e6, 2)) ms")
    }
}

/// Trains the default architecture on Fashion-MNIST with `thousands`
/// thousand images per phase, printing the log every 50 steps, and writes
/// into `directory` a grid of 64 averaged-generator samples from one fixed
/// latent batch at the end of every stage (nearest-upscaled to 32x32), the
/// same from the trained (not averaged) generator, and a grid of reals.
func runGANTraining(thousands: Int, directory: String) {
    do {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let images = try TrainingImages.fashionMNIST()
        let architecture = GANArchitecture()
        let schedule = GrowthSchedule(stageCount: architecture.stageCount, stabilizationImages: thousands * 1000,
                                      fadeInImages: thousands * 1000)
        var trainer = ProgressiveTrainer(
            configuration: ProgressiveTrainingConfiguration(architecture: architecture, schedule: schedule, seed: 1),
            images: images)
        let latents = ProgressiveTrainer.latents(count: 64, dimension: architecture.latentDimension, seed: 2018)
        func writeGrid(_ x: Tensor, _ name: String) throws {
            var x = x
            while x.shape[2] < architecture.finalResolution { x = x.upsampledNearest2x() }
            var grid = ImageGrid(values: x.scalars, shape: x.shape)
            grid.normalize = true
            grid.valueRange = (-1, 1)
            grid.upscale = 3
            try grid.render().writePNG(to: directory + "/" + name)
        }
        try writeGrid(images.batch(Array(0..<64)), "reals.png")
        print("progressive GAN on Fashion-MNIST: \(schedule.totalImages) images, \(thousands)k a phase, "
              + "BLAS.threads = \(BLAS.threads)")
        print(GANStepRecord.csvHeader + ",seconds")
        let clock = ContinuousClock(), start = clock.now
        func elapsed() -> Double {
            let d = clock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        }
        while !trainer.isFinished {
            let record = trainer.step()
            if record.step % 50 == 0 {
                print(record.csvRow + "," + format(elapsed(), 1))
                fflush(nil)  // every stream: the log reads as it grows when redirected
            }
            // The end of a stage's stabilization: the next step fades in a
            // new block, or the run is over.
            if !record.level.isFadingIn && (trainer.isFinished || trainer.level.isFadingIn) {
                let r = architecture.resolution(ofStage: record.level.stage)
                try writeGrid(trainer.samples(latents, level: record.level), "samples-\(r)x\(r).png")
                try writeGrid(trainer.samples(latents, level: record.level, averaged: false), "samples-\(r)x\(r)-raw.png")
                print("stage \(record.level.stage) done after \(record.imagesShown) images, \(format(elapsed(), 1)) s")
            }
        }
        try writeGrid(trainer.samples(latents), "samples-final.png")
        try writeGrid(trainer.samples(latents, averaged: false), "samples-final-raw.png")
        print("total \(format(elapsed(), 1)) s for \(trainer.steps) steps")
    } catch {
        print("gan-run: \(error)")
    }
}
