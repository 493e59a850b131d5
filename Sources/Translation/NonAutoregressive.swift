// The non-autoregressive Transformer (NAT) of Gu et al. (2018, §3): the
// shared pre-LN encoder, a fertility predictor on its top states, and a
// decoder that reads copies of the source embeddings and emits every
// target token at once.
//
// Decoder inputs: target position t reads the scaled source embedding
// (without positions) of source token m[t], m the fertility copy map
// (source token i copied f_i times) or the uniform map
// m[t] = round(t·(Ls − 1)/(T − 1)), plus the sinusoidal position of t.
// The copy is one gather on the [N·Ls, d] view of the embeddings, so the
// translation loss reaches the embedding table through it.
//
// Each pre-LN decoder layer has four sublayers, each x ← x + Dropout(F(LN(x))):
// self-attention (padding keys masked and, with the self mask, each query's
// own key), positional attention (queries and keys the position encodings,
// values the normalized stream; padding keys masked), cross-attention to
// the encoder's memory (source padding masked) and the feed-forward
// sublayer. A final LayerNorm and a Linear give the target logits.
//
// Lengths: the NAT emits T = Σ_i f_i tokens (no <s> or </s>). Training and
// teacher-forced evaluation copy by the batch's reference fertilities;
// decoding by predicted ones, T capped at `maxLength`.

import Autodiff
import NeuralNets
import RealModule
import Tensors

/// How the NAT's decoder inputs are copied from the source embeddings.
public enum CopyingMode: String, Codable, Sendable, CaseIterable {
    /// Source token i copied f_i times (Gu et al. 2018, §3.1).
    case fertility
    /// Target position t copies source token round(t·(Ls − 1)/(T − 1)).
    case uniform
}

/// The NAT's choices beyond the Transformer's sizes.
public struct NATSettings: Codable, Equatable, Sendable {
    /// How decoder inputs are copied from the source.
    public var copying: CopyingMode
    /// Whether each decoder self-attention query is masked from its own key
    /// (Gu et al. 2018, §3.1). A one-token target keeps its only key.
    public var selfMask: Bool
    /// L: the fertility predictor's classes 0..<L; larger reference
    /// fertilities count as L − 1 in its loss.
    public var fertilityClasses: Int

    public init(copying: CopyingMode = .fertility, selfMask: Bool = true, fertilityClasses: Int = 50) {
        precondition(fertilityClasses >= 2, "NATSettings: \(fertilityClasses) fertility classes")
        self.copying = copying
        self.selfMask = selfMask
        self.fertilityClasses = fertilityClasses
    }
}

/// How decoding turns the fertility predictor's distributions into fertilities.
public enum FertilityDecoding: Sendable, Equatable {
    /// The most likely fertility of each source token.
    case argmax
    /// round(Σ_k p(k)·k), the expected fertility (Gu et al.'s average decoding).
    case average
}

/// The uniform copy map of a target of `targetLength` tokens from a source of
/// `sourceLength`: t → round(t·(Ls − 1)/(T − 1)), 0 when T = 1 (or Ls = 0).
public func uniformCopyMap(targetLength: Int, sourceLength: Int) -> [Int] {
    precondition(targetLength >= 0 && sourceLength >= 0, "uniformCopyMap: T \(targetLength), Ls \(sourceLength)")
    guard targetLength > 1, sourceLength > 1 else { return [Int](repeating: 0, count: targetLength) }
    let ratio = Double(sourceLength - 1) / Double(targetLength - 1)
    return (0..<targetLength).map { Int((Double($0) * ratio).rounded()) }
}

// MARK: Decoder layer

/// One pre-LN NAT decoder layer: self-, positional and cross-attention, then
/// the feed-forward sublayer.
struct NATDecoderLayer {
    let selfNorm, positionalNorm, crossNorm, feedForwardNorm: LayerNorm
    let selfAttention, positionalAttention, crossAttention: MultiHeadAttention
    let feedForward: FeedForward

