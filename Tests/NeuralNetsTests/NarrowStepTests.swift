// The fused narrow training step against the tape and against central finite
// differences of a naive Double implementation of the same loss.

import XCTest
import Tensors
import TestSupport
@testable import NeuralNets

final class NarrowStepTests: XCTestCase {
    /// Random inputs in [-1, 1] and random target distributions (one-hot, or
    /// mixed as mixup makes them).
    private func batch(rows: Int, inputs: Int, classes: Int, mixed: Bool,
                       rng: inout RandomGenerator) -> (Tensor, Tensor) {
        let x = Tensor(shape: [rows, inputs], scalars: (0..<(rows * inputs)).map { _ in 2 * rng.nextFloat() - 1 })
        var t = [Float](repeating: 0, count: rows * classes)
        for r in 0..<rows {
            let a = rng.nextInt(below: classes), b = rng.nextInt(below: classes)
            let lambda: Float = mixed ? rng.nextFloat() : 1
            t[r * classes + a] += lambda
            t[r * classes + b] += 1 - lambda
        }
        return (x, Tensor(shape: [rows, classes], scalars: t))
    }

    /// The mean softmax cross-entropy of the network, in Double, with
    /// parameters `theta` (the order of `MLP.parameters`), by direct loops.
    private func referenceLoss(_ model: MLP, _ theta: [[Double]], _ x: Tensor, _ t: Tensor) -> Double {
        let widths = model.widths
        let rows = x.shape[0]
        var total = 0.0
        for r in 0..<rows {
            var h = (0..<widths[0]).map { Double(x.scalars[r * widths[0] + $0]) }
            for (l, layer) in model.layers.enumerated() {
                let (w, b) = (theta[2 * l], theta[2 * l + 1])
                h = (0..<widths[l + 1]).map { o in
                    var z = b[o]
                    for i in 0..<widths[l] { z += w[o * widths[l] + i] * h[i] }
                    switch layer.activation {
                    case .tanh: return Foundation.tanh(z)
                    case .relu: return max(z, 0)
                    case .sigmoid: return 1 / (1 + Foundation.exp(-z))
                    case .softsign: return z / (1 + abs(z))
                    case .softplus: return Foundation.log(1 + Foundation.exp(z))
                    case .linear: return z
                    case let .leakyReLU(slope): return z < 0 ? Double(slope) * z : z
                    }
                }
            }
            let m = h.max()!
            let lse = m + Foundation.log(h.map { Foundation.exp($0 - m) }.reduce(0, +))
            for c in h.indices { total -= Double(t.scalars[r * h.count + c]) * (h[c] - lse) }
        }
        return total / Double(rows)
    }

    func testMatchesTheTapeForEveryActivationAndRaggedBatches() {
        var rng = RandomGenerator(seed: 7)
        for activation in Activation.allCases {
            for rows in [1, 5, 16, 37, 256] {
                let model = MLP(widths: [12, 10, 7, 5, 4, 3, 2], hiddenActivation: activation,
                                initializer: .glorotUniform, rng: &rng)
                XCTAssertTrue(model.isNarrow)
                let (x, t) = batch(rows: rows, inputs: 12, classes: 2, mixed: rows % 2 == 1, rng: &rng)
                let fused = model.narrowCrossEntropyGradients(x: x, targets: t)
                let tape = model.crossEntropyGradientsOnTape(x: x, targets: t)
                XCTAssertEqual(Double(fused.loss), Double(tape.loss), accuracy: 1e-6 * max(1, Double(abs(tape.loss))),
                               "\(activation), batch \(rows)")
                XCTAssertEqual(fused.gradients.map { $0.shape }, tape.gradients.map { $0.shape })
                for (a, b) in zip(fused.gradients, tape.gradients) {
                    let d = difference(a.scalars.map(Double.init), b.scalars.map(Double.init), floor: 1e-4)
                    XCTAssertLessThan(d.maxRelative, 2e-4, "\(activation), batch \(rows): \(d)")
                }
            }
        }
    }

    func testGradientsMatchCentralDifferencesOfANaiveDoubleLoss() {
        var rng = RandomGenerator(seed: 11)
        for activation in [Activation.tanh, .relu, .softplus] {
            var model = MLP(widths: [6, 5, 4, 3], hiddenActivation: activation, initializer: .glorotUniform, rng: &rng)
            // Nonzero biases: with zero ones a row whose ReLU units below are
            // all off sits exactly on a kink, where differences give half a slope.
            for l in model.layers.indices {
                model.layers[l].bias = Tensor(shape: model.layers[l].bias.shape,
                                              scalars: model.layers[l].bias.scalars.map { _ in rng.nextFloat() - 0.5 })
            }
            let (x, t) = batch(rows: 21, inputs: 6, classes: 3, mixed: true, rng: &rng)
            let (loss, gradients) = model.narrowCrossEntropyGradients(x: x, targets: t)
            let theta = model.parameters.map { $0.scalars.map(Double.init) }
            XCTAssertEqual(Double(loss), referenceLoss(model, theta, x, t), accuracy: 1e-5)
            let h = 1e-5
            for (k, tensor) in theta.enumerated() {
                for j in tensor.indices {
                    var plus = theta, minus = theta
                    plus[k][j] += h
                    minus[k][j] -= h
                    let numeric = (referenceLoss(model, plus, x, t) - referenceLoss(model, minus, x, t)) / (2 * h)
                    XCTAssertEqual(Double(gradients[k].scalars[j]), numeric, accuracy: 2e-5 + 1e-3 * abs(numeric),
                                   "\(activation): parameter \(k), element \(j)")
                }
            }
        }
    }

