// Fade-in: exact at both ends, in the generator, the critic and the reals,
// and α linear in the images shown.

import Autodiff
import NeuralNets
@testable import ProgressiveGAN
import Tensors
import Testing
import TestSupport

@Test func the_blend_is_exact_at_both_ends() {
    let old = randomTensor([3, 2, 4, 4], seed: 1), new = randomTensor([3, 2, 4, 4], seed: 2)
    #expect(bitwiseEqual(Tensor.fadedIn(old: old, new: new, alpha: 0), old))
    #expect(bitwiseEqual(Tensor.fadedIn(old: old, new: new, alpha: 1), new))
    let tape = Tape()
    let (a, b) = (tape.variable(old), tape.variable(new))
    #expect(bitwiseEqual(Variable.fadedIn(old: a, new: b, alpha: 0).value, old))
    #expect(bitwiseEqual(Variable.fadedIn(old: a, new: b, alpha: 1).value, new))
    let mid = Variable.fadedIn(old: a, new: b, alpha: 0.3)
    #expect(maxDifference(mid.value, 0.7 * old + 0.3 * new) < 1e-6)
    let grads = tape.gradients(of: mid.sum(), withRespectTo: [a, b])
    #expect(grads[0].scalars.allSatisfy { $0 == 0.7 } && grads[1].scalars.allSatisfy { $0 == 0.3 })
}

@Test(arguments: [1, 2])
func the_generator_at_alpha_0_is_the_previous_stage_upsampled_and_at_alpha_1_the_new_one(stage: Int) {
    let (g, gp, _, _) = tinyNetworks()
    let z = randomTensor([4, 8], seed: 11)
    let previous = g.generate(z, parameters: gp, level: .stable(stage - 1))
    #expect(bitwiseEqual(g.generate(z, parameters: gp, level: .fadingIn(stage, alpha: 0)), previous.upsampledNearest2x()))
    let grown = g.generate(z, parameters: gp, level: .stable(stage))
    #expect(bitwiseEqual(g.generate(z, parameters: gp, level: .fadingIn(stage, alpha: 1)), grown))
    // In between: the weighted sum of the two paths.
    let between = g.generate(z, parameters: gp, level: .fadingIn(stage, alpha: 0.25))
    #expect(maxDifference(between, 0.75 * previous.upsampledNearest2x() + 0.25 * grown) < 1e-5)
    #expect(maxDifference(previous.upsampledNearest2x(), grown) > 0.01)
}

@Test(arguments: [1, 2])
func the_critic_at_alpha_0_is_the_previous_stage_on_pooled_images_and_at_alpha_1_the_new_one(stage: Int) {
    let (_, _, d, dp) = tinyNetworks()
    let r = 4 << stage
    let x = randomTensor([8, 1, r, r], seed: 12)
    let previous = d.scores(x.averagePooled2x2(), parameters: dp, level: .stable(stage - 1))
    #expect(bitwiseEqual(d.scores(x, parameters: dp, level: .fadingIn(stage, alpha: 0)), previous))
    let grown = d.scores(x, parameters: dp, level: .stable(stage))
    #expect(bitwiseEqual(d.scores(x, parameters: dp, level: .fadingIn(stage, alpha: 1)), grown))
    #expect(maxDifference(previous, grown) > 1e-3)
}

@Test func reals_fade_from_the_coarser_resolution_to_the_new_one() {
    let x = randomTensor([2, 1, 16, 16], seed: 13)
    let at8 = x.averagePooled2x2()
    #expect(bitwiseEqual(x.realImages(at: .stable(1), resolution: 8), at8))
    #expect(bitwiseEqual(x.realImages(at: .stable(0), resolution: 4), at8.averagePooled2x2()))
    #expect(bitwiseEqual(x.realImages(at: .fadingIn(1, alpha: 0), resolution: 8), at8.averagePooled2x2().upsampledNearest2x()))
    #expect(bitwiseEqual(x.realImages(at: .fadingIn(1, alpha: 1), resolution: 8), at8))
    let mid = x.realImages(at: .fadingIn(2, alpha: 0.6), resolution: 16)
    #expect(maxDifference(mid, 0.4 * at8.upsampledNearest2x() + 0.6 * x) < 1e-6)
}

@Test func alpha_rises_linearly_with_the_images_shown() {
    let s = GrowthSchedule(stageCount: 3, stabilizationImages: 100, fadeInImages: 40)
    #expect(s.totalImages == 3 * 100 + 2 * 40)
    #expect(s.level(afterImages: 0) == .stable(0) && s.level(afterImages: 99) == .stable(0))
    for i in 0..<40 {
        for (start, stage) in [(100, 1), (240, 2)] {
            let level = s.level(afterImages: start + i)
            #expect(level.stage == stage && level.isFadingIn && abs(level.alpha - Float(i) / 40) < 1e-7)
        }
    }
    #expect(s.level(afterImages: 140) == .stable(1) && s.level(afterImages: 239) == .stable(1))
    // The last stage stabilizes to the end of the run and beyond.
    #expect(s.level(afterImages: 280) == .stable(2) && s.level(afterImages: 10_000) == .stable(2))
    #expect([0, 100, 140, 240, 280].map(s.phase(afterImages:)) == [0, 1, 2, 3, 4])
    #expect(s.firstImage(ofStage: 1) == 100 && s.firstImage(ofStage: 2) == 240)
    // Without fade-in the new block switches on at once.
    let hard = GrowthSchedule(stageCount: 3, stabilizationImages: 100, fadeInImages: 0)
    #expect(hard.level(afterImages: 99) == .stable(0) && hard.level(afterImages: 100) == .stable(1))
    #expect(hard.phase(afterImages: 100) == 2)
    // Starting at the last stage: the whole run at full resolution.
    let flat = GrowthSchedule(stageCount: 3, initialStage: 2, stabilizationImages: 100, fadeInImages: 40)
    #expect(flat.totalImages == 100 && flat.level(afterImages: 0) == .stable(2) && flat.phase(afterImages: 0) == 4)
    let late = GrowthSchedule(stageCount: 3, initialStage: 1, stabilizationImages: 100, fadeInImages: 40)
    #expect(late.totalImages == 240 && late.level(afterImages: 99) == .stable(1))
    #expect(late.level(afterImages: 110) == .fadingIn(2, alpha: 0.25) && late.firstImage(ofStage: 2) == 100)
}
