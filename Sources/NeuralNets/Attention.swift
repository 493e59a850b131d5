// Multi-head scaled dot-product attention (Vaswani et al. 2017, §3.2) from
// the tape's operations: projections, a batched QKᵀ, a masked softmax,
// dropout on the weights, a batched product with V and the output projection.
//
// Layout: sequences are [batch, length, dModel]; heads are split as
// [batch, length, heads, dHead] → [batch·heads, length, dHead].

import Autodiff
import Tensors

/// Which query-key pairs attention may not use.
public struct AttentionMask: Sendable, Equatable {
    /// Query i may not see keys j > i (the autoregressive decoder).
    public var causal: Bool
    /// Query i may not see key i (the non-autoregressive decoder's
    /// self-attention of Gu et al. 2018).
    public var diagonal: Bool
    /// The number of real (not padding) keys of each sequence of the
    /// batch; keys beyond are masked. nil: no padding.
    public var keyLengths: [Int]?

    public init(causal: Bool = false, diagonal: Bool = false, keyLengths: [Int]? = nil) {
        self.causal = causal
        self.diagonal = diagonal
        self.keyLengths = keyLengths
    }

    /// No mask.
    public static let none = AttentionMask()

    /// The value added to a masked score: large enough that its weight is
    /// 0 in Float, finite so that a row with every key masked stays uniform
    /// instead of NaN.
    public static let maskedScore: Float = -1e9

    /// The additive mask [batch or 1, 1, queries, keys], or nil when nothing is masked.
    public func additive(batch: Int, queries: Int, keys: Int) -> Tensor? {
        if !causal && !diagonal && keyLengths == nil { return nil }
        if let keyLengths {
            precondition(keyLengths.count == batch, "AttentionMask: \(keyLengths.count) key lengths for a batch of \(batch)")
        }
        let rows = keyLengths == nil ? 1 : batch
        var mask = Tensor.zeros([rows, 1, queries, keys])
        for b in 0..<rows {
            for i in 0..<queries {
                for j in 0..<keys {
                    var masked = (causal && j > i) || (diagonal && j == i)
                    if let keyLengths, j >= keyLengths[b] { masked = true }
                    if masked { mask.scalars[(b * queries + i) * keys + j] = AttentionMask.maskedScore }
                }
            }
        }
        return mask
    }
}

/// Multi-head attention with learned projections of queries, keys, values
/// and output, each [dModel, dModel] with a bias.
public struct MultiHeadAttention: Sendable, Equatable {
    public let name: String
    public let modelDimension, heads: Int
    public let query, key, value, output: Linear

    /// Adds "<name>.query", "<name>.key", "<name>.value", "<name>.output"
    /// (Glorot-uniform weights, zero biases) to `store`.
    public init(_ name: String, modelDimension: Int, heads: Int, store: inout ParameterStore, rng: inout RandomGenerator) {
        precondition(heads >= 1 && modelDimension % heads == 0,
                     "MultiHeadAttention: dModel \(modelDimension) not divisible into \(heads) heads")
        self.name = name
        self.modelDimension = modelDimension
        self.heads = heads
        func projection(_ suffix: String) -> Linear {
            Linear(name + "." + suffix, inputFeatures: modelDimension, outputFeatures: modelDimension,
                   initialization: .glorotUniform, store: &store, rng: &rng)
        }
        query = projection("query")
        key = projection("key")
        value = projection("value")
        output = projection("output")
    }

    public var headDimension: Int { modelDimension / heads }

    /// [batch, length, dModel] → [batch·heads, length, dHead].
    public func splitHeads(_ x: Variable) -> Variable {
        let (b, l) = (x.shape[0], x.shape[1])
        return x.reshaped([b, l, heads, headDimension]).permuted([0, 2, 1, 3]).reshaped([b * heads, l, headDimension])
    }

    /// Keys and values of a memory [batch, length, dModel], projected and
    /// split into heads: what an incremental decoder computes once and keeps.
    public func keysAndValues(_ memory: Variable, _ p: BoundParameters) -> (keys: Variable, values: Variable) {
        (splitHeads(key(memory, p)), splitHeads(value(memory, p)))
    }

    /// Keys projected from one sequence and values from another, split into
    /// heads (positional attention: keys from positions, values from states).
    public func keysAndValues(keysFrom keySource: Variable, valuesFrom valueSource: Variable,
                              _ p: BoundParameters) -> (keys: Variable, values: Variable) {
        (splitHeads(key(keySource, p)), splitHeads(value(valueSource, p)))
    }

    /// Attention of queries [batch, Lq, dModel] to projected keys and values
    /// [batch·heads, Lk, dHead] (from `keysAndValues`): [batch, Lq, dModel].
    public func attend(_ queries: Variable, keys: Variable, values: Variable, mask: AttentionMask, _ p: BoundParameters,
                       dropout: Float = 0, rng: inout RandomGenerator) -> Variable {
        let (b, lq) = (queries.shape[0], queries.shape[1])
        let lk = keys.shape[1]
        precondition(queries.shape.count == 3 && queries.shape[2] == modelDimension && keys.shape[0] == b * heads,
                     "\(name): queries \(queries.shape), keys \(keys.shape)")
        let q = splitHeads(query(queries, p))
        let scores = (1 / Float(headDimension).squareRoot()) * batchedMatmul(q, keys, transposeB: true)
        let weights = scores.reshaped([b, heads, lq, lk])
            .softmax(additiveMask: mask.additive(batch: b, queries: lq, keys: lk))
            .reshaped([b * heads, lq, lk])
            .dropout(rate: dropout, rng: &rng)
        let context = batchedMatmul(weights, values)
            .reshaped([b, heads, lq, headDimension]).permuted([0, 2, 1, 3]).reshaped([b, lq, modelDimension])
        return output(context, p)
    }

    /// Attention of queries [batch, Lq, dModel] to a memory [batch, Lk, dModel]
    /// (the queries themselves for self-attention).
    public func callAsFunction(_ queries: Variable, memory: Variable, mask: AttentionMask = .none, _ p: BoundParameters,
                               dropout: Float = 0, rng: inout RandomGenerator) -> Variable {
        let (k, v) = keysAndValues(memory, p)
        return attend(queries, keys: k, values: v, mask: mask, p, dropout: dropout, rng: &rng)
    }
}
