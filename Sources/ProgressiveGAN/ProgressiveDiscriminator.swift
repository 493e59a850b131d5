// The progressive critic of Karras et al. (2018, Table 2 and App. A.1), the
// generator's mirror.
//
// Images at the stage's resolution enter through fromRGB (a 1x1 convolution
// and leaky ReLU); each block above 4x4 is two 3x3 convolutions (the second
// to the next-lower stage's width), each with bias and leaky ReLU, and a 2x2
// average pooling. At 4x4: the minibatch standard deviation (groups of 4, one
// more feature map), a 3x3 convolution, the 4x4 convolution over the whole
// map (a dense layer on the flattened features) and a linear dense layer to
// one score (gain 1). No normalization anywhere in the critic. While stage s
// fades in, the 2x-coarser path enters beside the new block:
// (1 - α)·fromRGB_{s-1}(avgpool(x)) + α·block_s(fromRGB_s(x)).

import Autodiff
import NeuralNets
import Tensors

/// The critic: its layers (sizes and parameter names); the tensors live in a
/// `ParameterStore`.
public struct ProgressiveDiscriminator: Sendable, Equatable {
    public let architecture: GANArchitecture
    /// fromRGB[s]: stage s's 1x1 convolution from the image channels.
    let fromRGB: [Conv2D]
    /// convolutions[s]: stage s's 3x3 convolutions (two for s ≥ 1; one at 4x4).
    let convolutions: [[Conv2D]]
    /// The 4x4 map flattened → featureMaps[0] (the paper's 4x4 convolution).
    let dense: Linear
    /// featureMaps[0] → 1, linear.
    let output: Linear

    /// Adds every stage's parameters to `store` (names "d.<res>.<layer>.weight"
    /// / ".bias"): weights drawn from `rng`, biases zero.
    public init(_ architecture: GANArchitecture, store: inout ParameterStore, rng: inout RandomGenerator) {
        self.architecture = architecture
        let a = architecture, f = a.featureMaps
        var fromRGB = [Conv2D](), convolutions = [[Conv2D]]()
        let leaky = a.initialization(gain: heGain)
        for s in 0..<a.stageCount {
            let tag = "d." + a.tag(s)
            fromRGB.append(Conv2D("\(tag).fromrgb", inputChannels: a.imageChannels, outputChannels: f[s], kernel: 1,
                                  initialization: leaky, store: &store, rng: &rng))
            if s == 0 {
                let input = f[0] + (a.usesMinibatchStandardDeviation ? 1 : 0)
                convolutions.append([Conv2D("\(tag).conv", inputChannels: input, outputChannels: f[0], kernel: 3, padding: 1,
                                            initialization: leaky, store: &store, rng: &rng)])
            } else {
                convolutions.append([
                    Conv2D("\(tag).conv0", inputChannels: f[s], outputChannels: f[s], kernel: 3, padding: 1,
                           initialization: leaky, store: &store, rng: &rng),
                    Conv2D("\(tag).conv1", inputChannels: f[s], outputChannels: f[s - 1], kernel: 3, padding: 1,
                           initialization: leaky, store: &store, rng: &rng),
                ])
            }
        }
        dense = Linear("d.4x4.dense", inputFeatures: f[0] * 16, outputFeatures: f[0], initialization: leaky,
                       store: &store, rng: &rng)
        output = Linear("d.4x4.output", inputFeatures: f[0], outputFeatures: 1, initialization: a.initialization(gain: 1),
                        store: &store, rng: &rng)
        self.fromRGB = fromRGB
        self.convolutions = convolutions
    }

    /// Scores [N, 1] of images [N, imageChannels, r, r] at `level`'s resolution r.
    ///
    /// - Precondition: N is a multiple of the minibatch group size, or
    ///   smaller than it (then the whole batch is one group).
    public func callAsFunction(_ x: Variable, _ p: BoundParameters, level: GrowthLevel) -> Variable {
        forward(x, p, level: level, observe: nil)
    }

    /// The tensors `infoplane train --task progan` records at `level` for
    /// images [N, C, r, r]: each block's output, from the stage's block
    /// down to 8x8 ([N, f[t-1], r_t/2, r_t/2]; while stage s fades in, its
    /// block's output blended with the coarse path, as the next block reads
    /// it), then the 4x4 convolution's [N, f[0], 4, 4] and the dense layer's
    /// [N, f[0]] after their leaky ReLUs, and the score [N, 1]; names in
    /// `recordedNames(at:)`. fromRGB (a 1x1 convolution of the pixels, the
    /// largest tensor) is not among them.
    public func recordedActivations(_ images: Tensor, parameters: ParameterStore, level: GrowthLevel) -> [Tensor] {
        let tape = Tape()
        var outputs = [Tensor]()
        let scores = forward(tape.constant(images), parameters.bind(to: tape, requiringGradients: false), level: level,
                             observe: nil) { outputs.append($0.value) }
        return outputs + [scores.value]
    }