    init(_ name: String, _ c: TransformerConfiguration, store: inout ParameterStore, rng: inout RandomGenerator) {
        let d = c.modelDimension
        selfNorm = LayerNorm(name + ".selfAttentionNorm", dimension: d, store: &store)
        selfAttention = MultiHeadAttention(name + ".selfAttention", modelDimension: d, heads: c.heads, store: &store, rng: &rng)
        positionalNorm = LayerNorm(name + ".positionalAttentionNorm", dimension: d, store: &store)
        positionalAttention = MultiHeadAttention(name + ".positionalAttention", modelDimension: d, heads: c.heads,
                                                 store: &store, rng: &rng)
        crossNorm = LayerNorm(name + ".crossAttentionNorm", dimension: d, store: &store)
        crossAttention = MultiHeadAttention(name + ".crossAttention", modelDimension: d, heads: c.heads, store: &store, rng: &rng)
        feedForwardNorm = LayerNorm(name + ".feedForwardNorm", dimension: d, store: &store)
        feedForward = FeedForward(name + ".feedForward", modelDimension: d, hidden: c.feedForward, store: &store, rng: &rng)
    }

    /// x [N, T, d] → [N, T, d], and the self-attention weights [N·heads, T, T].
    /// `positions` [N, T, d]; `selfMask` the additive mask [N, 1, T, T];
    /// `memory` [N, Ls, d].
    func callAsFunction(_ x: Variable, positions: Variable, selfMask: Tensor, targetMask: AttentionMask,
                        memory: Variable, sourceMask: AttentionMask, _ c: inout PassContext) -> (Variable, Variable) {
        let (attended, weights) = maskedSelfAttention(selfNorm(x, c.p), mask: selfMask, &c)
        var y = x + c.drop(attended)
        let (keys, values) = positionalAttention.keysAndValues(keysFrom: positions, valuesFrom: positionalNorm(y, c.p), c.p)
        y = y + c.drop(positionalAttention.attend(positions, keys: keys, values: values, mask: targetMask, c.p,
                                                  dropout: c.rate, rng: &c.rng))
        y = y + c.drop(crossAttention(crossNorm(y, c.p), memory: memory, mask: sourceMask, c.p, dropout: c.rate, rng: &c.rng))
        y = y + c.drop(feedForward(feedForwardNorm(y, c.p), c.p))
        return (y, weights)
    }

    /// Self-attention of h [N, T, d] under an explicit additive mask
    /// [N, 1, T, T] (`MultiHeadAttention.attend` with its weights kept).
    private func maskedSelfAttention(_ h: Variable, mask: Tensor, _ c: inout PassContext) -> (Variable, Variable) {
        let a = selfAttention
        let (n, t) = (h.shape[0], h.shape[1])
        let (keys, values) = a.keysAndValues(h, c.p)
        let queries = a.splitHeads(a.query(h, c.p))
        let scores = (1 / Float(a.headDimension).squareRoot()) * batchedMatmul(queries, keys, transposeB: true)
        let weights = scores.reshaped([n, a.heads, t, t]).softmax(additiveMask: mask).reshaped([n * a.heads, t, t])
        let context = batchedMatmul(weights.dropout(rate: c.rate, rng: &c.rng), values)
            .reshaped([n, a.heads, t, a.headDimension]).permuted([0, 2, 1, 3]).reshaped([n, t, a.modelDimension])
        return (a.output(context, c.p), weights)
    }
}

// MARK: The model

/// The non-autoregressive Transformer of Gu et al. (2018): the shared
/// encoder ("encoder.*", the teacher's names), a fertility predictor
/// ("fertility.*": one Linear from the encoder's normalized top states to
/// `fertilityClasses` logits per source token), `layers` decoder layers
/// ("decoder.layer<i>.*"), a final LayerNorm ("decoder.norm.*") and the
/// output projection ("decoder.output.*").
public struct NonAutoregressiveTransformer: TranslationModel {
    /// The sizes, shared with the teacher (same encoder).
    public let configuration: TransformerConfiguration
    /// Copying, self mask and fertility classes.
    public let settings: NATSettings
    /// Every parameter: "encoder.*", "fertility.*", then "decoder.*".
    public var store: ParameterStore
    /// The sizes of the source and target vocabularies.
    public let sourceVocabulary: Int, targetVocabulary: Int

