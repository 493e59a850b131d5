// mixup (Zhang, Cisse, Dauphin & Lopez-Paz, "mixup: Beyond Empirical Risk
// Minimization", ICLR 2018): train on convex combinations of pairs of
// examples and of their label distributions.
//
// This file mixes one minibatch; the training loop (Training.Trainer) calls it
// for every training batch and never at evaluation. Deliberately not here:
// mixing across minibatches, manifold mixup, CutMix.

import Tensors

/// mixup of a minibatch with λ ~ Beta(α, α).
///
/// With a random permutation π of the minibatch (the partner of row i is row
/// π(i) of the *same* minibatch, as in the paper's reference code):
/// x̃_i = λ x_i + (1 - λ) x_π(i),  ỹ_i = λ y_i + (1 - λ) y_π(i).
/// The targets are distributions, so the softmax cross-entropy against ỹ is
/// exactly λ CE(f(x̃), y) + (1 - λ) CE(f(x̃), y_π) (it is linear in the target).
///
/// One λ per minibatch by default (the paper's choice); `perExample` draws
/// one λ_i per row. As α → 0, Beta(α, α) puts its mass on {0, 1}, so a batch
/// is either itself or a permutation of itself: ERM's mean loss and gradient.
/// Large α concentrates λ at 1/2 (variance 1/(4(2α+1))).
///
/// Random draws, from the generator passed in: the λ (one, or one per row in
/// row order), then the permutation.
///
/// [mixup]: https://arxiv.org/abs/1710.09412
public struct Mixup: Sendable, Equatable, Codable {
    /// α of Beta(α, α), > 0.
    public var alpha: Double
    /// Whether each example gets its own λ instead of one per minibatch.
    public var perExample: Bool

    /// - Precondition: alpha > 0 and finite (use no mixup at all for ERM).
    public init(alpha: Double, perExample: Bool = false) {
        precondition(alpha > 0 && alpha.isFinite, "Mixup: alpha \(alpha) (use nil for no mixup)")
        self.alpha = alpha
        self.perExample = perExample
    }

    /// A mixed minibatch.
    public struct Batch: Sendable, Equatable {
        /// x̃ [batch, features].
        public var inputs: Tensor
        /// ỹ [batch, classes], rows summing to 1 when the input rows did.
        public var targets: Tensor
        /// λ: one value, or one per row with `perExample`.
        public var lambdas: [Float]
        /// π: row i was mixed with row permutation[i].
        public var permutation: [Int]
    }

    /// Draws λ and π and mixes inputs x [batch, features] and target
    /// distributions y [batch, classes] with the same π.
    public func mix(inputs x: Tensor, targets y: Tensor, rng: inout RandomGenerator) -> Batch {
        precondition(x.rank == 2 && y.rank == 2 && x.shape[0] == y.shape[0],
                     "Mixup: inputs \(x.shape), targets \(y.shape)")
        let n = x.shape[0]
        let lambdas = (0..<(perExample ? n : 1)).map { _ in Float(rng.beta(alpha, alpha)) }
        let permutation = rng.permutation(n)
        return Batch(inputs: Self.mixRows(x, lambdas: lambdas, permutation: permutation),
                     targets: Self.mixRows(y, lambdas: lambdas, permutation: permutation),
                     lambdas: lambdas, permutation: permutation)
    }

    /// Row i of the result is λ_i a_i + (1 - λ_i) a_π(i), for a [rows, columns].
    ///
    /// - Parameters:
    ///   - lambdas: one λ for every row, or one per row.
    ///   - permutation: π, a permutation of 0..<rows.
    public static func mixRows(_ a: Tensor, lambdas: [Float], permutation: [Int]) -> Tensor {
        precondition(a.rank == 2 && permutation.count == a.shape[0]
                     && (lambdas.count == 1 || lambdas.count == a.shape[0]),
                     "Mixup.mixRows: \(a.shape) with \(lambdas.count) lambdas and \(permutation.count) partners")
        let (rows, columns) = (a.shape[0], a.shape[1])
        return a.scalars.withUnsafeBufferPointer { source in
            Tensor(shape: a.shape, initializingWith: { out in
                guard columns > 0 else { return }
                for r in 0..<rows {
                    let partner = permutation[r]
                    precondition(partner >= 0 && partner < rows, "Mixup.mixRows: partner \(partner) of \(rows) rows")
                    let lambda = lambdas.count == 1 ? lambdas[0] : lambdas[r]
                    let rest = 1 - lambda
                    let own = source.baseAddress! + r * columns
                    let other = source.baseAddress! + partner * columns
                    let target = out.baseAddress! + r * columns
                    for c in 0..<columns { target[c] = lambda * own[c] + rest * other[c] }
                }
            })
        }
    }
}
