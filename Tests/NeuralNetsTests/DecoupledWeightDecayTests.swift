// SGD, SGDW, Adam-L2 and both forms of AdamW checked by hand on a
// two-parameter quadratic, against a naive Double reference written from the
// papers' formulas, and through the identities that tie the forms together.

import Foundation
import NeuralNets
import Tensors
import Testing

/// f(θ) = ½ (θ₀² + 4 θ₁²): the gradient is (θ₀, 4 θ₁).
private let curvature: [Double] = [1, 4]
private let start: [Double] = [1, -2]
private let multipliers: [Float] = [0.5, 1, 0.25, 0.8]

private func gradient(_ theta: [Double]) -> [Double] { zip(curvature, theta).map { $0 * $1 } }

/// Runs `optimizer` on the quadratic from `start` with the given multipliers.
private func run<O: Optimizer>(_ optimizer: O, multipliers: [Float] = multipliers) -> [[Double]] {
    var opt = optimizer
    var theta = [Tensor(shape: [2], scalars: start.map(Float.init))]
    var path = [[Double]]()
    for eta in multipliers {
        let g = gradient(theta[0].scalars.map(Double.init))
        opt.update(&theta, gradients: [Tensor(shape: [2], scalars: g.map(Float.init))], multiplier: eta)
        path.append(theta[0].scalars.map(Double.init))
    }
    return path
}

private enum Decay { case none, l2(Double), paper(Double), pytorch(Double) }

/// Loshchilov & Hutter, Algorithm 2 (Adam with L2 / AdamW), plus PyTorch's
/// `param.mul_(1 - lr * weight_decay)` before the step, in Double.
private func referenceAdam(alpha: Double, decay: Decay, beta1: Double = 0.9, beta2: Double = 0.999,
                           epsilon: Double = 1e-8) -> [[Double]] {
    var theta = start, m = [0.0, 0.0], v = [0.0, 0.0], path = [[Double]]()
    for (t, etaF) in multipliers.enumerated() {
        let eta = Double(etaF), step = Double(t + 1)
        var g = gradient(theta)
        if case .l2(let l) = decay { g = zip(g, theta).map { $0 + l * $1 } }
        if case .pytorch(let l) = decay { theta = theta.map { $0 * (1 - alpha * eta * l) } }
        for i in 0..<2 {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            let mHat = m[i] / (1 - pow(beta1, step)), vHat = v[i] / (1 - pow(beta2, step))
            var decoupled = 0.0
            if case .paper(let l) = decay { decoupled = l * theta[i] }
            theta[i] -= eta * (alpha * mHat / (vHat.squareRoot() + epsilon) + decoupled)
        }
        path.append(theta)
    }
    return path
}

/// SGD with heavy-ball momentum (v ← μv + d, θ ← θ - η(αv + λθ)), in Double.
private func referenceSGD(alpha: Double, momentum: Double, decay: Decay) -> [[Double]] {
    var theta = start, v = [0.0, 0.0], path = [[Double]]()
    for etaF in multipliers {
        let eta = Double(etaF)
        var g = gradient(theta)
        if case .l2(let l) = decay { g = zip(g, theta).map { $0 + l * $1 } }
        if case .pytorch(let l) = decay { theta = theta.map { $0 * (1 - alpha * eta * l) } }
        for i in 0..<2 {
            v[i] = momentum * v[i] + g[i]
            var decoupled = 0.0
            if case .paper(let l) = decay { decoupled = l * theta[i] }
            theta[i] -= eta * (alpha * v[i] + decoupled)
        }
        path.append(theta)
    }
    return path
}

private func expectClose(_ a: [[Double]], _ b: [[Double]], tolerance: Double = 2e-6,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, sourceLocation: sourceLocation)
    for (s, (x, y)) in zip(a, b).enumerated() {
        for i in 0..<2 {
            #expect(abs(x[i] - y[i]) <= tolerance, "step \(s + 1), θ\(i): \(x[i]) vs \(y[i])", sourceLocation: sourceLocation)
        }
    }
}

// First steps worked out by hand (θ = (1, -2), g = (1, -8), η₁ = 0.5).

@Test func adamw_paper_form_first_step_by_hand() {
    // Bias correction makes m̂ = g and v̂ = g², so the Adam step is α sign(g):
    // θ ← θ - 0.5 (0.01 sign(g) + 0.1 θ) = (1 - 0.055, -2 + 0.105).
    let path = run(Adam(learningRate: 0.01, weightDecay: .decoupled(0.1)))
    #expect(abs(path[0][0] - 0.945) < 1e-6 && abs(path[0][1] - -1.895) < 1e-6)
    expectClose(path, referenceAdam(alpha: 0.01, decay: .paper(0.1)))
}

