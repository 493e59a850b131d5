// The WGAN-GP loss with the drift term, as Karras et al. (2018, App. A.1)
// train both networks: Gulrajani et al.'s (2017) gradient penalty with
// λ = 10 and target 1, and ε_drift = 0.001 keeping the critic's scores on
// reals near 0.
//
//   L_D = E[D(G(z))] - E[D(x)] + λ E[(‖∇_x̂ D(x̂)‖ - 1)²] + ε_drift E[D(x)²],
//   (with a target norm γ other than 1: λ/γ² E[(‖∇D(x̂)‖ - γ)²]),
//   L_G = -E[D(G(z))],
//
// x̂ = x + u (G(z) - x) with u ~ U(0, 1) drawn per sample. The penalty is a
// function of a gradient: it is built from the recorded backward pass
// (`createGraph: true`), so its own gradient with respect to the critic's
// weights is exact, not an approximation.
//
// [GAADC17]: I. Gulrajani, F. Ahmed, M. Arjovsky, V. Dumoulin, A. Courville,
//   "Improved Training of Wasserstein GANs", NeurIPS 2017.

import Autodiff
import NeuralNets
import Tensors

/// The weights of the WGAN-GP loss terms.
public struct WGANGPLoss: Sendable, Equatable, Codable {
    /// λ, the weight of the gradient penalty (10).
    public var penaltyWeight: Float
    /// The gradient norm γ the penalty pulls towards (1); the penalty's
    /// weight is λ/γ², as in the authors' code.
    public var target: Float
    /// ε_drift, the weight of E[D(x)²] (0.001).
    public var driftWeight: Float

    public init(penaltyWeight: Float = 10, target: Float = 1, driftWeight: Float = 0.001) {
        self.penaltyWeight = penaltyWeight
        self.target = target
        self.driftWeight = driftWeight
    }

    /// The critic's loss and its parts, for one minibatch.
    public struct CriticTerms {
        /// L_D, a scalar on the tape.
        public var loss: Variable
        /// E[(‖∇D(x̂)‖ - target)²], unweighted, a scalar on the tape.
        public var penalty: Variable
        /// Mean critic score of the reals and of the fakes.
        public var realScore, fakeScore: Float
    }

    /// Per-sample (‖∇_x̂ D(x̂)‖ - target)², [N], differentiable with respect
    /// to the critic's weights (second order through the tape).
    ///
    /// - Parameter interpolated: x̂ [N, C, r, r], a variable that requires a
    ///   gradient (its gradient is taken with `createGraph: true`).
    public func penalties(_ critic: ProgressiveDiscriminator, _ p: BoundParameters, interpolated xHat: Variable,
                          level: GrowthLevel) -> Variable {
        precondition(xHat.requiresGradient, "WGANGPLoss.penalties: x̂ must require a gradient")
        let tape = xHat.tape
        let scores = critic(xHat, p, level: level)
        // ∂ Σ_n D(x̂_n) / ∂x̂_n: the sum couples nothing but the minibatch
        // standard deviation, whose cross-sample terms the authors keep too.
        let g = tape.gradients(of: scores.sum(), withRespectTo: [xHat], createGraph: true)[0]
        let n = xHat.shape[0]
        let norms = g.squared().reshaped([n, g.value.count / n]).sum(alongAxis: 1).squareRoot()
        return (norms + -target).squared()
    }

    /// L_D on one minibatch, with x̂ = real + u (fake - real) for the
    /// per-sample `mixing` weights u.
    ///
    /// - Parameters:
    ///   - real: images [N, C, r, r] as the critic sees them at `level`.
    ///   - fake: the generator's images, same shape (constants: G is not trained here).
    ///   - mixing: u, N values in [0, 1].
    public func criticTerms(_ critic: ProgressiveDiscriminator, _ p: BoundParameters, real: Tensor, fake: Tensor,
                            mixing: [Float], level: GrowthLevel) -> CriticTerms {
        precondition(real.shape == fake.shape && mixing.count == real.shape[0],
                     "WGANGPLoss: reals \(real.shape), fakes \(fake.shape), \(mixing.count) mixing weights")
        let tape = p.variables[0].tape
        let n = real.shape[0]
        let realScores = critic(tape.constant(real), p, level: level)
        let fakeScores = critic(tape.constant(fake), p, level: level)
        let u = Tensor(shape: [n, 1, 1, 1], scalars: mixing).broadcast(to: real.shape)
        let xHat = tape.variable(real + u * (fake - real))
        let penalty = penalties(critic, p, interpolated: xHat, level: level).mean()
        let loss = fakeScores.mean() - realScores.mean() + penaltyWeight / (target * target) * penalty
            + driftWeight * realScores.squared().mean()
        return CriticTerms(loss: loss, penalty: penalty, realScore: realScores.value.mean(), fakeScore: fakeScores.value.mean())
    }

    /// L_G = -E[D(G(z))] from the critic's scores of the fakes.
    public func generatorLoss(fakeScores: Variable) -> Variable { -fakeScores.mean() }
}
