// The networks' layers and shapes, the equalized learning rate, pixel norm
// and the minibatch standard deviation as the critic uses it.

import Autodiff
import NeuralNets
@testable import ProgressiveGAN
import Tensors
import Testing
import TestSupport

@Test func networks_have_the_papers_layers_at_the_default_scale() {
    let a = GANArchitecture()
    #expect(a.finalResolution == 32 && a.stageCount == 4)
    var rng = RandomGenerator(seed: 1)
    var gp = ParameterStore(), dp = ParameterStore()
    _ = ProgressiveGenerator(a, store: &gp, rng: &rng)
    _ = ProgressiveDiscriminator(a, store: &dp, rng: &rng)
    let g = Dictionary(uniqueKeysWithValues: zip(gp.names, gp.tensors.map(\.shape)))
    #expect(g["g.4x4.dense.weight"] == [1024, 64] && g["g.4x4.dense.bias"] == [64])
    #expect(g["g.4x4.conv.weight"] == [64, 64, 3, 3] && g["g.4x4.torgb.weight"] == [1, 64, 1, 1])
    #expect(g["g.8x8.conv0.weight"] == [64, 64, 3, 3] && g["g.8x8.conv1.weight"] == [64, 64, 3, 3])
    #expect(g["g.16x16.conv0.weight"] == [32, 64, 3, 3] && g["g.16x16.conv1.weight"] == [32, 32, 3, 3])
    #expect(g["g.32x32.conv1.weight"] == [32, 32, 3, 3] && g["g.32x32.torgb.weight"] == [1, 32, 1, 1])
    // The dense layer's weight and bias, then a convolution and toRGB at 4x4
    // and two convolutions and toRGB at each later stage, weight and bias each.
    #expect(gp.names.count == 2 + 2 * 2 + 3 * 3 * 2)
    let d = Dictionary(uniqueKeysWithValues: zip(dp.names, dp.tensors.map(\.shape)))
    #expect(d["d.32x32.fromrgb.weight"] == [32, 1, 1, 1] && d["d.32x32.conv0.weight"] == [32, 32, 3, 3])
    #expect(d["d.32x32.conv1.weight"] == [32, 32, 3, 3] && d["d.16x16.conv1.weight"] == [64, 32, 3, 3])
    #expect(d["d.8x8.conv1.weight"] == [64, 64, 3, 3] && d["d.4x4.fromrgb.weight"] == [64, 1, 1, 1])
    // 64 feature maps plus the minibatch standard deviation's.
    #expect(d["d.4x4.conv.weight"] == [64, 65, 3, 3])
    #expect(d["d.4x4.dense.weight"] == [64, 1024] && d["d.4x4.output.weight"] == [1, 64] && d["d.4x4.output.bias"] == [1])
}

@Test(arguments: [0, 1, 2])
func every_stage_maps_latents_to_images_and_images_to_one_score(stage: Int) {
    let (g, gp, d, dp) = tinyNetworks()
    let r = 4 << stage
    for level in stage == 0 ? [GrowthLevel.stable(0)] : [.stable(stage), .fadingIn(stage, alpha: 0.4)] {
        let images = g.generate(randomTensor([8, 8], seed: 3), parameters: gp, level: level)
        #expect(images.shape == [8, 1, r, r])
        #expect(d.scores(images, parameters: dp, level: level).shape == [8, 1])
    }
}

@Test func equalized_learning_rate_draws_unit_normal_weights_and_zero_biases() {
    var rng = RandomGenerator(seed: 4)
    var gp = ParameterStore(), dp = ParameterStore()
    _ = ProgressiveGenerator(GANArchitecture(), store: &gp, rng: &rng)
    _ = ProgressiveDiscriminator(GANArchitecture(), store: &dp, rng: &rng)
    for store in [gp, dp] {
        var weights = [Double]()
        for (name, t) in zip(store.names, store.tensors) {
            if name.hasSuffix(".bias") {
                #expect(t.scalars.allSatisfy { $0 == 0 }, "\(name) does not start at 0")
            } else {
                weights += t.scalars.map(Double.init)
            }
        }
        let mean = weights.reduce(0, +) / Double(weights.count)
        let std = (weights.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(weights.count)).squareRoot()
        #expect(abs(mean) < 0.01 && abs(std - 1) < 0.01, "stored weights: mean \(mean), std \(std)")
    }
}