@Test func adamw_pytorch_form_first_step_by_hand() {
    // lr = α η = 0.005: θ ← θ (1 - 0.005 · 0.1) = (0.9995, -1.999), then
    // θ ← θ - 0.005 sign(g) = (0.9945, -1.994).
    let path = run(Adam(learningRate: 0.01, weightDecay: .decoupledScaledByLearningRate(0.1)))
    #expect(abs(path[0][0] - 0.9945) < 1e-6 && abs(path[0][1] - -1.994) < 1e-6)
    expectClose(path, referenceAdam(alpha: 0.01, decay: .pytorch(0.1)))
}

@Test func adam_l2_first_step_by_hand() {
    // d = g + 0.1 θ = (1.1, -8.2); the step is α η sign(d) = 0.005 sign(d).
    let path = run(Adam(learningRate: 0.01, weightDecay: .l2(0.1)))
    #expect(abs(path[0][0] - 0.995) < 1e-6 && abs(path[0][1] - -1.995) < 1e-6)
    expectClose(path, referenceAdam(alpha: 0.01, decay: .l2(0.1)))
}

@Test func adam_bias_correction_over_steps() {
    // Without bias correction the first step would be 0.1·g/√(0.001 g²) ≈ 3.16 α;
    // with it, α. The reference checks the later steps, where 1 - β^t matters.
    let path = run(Adam(learningRate: 0.01))
    #expect(abs(path[0][0] - (1 - 0.005)) < 1e-6)
    expectClose(path, referenceAdam(alpha: 0.01, decay: .none))
}

@Test func sgd_momentum_l2_first_step_by_hand() {
    // v = d = (1.1, -8.2); θ ← θ - 0.5 · 0.1 · d = (0.945, -1.59).
    let path = run(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: .l2(0.1)))
    #expect(abs(path[0][0] - 0.945) < 1e-6 && abs(path[0][1] - -1.59) < 1e-6)
    expectClose(path, referenceSGD(alpha: 0.1, momentum: 0.9, decay: .l2(0.1)))
}

@Test func sgdw_first_step_by_hand() {
    // v = g; θ ← θ - 0.5 (0.1 g + 0.1 θ) = (1 - 0.1, -2 + 0.5): the decay is
    // scaled by η but not by α.
    let path = run(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: .decoupled(0.1)))
    #expect(abs(path[0][0] - 0.9) < 1e-6 && abs(path[0][1] - -1.5) < 1e-6)
    expectClose(path, referenceSGD(alpha: 0.1, momentum: 0.9, decay: .paper(0.1)))
}

@Test func sgd_pytorch_form_decay_matches_reference() {
    expectClose(run(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: .decoupledScaledByLearningRate(0.3))),
                referenceSGD(alpha: 0.1, momentum: 0.9, decay: .pytorch(0.3)))
}

// Identities between the forms.

@Test(arguments: [(Float(0.1), Float(0.5)), (0.03, 2), (0.2, 0.05)])
func plain_sgd_l2_equals_sgdw_with_alpha_times_l(alpha: Float, l: Float) {
    let l2 = run(SGD(learningRate: alpha, weightDecay: .l2(l)))
    let sgdw = run(SGD(learningRate: alpha, weightDecay: .decoupled(alpha * l)))
    let pytorch = run(SGD(learningRate: alpha, weightDecay: .decoupledScaledByLearningRate(l)))
    expectClose(l2, sgdw)
    expectClose(l2, pytorch)
}

@Test(arguments: [(Float(0.01), Float(0.1)), (0.001, 1), (0.05, 0.4)])
func pytorch_adamw_equals_paper_adamw_at_alpha_times_l(alpha: Float, l: Float) {
    let pytorch = run(Adam(learningRate: alpha, weightDecay: .decoupledScaledByLearningRate(l)))
    let paper = run(Adam(learningRate: alpha, weightDecay: .decoupled(alpha * l)))
    expectClose(pytorch, paper)
    // …and not at the same λ: there the decay is 1/α times stronger.
    let sameLambda = run(Adam(learningRate: alpha, weightDecay: .decoupled(l)))
    #expect(abs(sameLambda.last![0] - pytorch.last![0]) > 1e-3)
}

@Test func with_momentum_or_adam_l2_differs_from_decoupled() {
    // The identity holds for plain SGD only: momentum and Adam's normalization
    // treat the L2 term like a gradient.
    let sgdL2 = run(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: .l2(0.5)))
    let sgdw = run(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: .decoupled(0.05)))
    #expect(abs(sgdL2.last![0] - sgdw.last![0]) > 1e-3)
    let adamL2 = run(Adam(learningRate: 0.01, weightDecay: .l2(0.5)))
    let adamw = run(Adam(learningRate: 0.01, weightDecay: .decoupled(0.005)))
    #expect(abs(adamL2.last![0] - adamw.last![0]) > 1e-3)
}