    func testDispatchesOnWidthAndIsDeterministic() {
        var rng = RandomGenerator(seed: 3)
        let wide = MLP(widths: [40, 8, 2], hiddenActivation: .tanh, initializer: .glorotUniform, rng: &rng)
        XCTAssertFalse(wide.isNarrow)
        let narrow = MLP(widths: [12, 10, 2], hiddenActivation: .tanh, initializer: .glorotUniform, rng: &rng)
        let (x, t) = batch(rows: 300, inputs: 12, classes: 2, mixed: false, rng: &rng)
        let a = narrow.crossEntropyGradients(x: x, targets: t)
        let b = narrow.narrowCrossEntropyGradients(x: x, targets: t)
        XCTAssertEqual(a.loss.bitPattern, b.loss.bitPattern)
        XCTAssertEqual(a.gradients, b.gradients)
        let (xw, tw) = batch(rows: 9, inputs: 40, classes: 2, mixed: false, rng: &rng)
        XCTAssertEqual(wide.crossEntropyGradients(x: xw, targets: tw).gradients,
                       wide.crossEntropyGradientsOnTape(x: xw, targets: tw).gradients)
    }

    func testPaddingColumnsNeverLeakNonFiniteValues() {
        // Every real row has x = 1, so the first layer's pre-activation is
        // 3e38 - 3e38 = 0 there, while a zero padding column gets 3e38 and
        // the second layer overflows it to +inf. The padding must not turn
        // the output layer's weight gradient into NaN (0 · inf).
        let model = MLP(layers: [
            Dense(weight: Tensor(shape: [1, 1], scalars: [-3e38]), bias: Tensor(shape: [1], scalars: [3e38]), activation: .relu),
            Dense(weight: Tensor(shape: [1, 1], scalars: [10]), bias: Tensor(shape: [1], scalars: [0]), activation: .relu),
            Dense(weight: Tensor(shape: [2, 1], scalars: [1, -1]), bias: Tensor(shape: [2], scalars: [0.5, -0.5]), activation: .linear),
        ])
        let x = Tensor(shape: [3, 1], repeating: 1)
        let t = oneHot([0, 1, 1], classes: 2)
        let fused = model.narrowCrossEntropyGradients(x: x, targets: t)
        let tape = model.crossEntropyGradientsOnTape(x: x, targets: t)
        for (a, b) in zip(fused.gradients, tape.gradients) {
            XCTAssertTrue(a.scalars.allSatisfy(\.isFinite), "\(a)")
            XCTAssertTrue(approximatelyEqual(a, b, tolerance: 1e-6), "\(a) vs \(b)")
        }
    }

    func testForwardMatchesTheDenseLayers() {
        var rng = RandomGenerator(seed: 13)
        for activation in Activation.allCases {
            let model = MLP(widths: [12, 10, 7, 5, 4, 3, 2], hiddenActivation: activation, initializer: .glorotUniform, rng: &rng)
            for rows in [0, 1, 17, 300] {
                let (x, _) = batch(rows: rows, inputs: 12, classes: 2, mixed: false, rng: &rng)
                let narrow = model.narrowForward(x, preActivations: true, lastOnly: false)
                XCTAssertEqual(narrow.count, model.layers.count)
                var h = x
                for (l, layer) in model.layers.enumerated() {
                    let (z, y) = layer.forward(h, keepPreActivation: true)
                    // Summation orders differ from BLAS's: rounding only.
                    XCTAssertTrue(approximatelyEqual(narrow[l].preActivation!, z!, tolerance: 1e-4, floor: 1e-2),
                                  "\(activation) layer \(l + 1), \(rows) rows")
                    XCTAssertTrue(approximatelyEqual(narrow[l].output, y, tolerance: 1e-4, floor: 1e-2),
                                  "\(activation) layer \(l + 1), \(rows) rows")
                    h = y
                }
                // The public entry points take this path, with the same values.
                let outputs = model.layerOutputs(x, preActivation: false, softmaxOutput: false)
                XCTAssertEqual(outputs, narrow.map(\.output))
                XCTAssertEqual(model(x), narrow.last!.output)
                XCTAssertNil(model.narrowForward(x, preActivations: false, lastOnly: true)[0].preActivation)
            }
        }
    }
}
