// Memory over many steps: a small convolutional network, a 2-layer
// Transformer encoder and an LSTM unrolled over 16 steps, each trained for
// 10,000 forward + backward + Adam steps, with the resident set size read
// from /proc/self/statm along the way. A tape or closure that outlived its
// step would make the figure grow with the step count.

import Autodiff
import Foundation
import NeuralNets
import Tensors

/// The resident set size in MiB (Linux; 0 elsewhere).
func residentMegabytes() -> Double {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

/// Runs `step` `steps` times, printing the resident set size at a few step counts.
func reportMemory(_ label: String, steps: Int, _ step: () -> Float) {
    var line = "  \(padded(label, 36))"
    var loss: Float = 0
    let start = Date()
    for i in 1...steps {
        loss = step()
        if [10, 100, 1000, steps].contains(i) { line += " \(i): \(format(residentMegabytes(), 1)) MiB" }
        if ProcessInfo.processInfo.environment["INFOPLANE_MEMORY_TRACE"] != nil && i % 10 == 0 {
            FileHandle.standardError.write(Data("\(label) step \(i): \(format(residentMegabytes(), 1)) MiB\n".utf8))
        }
    }
    print(line + "  (final loss \(format(Double(loss), 3)), \(format(Date().timeIntervalSince(start), 1)) s)")
}

func runMemoryBenchmarks(steps: Int = 10_000) {
    BLAS.withThreads(1) { printMemoryBenchmarks(steps: steps) }
}

private func printMemoryBenchmarks(steps: Int) {
    print("\nResident memory over \(steps) training steps (forward, backward, Adam)")
    var rng = RandomGenerator(seed: 11)

    // A small conv net: 2 x (conv 3x3, leaky ReLU, average pool), dense to 10 classes.
    do {
        var store = ParameterStore()
        let c1 = Conv2D("c1", inputChannels: 1, outputChannels: 8, kernel: 3, padding: 1, initialization: .he(gain: 1.4), store: &store, rng: &rng)
        let c2 = Conv2D("c2", inputChannels: 8, outputChannels: 16, kernel: 3, padding: 1, initialization: .he(gain: 1.4), store: &store, rng: &rng)
        let out = Linear("out", inputFeatures: 16 * 4 * 4, outputFeatures: 10, initialization: .glorotUniform, store: &store, rng: &rng)
        var adam = Adam(learningRate: 1e-3)
        let x = benchTensor([16, 1, 16, 16], seed: 1)
        let labels = (0..<16).map { $0 % 10 }
        reportMemory("conv net, batch 16, 16x16", steps: steps) {
            let tape = Tape()
            let p = store.bind(to: tape)
            var h = c1(tape.constant(x), p).leakyReLU(slope: 0.2).averagePooled2x2()
            h = c2(h, p).leakyReLU(slope: 0.2).averagePooled2x2()
            let loss = crossEntropy(logits: out(h.reshaped([16, 256]), p), labels: labels)
            adam.update(&store.tensors, gradients: p.gradients(of: loss), multiplier: 1)
            return loss.value.scalar
        }
    }

    // A 2-layer Transformer encoder: self-attention and a ReLU feed-forward,
    // each with a residual and layer norm, dropout 0.1, cross-entropy per position.
    do {
        var store = ParameterStore()
        let (vocabulary, d, length, batch) = (32, 32, 12, 8)
        let embedding = Embedding("embed", vocabulary: vocabulary, dimension: d, store: &store, rng: &rng)
        var layers = [(MultiHeadAttention, LayerNorm, Linear, Linear, LayerNorm)]()
        for l in 0..<2 {
            layers.append((MultiHeadAttention("l\(l).attn", modelDimension: d, heads: 2, store: &store, rng: &rng),
                           LayerNorm("l\(l).ln1", dimension: d, store: &store),
                           Linear("l\(l).ff1", inputFeatures: d, outputFeatures: 2 * d, initialization: .he(gain: 1.4), store: &store, rng: &rng),
                           Linear("l\(l).ff2", inputFeatures: 2 * d, outputFeatures: d, initialization: .glorotUniform, store: &store, rng: &rng),
                           LayerNorm("l\(l).ln2", dimension: d, store: &store)))
        }
        let head = Linear("head", inputFeatures: d, outputFeatures: vocabulary, initialization: .glorotUniform, store: &store, rng: &rng)
        let positions = sinusoidalPositions(length: length, dimension: d)
        var adam = Adam(learningRate: 1e-3)
        let tokens = (0..<(batch * length)).map { ($0 * 7 + 3) % vocabulary }
        let targets = tokens.map { ($0 + 1) % vocabulary }
        var dropoutRNG = RandomGenerator(seed: 12)
        reportMemory("Transformer, 2 layers, 8x12x32", steps: steps) {
            let tape = Tape()
            let p = store.bind(to: tape)
            var h = embedding(tokens, shape: [batch, length], p) + tape.constant(positions)
            for (attention, ln1, ff1, ff2, ln2) in layers {
                h = ln1(h + attention(h, memory: h, mask: AttentionMask(keyLengths: [Int](repeating: length, count: batch)), p,
                                      dropout: 0.1, rng: &dropoutRNG), p)
                h = ln2(h + ff2(ff1(h, p).relu(), p).dropout(rate: 0.1, rng: &dropoutRNG), p)
            }
            let loss = crossEntropy(logits: head(h, p), labels: targets, labelSmoothing: 0.1)
            adam.update(&store.tensors, gradients: p.gradients(of: loss), multiplier: 1)
            return loss.value.scalar
        }
    }

    // An LSTM unrolled over 16 steps, batch 32, regressing the next input.
    do {
        var store = ParameterStore()
        let cell = LSTMCell("lstm", inputSize: 4, hiddenSize: 32, store: &store, rng: &rng)
        let readout = Linear("readout", inputFeatures: 32, outputFeatures: 4, initialization: .glorotUniform, store: &store, rng: &rng)
        var adam = Adam(learningRate: 1e-3)
        let series = benchTensor([17, 32, 4], seed: 13)
        reportMemory("LSTM, 16 steps unrolled, batch 32", steps: steps) {
            let tape = Tape()
            let p = store.bind(to: tape)
            var state = cell.zeroState(batch: 32, on: tape)
            var loss: Variable?
            for t in 0..<16 {
                state = cell(tape.constant(series.slice(axis: 0, range: t..<(t + 1)).reshaped([32, 4])), state: state, p)
                let error = (readout(state.h, p) - tape.constant(series.slice(axis: 0, range: (t + 1)..<(t + 2)).reshaped([32, 4])))
                    .squared().mean()
                loss = loss.map { $0 + error } ?? error
            }
            adam.update(&store.tensors, gradients: p.gradients(of: loss!), multiplier: 1)
            return loss!.value.scalar / 16
        }
    }
}