@Test func zero_decay_is_bitwise_no_decay() {
    // The shrink factor is exactly 1 when unused, so old runs keep their bytes.
    for decay in [WeightDecay.l2(0), .decoupled(0), .decoupledScaledByLearningRate(0)] {
        #expect(run(Adam(learningRate: 0.01, weightDecay: decay)) == run(Adam(learningRate: 0.01)))
        #expect(run(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: decay))
                == run(SGD(learningRate: 0.1, momentum: 0.9)))
    }
}

@Test func schedule_multiplier_zero_freezes_every_form() {
    // η = 0 scales the gradient step and both decoupled decays to nothing.
    for decay in [WeightDecay.none, .l2(0.3), .decoupled(0.3), .decoupledScaledByLearningRate(0.3)] {
        let path = run(Adam(learningRate: 0.01, weightDecay: decay), multipliers: [0, 0])
        #expect(path.last! == start)
    }
}

@Test func normalized_weight_decay_by_hand() {
    // λ = 0.05 √(128 / (50000 · 100)) = 0.05 · 0.00505964… = 2.52982e-4.
    let lambda = WeightDecay.normalized(0.05, batchSize: 128, trainingSetSize: 50000, epochs: 100)
    #expect(abs(Double(lambda) - 0.05 * (128.0 / 5e6).squareRoot()) < 1e-10)
    #expect(abs(lambda - 2.52982e-4) < 1e-8)
    // Four times the budget halves λ; four times the batch doubles it.
    let longer = WeightDecay.normalized(0.05, batchSize: 128, trainingSetSize: 50000, epochs: 400)
    let larger = WeightDecay.normalized(0.05, batchSize: 512, trainingSetSize: 50000, epochs: 100)
    #expect(abs(longer - lambda / 2) < 1e-9)
    #expect(abs(larger - lambda * 2) < 1e-9)
}

@Test func weight_decay_round_trips_through_codable() throws {
    let forms: [WeightDecay] = [.none, .l2(0.5), .decoupled(0.25), .decoupledScaledByLearningRate(0.125)]
    let data = try JSONEncoder().encode(forms)
    #expect(try JSONDecoder().decode([WeightDecay].self, from: data) == forms)
}

// The momentum buffer of Loshchilov & Hutter's Algorithm 1.

/// Algorithm 1 of the paper in Double: m ← μ m + η α d; θ ← θ - m - η λ θ.
private func referenceSGDSteps(alpha: Double, momentum: Double, decay: Decay) -> [[Double]] {
    var theta = start, m = [0.0, 0.0], path = [[Double]]()
    for etaF in multipliers {
        let eta = Double(etaF)
        var g = gradient(theta)
        if case .l2(let l) = decay { g = zip(g, theta).map { $0 + l * $1 } }
        for i in 0..<2 {
            m[i] = momentum * m[i] + eta * alpha * g[i]
            var decoupled = 0.0
            if case .paper(let l) = decay { decoupled = l * theta[i] }
            theta[i] = theta[i] - m[i] - eta * decoupled
        }
        path.append(theta)
    }
    return path
}

@Test func sgdw_with_the_papers_momentum_buffer_by_hand() {
    // Step 1 is the same in both conventions: θ - 0.5 (0.1 g + 0.1 θ) = (0.9, -1.5).
    // Step 2 (η = 1): m = 0.9 · 0.05 g₁ + 0.1 g₂ with g₁ = (1, -8), g₂ = (0.9, -6):
    // m = (0.045 + 0.09, -0.36 - 0.6) = (0.135, -0.96);
    // θ = (0.9 - 0.135 - 0.09, -1.5 + 0.96 + 0.15) = (0.675, -0.39).
    let sgdw = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: .decoupled(0.1), momentumBuffer: .steps)
    let path = run(sgdw)
    #expect(abs(path[0][0] - 0.9) < 1e-6 && abs(path[0][1] - -1.5) < 1e-6)
    #expect(abs(path[1][0] - 0.675) < 1e-6 && abs(path[1][1] - -0.39) < 1e-6)
    expectClose(path, referenceSGDSteps(alpha: 0.1, momentum: 0.9, decay: .paper(0.1)))
    expectClose(run(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: .l2(0.1), momentumBuffer: .steps)),
                referenceSGDSteps(alpha: 0.1, momentum: 0.9, decay: .l2(0.1)))
    #expect(sgdw.description["momentum_buffer"] == "steps")
    #expect(SGD(learningRate: 0.1).description["momentum_buffer"] == nil)
}

@Test func momentum_buffers_agree_for_a_constant_schedule_only() {
    let constant: [Float] = [1, 1, 1, 1, 1]
    for decay in [WeightDecay.none, .l2(0.2), .decoupled(0.02)] {
        let a = run(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: decay), multipliers: constant)
        let b = run(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: decay, momentumBuffer: .steps), multipliers: constant)
        expectClose(a, b)
    }
    let a = run(SGD(learningRate: 0.1, momentum: 0.9))
    let b = run(SGD(learningRate: 0.1, momentum: 0.9, momentumBuffer: .steps))
    #expect(abs(a.last![0] - b.last![0]) > 1e-3)
}
