// The sizes and switches shared by the progressive generator and critic of
// Karras et al. (2018), "Progressive Growing of GANs for Improved Quality,
// Stability, and Variation" (ICLR), Sec. 2-4 and Appendix A.1.
//
// The paper's networks go from 4x4 to 1024x1024 with 512 feature maps up to
// 32x32; this module keeps their structure and scales the widths down so that
// a run fits on a CPU. The switches exist for the paper's Table 1 ablations;
// every one defaults to the paper's setting.
//
// [KALL18]: T. Karras, T. Aila, S. Laine, J. Lehtinen, "Progressive Growing
//   of GANs for Improved Quality, Stability, and Variation", ICLR 2018,
//   https://arxiv.org/abs/1710.10196

import NeuralNets

/// The shape of a progressive GAN: resolutions, widths and the paper's switches.
///
/// Stage s works at resolution 4·2ˢ. The default is the CPU scale of this
/// project: 32x32 single-channel images (Fashion-MNIST padded), latent
/// dimension 64, 64 feature maps at 4x4 and 8x8 and 32 at 16x16 and 32x32.
public struct GANArchitecture: Sendable, Equatable, Codable {
    /// Dimension of the latent vector z (the paper: 512).
    public var latentDimension: Int
    /// Channels of the images (1 for Fashion-MNIST, 3 for colour).
    public var imageChannels: Int
    /// Feature maps per stage, 4x4 first; its count fixes the final
    /// resolution 4·2^(count-1). G's block at stage s outputs
    /// `featureMaps[s]`; the critic's block at stage s reads `featureMaps[s]`
    /// and outputs `featureMaps[s - 1]`, its fromRGB at stage s outputs
    /// `featureMaps[s]` (the authors' `nf(res - 1)` and `nf(res - 2)`).
    public var featureMaps: [Int]
    /// Samples per minibatch-standard-deviation group (the paper: 4); a batch
    /// smaller than the group forms one group, as in the authors' code.
    public var minibatchGroupSize: Int
    /// The negative slope of every leaky ReLU (the paper: 0.2).
    public var leakySlope: Float
    /// Pixelwise feature normalization in G after every convolution (§4.2).
    public var usesPixelNormalization: Bool
    /// The latent normalized to the sphere of radius √latentDimension (unit
    /// mean square) before G's first layer: App. A.1, and the authors'
    /// `normalize_latents`, kept when the ablations drop pixel norm.
    public var normalizesLatents: Bool
    /// The minibatch standard-deviation feature map at D's 4x4 block (§3).
    public var usesMinibatchStandardDeviation: Bool
    /// Equalized learning rate (§4.1): weights stored N(0, 1) and scaled by
    /// gain/√fanIn at every forward pass. Off: He's initialization, the same
    /// standard deviation drawn once and never rescaled.
    public var usesEqualizedLearningRate: Bool

    public init(latentDimension: Int = 64, imageChannels: Int = 1, featureMaps: [Int] = [64, 64, 32, 32],
                minibatchGroupSize: Int = 4, leakySlope: Float = 0.2, usesPixelNormalization: Bool = true,
                normalizesLatents: Bool = true, usesMinibatchStandardDeviation: Bool = true, usesEqualizedLearningRate: Bool = true) {
        precondition(latentDimension > 0 && imageChannels > 0, "GANArchitecture: latent \(latentDimension), channels \(imageChannels)")
        precondition(!featureMaps.isEmpty && featureMaps.allSatisfy { $0 > 0 }, "GANArchitecture: feature maps \(featureMaps)")
        precondition(minibatchGroupSize >= 1, "GANArchitecture: minibatch group size \(minibatchGroupSize)")
        self.latentDimension = latentDimension
        self.imageChannels = imageChannels
        self.featureMaps = featureMaps
        self.minibatchGroupSize = minibatchGroupSize
        self.leakySlope = leakySlope
        self.usesPixelNormalization = usesPixelNormalization
        self.normalizesLatents = normalizesLatents
        self.usesMinibatchStandardDeviation = usesMinibatchStandardDeviation
        self.usesEqualizedLearningRate = usesEqualizedLearningRate
    }

    /// The number of stages (resolutions).
    public var stageCount: Int { featureMaps.count }
    /// The side of the images at stage s: 4·2ˢ.
    public func resolution(ofStage stage: Int) -> Int { 4 << stage }
    /// The side of the final images.
    public var finalResolution: Int { resolution(ofStage: stageCount - 1) }

    /// The initialization of a layer with gain `gain`: equalized (N(0, 1)
    /// stored, gain/√fanIn at run time) or He's (N(0, gain²/fanIn) stored).
    func initialization(gain: Float) -> WeightInitialization {
        usesEqualizedLearningRate ? .equalized(gain: gain) : .he(gain: gain)
    }

    /// "8x8": the layer-name prefix of a stage.
    func tag(_ stage: Int) -> String { "\(resolution(ofStage: stage))x\(resolution(ofStage: stage))" }
}

/// √2, He's gain for leaky-ReLU layers (the paper uses it for every layer
/// but the linear outputs).
let heGain = Float(2).squareRoot()
