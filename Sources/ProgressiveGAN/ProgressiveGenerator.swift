// The progressive generator of Karras et al. (2018, Table 2 and App. A.1).
//
// z [N, latent] is normalized to the sphere of radius √latent (pixel norm
// over its one "pixel": every latent has unit mean square), mapped by the
// 4x4 block — a dense layer to a 4x4 feature map (the paper's 4x4
// convolution of the 1x1 latent; gain √2/4, i.e. He's constant for its fan-in
// of 16·latent, as the authors' code has it) and a 3x3 convolution — and then
// by one block per later stage: nearest-neighbour upsampling x2 and two 3x3
// convolutions. Every convolution is followed by its bias, a leaky ReLU and
// pixelwise normalization; toRGB is a linear 1x1 convolution with gain 1.
// While stage s fades in, the image is (1 - α)·up(toRGB_{s-1}(h_{s-1})) +
// α·toRGB_s(block_s(up(h_{s-1}))).
//
// Not here: the authors' fused upsample-convolution (the same function,
// computed faster on a GPU) and conditioning on labels.

import Autodiff
import NeuralNets
import Tensors

/// The generator: its layers (sizes and parameter names); the tensors live in
/// a `ParameterStore`.
public struct ProgressiveGenerator: Sendable, Equatable {
    public let architecture: GANArchitecture
    /// Latent → [featureMaps[0]·16], no bias (it is added per channel of the 4x4 map).
    let dense: Linear
    /// The dense layer's bias, one per channel of the 4x4 map.
    let denseBiasName: String
    /// convolutions[s]: stage s's 3x3 convolutions (one at 4x4, two after).
    let convolutions: [[Conv2D]]
    /// toRGB[s]: stage s's 1x1 convolution to the image channels.
    let toRGB: [Conv2D]

    /// Adds every stage's parameters to `store` (names "g.<res>.<layer>.weight"
    /// / ".bias"): weights drawn from `rng`, biases zero.
    public init(_ architecture: GANArchitecture, store: inout ParameterStore, rng: inout RandomGenerator) {
        self.architecture = architecture
        let a = architecture, f = a.featureMaps
        dense = Linear("g.4x4.dense", inputFeatures: a.latentDimension, outputFeatures: f[0] * 16, bias: false,
                       initialization: a.initialization(gain: heGain / 4), store: &store, rng: &rng)
        denseBiasName = "g.4x4.dense.bias"
        store.add(denseBiasName, Tensor.zeros([f[0]]))
        var convolutions = [[Conv2D]]()
        var toRGB = [Conv2D]()
        for s in 0..<a.stageCount {
            let tag = "g." + a.tag(s)
            let input = s == 0 ? f[0] : f[s - 1]
            var block = [Conv2D]()
            let names: [String] = s == 0 ? ["conv"] : ["conv0", "conv1"]
            for (k, name) in names.enumerated() {
                block.append(Conv2D("\(tag).\(name)", inputChannels: k == 0 ? input : f[s], outputChannels: f[s], kernel: 3,
                                    padding: 1, initialization: a.initialization(gain: heGain), store: &store, rng: &rng))
            }
            convolutions.append(block)
            toRGB.append(Conv2D("\(tag).torgb", inputChannels: f[s], outputChannels: a.imageChannels, kernel: 1,
                                initialization: a.initialization(gain: 1), store: &store, rng: &rng))
        }
        self.convolutions = convolutions
        self.toRGB = toRGB
    }

    /// Leaky ReLU, then pixel norm when the architecture has it (after the
    /// activation, as in the authors' code).
    func activated(_ x: Variable) -> Variable {
        let y = x.leakyReLU(slope: architecture.leakySlope)
        return architecture.usesPixelNormalization ? y.pixelNormalized() : y
    }

    /// The feature maps after stage `stage`'s block: [N, featureMaps[stage], r, r].
    func features(_ z: Variable, _ p: BoundParameters, through stage: Int) -> [Variable] {
        let a = architecture
        precondition(z.shape.count == 2 && z.shape[1] == a.latentDimension,
                     "ProgressiveGenerator: latents \(z.shape), expected [N, \(a.latentDimension)]")
        let n = z.shape[0]
        let x = a.normalizesLatents ? z.pixelNormalized() : z
        var h = activated(dense(x, p).reshaped([n, a.featureMaps[0], 4, 4]).addingChannelBias(p[denseBiasName]))
        h = activated(convolutions[0][0](h, p))
        var perStage = [h]
        if stage >= 1 {
            for s in 1...stage {
                h = h.upsampledNearest2x()
                for conv in convolutions[s] { h = activated(conv(h, p)) }
                perStage.append(h)
            }
        }
        return perStage
    }

    /// Images [N, imageChannels, r, r] at `level`'s resolution r from latents
    /// z [N, latentDimension], linear outputs (the data are in [-1, 1]).
    public func callAsFunction(_ z: Variable, _ p: BoundParameters, level: GrowthLevel) -> Variable {
        precondition(level.stage >= 0 && level.stage < architecture.stageCount,
                     "ProgressiveGenerator: stage \(level.stage) of \(architecture.stageCount)")
        let h = features(z, p, through: level.stage)
        let image = toRGB[level.stage](h[level.stage], p)
        guard level.isFadingIn else { return image }
        let previous = toRGB[level.stage - 1](h[level.stage - 1], p).upsampledNearest2x()
        return Variable.fadedIn(old: previous, new: image, alpha: level.alpha)
    }

    /// The names of the parameters the generator reads at `level`: every
    /// block up to the stage, its toRGB, and the previous toRGB while fading in.
    public func parameterNames(at level: GrowthLevel) -> [String] {
        var layers = [dense.name]
        for s in 0...level.stage { layers += convolutions[s].map(\.name) }
        if level.isFadingIn { layers.append(toRGB[level.stage - 1].name) }
        layers.append(toRGB[level.stage].name)
        var names = [String]()
        for layer in layers {
            names.append(layer + ".weight")
            names.append(layer + ".bias")
        }
        return names
    }

    /// Images from latents on a fresh tape, without gradients (sampling).
    public func generate(_ latents: Tensor, parameters: ParameterStore, level: GrowthLevel) -> Tensor {
        let tape = Tape()
        return self(tape.constant(latents), parameters.bind(to: tape, requiringGradients: false), level: level).value
    }
}