    let encoder: TransformerEncoder
    let fertility: Linear
    let layers: [NATDecoderLayer]
    let norm: LayerNorm
    let output: Linear
    let positions: PositionTable

    /// A NAT with freshly drawn parameters; `sourceVocabulary` and
    /// `targetVocabulary` are the vocabularies' sizes (specials included).
    public init(configuration: TransformerConfiguration, settings: NATSettings = NATSettings(),
                sourceVocabulary: Int, targetVocabulary: Int, seed: UInt64) {
        precondition(sourceVocabulary > Vocabulary.unknown && targetVocabulary > Vocabulary.unknown,
                     "NonAutoregressiveTransformer: vocabularies of \(sourceVocabulary) and \(targetVocabulary) tokens")
        self.configuration = configuration
        self.settings = settings
        self.sourceVocabulary = sourceVocabulary
        self.targetVocabulary = targetVocabulary
        var store = ParameterStore()
        var rng = RandomGenerator(seed: seed)
        let d = configuration.modelDimension
        encoder = TransformerEncoder(configuration, vocabulary: sourceVocabulary, store: &store, rng: &rng)
        fertility = Linear("fertility", inputFeatures: d, outputFeatures: settings.fertilityClasses,
                           initialization: .glorotUniform, store: &store, rng: &rng)
        layers = (0..<configuration.layers).map { NATDecoderLayer("decoder.layer\($0)", configuration, store: &store, rng: &rng) }
        norm = LayerNorm("decoder.norm", dimension: d, store: &store)
        output = Linear("decoder.output", inputFeatures: d, outputFeatures: targetVocabulary,
                        initialization: .glorotUniform, store: &store, rng: &rng)
        positions = PositionTable(length: configuration.maxLength + 1, dimension: d)
        self.store = store
    }

    /// Copies every "encoder.*" parameter of `teacher` into this model's
    /// encoder (Gu et al. initialize the NAT's encoder from the teacher's).
    /// - Precondition: each copied parameter has the same shape here.
    public mutating func initializeEncoder(from teacher: ParameterStore) {
        for name in store.names where name.hasPrefix("encoder.") && teacher.contains(name) {
            precondition(teacher[name].shape == store[name].shape,
                         "initializeEncoder: '\(name)' has shape \(teacher[name].shape) in the teacher, \(store[name].shape) here")
            store[name] = teacher[name]
        }
    }

    // MARK: Passes

    /// The encoder's pass over a batch of sources and the fertility logits.
    struct Encoding {
        let batch: PaddedBatch
        /// Scaled source embeddings without positions [N, Ls, d].
        let embedded: Variable
        /// Each encoder layer's residual stream [N, Ls, d].
        let layerOutputs: [Variable]
        /// The normalized top states [N, Ls, d].
        let memory: Variable
        /// [N, Ls, fertilityClasses].
        let fertilityLogits: Variable
    }

    /// The decoder's pass.
    struct DecoderPass {
        /// Each decoder layer's residual stream [N, T, d].
        let states: [Variable]
        /// Each layer's self-attention weights [N·heads, T, T].
        let selfAttentionWeights: [Variable]
        /// [N, T, targetVocabulary].
        let logits: Variable
        /// Real target positions of each sentence.
        let lengths: [Int]
    }

    func encode(_ sources: [[Int]], _ c: inout PassContext) -> Encoding {
        let batch = PaddedBatch(sources)
        let (embedded, layerOutputs, memory) = encoder(batch, positions: positions, &c)
        return Encoding(batch: batch, embedded: embedded, layerOutputs: layerOutputs, memory: memory,
                        fertilityLogits: fertility(memory, c.p))
    }

