// The pieces the autoregressive teacher and the non-autoregressive student
// share: the configuration, padded batches and their masks, the pre-LN
// encoder (same parameter names in both models, so the student's encoder
// can be initialized from the teacher's) and its sublayers.
//
// Pre-LN (Xiong et al. 2020): every sublayer reads LayerNorm(x) and adds its
// output to the residual stream, x ← x + Dropout(F(LN(x))); one more
// LayerNorm closes each stack. At this scale it trains without a learning
// rate warm-up sensitive enough to diverge, which post-LN is not.
//
// Layout: sequences are [batch, length, d], padded with token 0 at the end;
// a sentence of n real tokens has rows n... masked as attention keys.

import Autodiff
import NeuralNets
import Tensors

/// The sizes of a Transformer (Vaswani et al. 2017) and its regularization.
public struct TransformerConfiguration: Codable, Equatable, Sendable {
    /// Layers of the encoder, and of the decoder.
    public var layers: Int
    /// d: the width of embeddings and of every residual stream.
    public var modelDimension: Int
    /// Attention heads (d must be divisible by it).
    public var heads: Int
    /// The hidden width of the ReLU feed-forward sublayers.
    public var feedForward: Int
    /// Dropout on every sublayer's output, on the embeddings and on attention weights.
    public var dropout: Float
    /// ε of the label-smoothed training cross-entropy.
    public var labelSmoothing: Float
    /// The longest sequence the position table covers: a sentence of at most
    /// this many tokens (the teacher's decoder sees one more, with <s> or </s>).
    /// Decoding stops at it.
    public var maxLength: Int

    public init(layers: Int = 2, modelDimension: Int = 64, heads: Int = 4, feedForward: Int = 256,
                dropout: Float = 0.1, labelSmoothing: Float = 0.1, maxLength: Int = 32) {
        precondition(layers >= 1 && heads >= 1 && modelDimension % heads == 0 && feedForward >= 1 && maxLength >= 1,
                     "TransformerConfiguration: \(layers) layers, d \(modelDimension), \(heads) heads, ff \(feedForward), max length \(maxLength)")
        precondition(dropout >= 0 && dropout < 1 && labelSmoothing >= 0 && labelSmoothing < 1,
                     "TransformerConfiguration: dropout \(dropout), label smoothing \(labelSmoothing)")
        self.layers = layers
        self.modelDimension = modelDimension
        self.heads = heads
        self.feedForward = feedForward
        self.dropout = dropout
        self.labelSmoothing = labelSmoothing
        self.maxLength = maxLength
    }
}

// MARK: Batches

/// Token sequences padded with 0 to a common length.
struct PaddedBatch {
    /// [count·length], row-major.
    var ids: [Int]
    var lengths: [Int]
    /// The padded length, at least 1 (an all-empty batch keeps one masked row).
    var length: Int
    var count: Int { lengths.count }

    init(_ sequences: [[Int]], prefix: Int? = nil, suffix: Int? = nil) {
        let extra = (prefix == nil ? 0 : 1) + (suffix == nil ? 0 : 1)
        lengths = sequences.map { $0.count + extra }
        length = max(1, lengths.max() ?? 1)
        ids = [Int](repeating: Vocabulary.padding, count: sequences.count * length)
        for (b, s) in sequences.enumerated() {
            var j = b * length
            if let prefix { ids[j] = prefix; j += 1 }
            for t in s { ids[j] = t; j += 1 }
            if let suffix { ids[j] = suffix }
        }
    }

    /// 1 on real rows, 0 on padding: [count, length, 1].
    var rowMask: Tensor {
        var m = Tensor.zeros([count, length, 1])
        for (b, n) in lengths.enumerated() {
            for t in 0..<n { m.scalars[b * length + t] = 1 }
        }
        return m
    }
}

/// The sinusoidal positions 0..<length, [1, length, d]: rows of a table made
/// once per model, or a fresh table past its end.
struct PositionTable {
    let table: Tensor
    let dimension: Int

    init(length: Int, dimension: Int) {
        table = sinusoidalPositions(length: length, dimension: dimension)
        self.dimension = dimension
    }

    func callAsFunction(_ length: Int) -> Tensor {
        let rows = length <= table.shape[0] ? table.rows(0..<length) : sinusoidalPositions(length: length, dimension: dimension)
        return rows.reshaped([1, length, dimension])
    }
}

/// The rows of x [rows, ...] at `indices`, for tensors of any rank (beam
/// reordering of cached keys, copies of one sentence's memory).
func gatherLeading(_ x: Variable, _ indices: [Int]) -> Variable {
    let rows = x.shape[0]
    let rest = Array(x.shape.dropFirst())
    return x.reshaped([rows, x.value.count / max(rows, 1)]).gatherRows(indices).reshaped([indices.count] + rest)
}

