// Layers over named parameters, attention, recurrent cells, cross-entropy
// with integer labels, parameter files, the moving average and clipping.

import ArrayIO
import Autodiff
import Foundation
import NeuralNets
import Tensors
import Testing
import TestSupport

/// A store built by `build`, its tensors as the inputs of a gradient check.
func parameterCheck(store: ParameterStore, extra: [Tensor], seed: UInt64 = 1,
                    forward: @escaping ([Variable], BoundParameters) -> Variable,
                    reference: @escaping ([[Double]]) -> [Double]) -> GradientCheckResult {
    let n = extra.count
    return checkGradients(extra + store.tensors, seed: seed, coordinates: 12, operation: { v in
        forward(Array(v[0..<n]), BoundParameters(store: store, variables: Array(v[n...])))
    }, reference: reference)
}

func sigmoidD(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

/// y = x Wᵀ + b in Double for x [rows, in], W [out, in].
func naiveAffine(_ x: [Double], _ w: [Double], _ b: [Double], rows: Int, input: Int, output: Int) -> [Double] {
    var y = [Double](repeating: 0, count: rows * output)
    for r in 0..<rows { for o in 0..<output {
        var s = b[o]
        for i in 0..<input { s += x[r * input + i] * w[o * input + i] }
        y[r * output + o] = s
    } }
    return y
}

@Test func equalized_convolution_scales_its_weight_at_run_time() {
    var store = ParameterStore()
    var rng = RandomGenerator(seed: 1)
    let conv = Conv2D("d.conv", inputChannels: 3, outputChannels: 4, kernel: 3, padding: 1,
                      initialization: .equalized(gain: Float(2).squareRoot()), store: &store, rng: &rng)
    #expect(store.names == ["d.conv.weight", "d.conv.bias"])
    #expect(abs(conv.runtimeScale - (2 / 27 as Float).squareRoot()) < 1e-7)
    store["d.conv.bias"] = Tensor(shape: [4], scalars: [1, 2, 3, 4])
    let x = randomTensor([2, 3, 5, 5], seed: 2)
    let tape = Tape()
    let y = conv(tape.constant(x), store.bind(to: tape)).value
    let expected = Tensor.conv2d(x, conv.runtimeScale * store["d.conv.weight"], padding: 1)
        .addingChannelBias(store["d.conv.bias"])
    #expect(approximatelyEqual(y, expected, tolerance: 1e-6))
}

@Test func initializations_have_their_stated_spread() {
    var rng = RandomGenerator(seed: 3)
    let shape = [64, 32, 3, 3]
    func std(_ t: Tensor) -> Double {
        let m = Double(t.mean())
        return (t.scalars.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(t.count)).squareRoot()
    }
    #expect(abs(std(WeightInitialization.he(gain: Float(2).squareRoot()).weights(shape: shape, rng: &rng)) - (2.0 / 288).squareRoot()) < 2e-3)
    #expect(abs(std(WeightInitialization.equalized(gain: 1).weights(shape: shape, rng: &rng)) - 1) < 0.02)
    let glorot = WeightInitialization.glorotUniform.weights(shape: [300, 200], rng: &rng)
    let limit = (6.0 / 500).squareRoot()
    #expect(glorot.scalars.allSatisfy { abs(Double($0)) <= limit })
    #expect(abs(std(glorot) - limit / 3.squareRoot()) < 2e-3)
    #expect(WeightInitialization.he(gain: 1).runtimeScale(shape: shape) == 1)
}

@Test func linear_applies_to_the_last_axis_of_any_rank() {
    var store = ParameterStore()
    var rng = RandomGenerator(seed: 4)
    let layer = Linear("proj", inputFeatures: 5, outputFeatures: 3, initialization: .glorotUniform, store: &store, rng: &rng)
    let x = randomTensor([2, 3, 5], seed: 5)
    let result = parameterCheck(store: store, extra: [x], forward: { v, p in layer(v[0], p) },
                                reference: { naiveAffine($0[0], $0[1], $0[2], rows: 6, input: 5, output: 3) })
    #expect(result.worst < 2e-3, "\(result)")
}

@Test func embedding_gradients_accumulate_over_repeated_tokens() {
    var store = ParameterStore()
    var rng = RandomGenerator(seed: 6)
    let embedding = Embedding("tokens", vocabulary: 4, dimension: 3, store: &store, rng: &rng)
    let tape = Tape()
    let p = store.bind(to: tape)
    let y = embedding([2, 0, 2, 2], shape: [2, 2], p)
    #expect(y.shape == [2, 2, 3])
    let g = p.gradients(of: y.sum())[0]
    #expect(g.scalars == [1, 1, 1, 0, 0, 0, 3, 3, 3, 0, 0, 0])
}

@Test func layer_norm_rows_have_zero_mean_and_unit_variance() {
    var store = ParameterStore()
    let norm = LayerNorm("ln", dimension: 6, store: &store)
    let tape = Tape()
    let y = norm(tape.constant(randomTensor([4, 6], seed: 7, scale: 3)), store.bind(to: tape)).value
    for r in 0..<4 {
        let row = y.scalars[(6 * r)..<(6 * r + 6)].map(Double.init)
        let mean = row.reduce(0, +) / 6
        #expect(abs(mean) < 1e-6)
        #expect(abs(row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 6 - 1) < 1e-4)
    }
}

@Test func sinusoidal_positions_by_hand() {
    let pe = sinusoidalPositions(length: 3, dimension: 4)
    #expect(pe.scalars[0..<4] == [0, 1, 0, 1])
    #expect(abs(pe[1, 0] - Float(sin(1.0))) < 1e-7 && abs(pe[1, 1] - Float(cos(1.0))) < 1e-7)
    #expect(abs(pe[2, 2] - Float(sin(2.0 / 100))) < 1e-7 && abs(pe[2, 3] - Float(cos(2.0 / 100))) < 1e-7)
}

// MARK: Attention

@Test func attention_masks_by_hand() {
    let causal = AttentionMask(causal: true).additive(batch: 2, queries: 3, keys: 3)!
    #expect(causal.shape == [1, 1, 3, 3])
    #expect(causal.scalars.map { $0 < 0 } == [false, true, true, false, false, true, false, false, false])
    let diagonal = AttentionMask(diagonal: true).additive(batch: 1, queries: 2, keys: 2)!
    #expect(diagonal.scalars.map { $0 < 0 } == [true, false, false, true])
    let padded = AttentionMask(keyLengths: [3, 1]).additive(batch: 2, queries: 1, keys: 3)!
    #expect(padded.shape == [2, 1, 1, 3])
    #expect(padded.scalars.map { $0 < 0 } == [false, false, false, false, true, true])
    #expect(AttentionMask.none.additive(batch: 2, queries: 3, keys: 3) == nil)
}

/// Multi-head attention in Double by its definition: x [b, lq, d], m [b, lk, d],
/// weights in the store's order (query W, b; key W, b; value W, b; output W, b).
func naiveAttention(_ x: [Double], _ m: [Double], _ w: [[Double]], b: Int, lq: Int, lk: Int, d: Int, heads: Int,
                    causal: Bool) -> [Double] {
    let q = naiveAffine(x, w[0], w[1], rows: b * lq, input: d, output: d)
    let k = naiveAffine(m, w[2], w[3], rows: b * lk, input: d, output: d)
    let v = naiveAffine(m, w[4], w[5], rows: b * lk, input: d, output: d)
    let dh = d / heads
    var context = [Double](repeating: 0, count: b * lq * d)
    for s in 0..<b { for h in 0..<heads { for i in 0..<lq {
        var scores = (0..<lk).map { j in
            (0..<dh).reduce(0.0) { $0 + q[(s * lq + i) * d + h * dh + $1] * k[(s * lk + j) * d + h * dh + $1] } / Double(dh).squareRoot()
        }
        if causal { for j in 0..<lk where j > i { scores[j] = -1e9 } }
        let top = scores.max()!
        let e = scores.map { Foundation.exp($0 - top) }, total = e.reduce(0, +)
        for j in 0..<lk { for c in 0..<dh { context[(s * lq + i) * d + h * dh + c] += e[j] / total * v[(s * lk + j) * d + h * dh + c] } }
    } } }
    return naiveAffine(context, w[6], w[7], rows: b * lq, input: d, output: d)
}

@Test(arguments: [false, true])
func attention_matches_a_naive_implementation(causal: Bool) {
    var store = ParameterStore()
    var rng = RandomGenerator(seed: 8)
    let attention = MultiHeadAttention("attn", modelDimension: 6, heads: 2, store: &store, rng: &rng)
    for name in store.names where name.hasSuffix(".bias") { store[name] = randomTensor([6], seed: 9, scale: 0.3) }
    let x = randomTensor([2, 3, 6], seed: 10), m = randomTensor([2, 4, 6], seed: 11)
    let mask = AttentionMask(causal: causal)
    let result = parameterCheck(store: store, extra: [x, m], forward: { v, p in
        var unused = RandomGenerator(seed: 0)
        return attention(v[0], memory: v[1], mask: mask, p, rng: &unused)
    }, reference: { naiveAttention($0[0], $0[1], Array($0[2...]), b: 2, lq: 3, lk: 4, d: 6, heads: 2, causal: causal) })
    #expect(result.worst < 3e-3, "\(result)")
}

@Test func causal_self_attention_does_not_look_ahead_and_padding_is_ignored() {
    var store = ParameterStore()
    var rng = RandomGenerator(seed: 12)
    let attention = MultiHeadAttention("self", modelDimension: 4, heads: 2, store: &store, rng: &rng)
    func run(_ x: Tensor, _ mask: AttentionMask) -> Tensor {
        let tape = Tape()
        let v = tape.constant(x)
        var unused = RandomGenerator(seed: 0)
        return attention(v, memory: v, mask: mask, store.bind(to: tape), rng: &unused).value
    }
    let x = randomTensor([1, 5, 4], seed: 13)
    var later = x
    for i in 12..<20 { later.scalars[i] += 1 }  // positions 3 and 4
    let (a, b) = (run(x, AttentionMask(causal: true)), run(later, AttentionMask(causal: true)))
    #expect(a.scalars[0..<12] == b.scalars[0..<12])
    #expect(a.scalars[12..<20] != b.scalars[12..<20])
    // Keys 3 and 4 as padding: queries 0-2 do not see them (nor their change).
    let (c, d) = (run(x, AttentionMask(keyLengths: [3])), run(later, AttentionMask(keyLengths: [3])))
    #expect(c.scalars[0..<12] == d.scalars[0..<12])
}

// MARK: Recurrent cells

/// Three steps of an LSTM (PyTorch's equations) in Double; returns the last h and c.
func naiveLSTM(_ xs: [Double], _ w: [[Double]], batch: Int, input: Int, hidden: Int, steps: Int) -> [Double] {
    var h = [Double](repeating: 0, count: batch * hidden), c = h
    for t in 0..<steps {
        let x = Array(xs[(t * batch * input)..<((t + 1) * batch * input)])
        let a = naiveAffine(x, w[0], w[2], rows: batch, input: input, output: 4 * hidden)
        let r = naiveAffine(h, w[1], w[3], rows: batch, input: hidden, output: 4 * hidden)
        for s in 0..<batch { for j in 0..<hidden {
            func gate(_ k: Int) -> Double { a[s * 4 * hidden + k * hidden + j] + r[s * 4 * hidden + k * hidden + j] }
            let cell = sigmoidD(gate(1)) * c[s * hidden + j] + sigmoidD(gate(0)) * Foundation.tanh(gate(2))
            c[s * hidden + j] = cell
            h[s * hidden + j] = sigmoidD(gate(3)) * Foundation.tanh(cell)
        } }
    }
    return h + c
}

func naiveGRU(_ xs: [Double], _ w: [[Double]], batch: Int, input: Int, hidden: Int, steps: Int) -> [Double] {
    var h = [Double](repeating: 0, count: batch * hidden)
    for t in 0..<steps {
        let x = Array(xs[(t * batch * input)..<((t + 1) * batch * input)])
        let a = naiveAffine(x, w[0], w[2], rows: batch, input: input, output: 3 * hidden)
        let r = naiveAffine(h, w[1], w[3], rows: batch, input: hidden, output: 3 * hidden)
        var next = h
        for s in 0..<batch { for j in 0..<hidden {
            func at(_ v: [Double], _ k: Int) -> Double { v[s * 3 * hidden + k * hidden + j] }
            let reset = sigmoidD(at(a, 0) + at(r, 0)), update = sigmoidD(at(a, 1) + at(r, 1))
            let n = Foundation.tanh(at(a, 2) + reset * at(r, 2))
            next[s * hidden + j] = (1 - update) * n + update * h[s * hidden + j]
        } }
        h = next
    }
    return h
}

@Test(arguments: [1, 3])
func lstm_unrolled_matches_a_naive_implementation(batch: Int) {
    var store = ParameterStore()
    var rng = RandomGenerator(seed: 14)
    let cell = LSTMCell("lstm", inputSize: 3, hiddenSize: 5, store: &store, rng: &rng)
    #expect(store.names == ["lstm.inputWeight", "lstm.hiddenWeight", "lstm.inputBias", "lstm.hiddenBias"])
    let xs = randomTensor([3, batch, 3], seed: 15)
    let result = parameterCheck(store: store, extra: [xs], forward: { v, p in
        var state = cell.zeroState(batch: batch, on: v[0].tape)
        for t in 0..<3 { state = cell(v[0].slice(axis: 0, range: t..<(t + 1)).reshaped([batch, 3]), state: state, p) }
        return Variable.concatenate([state.h.reshaped([batch * 5]), state.c.reshaped([batch * 5])], axis: 0)
    }, reference: { naiveLSTM($0[0], Array($0[1...]), batch: batch, input: 3, hidden: 5, steps: 3) })
    #expect(result.worst < 2e-3, "\(result)")
}

@Test func gru_unrolled_matches_a_naive_implementation() {
    var store = ParameterStore()
    var rng = RandomGenerator(seed: 16)
    let cell = GRUCell("gru", inputSize: 2, hiddenSize: 3, store: &store, rng: &rng)
    let xs = randomTensor([4, 2, 2], seed: 17)
    let result = parameterCheck(store: store, extra: [xs], forward: { v, p in
        var h = cell.cell.zeroState(batch: 2, on: v[0].tape)[0]
        for t in 0..<4 { h = cell(v[0].slice(axis: 0, range: t..<(t + 1)).reshaped([2, 2]), state: h, p) }
        return h
    }, reference: { naiveGRU($0[0], Array($0[1...]), batch: 2, input: 2, hidden: 3, steps: 4) })
    #expect(result.worst < 2e-3, "\(result)")
}

@Test func a_custom_elementwise_cell_trains_through_the_tape() {
    // An LSTM without input and output gates: c' = σ(f) c + tanh(g), h' = tanh(c').
    var store = ParameterStore()
    var rng = RandomGenerator(seed: 18)
    let cell = GatedRecurrentCell("reduced", inputSize: 2, hiddenSize: 3, gates: 2, stateCount: 2,
                                  store: &store, rng: &rng) { a, c, state in
        let next = (a[0] + c[0]).sigmoid() * state[1] + (a[1] + c[1]).tanh()
        return [next.tanh(), next]
    }
    let xs = randomTensor([3, 1, 2], seed: 19)
    let result = parameterCheck(store: store, extra: [xs], forward: { v, p in
        var state = cell.zeroState(batch: 1, on: v[0].tape)
        for t in 0..<3 { state = cell(v[0].slice(axis: 0, range: t..<(t + 1)).reshaped([1, 2]), state: state, p) }
        return state[0]
    }, reference: { x in
        let w = Array(x[1...])
        var h = [0.0, 0, 0], c = [0.0, 0, 0]
        for t in 0..<3 {
            let a = naiveAffine(Array(x[0][(2 * t)..<(2 * t + 2)]), w[0], w[2], rows: 1, input: 2, output: 6)
            let r = naiveAffine(h, w[1], w[3], rows: 1, input: 3, output: 6)
            for j in 0..<3 { c[j] = sigmoidD(a[j] + r[j]) * c[j] + Foundation.tanh(a[3 + j] + r[3 + j]) }
            h = c.map { Foundation.tanh($0) }
        }
        return h
    })
    #expect(result.worst < 2e-3, "\(result)")
}

// MARK: Cross-entropy

func naiveCrossEntropy(_ z: [Double], labels: [Int], v: Int, ignore: Int?, smoothing: Double) -> Double {
    var total = 0.0, counted = 0
    for (r, y) in labels.enumerated() where y != ignore {
        let row = Array(z[(r * v)..<((r + 1) * v)]), m = row.max()!
        let lse = m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +))
        for c in 0..<v {
            let t = (c == y ? 1 - smoothing : 0) + smoothing / Double(v)
            total -= t * (row[c] - lse)
        }
        counted += 1
    }
    return counted == 0 ? 0 : total / Double(counted)
}

