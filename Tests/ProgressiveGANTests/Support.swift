// Small networks and comparisons shared by the progressive-GAN tests.

import Autodiff
import NeuralNets
@testable import ProgressiveGAN
import Tensors
import TestSupport

/// Three stages (4x4 to 16x16), four feature maps, latent 8: fast in a debug build.
let tinyArchitecture = GANArchitecture(latentDimension: 8, featureMaps: [4, 4, 4])

/// A generator and a critic of `architecture` with their parameters; the
/// biases set to small random values so that tests see them (they start at 0).
func tinyNetworks(_ architecture: GANArchitecture = tinyArchitecture, seed: UInt64 = 1, randomBiases: Bool = true)
    -> (g: ProgressiveGenerator, gp: ParameterStore, d: ProgressiveDiscriminator, dp: ParameterStore) {
    var rng = RandomGenerator(seed: seed)
    var gp = ParameterStore(), dp = ParameterStore()
    let g = ProgressiveGenerator(architecture, store: &gp, rng: &rng)
    let d = ProgressiveDiscriminator(architecture, store: &dp, rng: &rng)
    if randomBiases {
        for (k, name) in gp.names.enumerated() where name.hasSuffix(".bias") {
            gp[name] = randomTensor(gp[name].shape, seed: 100 + UInt64(k), scale: 0.1)
        }
        for (k, name) in dp.names.enumerated() where name.hasSuffix(".bias") {
            dp[name] = randomTensor(dp[name].shape, seed: 200 + UInt64(k), scale: 0.1)
        }
    }
    return (g, gp, d, dp)
}

/// Whether two tensors have the same shape and the same bits.
func bitwiseEqual(_ a: Tensor, _ b: Tensor) -> Bool {
    a.shape == b.shape && a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern)
}

/// The largest absolute difference between two tensors of one shape.
func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
    precondition(a.shape == b.shape, "maxDifference: \(a.shape) vs \(b.shape)")
    return zip(a.scalars, b.scalars).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Synthetic single-channel images: a bright square of random size and place
/// on a dark background, as bytes.
func squares(count: Int, resolution: Int, seed: UInt64) -> TrainingImages {
    var rng = RandomGenerator(seed: seed)
    var bytes = [UInt8](repeating: 0, count: count * resolution * resolution)
    for k in 0..<count {
        let side = 2 + rng.nextInt(below: resolution / 2)
        let top = rng.nextInt(below: resolution - side + 1), left = rng.nextInt(below: resolution - side + 1)
        for r in top..<(top + side) { for c in left..<(left + side) { bytes[(k * resolution + r) * resolution + c] = 230 } }
    }
    return TrainingImages(bytes: bytes, count: count, channels: 1, resolution: resolution, labels: [Int](repeating: 0, count: count))
}