    /// The copy map of a target of `targetLength` tokens in this model's
    /// copying mode (fertilities summing to it for `.fertility`).
    func copyMap(fertilities: [Int], targetLength: Int, sourceLength: Int) -> [Int] {
        switch settings.copying {
        case .fertility:
            let map = fertilityCopyMap(fertilities)
            precondition(map.count == targetLength, "NonAutoregressiveTransformer: fertilities \(fertilities) for \(targetLength) target tokens")
            return map
        case .uniform:
            return uniformCopyMap(targetLength: targetLength, sourceLength: sourceLength)
        }
    }

    /// The decoder inputs [rows.count, T, d], T the longest map (at least 1):
    /// row b, position t is the embedding of source position maps[b][t] of
    /// encoded sentence rows[b], plus the position encoding of t (padding
    /// positions copy source position 0). One gather on embedded's [N·Ls, d] view.
    func decoderInputs(_ e: Encoding, rows: [Int], maps: [[Int]], tape: Tape) -> Variable {
        let (ls, d) = (e.batch.length, configuration.modelDimension)
        let t = max(1, maps.map(\.count).max() ?? 1)
        var indices: [Int] = []
        indices.reserveCapacity(rows.count * t)
        for (b, r) in rows.enumerated() {
            for j in 0..<t { indices.append(r * ls + (j < maps[b].count ? maps[b][j] : 0)) }
        }
        let copied = e.embedded.reshaped([e.batch.count * ls, d]).gatherRows(indices).reshaped([rows.count, t, d])
        return copied + tape.constant(positions(t))
    }

    /// The decoder over copies of the encoded sentences `rows` (one decoder
    /// sentence per entry, so a source may be decoded several times).
    func decode(_ e: Encoding, rows: [Int], maps: [[Int]], _ c: inout PassContext) -> DecoderPass {
        let n = rows.count
        let lengths = maps.map(\.count)
        var x = c.drop(decoderInputs(e, rows: rows, maps: maps, tape: c.tape))
        let t = x.shape[1], d = configuration.modelDimension
        let table = positions(t).scalars
        var repeated = [Float]()
        repeated.reserveCapacity(n * t * d)
        for _ in 0..<n { repeated += table }
        let positionRows = c.tape.constant(Tensor(shape: [n, t, d], scalars: repeated))
        let identity = rows == Array(0..<e.batch.count)
        let memory = identity ? e.memory : gatherLeading(e.memory, rows)
        let sourceMask = AttentionMask(keyLengths: rows.map { e.batch.lengths[$0] })
        let targetMask = AttentionMask(keyLengths: lengths)
        var selfMask = AttentionMask(diagonal: settings.selfMask, keyLengths: lengths).additive(batch: n, queries: t, keys: t)!
        // A one-token target keeps its own key: with it masked too, the
        // query would spread over the padding of a longer neighbour.
        if settings.selfMask { for (b, length) in lengths.enumerated() where length == 1 { selfMask.scalars[b * t * t] = 0 } }
        var states: [Variable] = [], weights: [Variable] = []
        for layer in layers {
            let (y, w) = layer(x, positions: positionRows, selfMask: selfMask, targetMask: targetMask,
                               memory: memory, sourceMask: sourceMask, &c)
            x = y
            states.append(y)
            weights.append(w)
        }
        return DecoderPass(states: states, selfAttentionWeights: weights, logits: output(norm(x, c.p), c.p), lengths: lengths)
    }

    /// The teacher-forced pass: decoder inputs copied by the batch's
    /// fertilities (or uniformly, to each target's length).
    func teacherForced(_ batch: SentenceBatch, _ c: inout PassContext) -> (Encoding, DecoderPass) {
        for b in 0..<batch.count {
            precondition(batch.fertilities[b].count == batch.sources[b].count,
                         "NonAutoregressiveTransformer: \(batch.fertilities[b].count) fertilities for \(batch.sources[b].count) source tokens")
        }
        let e = encode(batch.sources, &c)
        let maps = (0..<batch.count).map {
            copyMap(fertilities: batch.fertilities[$0], targetLength: batch.targets[$0].count, sourceLength: batch.sources[$0].count)
        }
        return (e, decode(e, rows: Array(0..<batch.count), maps: maps, &c))
    }

