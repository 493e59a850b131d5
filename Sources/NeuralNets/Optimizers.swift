// First-order optimizers: SGD with momentum, and Adam with bias correction.
//
// Every update takes a schedule multiplier η_t (1 for a constant schedule),
// and weight decay comes in two kinds: an L2 term added to the gradient, or
// decoupled decay applied to the weights directly (Loshchilov & Hutter,
// "Decoupled Weight Decay Regularization", ICLR 2019). The optimizer state is
// plain tensors, so a checkpoint can save and restore it exactly.

import RealModule
import Tensors

/// How weight decay enters an update.
public enum WeightDecay: Sendable, Equatable, Codable {
    /// No decay.
    case none
    /// λθ added to the gradient before the optimizer's own arithmetic.
    case l2(Float)
    /// θ ← θ - η_t λ θ, applied next to the gradient step (not scaled by α).
    case decoupled(Float)
}

/// The state an optimizer carries between steps: a step count and, per
/// parameter, its slot tensors (momentum; Adam's first and second moments).
public struct OptimizerState: Sendable, Equatable {
    /// Updates taken so far.
    public var step: Int
    /// slots[s][p]: slot s of parameter p.
    public var slots: [[Tensor]]

    public init(step: Int, slots: [[Tensor]]) {
        self.step = step
        self.slots = slots
    }
}

/// An optimizer updates a list of parameters from their gradients.
public protocol Optimizer: Sendable {
    /// One update: θ_p ← θ_p - (step from gradients[p]) for every p.
    ///
    /// - Parameter multiplier: the schedule multiplier η_t for this step.
    mutating func update(_ parameters: inout [Tensor], gradients: [Tensor], multiplier: Float)
    /// The state, for checkpoints.
    var state: OptimizerState { get set }
    /// A short name and the hyper-parameters, for manifests.
    var description: [String: String] { get }
}

@inline(__always)
private func checkShapes(_ parameters: [Tensor], _ gradients: [Tensor], _ name: String) {
    precondition(parameters.count == gradients.count, "\(name): \(parameters.count) parameters, \(gradients.count) gradients")
    for (p, g) in zip(parameters, gradients) {
        precondition(p.shape == g.shape, "\(name): parameter \(p.shape), gradient \(g.shape)")
    }
}

/// Stochastic gradient descent with (heavy-ball) momentum.
///
/// With d = g + λθ for L2 decay (else d = g):
/// v ← μ v + d;  θ ← θ - η_t (α v + λθ [decoupled only]).
/// With μ = 0 this is plain SGD, θ ← θ - η_t α d.
public struct SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: WeightDecay
    public var state = OptimizerState(step: 0, slots: [[]])

    public init(learningRate: Float, momentum: Float = 0, weightDecay: WeightDecay = .none) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    public var description: [String: String] {
        ["name": "sgd", "learning_rate": "\(learningRate)", "momentum": "\(momentum)",
         "weight_decay": "\(weightDecay)"]
    }

    public mutating func update(_ parameters: inout [Tensor], gradients: [Tensor], multiplier: Float) {
        checkShapes(parameters, gradients, "SGD")
        if state.slots[0].isEmpty { state.slots[0] = parameters.map { Tensor.zeros($0.shape) } }
        state.step += 1
        let (l2, decoupled): (Float, Float) = switch weightDecay {
        case .none: (0, 0)
        case .l2(let l): (l, 0)
        case .decoupled(let l): (0, l)
        }
        let (alpha, mu, eta) = (learningRate, momentum, multiplier)
        for p in parameters.indices {
            gradients[p].scalars.withUnsafeBufferPointer { g in
                state.slots[0][p].scalars.withUnsafeMutableBufferPointer { v in
                    parameters[p].scalars.withUnsafeMutableBufferPointer { theta in
                        for i in 0..<theta.count {
                            let d = g[i] + l2 * theta[i]
                            v[i] = mu * v[i] + d
                            theta[i] -= eta * (alpha * v[i] + decoupled * theta[i])
                        }
                    }
                }
            }
        }
    }
}

/// Adam (Kingma & Ba 2015, Algorithm 1) with bias correction.
///
/// With d = g + λθ for L2 decay (else d = g), at step t:
/// m ← β₁m + (1-β₁)d;  v ← β₂v + (1-β₂)d²;  m̂ = m/(1-β₁ᵗ);  v̂ = v/(1-β₂ᵗ);
/// θ ← θ - η_t (α m̂/(√v̂ + ε) + λθ [decoupled only]) — the decoupled form
/// is AdamW as written in Loshchilov & Hutter's paper.
public struct Adam: Optimizer {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: WeightDecay
    public var state = OptimizerState(step: 0, slots: [[], []])

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: WeightDecay = .none) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    public var description: [String: String] {
        ["name": "adam", "learning_rate": "\(learningRate)", "beta1": "\(beta1)", "beta2": "\(beta2)",
         "epsilon": "\(epsilon)", "weight_decay": "\(weightDecay)"]
    }

    public mutating func update(_ parameters: inout [Tensor], gradients: [Tensor], multiplier: Float) {
        checkShapes(parameters, gradients, "Adam")
        if state.slots[0].isEmpty {
            state.slots[0] = parameters.map { Tensor.zeros($0.shape) }
            state.slots[1] = parameters.map { Tensor.zeros($0.shape) }
        }
        state.step += 1
        let t = Double(state.step)
        // Bias corrections in Double: 1 - β^t underflows gracefully and stays exact longer.
        let c1 = Float(1 - Double.pow(Double(beta1), t))
        let c2 = Float(1 - Double.pow(Double(beta2), t))
        let (l2, decoupled): (Float, Float) = switch weightDecay {
        case .none: (0, 0)
        case .l2(let l): (l, 0)
        case .decoupled(let l): (0, l)
        }
        let (alpha, b1, b2, eps, eta) = (learningRate, beta1, beta2, epsilon, multiplier)
        // Move the moments out of `state` so that they are uniquely referenced
        // and updated in place (no copy-on-write), then put them back.
        var (first, second) = (state.slots[0], state.slots[1])
        state.slots = [[], []]
        defer { state.slots = [first, second] }
        for p in parameters.indices {
            gradients[p].scalars.withUnsafeBufferPointer { g in
                first[p].scalars.withUnsafeMutableBufferPointer { m in
                    second[p].scalars.withUnsafeMutableBufferPointer { v in
                        parameters[p].scalars.withUnsafeMutableBufferPointer { theta in
                            for i in 0..<theta.count {
                                let d = g[i] + l2 * theta[i]
                                m[i] = b1 * m[i] + (1 - b1) * d
                                v[i] = b2 * v[i] + (1 - b2) * d * d
                                let mHat = m[i] / c1, vHat = v[i] / c2
                                theta[i] -= eta * (alpha * mHat / (vHat.squareRoot() + eps) + decoupled * theta[i])
                            }
                        }
                    }
                }
            }
        }
    }
}