    /// The names of `recordedActivations`' tensors at `level`: "block RxR"
    /// for each block from the stage's down to 8x8, "4x4 conv", "4x4 dense", "score".
    public func recordedNames(at level: GrowthLevel) -> [String] {
        stride(from: level.stage, through: 1, by: -1).map { "block \(architecture.tag($0))" } + ["4x4 conv", "4x4 dense", "score"]
    }

    /// The scores and the input of every leaky ReLU, in the order the
    /// critic computes them (fromRGB, each block's convolutions — while
    /// fading in, the coarse fromRGB after the new block —, the 4x4
    /// convolution, the dense layer).
    public func scoresAndPreActivations(_ x: Variable, _ p: BoundParameters, level: GrowthLevel)
        -> (scores: Variable, preActivations: [Variable]) {
        var seen = [Variable]()
        let scores = forward(x, p, level: level) { seen.append($0) }
        return (scores, seen)
    }

    /// - Parameters:
    ///   - observe: sees the input of every leaky ReLU.
    ///   - emit: sees each block's output (after the fade-in blend) and the
    ///     4x4 convolution's and dense layer's outputs (`recordedActivations`).
    func forward(_ x: Variable, _ p: BoundParameters, level: GrowthLevel, observe: ((Variable) -> Void)?,
                 emit: ((Variable) -> Void)? = nil) -> Variable {
        let a = architecture, s = level.stage
        precondition(s >= 0 && s < a.stageCount, "ProgressiveDiscriminator: stage \(s) of \(a.stageCount)")
        let r = a.resolution(ofStage: s)
        precondition(x.shape.count == 4 && x.shape[1] == a.imageChannels && x.shape[2] == r && x.shape[3] == r,
                     "ProgressiveDiscriminator: images \(x.shape) at stage \(s), expected [N, \(a.imageChannels), \(r), \(r)]")
        let n = x.shape[0]
        func leaky(_ x: Variable) -> Variable {
            observe?(x)
            return x.leakyReLU(slope: a.leakySlope)
        }
        /// Stage t's block (t ≥ 1): [N, f[t], r, r] → [N, f[t-1], r/2, r/2].
        func block(_ h: Variable, stage t: Int) -> Variable {
            var h = h
            for conv in convolutions[t] { h = leaky(conv(h, p)) }
            return h.averagePooled2x2()
        }
        var h = leaky(fromRGB[s](x, p))
        if s >= 1 {
            h = block(h, stage: s)
            if level.isFadingIn {
                let coarse = leaky(fromRGB[s - 1](x.averagePooled2x2(), p))
                h = Variable.fadedIn(old: coarse, new: h, alpha: level.alpha)
            }
            emit?(h)
            for t in stride(from: s - 1, through: 1, by: -1) {
                h = block(h, stage: t)
                emit?(h)
            }
        }
        if a.usesMinibatchStandardDeviation { h = h.minibatchStandardDeviation(groupSize: Swift.min(a.minibatchGroupSize, n)) }
        h = leaky(convolutions[0][0](h, p))
        emit?(h)
        h = leaky(dense(h.reshaped([n, a.featureMaps[0] * 16]), p))
        emit?(h)
        return output(h, p)
    }

    /// The names of the parameters the critic reads at `level`: fromRGB of the
    /// stage (and the previous one while fading in) and every block down to 4x4.
    public func parameterNames(at level: GrowthLevel) -> [String] {
        var layers = [fromRGB[level.stage].name]
        if level.isFadingIn { layers.append(fromRGB[level.stage - 1].name) }
        for s in stride(from: level.stage, through: 0, by: -1) { layers += convolutions[s].map(\.name) }
        layers += [dense.name, output.name]
        return layers.flatMap { [$0 + ".weight", $0 + ".bias"] }
    }

    /// Scores of images on a fresh tape, without gradients.
    public func scores(_ images: Tensor, parameters: ParameterStore, level: GrowthLevel) -> Tensor {
        let tape = Tape()
        return self(tape.constant(images), parameters.bind(to: tape, requiringGradients: false), level: level).value
    }
}