    /// Fertility labels [N·Ls] clamped to the classes, −1 on padding.
    func fertilityLabels(_ batch: SentenceBatch, length: Int) -> [Int] {
        var labels = [Int](repeating: -1, count: batch.count * length)
        for (b, row) in batch.fertilities.enumerated() {
            for (i, f) in row.enumerated() { labels[b * length + i] = min(max(f, 0), settings.fertilityClasses - 1) }
        }
        return labels
    }

    // MARK: TranslationModel

    /// The label-smoothed mean cross-entropy of the target tokens plus the
    /// (unsmoothed) mean cross-entropy of the reference fertilities, with
    /// dropout; gradients in store order.
    public func trainingStep(_ batch: SentenceBatch, rng: inout RandomGenerator) -> (loss: Float, gradients: [Tensor]) {
        let tape = Tape()
        return withExtendedLifetime(tape) {
            let p = store.bind(to: tape)
            var c = PassContext(p: p, rate: configuration.dropout, rng: rng)
            let (e, pass) = teacherForced(batch, &c)
            rng = c.rng
            let tokens = crossEntropy(logits: pass.logits, labels: PaddedBatch(batch.targets).ids,
                                      ignoreIndex: Vocabulary.padding, labelSmoothing: configuration.labelSmoothing)
            let fertilities = crossEntropy(logits: e.fertilityLogits, labels: fertilityLabels(batch, length: e.batch.length),
                                           ignoreIndex: -1)
            let loss = tokens + fertilities
            return (loss.value.scalar, p.gradients(of: loss))
        }
    }

    /// Σ token cross-entropy + Σ fertility cross-entropy (nats), the argmax
    /// tokens right and the target tokens; teacher-forced, no dropout or smoothing.
    public func evaluate(_ batch: SentenceBatch) -> TranslationEvaluation {
        inference { c in
            let (e, pass) = teacherForced(batch, &c)
            let tokens = summedCrossEntropy(pass.logits.value, labels: PaddedBatch(batch.targets).ids, ignoring: Vocabulary.padding)
            let fertilities = summedCrossEntropy(e.fertilityLogits.value, labels: fertilityLabels(batch, length: e.batch.length),
                                                 ignoring: -1)
            return TranslationEvaluation(loss: tokens.loss + fertilities.loss, correct: tokens.correct, tokens: tokens.count)
        }
    }

    /// The encoder layers' residual streams [N, Ls, d] and the decoder
    /// layers' [N, Lt, d], inputs copied as in training (by the batch's
    /// fertilities, or uniformly), without dropout.
    public func layerStates(_ batch: SentenceBatch) -> (encoder: [Tensor], decoder: [Tensor]) {
        inference { c in
            let (e, pass) = teacherForced(batch, &c)
            return (e.layerOutputs.map(\.value), pass.states.map(\.value))
        }
    }

    // MARK: Decoding

    /// Each source token's fertility, predicted in one batched pass.
    public func fertilities(_ sources: [[Int]], _ mode: FertilityDecoding) -> [[Int]] {
        guard !sources.isEmpty else { return [] }
        return inference { c in predictedFertilities(encode(sources, &c), mode) }
    }

    func predictedFertilities(_ e: Encoding, _ mode: FertilityDecoding) -> [[Int]] {
        let probabilities = fertilityProbabilities(e)
        return probabilities.map { row in
            row.map { p in
                switch mode {
                case .argmax:
                    return p.indices.max { p[$0] < p[$1] || (p[$0] == p[$1] && $0 > $1) }!
                case .average:
                    let mean = p.enumerated().reduce(0.0) { $0 + Double($1.offset) * $1.element }
                    return min(max(Int(mean.rounded()), 0), settings.fertilityClasses - 1)
                }
            }
        }
    }

