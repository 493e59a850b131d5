// The critic's layers recorded into run directories that ActivationStore
// reads: the schedule, the layers and their shapes per stage, and the values
// against the critic computed directly on the probe batch.

import ActivationStore
import ArrayIO
import Foundation
@testable import ProgressiveGAN
import Tensors
import Testing

@Test func the_critic_is_recorded_every_interval_and_at_every_phase_end() {
    let s = tinyRunSettings()
    #expect(s.recordInterval == 3 && s.totalSteps == 30)
    for (stage, name) in ["critic-4x4", "critic-8x8", "critic-16x16"].enumerated() {
        #expect(s.criticDirectoryName(stage: stage) == name)
        #expect(s.plannedCriticRecords(stage: stage).map(\.images) == tinyCriticEpochs[name]!)
    }
    // The end of a stage is recorded stabilized, the start of the next fading in at α = 0.
    #expect(s.criticRecords(afterSteps: 6) == [CriticRecordPoint(stage: 0, images: 48, level: .stable(0)),
                                               CriticRecordPoint(stage: 1, images: 48, level: .fadingIn(1, alpha: 0))])
    #expect(s.criticRecords(afterSteps: 9) == [CriticRecordPoint(stage: 1, images: 72, level: .fadingIn(1, alpha: 0.5))])
    // The end of the fade-in: the stage stabilized.
    #expect(s.criticRecords(afterSteps: 12) == [CriticRecordPoint(stage: 1, images: 96, level: .stable(1))])
    #expect(s.criticRecords(afterSteps: 13).isEmpty)
    #expect(s.criticRecords(afterSteps: 30) == [CriticRecordPoint(stage: 2, images: 240, level: .stable(2))])
    // A run from before recording existed records nothing.
    var old = s
    old.probeCount = nil
    #expect(old.criticRecords(afterSteps: 0).isEmpty && old.criticRecords(afterSteps: 6).isEmpty)
}

