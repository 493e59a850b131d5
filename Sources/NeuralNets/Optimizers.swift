// First-order optimizers: SGD with momentum, and Adam with bias correction.
//
// Every update takes a schedule multiplier η_t (1 for a constant schedule,
// see `LearningRateSchedule`), and weight decay comes in three kinds: an L2
// term added to the gradient; decoupled decay applied to the weights directly
// and scaled by η_t only, as in Loshchilov & Hutter's paper ("Decoupled Weight
// Decay Regularization", ICLR 2019; SGDW and AdamW of their Algorithms 1-2);
// or decoupled decay scaled by the scheduled learning rate α η_t, as PyTorch's
// `torch.optim.AdamW` does. The optimizer state is plain tensors, so a
// checkpoint can save and restore it exactly.
//
// Not here: AMSGrad, Nesterov momentum, per-parameter-group settings, and
// excluding biases from decay (every parameter gets the same treatment).

import Dispatch
import RealModule
import Tensors

/// How weight decay enters an update.
///
/// With learning rate α and schedule multiplier η_t:
/// - `.l2(λ)`: d = g + λθ replaces the gradient g before the optimizer's own
///   arithmetic (momentum, Adam's moments). For Adam the decay is then divided
///   by √v̂ like the gradient, so weights with large gradients decay less.
/// - `.decoupled(λ)`: θ ← θ - η_t λ θ next to the gradient step, scaled by the
///   schedule multiplier but *not* by α: SGDW and AdamW exactly as written in
///   Loshchilov & Hutter, Algorithms 1 and 2 (line 12 of Algorithm 2,
///   θ_t ← θ_{t-1} - η_t(α m̂_t/(√v̂_t + ε) + λθ_{t-1})).
/// - `.decoupledScaledByLearningRate(λ)`: θ ← θ (1 - α η_t λ) before the
///   gradient step, the form of PyTorch's `torch.optim.AdamW`, whose
///   `_single_tensor_adamw` runs `param.mul_(1 - lr * weight_decay)` with the
///   scheduled learning rate lr = α η_t and only then the Adam step
///   (pytorch/pytorch, torch/optim/adamw.py).
///
/// The two decoupled forms are one family: `.decoupledScaledByLearningRate(λ)`
/// at learning rate α equals `.decoupled(α λ)`. The best λ therefore differs
/// by orders of magnitude between them — by the factor 1/α, about 10³ for
/// Adam at α = 10⁻³ (PyTorch's default λ = 10⁻² corresponds to the paper's
/// λ = 10⁻⁵) — and a grid tuned for one form is wrong for the other. For
/// plain SGD (momentum 0), `.l2(λ)` equals `.decoupled(α λ)` and
/// `.decoupledScaledByLearningRate(λ)`; with momentum or Adam they differ.
///
/// [Loshchilov & Hutter]: https://arxiv.org/abs/1711.05101
public enum WeightDecay: Sendable, Equatable, Codable {
    /// No decay.
    case none
    /// λθ added to the gradient before the optimizer's own arithmetic.
    case l2(Float)
    /// θ ← θ - η_t λ θ, applied next to the gradient step (not scaled by α):
    /// the paper's SGDW and AdamW.
    case decoupled(Float)
    /// θ ← θ (1 - α η_t λ), applied before the gradient step (scaled by the
    /// scheduled learning rate α η_t): PyTorch's `torch.optim.AdamW`.
    case decoupledScaledByLearningRate(Float)

    /// Normalized weight decay (Loshchilov & Hutter, Section 4 and Appendix
    /// B.1): λ = λ_norm √(b / (B T)).
    ///
    /// The raw λ that works best shrinks as the run gets longer (more weight
    /// updates, each one decaying); λ_norm is meant to stay put across budgets.
    ///
    /// - Parameters:
    ///   - normalized: λ_norm.
    ///   - batchSize: b, samples per minibatch.
    ///   - trainingSetSize: B, training samples per epoch.
    ///   - epochs: T, the epoch budget (with warm restarts, the paper uses the
    ///     length T_i of the current cycle).
    /// - Returns: the raw λ to put into `.decoupled` (or any other form).
    public static func normalized(_ normalized: Float, batchSize: Int, trainingSetSize: Int, epochs: Int) -> Float {
        precondition(batchSize > 0 && trainingSetSize > 0 && epochs > 0,
                     "WeightDecay.normalized: batch size \(batchSize), training set \(trainingSetSize), epochs \(epochs)")
        let ratio = Double(batchSize) / (Double(trainingSetSize) * Double(epochs))
        return Float(Double(normalized) * ratio.squareRoot())
    }

