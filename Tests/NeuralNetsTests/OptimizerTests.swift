// Optimizer updates checked by hand on a two-parameter problem.

import Foundation
import NeuralNets
import Tensors
import Testing

@Test func sgd_with_momentum_by_hand() {
    var opt = SGD(learningRate: 0.1, momentum: 0.9)
    var theta = [Tensor(shape: [2], scalars: [1, -2])]
    let g = [Tensor(shape: [2], scalars: [0.5, 1])]
    opt.update(&theta, gradients: g, multiplier: 1)
    // v = g; θ = θ - 0.1 g.
    #expect(theta[0].scalars == [0.95, -2.1])
    opt.update(&theta, gradients: g, multiplier: 0.5)
    // v = 0.9 g + g = 1.9 g; θ -= 0.5 · 0.1 · 1.9 g.
    #expect(abs(theta[0].scalars[0] - (0.95 - 0.05 * 1.9 * 0.5)) < 1e-6)
    #expect(abs(theta[0].scalars[1] - (-2.1 - 0.05 * 1.9)) < 1e-6)
}

@Test func adam_first_steps_by_hand() {
    // With bias correction the first step is α · g/(|g| + ε') ≈ α · sign(g).
    var opt = Adam(learningRate: 0.01)
    var theta = [Tensor(shape: [2], scalars: [1, 1])]
    opt.update(&theta, gradients: [Tensor(shape: [2], scalars: [0.3, -4])], multiplier: 1)
    #expect(abs(theta[0].scalars[0] - 0.99) < 1e-6)
    #expect(abs(theta[0].scalars[1] - 1.01) < 1e-6)
    // Second step with g2: m = 0.9·0.1·g1 + 0.1·g2 ... computed in Double.
    let g1 = [0.3, -4.0], g2 = [0.1, 2.0]
    opt.update(&theta, gradients: [Tensor(shape: [2], scalars: g2.map(Float.init))], multiplier: 1)
    for i in 0..<2 {
        let m = 0.9 * (0.1 * g1[i]) + 0.1 * g2[i]
        let v = 0.999 * (0.001 * g1[i] * g1[i]) + 0.001 * g2[i] * g2[i]
        let mHat = m / (1 - 0.81), vHat = v / (1 - 0.999 * 0.999)
        let first = 1 - 0.01 * (g1[i] > 0 ? 1 : -1)
        let expected = first - 0.01 * mHat / (vHat.squareRoot() + 1e-8)
        #expect(abs(Double(theta[0].scalars[i]) - expected) < 1e-6)
    }
    #expect(opt.state.step == 2)
}

@Test func weight_decay_forms() {
    // L2 with SGD: θ - α(g + λθ); decoupled: θ - η(αg + λθ).
    var l2 = SGD(learningRate: 0.1, weightDecay: .l2(0.5))
    var decoupled = SGD(learningRate: 0.1, weightDecay: .decoupled(0.05))
    var a = [Tensor(shape: [2], scalars: [2, -1])], b = a
    let g = [Tensor(shape: [2], scalars: [1, 1])]
    l2.update(&a, gradients: g, multiplier: 1)
    decoupled.update(&b, gradients: g, multiplier: 1)
    // For plain SGD, L2 factor λ equals decoupled decay α·λ.
    let expected: [Float] = [2 - 0.1 * 2, -1 - 0.1 * 0.5]
    for i in 0..<2 { #expect(abs(a[0].scalars[i] - expected[i]) < 1e-6) }
    for i in 0..<2 { #expect(abs(a[0].scalars[i] - b[0].scalars[i]) < 1e-6) }
}
