// `infoplane sample RUN`: images from a progressive GAN run's moving-average
// generator, as a grid PNG (torchvision's make_grid layout, the `grid`
// command's) and/or a .npy batch; with --swd, --fid and --coverage, the
// sample-quality metrics (ProgressiveGAN's SlicedWasserstein.swift and
// SampleMetrics.swift).

import ArgumentParser
import Foundation
import ArrayIO
import Plotting
import ProgressiveGAN
import Tensors

struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Draw images from a progressive GAN run's moving-average generator.",
        discussion: """
        The samples come from `count` standard-normal latents of `--seed`, at the last stage the run reached
        (nearest-upscaled to the final resolution), clamped to [-1, 1]. The grid shows them as (x + 1) / 2, or with
        --normalize rescaled by the batch's min and max (make_grid's normalize=True).
        Example: infoplane sample runs/progan --count 64 --seed 7 -o grid.png --npy samples.npy
        """
    )

    @Argument(help: "A run directory written by `infoplane train --task progan`.")
    var directory: String

    @Option(help: ArgumentHelp("Draw from the generator saved at the end of stage R x R (4, 8, …) instead of the last.",
                               valueName: "R"))
    var stage: Int?

    @Option(help: "Number of samples.")
    var count: Int = 64

    @Option(help: "Seed of the latents.")
    var seed: UInt64 = 1

    @Option(help: "Images per row of the grid.")
    var nrow: Int = 8

    @Option(help: "Pixels between and around the grid's images.")
    var padding: Int = 2

    @Flag(help: "Rescale the grid by the batch's min and max instead of mapping [-1, 1] to [0, 1].")
    var normalize = false

    @Option(help: "Nearest-neighbour magnification of the grid.")
    var upscale: Int = 1

    @Option(name: .shortAndLong, help: "Grid PNG to write.")
    var output: String?

    @Option(help: "Write the samples as a .npy of N x C x H x W float32 in [-1, 1].")
    var npy: String?

    @Option(help: ArgumentHelp(
        "Also measure the sliced Wasserstein distance (Karras et al., x 1e3 per pyramid level) of N samples to N real images.",
        discussion: "The real images are Fashion-MNIST's test split for a Fashion-MNIST run (images the run never saw), else N random images of the run's image set.",
        valueName: "N"))
    var swd: Int?

    @Option(help: ArgumentHelp(
        "Also measure the Fréchet distance of the features of N samples and N real images, in a classifier of the run's images.",
        discussion: "The classifier (a small CNN, seed 1, 1500 Adam steps of 32 images) is trained on the run's training images at the first use and cached (--classifier). The real images are those of --swd; N other real images against them are printed for scale.",
        valueName: "N"))
    var fid: Int?

    @Option(help: ArgumentHelp(
        "Also count the classes the classifier gives N samples: those with at least 1/(2K) of them, and the normalized entropy.",
        valueName: "N"))
    var coverage: Int?

    @Option(help: ArgumentHelp("The classifier's cache (default: RUN/classifier.npz); trained and written there when missing.",
                               valueName: "PATH"))
    var classifier: String?

    func validate() throws {
        if count <= 0 { throw ValidationError("--count must be positive") }
        if nrow <= 0 { throw ValidationError("--nrow must be positive") }
        if padding < 0 { throw ValidationError("--padding must not be negative") }
        if !(1...32).contains(upscale) { throw ValidationError("--upscale must be between 1 and 32") }
        if output == nil && npy == nil && swd == nil && fid == nil && coverage == nil {
            throw ValidationError("give -o grid.png, --npy samples.npy, --swd N, --fid N, --coverage N, or any of them")
        }
        if let swd, swd < 2 { throw ValidationError("--swd needs at least 2 images") }
        if let fid, fid < 2 { throw ValidationError("--fid needs at least 2 images") }
        if let coverage, coverage < 1 { throw ValidationError("--coverage needs at least 1 image") }
        if classifier != nil && fid == nil && coverage == nil { throw ValidationError("--classifier is an option of --fid and --coverage") }
        if let output, !output.hasSuffix(".png") { throw ValidationError("-o must name a .png file") }
    }

    func run() throws {
        BLASCore.restartWithRecognizedCoreIfNeeded()
        let sampler = try ProgressiveSampler(directory: directory, stage: stage)
        let x = BLAS.withThreads(1) { sampler.samples(count: count, seed: seed) }
        if let npy { try NPY.write(NPYArray(floats: x.scalars, shape: x.shape), to: npy) }
        if let output {
            var grid = ImageGrid(values: x.scalars, shape: x.shape)
            grid.nrow = nrow
            grid.padding = padding
            grid.normalize = true
            grid.valueRange = normalize ? nil : (-1, 1)
            grid.upscale = upscale
            try grid.render().writePNG(to: output)
        }
        if let swd {
            try printSlicedWasserstein(sampler: sampler, count: swd)
        }
        if fid != nil || coverage != nil { try printClassifierMetrics(sampler: sampler) }
        let r = sampler.level.stage
        print("\(count) samples of \(directory) at stage \(r) (\(sampler.settings.architecture.resolution(ofStage: r))²)"
              + (output.map { " → \($0)" } ?? "") + (npy.map { " → \($0)" } ?? ""))
    }
}