@Test func equalized_learning_rate_uses_hes_constant_and_gain_one_for_the_linear_outputs() {
    let (g, _, d, _) = tinyNetworks(GANArchitecture())
    func close(_ a: Float, _ b: Double) -> Bool { abs(Double(a) - b) < 1e-7 }
    #expect(close(g.dense.runtimeScale, 2.0.squareRoot() / 4 / 8))                 // √2/4 / √64
    #expect(close(g.convolutions[0][0].runtimeScale, (2.0 / (64 * 9)).squareRoot()))
    #expect(close(g.convolutions[2][0].runtimeScale, (2.0 / (64 * 9)).squareRoot()))
    #expect(close(g.convolutions[2][1].runtimeScale, (2.0 / (32 * 9)).squareRoot()))
    #expect(close(g.toRGB[3].runtimeScale, 1 / 32.0.squareRoot()))
    #expect(close(d.fromRGB[3].runtimeScale, 2.0.squareRoot()))                      // fan-in 1
    #expect(close(d.convolutions[0][0].runtimeScale, (2.0 / (65 * 9)).squareRoot()))
    #expect(close(d.dense.runtimeScale, (2.0 / 1024).squareRoot()))
    #expect(close(d.output.runtimeScale, 1 / 8.0))
    // Without equalized learning rate: He's spread drawn once, no run-time scale.
    let (plain, plainStore, _, _) = tinyNetworks(GANArchitecture(usesEqualizedLearningRate: false), randomBiases: false)
    #expect(plain.toRGB[3].runtimeScale == 1 && plain.convolutions[1][0].runtimeScale == 1)
    let w = plainStore["g.8x8.conv0.weight"].scalars.map(Double.init)
    let std = (w.reduce(0) { $0 + $1 * $1 } / Double(w.count)).squareRoot()
    #expect(abs(std - (2.0 / (64 * 9)).squareRoot()) < 0.003)
}

/// toRGB at 4x4 by hand from the features it reads: y = s Σ_c w_c h_c + b
/// with s = 1/√C, recomputed after every change of the stored weights.
@Test func equalized_scale_is_applied_at_every_forward_pass_and_never_to_biases() {
    let nets = tinyNetworks()
    let g = nets.g
    var gp = nets.gp
    let z = randomTensor([2, 8], seed: 7)
    let scale = 1 / Float(4).squareRoot()
    for (trial, bias) in [Float(0.25), -1.5].enumerated() {
        gp["g.4x4.torgb.weight"] = randomTensor([1, 4, 1, 1], seed: 30 + UInt64(trial))
        gp["g.4x4.torgb.bias"] = Tensor(shape: [1], scalars: [bias])
        let tape = Tape()
        let p = gp.bind(to: tape)
        let h = g.features(tape.constant(z), p, through: 0)[0]
        let y = g(tape.constant(z), p, level: .stable(0))
        let w = gp["g.4x4.torgb.weight"].scalars
        var expected = [Float]()
        for s in 0..<2 { for pixel in 0..<16 {
            var sum: Float = 0
            for c in 0..<4 { sum += w[c] * h.value.scalars[(s * 4 + c) * 16 + pixel] }
            expected.append(scale * sum + bias)
        } }
        #expect(maxDifference(y.value, Tensor(shape: [2, 1, 4, 4], scalars: expected)) < 1e-5)
        // The stored weight's gradient carries the scale, the bias's does not.
        let grads = tape.gradients(of: y.sum(), withRespectTo: [p["g.4x4.torgb.weight"], p["g.4x4.torgb.bias"]])
        for c in 0..<4 {
            var sum: Float = 0
            for s in 0..<2 { for pixel in 0..<16 { sum += h.value.scalars[(s * 4 + c) * 16 + pixel] } }
            #expect(abs(grads[0].scalars[c] - scale * sum) < 1e-4 * max(1, abs(sum)))
        }
        #expect(grads[1].scalars == [32])
    }
}