@Test(arguments: [(nil, 0.0), (2, 0.0), (nil, 0.1), (-1, 0.2)] as [(Int?, Double)])
func cross_entropy_matches_a_naive_implementation(ignore: Int?, smoothing: Double) {
    let labels = [3, 0, ignore ?? 1, 4, 2, 1]
    let result = checkGradients([randomTensor([2, 3, 5], seed: 20, scale: 2)], operation: {
        crossEntropy(logits: $0[0], labels: labels, ignoreIndex: ignore, labelSmoothing: Float(smoothing))
    }, reference: { [naiveCrossEntropy($0[0], labels: labels, v: 5, ignore: ignore, smoothing: smoothing)] })
    #expect(result.worst < 2e-3, "\(result)")
}

@Test func cross_entropy_with_every_row_ignored_is_zero() {
    let tape = Tape()
    let z = tape.variable(randomTensor([2, 3], seed: 21))
    let loss = crossEntropy(logits: z, labels: [-100, -100], ignoreIndex: -100)
    #expect(loss.value.scalar == 0)
    #expect(tape.gradients(of: loss, withRespectTo: [z])[0].scalars.allSatisfy { $0 == 0 })
}

// MARK: Parameters

@Test func parameters_round_trip_through_npz_with_their_names() throws {
    var store = ParameterStore()
    var rng = RandomGenerator(seed: 22)
    _ = Conv2D("g.block1.conv", inputChannels: 2, outputChannels: 3, kernel: 3, initialization: .equalized(gain: 1),
               store: &store, rng: &rng)
    _ = LayerNorm("enc.ln", dimension: 4, store: &store)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("params-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("p.npz").path
    try store.save(to: path)
    #expect(try NPZ.read(path: path).map(\.name) == store.names)
    var other = store
    for i in other.tensors.indices { other.tensors[i] = Tensor.zeros(other.tensors[i].shape) }
    try other.load(from: path)
    #expect(other == store)

    // A store of another shape, one missing a member, one with an extra one.
    var wrong = ParameterStore()
    wrong.add("g.block1.conv.weight", Tensor.zeros([3, 2, 1, 1]))
    #expect(throws: FileError.self) { try wrong.load(from: path) }
    try NPZ.write([("enc.ln.scale", NPYArray(floats: [1, 1, 1, 1], shape: [4]))], to: path)
    #expect { try other.load(from: path) } throws: { "\($0)".contains("missing") }
    #expect(other == store)
}

@Test func moving_average_and_global_norm_clipping_by_hand() {
    var store = ParameterStore()
    store.add("w", Tensor(shape: [2], scalars: [0, 0]))
    var ema = ExponentialMovingAverage(of: store, decay: 0.9)
    store["w"] = Tensor(shape: [2], scalars: [1, 2])
    ema.update(with: store)
    #expect(approximatelyEqual(ema.average["w"], Tensor(shape: [2], scalars: [0.1, 0.2]), tolerance: 1e-6))
    ema.update(with: store)
    #expect(approximatelyEqual(ema.average["w"], Tensor(shape: [2], scalars: [0.19, 0.38]), tolerance: 1e-6))

    var gradients = [Tensor(shape: [2], scalars: [3, 0]), Tensor(shape: [1], scalars: [4])]
    #expect(clipByGlobalNorm(&gradients, maxNorm: 1) == 5)
    #expect(approximatelyEqual(gradients[0], Tensor(shape: [2], scalars: [0.6, 0]), tolerance: 1e-5))
    #expect(approximatelyEqual(gradients[1], Tensor(shape: [1], scalars: [0.8]), tolerance: 1e-5))
    var small = [Tensor(shape: [1], scalars: [0.5])]
    #expect(clipByGlobalNorm(&small, maxNorm: 1) == 0.5)
    #expect(small[0].scalars == [0.5])
}

@Test func adam_with_beta1_zero_steps_by_the_current_gradient() {
    // β₁ = 0 (Karras et al.'s setting): m = g, m̂ = g; v̂ = g² after one step,
    // so θ moves by α g / (|g| + ε); after a second step v̂ mixes both.
    var adam = Adam(learningRate: 0.1, beta1: 0, beta2: 0.99, epsilon: 1e-8)
    var theta = [Tensor(shape: [2], scalars: [1, -1])]
    adam.update(&theta, gradients: [Tensor(shape: [2], scalars: [2, -0.5])], multiplier: 1)
    #expect(approximatelyEqual(theta[0], Tensor(shape: [2], scalars: [0.9, -0.9]), tolerance: 1e-5))
    adam.update(&theta, gradients: [Tensor(shape: [2], scalars: [1, 1])], multiplier: 1)
    let v = (0.99 * 0.01 * 4 + 0.01 * 1) / (1 - 0.99 * 0.99)
    #expect(abs(Double(theta[0].scalars[0]) - (0.9 - 0.1 / v.squareRoot())) < 1e-5)
}