    /// The three coefficients of an update with learning rate α and schedule
    /// multiplier η: (L2 factor added to the gradient, decoupled factor
    /// multiplied by η, factor c of the pre-step shrink θ ← (1 - c) θ).
    func coefficients(learningRate alpha: Float, multiplier eta: Float) -> (l2: Float, decoupled: Float, shrink: Float) {
        switch self {
        case .none: (0, 0, 0)
        case .l2(let l): (l, 0, 0)
        case .decoupled(let l): (0, l, 0)
        case .decoupledScaledByLearningRate(let l): (0, 0, alpha * eta * l)
        }
    }
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

/// Stochastic gradient descent with (heavy-ball) momentum; with
/// `.decoupled(λ)` decay, SGDW.
///
/// With d = g + λθ for L2 decay (else d = g):
/// θ ← (1 - α η_t λ) θ  [`.decoupledScaledByLearningRate` only];
/// v ← μ v + d;  θ ← θ - η_t (α v + λθ [`.decoupled` only]).
/// With μ = 0 this is plain SGD, θ ← θ - η_t α d, and `.l2(l)` equals
/// `.decoupled(α l)`.
///
/// By default the momentum buffer holds gradients and the current η_t α
/// scales it at each step (`.gradients`, PyTorch's convention). With
/// `.steps` it follows Loshchilov & Hutter's Algorithm 1 exactly:
/// m ← μ m + η_t α d;  θ ← θ - m - η_t λ θ [`.decoupled` only], so each step
/// in the buffer keeps the η_t it was taken with. The two agree whenever η_t
/// is constant; they differ in how fast a change of η_t (a warm restart)
/// takes effect.
public struct SGD: Optimizer {
    /// What the momentum buffer accumulates.
    public enum MomentumBuffer: String, Sendable, Equatable, Codable {
        /// v ← μ v + d;  θ ← θ - η_t α v (PyTorch's `torch.optim.SGD`).
        case gradients
        /// m ← μ m + η_t α d;  θ ← θ - m (Loshchilov & Hutter, Algorithm 1).
        case steps
    }

    public var learningRate: Float
    public var momentum: Float
    public var weightDecay: WeightDecay
    /// What the momentum buffer (state slot 0) holds; a checkpoint's buffer
    /// only makes sense with the same choice.
    public var momentumBuffer: MomentumBuffer
    public var state = OptimizerState(step: 0, slots: [[]])

    public init(learningRate: Float, momentum: Float = 0, weightDecay: WeightDecay = .none,
                momentumBuffer: MomentumBuffer = .gradients) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.momentumBuffer = momentumBuffer
    }

    /// The settings; `momentum_buffer` appears only when it is `steps`, so the
    /// default's description (and every manifest written with it) is unchanged.
    public var description: [String: String] {
        var d = ["name": "sgd", "learning_rate": "\(learningRate)", "momentum": "\(momentum)",
                 "weight_decay": "\(weightDecay)"]
        if momentumBuffer == .steps { d["momentum_buffer"] = momentumBuffer.rawValue }
        return d
    }

