// `infoplane sample RUN`: images from a progressive GAN run's moving-average
// generator, as a grid PNG (torchvision's make_grid layout, the `grid`
// command's) and/or a .npy batch.

import ArgumentParser
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

    func validate() throws {
        if count <= 0 { throw ValidationError("--count must be positive") }
        if nrow <= 0 { throw ValidationError("--nrow must be positive") }
        if padding < 0 { throw ValidationError("--padding must not be negative") }
        if !(1...32).contains(upscale) { throw ValidationError("--upscale must be between 1 and 32") }
        if output == nil && npy == nil { throw ValidationError("give -o grid.png, --npy samples.npy, or both") }
        if let output, !output.hasSuffix(".png") { throw ValidationError("-o must name a .png file") }
    }

    func run() throws {
        BLASCore.restartWithRecognizedCoreIfNeeded()
        let sampler = try ProgressiveSampler(directory: directory)
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
        let r = sampler.level.stage
        print("\(count) samples of \(directory) at stage \(r) (\(sampler.settings.architecture.resolution(ofStage: r))²)"
              + (output.map { " → \($0)" } ?? "") + (npy.map { " → \($0)" } ?? ""))
    }
}
