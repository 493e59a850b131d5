// Decoupled weight decay over several steps with explicit numbers: both AdamW
// forms with bias correction and a schedule multiplier below 1, the identities
// between the forms over a changing schedule, and normalized decay.

import Foundation
import NeuralNets
import Tensors
import Testing

private func steps<O: Optimizer>(_ optimizer: O, gradients: [[Float]], multipliers: [Float], start: [Float]) -> [[Float]] {
    var opt = optimizer
    var theta = [Tensor(shape: [2], scalars: start)]
    var path = [[Float]]()
    for (g, eta) in zip(gradients, multipliers) {
        opt.update(&theta, gradients: [Tensor(shape: [2], scalars: g)], multiplier: eta)
        path.append(theta[0].scalars)
    }
    return path
}

/// Two Adam steps on θ = (1, -1) with fixed gradients g1 = (1, 2), g2 = (3, -2)
/// and multipliers 0.5, 0.25, written out in closed form.
private func adamTwoSteps(decoupled: Double, pytorch: Double) -> [[Double]] {
    let alpha = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8
    let g1 = [1.0, 2.0], g2 = [3.0, -2.0], eta = [0.5, 0.25]
    var theta = [1.0, -1.0]
    var out = [[Double]]()
    // Step 1: m̂ = g1, v̂ = g1², so the Adam direction is g1/|g1| = sign(g1).
    theta = theta.map { $0 * (1 - alpha * eta[0] * pytorch) }
    theta = zip(theta, g1).map { t, g in t - eta[0] * (alpha * (g > 0 ? 1 : -1) * (abs(g) / (abs(g) + eps)) + decoupled * t) }
    out.append(theta)
    // Step 2: m = 0.9·0.1 g1 + 0.1 g2, v = 0.999·0.001 g1² + 0.001 g2², corrected by 1 - β^2.
    theta = theta.map { $0 * (1 - alpha * eta[1] * pytorch) }
    for i in 0..<2 {
        let m = b1 * (1 - b1) * g1[i] + (1 - b1) * g2[i]
        let v = b2 * (1 - b2) * g1[i] * g1[i] + (1 - b2) * g2[i] * g2[i]
        let mHat = m / (1 - b1 * b1), vHat = v / (1 - b2 * b2)
        theta[i] -= eta[1] * (alpha * mHat / (vHat.squareRoot() + eps) + decoupled * theta[i])
    }
    out.append(theta)
    return out
}

@Test func adamw_both_forms_two_steps_in_closed_form() {
    let grads: [[Float]] = [[1, 2], [3, -2]], etas: [Float] = [0.5, 0.25]
    let paper = steps(Adam(learningRate: 0.1, weightDecay: .decoupled(0.2)), gradients: grads, multipliers: etas, start: [1, -1])
    let torch = steps(Adam(learningRate: 0.1, weightDecay: .decoupledScaledByLearningRate(0.2)), gradients: grads, multipliers: etas, start: [1, -1])
    let expectedPaper = adamTwoSteps(decoupled: 0.2, pytorch: 0)
    let expectedTorch = adamTwoSteps(decoupled: 0, pytorch: 0.2)
    // Step 1 by hand, paper form: θ - 0.5 (0.1 sign(g) + 0.2 θ) = (1 - 0.05 - 0.1, -1 - 0.05 + 0.1).
    #expect(abs(paper[0][0] - 0.85) < 1e-6 && abs(paper[0][1] - -0.95) < 1e-6)
    // PyTorch form: θ (1 - 0.1 · 0.5 · 0.2) = θ · 0.99, then - 0.05 sign(g): (0.94, -1.04).
    #expect(abs(torch[0][0] - 0.94) < 1e-6 && abs(torch[0][1] - -1.04) < 1e-6)
    for s in 0..<2 {
        for i in 0..<2 {
            #expect(abs(Double(paper[s][i]) - expectedPaper[s][i]) < 1e-6)
            #expect(abs(Double(torch[s][i]) - expectedTorch[s][i]) < 1e-6)
        }
    }
}

@Test func identities_hold_under_a_cosine_schedule() {
    // Multipliers of a 2-epoch cosine schedule with 3 batches per epoch.
    let schedule = LearningRateSchedule.cosine(epochs: 2)
    let etas = (0..<2).flatMap { e in (0..<3).map { b in schedule.multiplier(epoch: e, batch: b, batchesPerEpoch: 3) } }
    let grads: [[Float]] = [[0.5, -1], [0.2, 0.3], [-0.7, 0.1], [0.4, 0.4], [1, -0.5], [-0.3, 0.2]]
    for (alpha, l) in [(Float(0.05), Float(0.3)), (0.2, 0.01)] {
        let l2 = steps(SGD(learningRate: alpha, weightDecay: .l2(l)), gradients: grads, multipliers: etas, start: [2, -1])
        let sgdw = steps(SGD(learningRate: alpha, weightDecay: .decoupled(alpha * l)), gradients: grads, multipliers: etas, start: [2, -1])
        let torchAdam = steps(Adam(learningRate: alpha, weightDecay: .decoupledScaledByLearningRate(l)), gradients: grads, multipliers: etas, start: [2, -1])
        let paperAdam = steps(Adam(learningRate: alpha, weightDecay: .decoupled(alpha * l)), gradients: grads, multipliers: etas, start: [2, -1])
        for s in 0..<etas.count {
            for i in 0..<2 {
                #expect(abs(l2[s][i] - sgdw[s][i]) < 1e-6)
                #expect(abs(torchAdam[s][i] - paperAdam[s][i]) < 1e-6)
            }
        }
    }
}

@Test func sgdr_multiplier_is_zero_at_cycle_ends_with_per_batch_updates() {
    let s = LearningRateSchedule.warmRestarts(firstPeriod: 100, periodMultiplier: 2)
    let n = 10
    for end in [100, 300, 700] {
        // The last batches approach 0 monotonically, then the restart gives 1.
        let tail = (n - 3..<n).map { s.multiplier(epoch: end - 1, batch: $0, batchesPerEpoch: n) }
        #expect(tail == tail.sorted(by: >))
        #expect(Double(tail.last!) < 1e-5)
        #expect(s.multiplier(at: Double(end)) == 1)
        #expect(s.multiplier(at: Double(end) - 1e-9) < 1e-12)
    }
}

@Test func normalized_decay_formula_over_budgets() {
    // λ = λ_norm √(b / (B T)): b = 25, B = 1000 gives √(1/(40 T)); T = 10 → 0.05, T = 40 → 0.025.
    for (t, factor) in [(10, 0.05), (40, 0.025), (160, 0.0125)] {
        let raw = WeightDecay.normalized(0.02, batchSize: 25, trainingSetSize: 1000, epochs: t)
        #expect(abs(Double(raw) - 0.02 * factor) < 1e-9)
    }
}