    public mutating func update(_ parameters: inout [Tensor], gradients: [Tensor], multiplier: Float) {
        checkShapes(parameters, gradients, "SGD")
        if state.slots[0].isEmpty { state.slots[0] = parameters.map { Tensor.zeros($0.shape) } }
        state.step += 1
        let (alpha, mu, eta) = (learningRate, momentum, multiplier)
        let (l2, decoupled, shrink) = weightDecay.coefficients(learningRate: alpha, multiplier: eta)
        // 1 - 0 is exactly 1 and 1·θ is θ, so the forms without a shrink give
        // the same bytes as an update without this line.
        let keep = 1 - shrink
        let steps = momentumBuffer == .steps
        let etaAlpha = eta * alpha
        for p in parameters.indices {
            gradients[p].scalars.withUnsafeBufferPointer { g in
                state.slots[0][p].scalars.withUnsafeMutableBufferPointer { v in
                    parameters[p].scalars.withUnsafeMutableBufferPointer { theta in
                        if steps {
                            for i in 0..<theta.count {
                                theta[i] *= keep
                                let d = g[i] + l2 * theta[i]
                                v[i] = mu * v[i] + etaAlpha * d
                                theta[i] -= v[i] + eta * decoupled * theta[i]
                            }
                        } else {
                            for i in 0..<theta.count {
                                theta[i] *= keep
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
}

/// Adam (Kingma & Ba 2015, Algorithm 1) with bias correction; with decoupled
/// decay, AdamW in either of its two forms (see `WeightDecay`).
///
/// With d = g + λθ for L2 decay (else d = g), at step t:
/// θ ← (1 - α η_t λ) θ  [`.decoupledScaledByLearningRate` only, PyTorch's AdamW];
/// m ← β₁m + (1-β₁)d;  v ← β₂v + (1-β₂)d²;  m̂ = m/(1-β₁ᵗ);  v̂ = v/(1-β₂ᵗ);
/// θ ← θ - η_t (α m̂/(√v̂ + ε) + λθ [`.decoupled` only, the paper's AdamW]).
///
/// PyTorch's form at (α, λ) equals the paper's form at (α, α λ): the best λ
/// of the two differs by the factor 1/α (10³ at α = 10⁻³).
///
/// [Kingma & Ba]: https://arxiv.org/abs/1412.6980
/// [Loshchilov & Hutter]: https://arxiv.org/abs/1711.05101
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
        let (alpha, b1, b2, eps, eta) = (learningRate, beta1, beta2, epsilon, multiplier)
        let (l2, decoupled, shrink) = weightDecay.coefficients(learningRate: alpha, multiplier: eta)
        // Exactly 1 unless the decay is PyTorch's form (see SGD.update).
        let keep = 1 - shrink
        // α m̂ = (α / c1) m and v̂ = v · (1 / c2): one division per element, not three.
        let stepScale = alpha / c1, inverseC2 = 1 / c2
        // Move the moments out of `state` so that they are uniquely referenced
        // and updated in place (no copy-on-write), then put them back.
        var (first, second) = (state.slots[0], state.slots[1])
        state.slots = [[], []]
        defer { state.slots = [first, second] }
        let coefficients = AdamCoefficients(keep: keep, l2: l2, beta1: b1, beta2: b2, stepScale: stepScale,
                                            inverseC2: inverseC2, epsilon: eps, eta: eta, decoupled: decoupled)
        for p in parameters.indices {
            gradients[p].scalars.withUnsafeBufferPointer { g in
                first[p].scalars.withUnsafeMutableBufferPointer { m in
                    second[p].scalars.withUnsafeMutableBufferPointer { v in
                        parameters[p].scalars.withUnsafeMutableBufferPointer { theta in
                            let count = theta.count
                            let (pt, pg, pm, pv) = (theta.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!)
                            // Large tensors (the 784 x 1024 layer) in two halves on
                            // two threads: the loop is bound by the divider and
                            // the square root, one per core. Elementwise, so the
                            // result does not depend on the split.
                            if count >= Adam.parallelThreshold {
                                let half = (count / 2) & ~7
                                let shared = (SharedPointer(base: pt), SharedPointer(base: UnsafeMutablePointer(mutating: pg)),
                                              SharedPointer(base: pm), SharedPointer(base: pv))
                                DispatchQueue.concurrentPerform(iterations: 2) { part in
                                    let (lo, hi) = part == 0 ? (0, half) : (half, count)
                                    coefficients.update(shared.0.base + lo, shared.1.base + lo, shared.2.base + lo,
                                                        shared.3.base + lo, count: hi - lo)
                                }
                            } else {
                                coefficients.update(pt, pg, pm, pv, count: count)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Tensors with at least this many elements are updated on two threads.
    static let parallelThreshold = 1 << 18
}

/// The per-element arithmetic of one Adam step (see `Adam`), with every
/// scalar broadcast once, outside the loop.
struct AdamCoefficients {
    let keep, l2, beta1, beta2, stepScale, inverseC2, epsilon, eta, decoupled: Float

    func update(_ theta: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                _ v: UnsafeMutablePointer<Float>, count: Int) {
        typealias V = SIMD8<Float>
        let (vKeep, vL2, vB1, vB2) = (V(repeating: keep), V(repeating: l2), V(repeating: beta1), V(repeating: beta2))
        let (vC1, vC2) = (V(repeating: 1 - beta1), V(repeating: 1 - beta2))
        let (vScale, vInverse, vEps) = (V(repeating: stepScale), V(repeating: inverseC2), V(repeating: epsilon))
        let (vEta, vDecoupled) = (V(repeating: eta), V(repeating: decoupled))
        // Eight lanes at a time: the square root and division dominate, and
        // they only vectorize when written so.
        let vectorEnd = count & ~7
        var i = 0
        while i < vectorEnd {
            var t = UnsafeRawPointer(theta + i).loadUnaligned(as: V.self)
            let gi = UnsafeRawPointer(g + i).loadUnaligned(as: V.self)
            var mi = UnsafeRawPointer(m + i).loadUnaligned(as: V.self)
            var vi = UnsafeRawPointer(v + i).loadUnaligned(as: V.self)
            t *= vKeep
            let d = gi + vL2 * t
            mi = vB1 * mi + vC1 * d
            vi = vB2 * vi + vC2 * d * d
            t -= vEta * (vScale * mi / ((vi * vInverse).squareRoot() + vEps) + vDecoupled * t)
            UnsafeMutableRawPointer(theta + i).storeBytes(of: t, as: V.self)
            UnsafeMutableRawPointer(m + i).storeBytes(of: mi, as: V.self)
            UnsafeMutableRawPointer(v + i).storeBytes(of: vi, as: V.self)
            i += 8
        }
        while i < count {
            theta[i] *= keep
            let d = g[i] + l2 * theta[i]
            m[i] = beta1 * m[i] + (1 - beta1) * d
            v[i] = beta2 * v[i] + (1 - beta2) * d * d
            theta[i] -= eta * (stepScale * m[i] / ((v[i] * inverseC2).squareRoot() + epsilon) + decoupled * theta[i])
            i += 1
        }
    }
}
