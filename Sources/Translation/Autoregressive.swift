// The autoregressive (AR) teacher: an encoder-decoder Transformer
// (Vaswani et al. 2017) with the shared pre-LN encoder, a causal pre-LN
// decoder, greedy and beam search with cached keys and values, and the
// teacher-forced log-likelihood that scores noisy parallel decoding's
// candidates.
//
// The decoder reads [<s>, y₁ … yₙ] and is trained to emit [y₁ … yₙ, </s>]:
// row t of its states predicts target token t (and row n the end symbol).
// Decoding never emits padding or <s> (their logits are masked), and stops
// at </s> or after `maxLength` tokens.
//
// Beam search keeps `beam` live hypotheses per step; a hypothesis that
// emits </s> is finished and scored by its log-probability divided by the
// length penalty of Wu et al. (2016, GNMT), lp(Y) = ((5 + |Y|) / 6)^α with
// α = 0.6 and |Y| its tokens including </s>. Search stops when `beam`
// hypotheses are finished or at `maxLength`, where the live ones finish.

import Autodiff
import NeuralNets
import Tensors

/// A decoder layer's self-attention keys and values of the steps decoded so
/// far, [rows·heads, steps, dHead] each (nil before the first step).
struct DecoderCache {
    var keysAndValues: (keys: Variable, values: Variable)?
}

/// One pre-LN decoder layer of the teacher: causal self-attention,
/// attention to the encoder memory, feed-forward.
struct TeacherDecoderLayer {
    let selfNorm, crossNorm, feedForwardNorm: LayerNorm
    let selfAttention, crossAttention: MultiHeadAttention
    let feedForward: FeedForward

    init(_ name: String, _ c: TransformerConfiguration, store: inout ParameterStore, rng: inout RandomGenerator) {
        selfNorm = LayerNorm(name + ".selfNorm", dimension: c.modelDimension, store: &store)
        selfAttention = MultiHeadAttention(name + ".selfAttention", modelDimension: c.modelDimension, heads: c.heads,
                                           store: &store, rng: &rng)
        crossNorm = LayerNorm(name + ".crossNorm", dimension: c.modelDimension, store: &store)
        crossAttention = MultiHeadAttention(name + ".crossAttention", modelDimension: c.modelDimension, heads: c.heads,
                                            store: &store, rng: &rng)
        feedForwardNorm = LayerNorm(name + ".feedForwardNorm", dimension: c.modelDimension, store: &store)
        feedForward = FeedForward(name + ".feedForward", modelDimension: c.modelDimension, hidden: c.feedForward,
                                  store: &store, rng: &rng)
    }

    /// x [N, Lt, d] → [N, Lt, d]. With `cache` (incremental decoding, x
    /// one step [N, 1, d]), the keys and values of the steps before are
    /// read from it and this step's appended; without, x is the whole
    /// sequence and `selfMask` keeps each query from the keys after it.
    func callAsFunction(_ x: Variable, selfMask: AttentionMask, cache: inout DecoderCache?,
                        memory: (keys: Variable, values: Variable), memoryMask: AttentionMask,
                        _ c: inout PassContext) -> Variable {
        let h = selfNorm(x, c.p)
        var (k, v) = selfAttention.keysAndValues(h, c.p)
        if cache != nil {
            if let past = cache!.keysAndValues {
                k = Variable.concatenate([past.keys, k], axis: 1)
                v = Variable.concatenate([past.values, v], axis: 1)
            }
            cache!.keysAndValues = (k, v)
        }
        var y = x + c.drop(selfAttention.attend(h, keys: k, values: v, mask: selfMask, c.p, dropout: c.rate, rng: &c.rng))
        y = y + c.drop(crossAttention.attend(crossNorm(y, c.p), keys: memory.keys, values: memory.values,
                                             mask: memoryMask, c.p, dropout: c.rate, rng: &c.rng))
        return y + c.drop(feedForward(feedForwardNorm(y, c.p), c.p))
    }
}

/// The autoregressive Transformer teacher.
public struct AutoregressiveTransformer: TranslationModel {
    public let configuration: TransformerConfiguration
    public let sourceVocabulary, targetVocabulary: Int
    public var store: ParameterStore
    let encoder: TransformerEncoder
    let embedding: Embedding
    let layers: [TeacherDecoderLayer]
    let norm: LayerNorm
    let output: Linear
    let positions: PositionTable