    /// p(f | source token) for each real source token: [sentence][token][class].
    func fertilityProbabilities(_ e: Encoding) -> [[[Double]]] {
        let k = settings.fertilityClasses, ls = e.batch.length
        let probabilities = Tensor.softmaxLastAxis(e.fertilityLogits.value.reshaped([e.batch.count * ls, k])).scalars
        return e.batch.lengths.enumerated().map { b, n in
            (0..<n).map { i in probabilities[((b * ls + i) * k)..<((b * ls + i + 1) * k)].map(Double.init) }
        }
    }

    /// The copy map decoding uses for predicted fertilities: a nonempty
    /// source whose fertilities sum to 0 gets fertility 1 on its first token;
    /// the target is cut to `maxLength` tokens.
    func decodingMap(_ fertilities: [Int], sourceLength: Int) -> [Int] {
        precondition(fertilities.count == sourceLength && fertilities.allSatisfy { $0 >= 0 },
                     "NonAutoregressiveTransformer: fertilities \(fertilities) for \(sourceLength) source tokens")
        var f = fertilities
        if sourceLength > 0 && f.reduce(0, +) == 0 { f[0] = 1 }
        let length = min(f.reduce(0, +), configuration.maxLength)
        switch settings.copying {
        case .fertility: return Array(fertilityCopyMap(f).prefix(length))
        case .uniform: return uniformCopyMap(targetLength: length, sourceLength: sourceLength)
        }
    }

    /// The argmax token of every real decoder position, never padding, <s> or </s>.
    func argmaxTokens(_ pass: DecoderPass) -> [[Int]] {
        let logits = pass.logits.value
        let (t, v) = (logits.shape[1], logits.shape[2])
        let first = Vocabulary.end + 1
        return pass.lengths.enumerated().map { b, n in
            (0..<n).map { j in
                let base = (b * t + j) * v
                var best = first
                for k in first..<v where logits.scalars[base + k] > logits.scalars[base + best] { best = k }
                return best
            }
        }
    }

    /// The translations of `sources` for the given fertilities, all decoded in
    /// one pass: the argmax token at each of the Σ f_i positions (ids of
    /// padding, <s> and </s> excluded). A nonempty source whose fertilities sum
    /// to 0 gets fertility 1 on its first token; an empty source translates to
    /// nothing; at most `maxLength` tokens.
    public func decode(sources: [[Int]], fertilities: [[Int]]) -> [[Int]] {
        precondition(sources.count == fertilities.count, "decode: \(sources.count) sources, \(fertilities.count) fertility rows")
        guard !sources.isEmpty else { return [] }
        return inference { c in
            let e = encode(sources, &c)
            let maps = sources.indices.map { decodingMap(fertilities[$0], sourceLength: sources[$0].count) }
            return argmaxTokens(decode(e, rows: Array(sources.indices), maps: maps, &c))
        }
    }

    /// The translations of `sources` with fertilities predicted by `mode`:
    /// one encoder pass and one decoder pass for the whole batch.
    public func translate(_ sources: [[Int]], _ mode: FertilityDecoding = .argmax) -> [[Int]] {
        guard !sources.isEmpty else { return [] }
        return inference { c in
            let e = encode(sources, &c)
            let predicted = predictedFertilities(e, mode)
            let maps = sources.indices.map { decodingMap(predicted[$0], sourceLength: sources[$0].count) }
            return argmaxTokens(decode(e, rows: Array(sources.indices), maps: maps, &c))
        }
    }

    // MARK: Noisy parallel decoding

    /// Noisy parallel decoding (Gu et al. 2018, §3.4) of one source: the
    /// argmax fertilities and `s` − 1 fertility sequences sampled from the
    /// predicted distributions, all decoded in one pass; `score` (the
    /// teacher's log-likelihood of each distinct candidate given the source)
    /// picks the best, ties to the earlier candidate (the argmax one first).
    /// With one distinct candidate, `score` is not called.
    public func noisyParallelDecode(_ source: [Int], samples s: Int, rng: inout RandomGenerator,
                                    score: ([[Int]]) -> [Double]) -> [Int] {
        noisyParallelDecode([source], samples: s, rng: &rng) { _, candidates in score(candidates) }[0]
    }