@Test func the_recorded_critic_reads_as_a_run_and_its_scores_are_the_critics() throws {
    let dir = try temporaryDirectory() + "/run"
    let images = squares(count: 24, resolution: 16, seed: 3)
    var run = try ProgressiveRun.start(settings: tinyRunSettings(), at: dir, images: images)
    // Stop after 9 steps: the 8x8 critic's last recording (72 images, α = 0.5) is of the present trainer.
    try run.run(stopAfterSteps: 9)
    let reader = try RunReader(path: dir + "/critic-8x8")
    let m = reader.manifest
    #expect(m.layers.map(\.name) == ["block 8x8", "4x4 conv", "4x4 dense", "score"])
    #expect(m.layers.map(\.sampleShape) == [[4, 4, 4], [4, 4, 4], [4], [1]])
    #expect(m.layers.map(\.activation) == ["leaky_relu", "leaky_relu", "leaky_relu", "linear"])
    #expect(m.recordedEpochs == [48, 72] && m.epochsCompleted == 72 && !m.complete)
    #expect(m.plannedEpochs == tinyCriticEpochs["critic-8x8"]! && m.sampleCount == 32 && m.settings.task == "progan")
    #expect(m.trainCount == 16 && m.testCount == 16)
    let real = [Int](repeating: 1, count: 8), fake = [Int](repeating: 0, count: 8)
    #expect(try reader.labels() == real + fake + real + fake)
    #expect(try reader.trainMask() == [Bool](repeating: true, count: 16) + [Bool](repeating: false, count: 16))
    let inputs = try reader.inputs()
    #expect(inputs.rows == 32 && inputs.columns == 256)

    // The score layer: the critic's scores of the probe reals (the first 8
    // and the next 8 of the probe seed's permutation, this image set having
    // no held-out part, shown at α = 0.5) and of the average's fakes.
    let level = GrowthLevel.fadingIn(1, alpha: 0.5)
    var rng = RandomGenerator(seed: 2020)
    let order = rng.permutation(24)
    let reals = [images.batch(Array(order[0..<8])), images.batch(Array(order[8..<16]))]
    #expect(inputs.values[0..<(8 * 256)].elementsEqual(reals[0].scalars))
    #expect(inputs.values[(16 * 256)..<(24 * 256)].elementsEqual(reals[1].scalars))
    let t = run.trainer
    func scores(_ x: Tensor) -> [Float] { t.discriminator.scores(x, parameters: t.discriminatorParameters, level: level).scalars }
    func fakes(_ seed: UInt64) -> Tensor {
        t.samples(ProgressiveTrainer.latents(count: 8, dimension: tinyArchitecture.latentDimension, seed: seed), level: level)
    }
    let groups = [scores(reals[0].realImages(at: level, resolution: 8)), scores(fakes(2021)),
                  scores(reals[1].realImages(at: level, resolution: 8)), scores(fakes(2022))]
    let score = try reader.activations(epoch: 72, layer: 4)
    #expect(score.values.map(\.bitPattern) == groups.joined().map(\.bitPattern))
    // metrics.csv: the Wasserstein term mean D(fake) - mean D(real) per
    // half, and the accuracy of the threshold between the training half's means.
    let metrics = try reader.metrics()
    #expect(metrics.map(\.epoch) == [48, 72])
    func mean(_ x: [Float]) -> Double { x.reduce(0.0) { $0 + Double($1) } / Double(x.count) }
    #expect(metrics[1].trainLoss == mean(groups[1]) - mean(groups[0]) && metrics[1].testLoss == mean(groups[3]) - mean(groups[2]))
    let threshold = (mean(groups[0]) + mean(groups[1])) / 2
    let right = groups[2].filter { Double($0) > threshold }.count + groups[3].filter { Double($0) <= threshold }.count
    #expect(metrics[1].testAccuracy == Double(right) / 16)

    // Every recorded file has the shape its manifest gives (what `estimate` checks).
    for e in m.recordedEpochs { for l in m.layers { _ = try reader.activations(epoch: e, layer: l.index) } }
    try run.run()
    // A block keeps its name and shape in the later stage's directory.
    let last = try RunReader(path: dir + "/critic-16x16").manifest
    #expect(last.layers.map(\.name) == ["block 16x16", "block 8x8", "4x4 conv", "4x4 dense", "score"])
    #expect(last.layers[1].sampleShape == [4, 4, 4] && last.layers[0].sampleShape == [4, 8, 8])
    #expect(last.complete && last.recordedEpochs == tinyCriticEpochs["critic-16x16"]!)
    #expect(try RunReader(path: dir + "/critic-4x4").manifest.layers.map(\.name) == ["4x4 conv", "4x4 dense", "score"])
}

@Test func the_metrics_of_four_score_groups_by_hand() {
    // Training half: reals 2, 4 (mean 3), fakes 0, -2 (mean -1): threshold 1.
    // Held out: reals 1.5, 0.5 and fakes 1, -3; 1 counts as fake.
    let m = CriticRecorder.metrics(epoch: 7, scores: [[2, 4], [0, -2], [1.5, 0.5], [1, -3]])
    #expect(m.epoch == 7 && m.trainLoss == -4 && m.trainAccuracy == 1)
    #expect(m.testLoss == -1 - 1 && m.testAccuracy == 0.75)
}

@Test func a_probe_larger_than_the_image_set_is_refused_naming_the_run() throws {
    let dir = try temporaryDirectory() + "/run"
    var settings = tinyRunSettings()
    // 16 reals and 16 others held out do not fit in 24 images.
    settings.probeCount = 16
    do {
        _ = try ProgressiveRun.start(settings: settings, at: dir, images: squares(count: 24, resolution: 16, seed: 3))
        Issue.record("a probe of 2 x 16 of 24 images was accepted")
    } catch let error as FileError {
        #expect(error.path == dir && "\(error)".contains("probe of 16"))
    }
    settings.probeCount = 6
    #expect(throws: FileError.self) { _ = try ProgressiveRun.start(settings: settings, at: dir, images: squares(count: 24, resolution: 16, seed: 3)) }
}