// MARK: Sublayers

/// ReLU feed-forward: W₂ ReLU(W₁ x + b₁) + b₂ (He initialization for the
/// ReLU layer, Glorot for the output).
struct FeedForward {
    let inner, outer: Linear

    init(_ name: String, modelDimension: Int, hidden: Int, store: inout ParameterStore, rng: inout RandomGenerator) {
        inner = Linear(name + ".inner", inputFeatures: modelDimension, outputFeatures: hidden,
                       initialization: .he(gain: Float(2).squareRoot()), store: &store, rng: &rng)
        outer = Linear(name + ".outer", inputFeatures: hidden, outputFeatures: modelDimension,
                       initialization: .glorotUniform, store: &store, rng: &rng)
    }

    func callAsFunction(_ x: Variable, _ p: BoundParameters) -> Variable {
        outer(inner(x, p).relu(), p)
    }
}

/// The forward pass's context: parameters, dropout rate and generator.
/// `rate` 0 at evaluation (no generator is drawn from then).
struct PassContext {
    let p: BoundParameters
    let rate: Float
    var rng: RandomGenerator

    var tape: Tape { p.variables[0].tape }

    mutating func drop(_ x: Variable) -> Variable {
        rate == 0 ? x : x.dropout(rate: rate, rng: &rng)
    }
}

/// One pre-LN encoder layer: self-attention over the sentence (padding
/// keys masked), then the feed-forward sublayer.
struct EncoderLayer {
    let attentionNorm, feedForwardNorm: LayerNorm
    let attention: MultiHeadAttention
    let feedForward: FeedForward

    init(_ name: String, _ c: TransformerConfiguration, store: inout ParameterStore, rng: inout RandomGenerator) {
        attentionNorm = LayerNorm(name + ".attentionNorm", dimension: c.modelDimension, store: &store)
        attention = MultiHeadAttention(name + ".selfAttention", modelDimension: c.modelDimension, heads: c.heads,
                                       store: &store, rng: &rng)
        feedForwardNorm = LayerNorm(name + ".feedForwardNorm", dimension: c.modelDimension, store: &store)
        feedForward = FeedForward(name + ".feedForward", modelDimension: c.modelDimension, hidden: c.feedForward,
                                  store: &store, rng: &rng)
    }

    func callAsFunction(_ x: Variable, mask: AttentionMask, _ c: inout PassContext) -> Variable {
        let h = attentionNorm(x, c.p)
        var y = x + c.drop(attention(h, memory: h, mask: mask, c.p, dropout: c.rate, rng: &c.rng))
        y = y + c.drop(feedForward(feedForwardNorm(y, c.p), c.p))
        return y
    }
}

/// The encoder: token embeddings × √d plus sinusoidal positions, dropout,
/// `layers` pre-LN layers, a final LayerNorm. Parameters "encoder.embedding.table",
/// "encoder.layer<i>.…", "encoder.norm.…".
struct TransformerEncoder {
    let embedding: Embedding
    let layers: [EncoderLayer]
    let norm: LayerNorm
    let heads: Int
    let scale: Float

    init(_ c: TransformerConfiguration, vocabulary: Int, store: inout ParameterStore, rng: inout RandomGenerator) {
        embedding = Embedding("encoder.embedding", vocabulary: vocabulary, dimension: c.modelDimension, store: &store, rng: &rng)
        layers = (0..<c.layers).map { EncoderLayer("encoder.layer\($0)", c, store: &store, rng: &rng) }
        norm = LayerNorm("encoder.norm", dimension: c.modelDimension, store: &store)
        heads = c.heads
        scale = Float(c.modelDimension).squareRoot()
    }

    /// The encoding of a padded batch of sources.
    /// - Returns: `embedded`, the scaled token embeddings without positions
    ///   [N, L, d] (what the non-autoregressive decoder copies); `layerOutputs`,
    ///   each layer's residual stream [N, L, d]; `memory`, the normalized top
    ///   states the decoders attend to.
    func callAsFunction(_ batch: PaddedBatch, positions: PositionTable, _ c: inout PassContext)
        -> (embedded: Variable, layerOutputs: [Variable], memory: Variable) {
        let embedded = scale * embedding(batch.ids, shape: [batch.count, batch.length], c.p)
        var x = c.drop(embedded + c.tape.constant(positions(batch.length)))
        let mask = AttentionMask(keyLengths: batch.lengths)
        var outputs: [Variable] = []
        for layer in layers {
            x = layer(x, mask: mask, &c)
            outputs.append(x)
        }
        return (embedded, outputs, norm(x, c.p))
    }
}
