// `infoplane train --task progan`: a progressive GAN (Karras et al. 2018)
// trained into a run directory (see ProgressiveGAN/ProgressiveRun.swift).
//
// Defaults: Fashion-MNIST padded to 32x32, the architecture
// `ProgressiveRunSettings.architecture` picks for the images ([64, 64, 32,
// 32] feature maps, latent 64, for 32x32), 8000 images per phase (seven
// phases, 56,000 images, 3500 steps of batch 16), seed 1, a checkpoint every
// 500 steps. On one BLAS thread (two are no faster at these sizes) that took
// 495 s of CPU, 10.5 minutes of wall-clock time on two cores shared with a
// full test build. The critic is recorded on 64 training reals, 64 held-out
// reals and 64 fakes beside each (fewer for a small image set) every 250
// steps and at every phase end, into critic-RxR/
// (ProgressiveGAN/CriticRecording.swift).

import ArgumentParser
import Foundation
import ProgressiveGAN
import Tensors

enum ProgressiveTraining {
    static let defaultImagesPerPhase = 8000
    static let defaultImages = "/usr/share/datasets/fashion-mnist"

    /// The options `train` has for the MLP tasks only.
    static func mlpOptions(_ t: Train) -> [String] {
        var given = [String]()
        func check(_ value: Any?, _ name: String) { if value != nil { given.append(name) } }
        check(t.data, "--data"); check(t.hidden, "--hidden"); check(t.activation, "--activation")
        check(t.initializer, "--initializer"); check(t.epochs, "--epochs"); check(t.optimizer, "--optimizer")
        check(t.lr, "--lr"); check(t.momentum, "--momentum"); check(t.weightDecay, "--weight-decay")
        check(t.lrSchedule, "--lr-schedule"); check(t.mixup, "--mixup"); check(t.trainingFraction, "--training-fraction")
        check(t.split, "--split"); check(t.trainSubset, "--train-subset"); check(t.testSubset, "--test-subset")
        check(t.record, "--record"); check(t.activations, "--activations"); check(t.dtype, "--dtype")
        check(t.recordedSamples, "--recorded-samples"); check(t.labelNoise, "--label-noise")
        if t.downsample { given.append("--downsample") }
        return given
    }

    static func validate(_ t: Train) throws {
        if t.task != "progan" { throw ValidationError("--images and --images-per-phase are options of --task progan") }
        let other = mlpOptions(t)
        if !other.isEmpty { throw ValidationError("--task progan does not take \(other.joined(separator: ", "))") }
        if t.resume != nil && (t.images != nil || t.imagesPerPhase != nil || t.batchSize != nil || t.seed != nil
                               || t.checkpointInterval != nil) {
            throw ValidationError("--resume continues a progan run with its own settings; give no other options")
        }
        if let n = t.imagesPerPhase, n <= 0 { throw ValidationError("--images-per-phase must be positive (got \(n))") }
        if let n = t.batchSize, n <= 0 { throw ValidationError("--batch-size must be positive (got \(n))") }
        if let n = t.checkpointInterval, n <= 0 { throw ValidationError("--checkpoint-interval must be positive (steps)") }
    }

    /// Starts or resumes the run and trains it to the end, showing progress on a terminal.
    static func train(_ t: Train) throws {
        var run: ProgressiveRun
        if let resume = t.resume {
            run = try ProgressiveRun.resume(at: resume)
            if run.isComplete {
                print("\(resume) is already complete (\(run.manifest.stepsCompleted) steps).")
                return
            }
        } else {
            let source = t.images ?? ("fashion-mnist:" + defaultImages)
            let images = try ProgressiveRunSettings.loadImages(source)
            let settings = ProgressiveRunSettings(
                images: source, architecture: ProgressiveRunSettings.architecture(channels: images.channels, resolution: images.resolution),
                imagesPerPhase: t.imagesPerPhase ?? defaultImagesPerPhase, batchSize: t.batchSize ?? 16, seed: t.seed ?? 1,
                checkpointInterval: t.checkpointInterval ?? 500, probeCount: min(64, images.count / 8 * 4))
            run = try ProgressiveRun.start(settings: settings, at: t.out!, images: images)
        }
        let total = run.settings.schedule.totalImages
        let progress = TerminalProgress()
        let start = Date()
        try run.run { r in
            progress.update(r.imagesShown, of: total, String(format: "%dx%d alpha %.2f: L_D %.3f, L_G %.3f",
                                                             r.resolution, r.resolution, r.level.alpha, r.criticLoss, r.generatorLoss))
        }
        progress.finish()
        print(String(format: "%@: %d steps, %d images in %.1f s; grids in %@/grids", run.directory, run.trainer.steps,
                     run.trainer.imagesShown, Date().timeIntervalSince(start), run.directory))
    }
}
