// What a translation run asks of its model, so that the autoregressive
// teacher and the non-autoregressive student train, evaluate and record
// through the same code.

import Autodiff
import NeuralNets
import Tensors

/// The teacher-forced evaluation of a batch: summed losses and counts.
public struct TranslationEvaluation: Sendable, Equatable {
    /// Σ of the per-token translation cross-entropy (nats); for a NAT, plus
    /// Σ of the per-source-token fertility cross-entropy.
    public var loss: Double
    /// Target tokens predicted right (the argmax at each position), and target tokens.
    public var correct: Int, tokens: Int

    public init(loss: Double = 0, correct: Int = 0, tokens: Int = 0) {
        self.loss = loss
        self.correct = correct
        self.tokens = tokens
    }

    public static func + (a: Self, b: Self) -> Self {
        TranslationEvaluation(loss: a.loss + b.loss, correct: a.correct + b.correct, tokens: a.tokens + b.tokens)
    }
}

/// A trainable, recordable translation model.
public protocol TranslationModel: Sendable {
    var configuration: TransformerConfiguration { get }
    var store: ParameterStore { get set }
    /// The minibatch's training loss (with dropout and label smoothing) and
    /// its gradients, in `store` order.
    func trainingStep(_ batch: SentenceBatch, rng: inout RandomGenerator) -> (loss: Float, gradients: [Tensor])
    /// The teacher-forced evaluation, without dropout or smoothing.
    func evaluate(_ batch: SentenceBatch) -> TranslationEvaluation
    /// Each encoder layer's residual stream [N, Ls, d] and each decoder
    /// layer's [N, Lt, d], teacher-forced (the NAT: inputs copied by the
    /// batch's fertilities), without dropout. Row t of a decoder state is
    /// the state that predicts target token t.
    func layerStates(_ batch: SentenceBatch) -> (encoder: [Tensor], decoder: [Tensor])
}

extension TranslationModel {
    /// `body` with a context on a fresh tape that records nothing (no
    /// gradients, no dropout), the tape kept alive until `body` returns.
    func inference<R>(_ body: (inout PassContext) -> R) -> R {
        let tape = Tape()
        return withExtendedLifetime(tape) {
            var c = PassContext(p: store.bind(to: tape, requiringGradients: false), rate: 0, rng: RandomGenerator(seed: 0))
            return body(&c)
        }
    }
}
