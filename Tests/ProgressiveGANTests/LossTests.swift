// The WGAN-GP loss: the penalty's exact gradient against central
// differences, and the loss's parts.

import Autodiff
import NeuralNets
@testable import ProgressiveGAN
import Tensors
import Testing
import TestSupport

/// The penalty E[(‖∇D(x̂)‖ - 1)²] from first-order gradients only (the
/// tensor pullbacks, a path independent of the recorded one), in Double from
/// the Float gradient, with the branch of every leaky ReLU of the critic.
func firstOrderPenalty(_ d: ProgressiveDiscriminator, _ store: ParameterStore, _ xHat: Tensor, level: GrowthLevel)
    -> (penalty: Double, branches: [Bool]) {
    let tape = Tape()
    let x = tape.variable(xHat)
    let (scores, pre) = d.scoresAndPreActivations(x, store.bind(to: tape, requiringGradients: false), level: level)
    let g = tape.gradients(of: scores.sum(), withRespectTo: [x])[0]
    let n = xHat.shape[0], per = g.count / n
    var total = 0.0
    for k in 0..<n {
        let norm = g.scalars[(k * per)..<((k + 1) * per)].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        total += (norm - 1) * (norm - 1)
    }
    return (total / Double(n), pre.flatMap { $0.value.scalars.map { $0 > 0 } })
}

/// The penalty's gradient with respect to every weight and bias of a
/// two-stage critic fading in its 8x8 block (both fromRGBs, a whole block,
/// the fade, the minibatch standard deviation, the dense layers), through
/// the recorded backward pass, coordinate by coordinate against central
/// differences of `firstOrderPenalty`.
///
/// The model is Float, so the differences are too, and a leaky ReLU that
/// changes branch inside ±h makes the penalty jump: with thousands of units,
/// any step large enough to beat Float rounding crosses some kink. Here the
/// slope is 1, so the critic is smooth (its only nonlinearity is the
/// minibatch standard deviation's square root, which makes the penalty
/// depend on every weight and on the biases below it); h = 10⁻² on N(0, 1)
/// stored weights keeps rounding (about 10⁻⁶ of the penalty over 2h) and
/// truncation (h²) below 10⁻³ of the gradients. The real slope is checked
/// next, along directions that keep every branch.
@Test func the_penalty_gradient_of_a_smooth_critic_matches_central_differences_coordinate_by_coordinate() {
    let architecture = GANArchitecture(latentDimension: 8, featureMaps: [4, 4], leakySlope: 1)
    var (_, _, d, store) = tinyNetworks(architecture, seed: 3)
    // fromRGB weights tripled: input-gradient norms near 3 rather than
    // near 1 (where equalized layers put them), so that the penalty and its
    // gradient are not small.
    for name in ["d.4x4.fromrgb.weight", "d.8x8.fromrgb.weight"] { store[name] = 3 * store[name] }
    let level = GrowthLevel.fadingIn(1, alpha: 0.6)
    let xHat = randomTensor([4, 1, 8, 8], seed: 21)
    let result = checkGradients(store.tensors, seed: 2, step: 1e-2, coordinates: 8, operation: { v in
        let x = v[0].tape.variable(xHat)
        return WGANGPLoss().penalties(d, BoundParameters(store: store, variables: v), interpolated: x, level: level).mean()
    }, reference: { values in
        var moved = store
        moved.tensors = zip(values, store.tensors).map { Tensor(shape: $1.shape, scalars: $0.map(Float.init)) }
        return [firstOrderPenalty(d, moved, xHat, level: level).penalty]
    })
    #expect(result.worst < 1e-2, "\(result)")
    #expect(firstOrderPenalty(d, store, xHat, level: level).penalty > 1)
}