extension Sample {
    /// The real images the metrics compare with: `count` of Fashion-MNIST's
    /// test split for a Fashion-MNIST run (`skip` on), else `count` of the
    /// run's images drawn with the seed (after the first `skip` of that order).
    func realImages(_ settings: ProgressiveRunSettings, count: Int, skip: Int = 0, option: String) throws -> Tensor {
        let source = settings.images
        let reals: TrainingImages
        let rows: [Int]
        if source.hasPrefix("fashion-mnist:") {
            reals = try TrainingImages.fashionMNIST(directory: String(source.dropFirst("fashion-mnist:".count)), test: true,
                                                    count: skip + count)
            rows = Array(min(skip, reals.count)..<reals.count)
        } else {
            reals = try ProgressiveRunSettings.loadImages(source)
            var rng = RandomGenerator(seed: seed)
            rows = Array(rng.permutation(reals.count).dropFirst(skip).prefix(count))
        }
        guard rows.count == count else {
            throw ValidationError("\(option) \(count): the real images number only \(rows.count)" + (skip > 0 ? " after the first \(skip)" : ""))
        }
        return reals.batch(rows)
    }

    /// The Fréchet distance and class coverage of samples (latents of
    /// `seed` + 2) in the features of the run's classifier.
    func printClassifierMetrics(sampler: ProgressiveSampler) throws {
        let settings = sampler.settings
        let images = try ProgressiveRunSettings.loadImages(settings.images)
        let path = classifier ?? directory + "/classifier.npz"
        let classifierSettings = FeatureClassifierSettings()
        if !AtomicFile.exists(path) {
            print("Training the classifier (seed \(classifierSettings.seed), \(classifierSettings.steps) steps of "
                  + "\(classifierSettings.batchSize)) on \(settings.images) → \(path)")
        }
        let trained = !AtomicFile.exists(path)
        let model = try FeatureClassifier.cached(at: path, images: images, settings: classifierSettings, source: settings.images)
        let source = settings.images, prefix = "fashion-mnist:"
        if trained, source.hasPrefix(prefix) {
            let test = try TrainingImages.fashionMNIST(directory: String(source.dropFirst(prefix.count)), test: true, count: 1000)
            let right = zip(model.predictions(test.batch(Array(0..<test.count))), test.labels).filter { $0 == $1 }.count
            print(String(format: "The classifier's accuracy on %d test images: %.3f", test.count, Double(right) / Double(test.count)))
        }
        let n = max(fid ?? 0, coverage ?? 0)
        let fakes = BLAS.withThreads(1) { sampler.samples(count: n, seed: seed &+ 2) }
        if let fid {
            let real = try realImages(settings, count: fid, option: "--fid")
            let fakeFeatures = model.evaluate(fakes.rows(0..<fid)).features, realFeatures = model.evaluate(real).features
            var line = String(format: "Fréchet distance (classifier features), %d samples against %d real images: %.3f",
                              fid, fid, FrechetDistance.distance(fakeFeatures, realFeatures))
            if let other = try? realImages(settings, count: fid, skip: fid, option: "--fid") {
                line += String(format: " (%d other real images: %.3f)", fid,
                               FrechetDistance.distance(model.evaluate(other).features, realFeatures))
            }
            print(line)
        }
        if let coverage {
            let c = ClassCoverage(predictions: model.predictions(fakes.rows(0..<coverage)), classes: model.classes)
            print(String(format: "Class coverage of %d samples: %d of %d classes with at least 1/%d of them, normalized entropy %.3f; ",
                         coverage, c.covered, model.classes, 2 * model.classes, c.normalizedEntropy)
                  + "per class: " + c.counts.map(String.init).joined(separator: " "))
        }
    }

    /// The SWD of `count` samples (latents of `seed` + 1, apart from the
    /// grid's) to `count` real images, printed per level and averaged.
    func printSlicedWasserstein(sampler: ProgressiveSampler, count: Int) throws {
        let source = sampler.settings.images
        let reals: TrainingImages
        let rows: [Int]
        if source.hasPrefix("fashion-mnist:") {
            reals = try TrainingImages.fashionMNIST(directory: String(source.dropFirst("fashion-mnist:".count)), test: true, count: count)
            rows = Array(0..<min(count, reals.count))
        } else {
            reals = try ProgressiveRunSettings.loadImages(source)
            var rng = RandomGenerator(seed: seed)
            rows = Array(rng.permutation(reals.count).prefix(count))
        }
        guard rows.count == count else {
            throw ValidationError("--swd \(count): the real images number only \(rows.count)")
        }
        let metric = SlicedWasserstein()
        guard reals.resolution >= metric.minimumResolution, reals.resolution > metric.neighbourhood else {
            throw ValidationError("--swd needs images of at least \(metric.minimumResolution)x\(metric.minimumResolution) (these are \(reals.resolution)x\(reals.resolution))")
        }
        let real = reals.batch(rows)
        let fake = BLAS.withThreads(1) { sampler.samples(count: count, seed: seed &+ 1) }
        let distances = metric.distances(fake, real, seed: seed)
        let levels = metric.resolutions(for: real.shape[2])
        let parts = zip(levels, distances).map { "\($0)x\($0) \(String(format: "%.1f", $1))" }
        let mean = distances.reduce(0, +) / Double(distances.count)
        print("SWD x 1e3, \(count) samples against \(count) real images: " + parts.joined(separator: ", ")
              + String(format: ", average %.1f", mean))
    }
}