@Test func pixel_norm_puts_the_latent_and_every_generator_feature_at_unit_mean_square() {
    let (g, gp, _, _) = tinyNetworks()
    let tape = Tape()
    let z = randomTensor([3, 8], seed: 8, scale: 5)
    for (s, h) in g.features(tape.constant(z), gp.bind(to: tape), through: 2).enumerated() {
        let (n, c, plane) = (h.shape[0], h.shape[1], h.shape[2] * h.shape[3])
        for k in 0..<n { for p in 0..<plane {
            let ms = (0..<c).map { h.value.scalars[(k * c + $0) * plane + p] }.reduce(0) { $0 + $1 * $1 } / Float(c)
            #expect(abs(ms - 1) < 1e-4, "stage \(s) sample \(k) pixel \(p): mean square \(ms)")
        } }
    }
    // The latent's scale does not matter: it is normalized first.
    let a = g.generate(z, parameters: gp, level: .stable(1))
    let b = g.generate(0.01 * z, parameters: gp, level: .stable(1))
    #expect(maxDifference(a, b) < 1e-4)
}

/// Groups of 4 in a batch of 8 (sample n in group n mod 2), one channel, two
/// pixels, worked out by hand: group 0 holds samples 0, 2, 4, 6 and group 1
/// samples 1, 3, 5, 7.
@Test func minibatch_standard_deviation_in_groups_of_four_by_hand() {
    //                   sample: 0      1       2      3       4      5       6      7
    let x = Tensor(shape: [8, 1, 1, 2], scalars: [1, 0, 5, -1, 3, 0, 5, 1, 1, 4, 5, -1, 3, 4, 5, 1])
    // Group 0: pixel 0 holds 1, 3, 1, 3 (std 1), pixel 1 holds 0, 0, 4, 4 (std 2): mean 1.5.
    // Group 1: pixel 0 holds 5, 5, 5, 5 (std √1e-8 = 1e-4), pixel 1 holds -1, 1, -1, 1 (std 1): mean 0.50005.
    let tape = Tape()
    let y = tape.constant(x).minibatchStandardDeviation(groupSize: 4).value
    #expect(y.shape == [8, 2, 1, 2])
    for n in 0..<8 {
        #expect(Array(y.scalars[(n * 4)..<(n * 4 + 2)]) == Array(x.scalars[(n * 2)..<(n * 2 + 2)]))
        let expected: Float = n % 2 == 0 ? 1.5 : 0.50005
        for p in 2..<4 { #expect(abs(y.scalars[n * 4 + p] - expected) < 1e-6, "sample \(n): \(y.scalars[n * 4 + p])") }
    }
}

/// The critic's statistic couples the samples of a group and nothing else:
/// changing sample 1 moves the scores of its group (1, 3, 5, 7), not of 0, 2, 4, 6.
@Test func the_critic_compares_samples_within_groups_of_four() {
    let (_, _, d, dp) = tinyNetworks()
    let x = randomTensor([8, 1, 4, 4], seed: 9)
    var moved = x
    for i in 16..<32 { moved.scalars[i] += 3 }
    let a = d.scores(x, parameters: dp, level: .stable(0)), b = d.scores(moved, parameters: dp, level: .stable(0))
    for n in [0, 2, 4, 6] { #expect(a.scalars[n] == b.scalars[n]) }
    for n in [3, 5, 7] { #expect(a.scalars[n] != b.scalars[n]) }
    // A batch smaller than the group is one group (the authors' min(4, N)).
    #expect(d.scores(randomTensor([2, 1, 4, 4], seed: 10), parameters: dp, level: .stable(0)).shape == [2, 1])
}

@Test func the_critic_refuses_a_batch_not_divisible_into_groups_of_four() async {
    await #expect(processExitsWith: .failure) {
        var rng = RandomGenerator(seed: 1)
        var store = ParameterStore()
        let d = ProgressiveDiscriminator(GANArchitecture(latentDimension: 8, featureMaps: [4, 4]), store: &store, rng: &rng)
        _ = d.scores(Tensor.zeros([6, 1, 4, 4]), parameters: store, level: .stable(0))
    }
}