    /// A teacher with fresh parameters ("encoder.*" as the shared encoder
    /// names them, "decoder.*" for the rest), initialized from `seed`.
    public init(configuration: TransformerConfiguration, sourceVocabulary: Int, targetVocabulary: Int, seed: UInt64) {
        self.configuration = configuration
        self.sourceVocabulary = sourceVocabulary
        self.targetVocabulary = targetVocabulary
        var store = ParameterStore()
        var rng = RandomGenerator(seed: seed)
        encoder = TransformerEncoder(configuration, vocabulary: sourceVocabulary, store: &store, rng: &rng)
        embedding = Embedding("decoder.embedding", vocabulary: targetVocabulary, dimension: configuration.modelDimension,
                              store: &store, rng: &rng)
        layers = (0..<configuration.layers).map { TeacherDecoderLayer("decoder.layer\($0)", configuration, store: &store, rng: &rng) }
        norm = LayerNorm("decoder.norm", dimension: configuration.modelDimension, store: &store)
        output = Linear("decoder.output", inputFeatures: configuration.modelDimension, outputFeatures: targetVocabulary,
                        initialization: .glorotUniform, store: &store, rng: &rng)
        positions = PositionTable(length: configuration.maxLength + 2, dimension: configuration.modelDimension)
        self.store = store
    }

    var scale: Float { Float(configuration.modelDimension).squareRoot() }

    // MARK: Teacher forcing

    /// The full pass over a batch: encoder layer outputs, decoder layer
    /// outputs [N, n+1, d], logits [N, n+1, V], and the labels
    /// [y₁ … yₙ, </s>] padded with 0, row-major.
    func teacherForced(sources: [[Int]], targets: [[Int]], _ c: inout PassContext)
        -> (encoder: [Variable], decoder: [Variable], logits: Variable, labels: [Int]) {
        let source = PaddedBatch(sources)
        let encoded = encoder(source, positions: positions, &c)
        let input = PaddedBatch(targets, prefix: Vocabulary.start)
        let labels = PaddedBatch(targets, suffix: Vocabulary.end).ids
        let (n, length) = (input.count, input.length)
        var x = c.drop(scale * embedding(input.ids, shape: [n, length], c.p) + c.tape.constant(positions(length)))
        let selfMask = AttentionMask(causal: true, keyLengths: input.lengths)
        let memoryMask = AttentionMask(keyLengths: source.lengths)
        var outputs: [Variable] = []
        for layer in layers {
            let kv = layer.crossAttention.keysAndValues(encoded.memory, c.p)
            var noCache: DecoderCache? = nil
            x = layer(x, selfMask: selfMask, cache: &noCache, memory: kv, memoryMask: memoryMask, &c)
            outputs.append(x)
        }
        return (encoded.layerOutputs, outputs, output(norm(x, c.p), c.p), labels)
    }

    public func trainingStep(_ batch: SentenceBatch, rng: inout RandomGenerator) -> (loss: Float, gradients: [Tensor]) {
        let tape = Tape()
        let p = store.bind(to: tape)
        var c = PassContext(p: p, rate: configuration.dropout, rng: rng)
        let pass = teacherForced(sources: batch.sources, targets: batch.targets, &c)
        rng = c.rng
        let loss = crossEntropy(logits: pass.logits, labels: pass.labels, ignoreIndex: Vocabulary.padding,
                                labelSmoothing: configuration.labelSmoothing)
        return (loss.value.scalar, p.gradients(of: loss))
    }

    public func evaluate(_ batch: SentenceBatch) -> TranslationEvaluation {
        inference { c in
            let pass = teacherForced(sources: batch.sources, targets: batch.targets, &c)
            let scores = summedCrossEntropy(pass.logits.value, labels: pass.labels, ignoring: Vocabulary.padding)
            return TranslationEvaluation(loss: scores.loss, correct: scores.correct, tokens: scores.count)
        }
    }

    public func layerStates(_ batch: SentenceBatch) -> (encoder: [Tensor], decoder: [Tensor]) {
        inference { c in
            let pass = teacherForced(sources: batch.sources, targets: batch.targets, &c)
            return (pass.encoder.map(\.value), pass.decoder.map(\.value))
        }
    }

