// Layers, losses and the MLP: hand-computed values and finite-difference checks.

import Autodiff
import Foundation
import NeuralNets
import Tensors
import Testing
import TestSupport

func referenceActivation(_ f: Activation, _ x: Double) -> Double {
    switch f {
    case .tanh: Foundation.tanh(x)
    case .relu: max(x, 0)
    case .sigmoid: 1 / (1 + Foundation.exp(-x))
    case .softsign: x / (1 + abs(x))
    case .softplus: Foundation.log1p(Foundation.exp(x))
    case .linear: x
    case let .leakyReLU(slope): x < 0 ? Double(slope) * x : x
    }
}

@Test("fused Dense VJP matches finite differences", arguments: Activation.allCases + [.leakyReLU(slope: 0.2)])
func dense_vjp(_ activation: Activation) {
    let (batch, inputs, outputs) = (5, 4, 3)
    let x = randomTensor([batch, inputs], seed: 1)
    let w = randomTensor([outputs, inputs], seed: 2, scale: 0.5)
    let b = randomTensor([outputs], seed: 3, scale: 0.3)
    let result = checkGradients([x, w, b]) { v in
        dense(v[0], weight: v[1], bias: v[2], activation: activation)
    } reference: { v in
        var y = [Double]()
        for i in 0..<batch {
            for o in 0..<outputs {
                var z = v[2][o]
                for k in 0..<inputs { z += v[0][i * inputs + k] * v[1][o * inputs + k] }
                y.append(referenceActivation(activation, z))
            }
        }
        return y
    }
    #expect(result.worst < 2e-3, "\(activation): \(result)")
}

@Test func dense_forward_by_hand() {
    // W = [[1, 2], [3, -4]], b = [0.5, -1], x = [1, 1]: z = [3.5, -2]; ReLU -> [3.5, 0].
    let layer = Dense(weight: Tensor(rows: [[1, 2], [3, -4]]), bias: Tensor(shape: [2], scalars: [0.5, -1]), activation: .relu)
    let (z, y) = layer.forward(Tensor(rows: [[1, 1]]), keepPreActivation: true)
    #expect(z!.scalars == [3.5, -2])
    #expect(y.scalars == [3.5, 0])
}

@Test func softmax_cross_entropy_by_hand_and_vjp() {
    // logits [0, ln 3] -> softmax [1/4, 3/4]; label 1 -> loss ln(4/3).
    let tape = Tape()
    let z = tape.variable(Tensor(rows: [[0, Float(Foundation.log(3.0))]]))
    let loss = softmaxCrossEntropy(logits: z, labels: [1])
    #expect(abs(Double(loss.value.scalar) - Foundation.log(4.0 / 3.0)) < 1e-6)
    let g = tape.gradients(of: loss, withRespectTo: [z])[0]
    #expect(abs(g.scalars[0] - 0.25) < 1e-6 && abs(g.scalars[1] + 0.25) < 1e-6)

    let logits = randomTensor([4, 3], seed: 5, scale: 3)
    let targets = Tensor(rows: [[1, 0, 0], [0, 0.3, 0.7], [0, 1, 0], [0.5, 0.5, 0]])
    let result = checkGradients([logits]) { v in
        softmaxCrossEntropy(logits: v[0], targets: targets)
    } reference: { v in
        var total = 0.0
        for r in 0..<4 {
            let row = (0..<3).map { v[0][r * 3 + $0] }
            let lse = Foundation.log(row.map { Foundation.exp($0) }.reduce(0, +))
            for c in 0..<3 { total += Double(targets.scalars[r * 3 + c]) * (lse - row[c]) }
        }
        return [total / 4]
    }
    #expect(result.worst < 2e-3, "\(result)")
}

@Test func cross_entropy_is_stable_for_huge_logits() {
    let tape = Tape()
    let z = tape.variable(Tensor(rows: [[1000, -1000], [-1000, 1000]]))
    let loss = softmaxCrossEntropy(logits: z, labels: [1, 1])
    // Row 1: loss 2000; row 2: loss 0 -> mean 1000.
    #expect(loss.value.scalar == 1000)
    #expect(tape.gradients(of: loss, withRespectTo: [z])[0].isFinite)
}