/// The same with the paper's slope 0.2 on a narrower critic: directional
/// derivatives along random directions over all parameters at once, kept
/// only when the ±h steps leave every leaky ReLU on its branch.
@Test func the_penalty_gradient_of_the_leaky_critic_matches_central_differences_along_directions() {
    let architecture = GANArchitecture(latentDimension: 8, featureMaps: [2, 2])
    let (_, _, d, store) = tinyNetworks(architecture, seed: 4)
    let level = GrowthLevel.fadingIn(1, alpha: 0.6)
    let xHat = randomTensor([4, 1, 8, 8], seed: 22)
    let tape = Tape()
    let p = store.bind(to: tape)
    let penalty = WGANGPLoss().penalties(d, p, interpolated: tape.variable(xHat), level: level).mean()
    let exact = tape.gradients(of: penalty, withRespectTo: p.variables)
    let center = firstOrderPenalty(d, store, xHat, level: level)
    #expect(abs(center.penalty - Double(penalty.value.scalar)) < 1e-5 * max(1, center.penalty))
    var rng = RandomGenerator(seed: 5)
    var checked = 0, attempts = 0
    let h: Float = 1e-3
    while checked < 4 && attempts < 200 {
        attempts += 1
        let direction = store.tensors.map { t in Tensor(shape: t.shape, scalars: (0..<t.count).map { _ in Float(rng.normal()) }) }
        func moved(_ sign: Float) -> ParameterStore {
            var m = store
            m.tensors = zip(store.tensors, direction).map { t, u in var t = t; t.addScaled(u, by: sign * h); return t }
            return m
        }
        let (plus, minus) = (firstOrderPenalty(d, moved(1), xHat, level: level), firstOrderPenalty(d, moved(-1), xHat, level: level))
        guard plus.branches == center.branches && minus.branches == center.branches else { continue }
        checked += 1
        let numeric = (plus.penalty - minus.penalty) / Double(2 * h)
        let analytic = zip(exact, direction).reduce(0.0) { sum, pair in
            sum + zip(pair.0.scalars, pair.1.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        #expect(abs(numeric - analytic) < 1e-2 * max(0.1, abs(analytic)), "directional derivative \(analytic) vs \(numeric)")
    }
    #expect(checked == 4, "only \(checked) of \(attempts) directions kept every branch")
    // Every parameter below the minibatch standard deviation gets a penalty
    // gradient; above it the critic is piecewise linear in x, so the
    // penalty does not depend on the biases there (it does on the weights).
    for (name, g) in zip(store.names, exact) {
        let flat = ["d.4x4.conv.bias", "d.4x4.dense.bias", "d.4x4.output.bias"].contains(name)
        #expect(flat ? g.norm() == 0 : g.norm() > 1e-6, "\(name): penalty gradient norm \(g.norm())")
    }
}

@Test func the_critic_loss_adds_its_four_terms() {
    let (g, gp, d, dp) = tinyNetworks()
    let level = GrowthLevel.stable(1)
    let real = randomTensor([4, 1, 8, 8], seed: 31)
    let fake = g.generate(randomTensor([4, 8], seed: 32), parameters: gp, level: level)
    let mixing: [Float] = [0, 0.25, 0.5, 1]
    let tape = Tape()
    let terms = WGANGPLoss().criticTerms(d, dp.bind(to: tape), real: real, fake: fake, mixing: mixing, level: level)
    let realScores = d.scores(real, parameters: dp, level: level), fakeScores = d.scores(fake, parameters: dp, level: level)
    // x̂ per sample: the real one at u = 0, the fake one at u = 1.
    var xHat = real
    for n in 0..<4 { for i in 0..<64 {
        let k = n * 64 + i
        xHat.scalars[k] = real.scalars[k] + mixing[n] * (fake.scalars[k] - real.scalars[k])
    } }
    let penaltyTape = Tape()
    let penalty = WGANGPLoss().penalties(d, dp.bind(to: penaltyTape), interpolated: penaltyTape.variable(xHat), level: level)
    #expect(penalty.shape == [4])
    let drift = realScores.scalars.reduce(0) { $0 + $1 * $1 } / 4
    let expected = fakeScores.mean() - realScores.mean() + 10 * penalty.value.mean() + 0.001 * drift
    #expect(abs(terms.loss.value.scalar - expected) < 1e-5 * max(1, abs(expected)))
    #expect(abs(terms.penalty.value.scalar - penalty.value.mean()) < 1e-6 * max(1, penalty.value.mean()))
    #expect(terms.realScore == realScores.mean() && terms.fakeScore == fakeScores.mean())
}