    /// log p(y₁ … yₙ </s> | x) of each pair under the distributions decoding
    /// chooses from (padding and <s> excluded), from one teacher-forced pass
    /// (nats): what noisy parallel decoding ranks its candidates by.
    public func logLikelihoods(sources: [[Int]], targets: [[Int]]) -> [Double] {
        precondition(sources.count == targets.count, "logLikelihoods: \(sources.count) sources, \(targets.count) targets")
        guard !sources.isEmpty else { return [] }
        return inference { c in
            let pass = teacherForced(sources: sources, targets: targets, &c)
            let length = pass.labels.count / sources.count
            let logp = logProbabilitiesForDecoding(pass.logits.value.reshaped([pass.labels.count, targetVocabulary]))
            return targets.indices.map { i in
                (0...targets[i].count).reduce(0.0) { sum, t in
                    let row = i * length + t
                    return sum + Double(logp.scalars[row * targetVocabulary + pass.labels[row]])
                }
            }
        }
    }

    // MARK: Incremental decoding

    /// What decoding keeps between steps: per row its source's memory keys
    /// and values per layer, the self-attention keys and values decoded so
    /// far per layer, and the source length.
    struct DecoderState {
        var memory: [(keys: Variable, values: Variable)]
        var cache: [DecoderCache]
        var sourceLengths: [Int]
        var steps = 0

        /// The rows `indices` of the state (beam reordering), rows of
        /// [N·heads, …] tensors moved head block by head block.
        func selecting(_ indices: [Int], heads: Int) -> DecoderState {
            let rows = indices.flatMap { i in (0..<heads).map { i * heads + $0 } }
            return DecoderState(memory: memory.map { (gatherLeading($0.keys, rows), gatherLeading($0.values, rows)) },
                                cache: cache.map { DecoderCache(keysAndValues: $0.keysAndValues.map { (gatherLeading($0.keys, rows), gatherLeading($0.values, rows)) }) },
                                sourceLengths: indices.map { sourceLengths[$0] }, steps: steps)
        }
    }

    /// Encodes the sources and projects the memory once per layer.
    func startDecoding(_ sources: [[Int]], _ c: inout PassContext) -> DecoderState {
        let source = PaddedBatch(sources)
        let memory = encoder(source, positions: positions, &c).memory
        return DecoderState(memory: layers.map { $0.crossAttention.keysAndValues(memory, c.p) },
                            cache: [DecoderCache](repeating: DecoderCache(), count: layers.count),
                            sourceLengths: source.lengths)
    }

    /// One decoder step: the last tokens of every row in, log-probabilities
    /// of the next token out [rows, V] (padding and <s> at -∞).
    func step(_ tokens: [Int], _ state: inout DecoderState, _ c: inout PassContext) -> Tensor {
        let n = tokens.count, d = configuration.modelDimension
        let position = positions.table.rows(state.steps..<(state.steps + 1)).reshaped([1, 1, d])
        var x = scale * embedding(tokens, shape: [n, 1], c.p) + c.tape.constant(position.broadcast(to: [n, 1, d]))
        let memoryMask = AttentionMask(keyLengths: state.sourceLengths)
        for (l, layer) in layers.enumerated() {
            var cache: DecoderCache? = state.cache[l]
            x = layer(x, selfMask: .none, cache: &cache, memory: state.memory[l], memoryMask: memoryMask, &c)
            state.cache[l] = cache!
        }
        state.steps += 1
        return logProbabilitiesForDecoding(output(norm(x, c.p), c.p).value.reshaped([n, targetVocabulary]))
    }

    /// Greedy decoding of a batch with cached keys and values: one decoder
    /// step per token.
    public func greedy(_ sources: [[Int]]) -> [[Int]] {
        guard !sources.isEmpty else { return [] }
        return inference { c in
            var state = startDecoding(sources, &c)
            var outputs = [[Int]](repeating: [], count: sources.count)
            var finished = [Bool](repeating: false, count: sources.count)
            var last = [Int](repeating: Vocabulary.start, count: sources.count)
            for _ in 0..<configuration.maxLength {
                let logp = step(last, &state, &c)
                for i in sources.indices where !finished[i] {
                    let token = argmax(logp, row: i)
                    if token == Vocabulary.end { finished[i] = true } else { outputs[i].append(token) }
                    last[i] = token
                }
                if !finished.contains(false) { break }
            }
            return outputs
        }
    }