@Test func binary_cross_entropy_and_mse_vjp() {
    let z = randomTensor([6], seed: 8, scale: 4)
    let t = Tensor(shape: [6], scalars: [0, 1, 0.5, 1, 0, 0.25])
    let bce = checkGradients([z]) { softmaxFree in
        binaryCrossEntropy(logits: softmaxFree[0], targets: t)
    } reference: { v in
        var total = 0.0
        for i in 0..<6 {
            let p = 1 / (1 + Foundation.exp(-v[0][i]))
            let ti = Double(t.scalars[i])
            total -= ti * Foundation.log(p) + (1 - ti) * Foundation.log(1 - p)
        }
        return [total / 6]
    }
    #expect(bce.worst < 2e-3, "\(bce)")
    let mse = checkGradients([z]) { v in
        meanSquaredError(predictions: v[0], targets: t)
    } reference: { v in
        var total = 0.0
        for i in 0..<6 { let d = v[0][i] - Double(t.scalars[i]); total += d * d }
        return [total / 6]
    }
    #expect(mse.worst < 2e-3, "\(mse)")
}

@Test func mlp_gradients_match_finite_differences_end_to_end() {
    var rng = RandomGenerator(seed: 11)
    let mlp = MLP(widths: [4, 5, 3, 2], hiddenActivation: .tanh, initializer: .truncatedNormal, rng: &rng)
    let x = randomTensor([6, 4], seed: 12)
    let labels = [0, 1, 1, 0, 1, 0]
    let params = mlp.parameters
    let result = checkGradients(params) { v in
        let tape = v[0].tape
        return softmaxCrossEntropy(logits: mlp(tape.constant(x), parameters: v), labels: labels)
    } reference: { p in
        var h = x.scalars.map(Double.init)
        var width = 4
        for l in 0..<3 {
            let w = p[2 * l], b = p[2 * l + 1]
            let out = b.count
            var next = [Double](repeating: 0, count: 6 * out)
            for i in 0..<6 { for o in 0..<out {
                var z = b[o]
                for k in 0..<width { z += h[i * width + k] * w[o * width + k] }
                next[i * out + o] = l < 2 ? Foundation.tanh(z) : z
            } }
            h = next
            width = out
        }
        var total = 0.0
        for i in 0..<6 {
            let lse = Foundation.log(Foundation.exp(h[2 * i]) + Foundation.exp(h[2 * i + 1]))
            total += lse - h[2 * i + labels[i]]
        }
        return [total / 6]
    }
    #expect(result.worst < 2e-3, "\(result)")
}

@Test func layer_outputs_end_in_softmax_probabilities() {
    var rng = RandomGenerator(seed: 2)
    let mlp = MLP(widths: [3, 4, 2], hiddenActivation: .relu, initializer: .heNormal, rng: &rng)
    let x = randomTensor([5, 3], seed: 4)
    let outputs = mlp.layerOutputs(x)
    #expect(outputs.map(\.shape) == [[5, 4], [5, 2]])
    #expect(outputs[0].scalars.allSatisfy { $0 >= 0 })
    for r in 0..<5 { #expect(abs(outputs[1].scalars[2 * r] + outputs[1].scalars[2 * r + 1] - 1) < 1e-6) }
    let pre = mlp.layerOutputs(x, preActivation: true)
    #expect(pre[1] == mlp(x))
    #expect(pre[0].relu() == outputs[0])
}

@Test func initializers_have_their_scales() {
    var rng = RandomGenerator(seed: 5)
    let w = Initializer.truncatedNormal.weights(shape: [100, 400], rng: &rng)
    // std 1/20 truncated at 2 sd: all within 0.1, variance 0.77372/400.
    #expect(w.scalars.allSatisfy { abs($0) <= 0.1 })
    let variance = w.scalars.map { Double($0 * $0) }.reduce(0, +) / 40_000
    #expect(abs(variance / (0.77372 / 400) - 1) < 0.03)
    let g = Initializer.glorotUniform.weights(shape: [100, 300], rng: &rng)
    let limit = Float((6.0 / 400).squareRoot())
    #expect(g.scalars.allSatisfy { abs($0) <= limit })
    let gv = g.scalars.map { Double($0 * $0) }.reduce(0, +) / 30_000
    #expect(abs(gv / (Double(limit * limit) / 3) - 1) < 0.03)
}

@Test func activations_are_named_and_encoded_by_name() throws {
    for f in Activation.allCases + [.leakyReLU(slope: 0.2)] {
        #expect(Activation(rawValue: f.rawValue) == f)
        let json = try JSONEncoder().encode([f])
        #expect(String(decoding: json, as: UTF8.self) == "[\"\(f.rawValue)\"]")
        #expect(try JSONDecoder().decode([Activation].self, from: json) == [f])
    }
    #expect(Activation.tanh.rawValue == "tanh" && Activation.leakyReLU(slope: 0.2).rawValue == "leaky_relu(0.2)")
    #expect(Activation(rawValue: "leaky_relu(1.5)") == nil && Activation(rawValue: "swish") == nil)
    #expect(throws: DecodingError.self) { try JSONDecoder().decode([Activation].self, from: Data("[\"swish\"]".utf8)) }
}