    /// Noisy parallel decoding of many sources at once: one encoder pass,
    /// one decoder pass over every source's `s` fertility sequences, and one
    /// call of `score(sources, candidates)` with the distinct candidates of
    /// every source (candidates[i] a translation of sources[i]), returning
    /// one log-likelihood per candidate.
    public func noisyParallelDecode(_ sources: [[Int]], samples s: Int, rng: inout RandomGenerator,
                                    score: (_ sources: [[Int]], _ candidates: [[Int]]) -> [Double]) -> [[Int]] {
        precondition(s >= 1, "noisyParallelDecode: \(s) samples")
        guard !sources.isEmpty else { return [] }
        // The distinct translations of each source, in candidate order.
        let candidates: [[[Int]]] = inference { c in
            let e = encode(sources, &c)
            let argmax = predictedFertilities(e, .argmax)
            let probabilities = fertilityProbabilities(e)
            var rows: [Int] = [], maps: [[Int]] = []
            for (b, source) in sources.enumerated() {
                var seen: Set<[Int]> = []
                for sample in 0..<s {
                    let f = sample == 0 ? argmax[b] : probabilities[b].map { sampleIndex($0, &rng) }
                    let map = decodingMap(f, sourceLength: source.count)
                    if seen.insert(map).inserted {
                        rows.append(b)
                        maps.append(map)
                    }
                }
            }
            let decoded = argmaxTokens(decode(e, rows: rows, maps: maps, &c))
            var distinct: [[[Int]]] = Array(repeating: [], count: sources.count)
            for (row, tokens) in zip(rows, decoded) where !distinct[row].contains(tokens) { distinct[row].append(tokens) }
            return distinct
        }
        let scored = sources.indices.filter { candidates[$0].count > 1 }
        var scores: [Double] = []
        if !scored.isEmpty {
            let flatSources = scored.flatMap { b in Array(repeating: sources[b], count: candidates[b].count) }
            let flatCandidates = scored.flatMap { candidates[$0] }
            scores = score(flatSources, flatCandidates)
            precondition(scores.count == flatCandidates.count,
                         "noisyParallelDecode: \(scores.count) scores for \(flatCandidates.count) candidates")
        }
        var best = candidates.map { $0[0] }
        var offset = 0
        for b in scored {
            var choice = 0
            for k in 1..<candidates[b].count where scores[offset + k] > scores[offset + choice] { choice = k }
            best[b] = candidates[b][choice]
            offset += candidates[b].count
        }
        return best
    }
}

/// An index drawn from the distribution p (summing to 1).
func sampleIndex(_ p: [Double], _ rng: inout RandomGenerator) -> Int {
    let u = rng.nextDouble()
    var total = 0.0
    for (k, pk) in p.enumerated() {
        total += pk
        if u < total { return k }
    }
    return p.count - 1
}

/// Σ of the cross-entropy (nats, in Double) of logits [..., V] against one
/// label per row, rows labelled `ignoring` skipped; the rows whose argmax is
/// their label, and the rows counted.
func summedCrossEntropy(_ logits: Tensor, labels: [Int], ignoring: Int) -> (loss: Double, correct: Int, count: Int) {
    let v = logits.shape[logits.rank - 1]
    precondition(labels.count * v == logits.count, "summedCrossEntropy: \(labels.count) labels for logits \(logits.shape)")
    var loss = 0.0
    var correct = 0, count = 0
    logits.scalars.withUnsafeBufferPointer { z in
        for (r, y) in labels.enumerated() where y != ignoring {
            let row = z.baseAddress! + r * v
            var best = 0
            for k in 1..<v where row[k] > row[best] { best = k }
            let m = Double(row[best])
            var s = 0.0
            for k in 0..<v { s += Double.exp(Double(row[k]) - m) }
            loss += m + Double.log(s) - Double(row[y])
            if best == y { correct += 1 }
            count += 1
        }
    }
    return (loss, correct, count)
}