    /// Greedy decoding that recomputes the whole decoder on the prefix at
    /// every step (no cache): the reference the cached decoder must equal.
    func greedyWithoutCache(_ source: [Int]) -> [Int] {
        var output: [Int] = []
        for _ in 0..<configuration.maxLength {
            let logits = inference { c in teacherForced(sources: [source], targets: [output], &c).logits.value }
            let rows = output.count + 1
            let token = argmax(logProbabilitiesForDecoding(logits.reshaped([rows, targetVocabulary])), row: rows - 1)
            if token == Vocabulary.end { break }
            output.append(token)
        }
        return output
    }

    /// GNMT's length penalty ((5 + length) / 6)^α.
    public static func lengthPenalty(_ length: Int, alpha: Double = 0.6) -> Double {
        Double.pow((5 + Double(length)) / 6, alpha)
    }

    /// Beam search for one sentence; the best finished hypothesis by
    /// log-probability / `lengthPenalty`, and its log-probability (nats, the
    /// end symbol's included unless the search stopped at `maxLength`).
    public func beamSearch(_ source: [Int], beam: Int = 4, alpha: Double = 0.6) -> (tokens: [Int], logProbability: Double) {
        precondition(beam >= 1, "beamSearch: beam \(beam)")
        return inference { c in
            var state = startDecoding([source], &c)
            var live: [(tokens: [Int], score: Double)] = [([], 0)]
            var finished: [(tokens: [Int], score: Double, normalized: Double)] = []
            for _ in 0..<configuration.maxLength {
                let logp = step(live.map { $0.tokens.last ?? Vocabulary.start }, &state, &c)
                var candidates: [(row: Int, token: Int, score: Double)] = []
                logp.scalars.withUnsafeBufferPointer { b in
                    for (r, h) in live.enumerated() {
                        for v in 0..<targetVocabulary where b[r * targetVocabulary + v] > -.infinity {
                            candidates.append((r, v, h.score + Double(b[r * targetVocabulary + v])))
                        }
                    }
                }
                // The best first; ties to the lower row, then the lower token.
                candidates.sort { ($0.score, -$0.row, -$0.token) > ($1.score, -$1.row, -$1.token) }
                // The beam shrinks as hypotheses finish: the best `beam −
                // finished` candidates either end (and are finished) or live on.
                var next: [(tokens: [Int], score: Double)] = [], rows: [Int] = []
                for candidate in candidates.prefix(beam - finished.count) {
                    let tokens = live[candidate.row].tokens
                    if candidate.token == Vocabulary.end {
                        finished.append((tokens, candidate.score,
                                         candidate.score / Self.lengthPenalty(tokens.count + 1, alpha: alpha)))
                    } else {
                        next.append((tokens + [candidate.token], candidate.score))
                        rows.append(candidate.row)
                    }
                }
                if finished.count >= beam || next.isEmpty { break }
                live = next
                state = state.selecting(rows, heads: configuration.heads)
            }
            if finished.count < beam {
                // Stopped at maxLength: the live hypotheses finish without </s>.
                for h in live { finished.append((h.tokens, h.score, h.score / Self.lengthPenalty(h.tokens.count, alpha: alpha))) }
            }
            let best = finished.enumerated().max { ($0.element.normalized, -$0.offset) < ($1.element.normalized, -$1.offset) }!.element
            return (best.tokens, best.score)
        }
    }
}

// MARK: Scores

/// Per-row log-softmax (Double) of logits [rows, V] with padding and <s>
/// masked to -∞: the distributions decoding chooses from.
func logProbabilitiesForDecoding(_ logits: Tensor) -> Tensor {
    let (rows, v) = (logits.shape[0], logits.shape[1])
    var out = logits
    out.scalars.withUnsafeMutableBufferPointer { b in
        for r in 0..<rows {
            let row = b.baseAddress! + r * v
            row[Vocabulary.padding] = -.infinity
            row[Vocabulary.start] = -.infinity
            var m = -Float.infinity
            for k in 0..<v { m = max(m, row[k]) }
            var s = 0.0
            for k in 0..<v { s += Double.exp(Double(row[k] - m)) }
            let lse = Float(Double(m) + Double.log(s))
            for k in 0..<v { row[k] -= lse }
        }
    }
    return out
}

/// The index of the largest entry of row `r` of [rows, V] (the first of ties).
func argmax(_ x: Tensor, row r: Int) -> Int {
    let v = x.shape[1]
    return x.scalars.withUnsafeBufferPointer { b in
        var best = 0
        for k in 1..<v where b[r * v + k] > b[r * v + best] { best = k }
        return best
    }
}
