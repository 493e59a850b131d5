// Second-order gradients: every recorded pullback through Hessian-vector
// products against central differences of first-order gradients, and the
// WGAN-GP penalty's gradient with respect to a convolutional critic's weights.

import Autodiff
import Foundation
import Tensors
import Testing
import TestSupport

/// An operation composed so that its second derivative passes through the
/// recorded pullback of the operation under test.
struct SecondOrderCase: CustomStringConvertible, Sendable {
    var name: String
    var shapes: [[Int]]
    var constant: Set<Int> = []
    var operation: @Sendable ([Variable]) -> Variable
    var description: String { name }
}

let secondOrderCases: [SecondOrderCase] = [
    SecondOrderCase(name: "add", shapes: [[3, 4], [3, 4]], operation: { ($0[0] + $0[1]).tanh() }),
    SecondOrderCase(name: "subtract", shapes: [[3, 4], [3, 4]], operation: { ($0[0] - $0[1]).squared() }),
    SecondOrderCase(name: "multiply", shapes: [[3, 4], [3, 4]], operation: { $0[0] * $0[1] }),
    SecondOrderCase(name: "divide", shapes: [[3, 4], [3, 4]], operation: { $0[0] / ($0[1].squared() + 1) }),
    SecondOrderCase(name: "scale and add constant", shapes: [[5]], operation: { (2.5 * $0[0] + 0.5).tanh() }),
    SecondOrderCase(name: "addingRowVector", shapes: [[3, 4], [4]], operation: { $0[0].addingRowVector($0[1]).tanh() }),
    SecondOrderCase(name: "sumRows", shapes: [[3, 4]], operation: { $0[0].sumRows().squared() }),
    SecondOrderCase(name: "repeatedAsRows", shapes: [[4]], operation: { $0[0].repeatedAsRows(3).tanh() }),
    SecondOrderCase(name: "matmul", shapes: [[3, 4], [4, 5]], operation: { matmul($0[0], $0[1]).tanh() }),
    SecondOrderCase(name: "matmul AᵀBᵀ", shapes: [[4, 3], [5, 4]],
                    operation: { matmul($0[0], $0[1], transposeA: true, transposeB: true).tanh() }),
    SecondOrderCase(name: "matmul, constant A", shapes: [[3, 4], [4, 5]], constant: [0],
                    operation: { matmul($0[0], $0[1]).tanh() }),
    SecondOrderCase(name: "tanh", shapes: [[4, 3]], operation: { $0[0].tanh() }),
    SecondOrderCase(name: "sigmoid", shapes: [[4, 3]], operation: { $0[0].sigmoid() }),
    SecondOrderCase(name: "softsign", shapes: [[4, 3]], operation: { $0[0].softsign() }),
    SecondOrderCase(name: "softplus", shapes: [[4, 3]], operation: { $0[0].softplus() }),
    SecondOrderCase(name: "exp", shapes: [[6]], operation: { $0[0].exp() }),
    SecondOrderCase(name: "log", shapes: [[6]], operation: { ($0[0].squared() + 0.5).log() }),
    SecondOrderCase(name: "squareRoot", shapes: [[6]], operation: { ($0[0].squared() + 0.5).squareRoot() }),
    SecondOrderCase(name: "leaky ReLU", shapes: [[4, 3]], operation: { $0[0].leakyReLU(slope: 0.2).squared() }),
    SecondOrderCase(name: "relu", shapes: [[4, 3]], operation: { $0[0].relu() * $0[0] }),
    SecondOrderCase(name: "sum", shapes: [[3, 4]], operation: { $0[0].tanh().sum().squared() }),
    SecondOrderCase(name: "mean", shapes: [[3, 4]], operation: { $0[0].tanh().mean().squared() }),
    SecondOrderCase(name: "filled", shapes: [[1]], operation: { $0[0].filled([2, 3]).tanh() }),
    SecondOrderCase(name: "reshape", shapes: [[3, 4]], operation: { $0[0].reshaped([2, 6]).tanh() }),
    SecondOrderCase(name: "lerp", shapes: [[3, 4], [3, 4]], operation: { lerp($0[0], $0[1], t: 0.3).tanh() }),
    SecondOrderCase(name: "conv2d 3x3", shapes: [[2, 3, 5, 4], [2, 3, 3, 3]],
                    operation: { $0[0].conv2d($0[1], padding: 1).tanh() }),
    SecondOrderCase(name: "conv2d 4x4 stride 2", shapes: [[1, 2, 6, 5], [3, 2, 4, 4]],
                    operation: { $0[0].conv2d($0[1], stride: 2, padding: 1).tanh() }),
    SecondOrderCase(name: "conv2d, constant weight", shapes: [[2, 2, 4, 4], [2, 2, 3, 3]], constant: [1],
                    operation: { $0[0].conv2d($0[1], padding: 1).tanh() }),
    SecondOrderCase(name: "conv2d twice (input and weight gradients differentiated)", shapes: [[2, 2, 4, 4], [2, 2, 3, 3]],
                    operation: { x in
                        let tape = x[0].tape
                        let g = tape.gradients(of: x[0].conv2d(x[1], padding: 1).tanh().sum(), withRespectTo: x, createGraph: true)
                        return g[0].tanh().sum() + (g[1] * g[1]).sum()
                    }),
    SecondOrderCase(name: "channel bias", shapes: [[2, 3, 2, 2], [3]], operation: { $0[0].addingChannelBias($0[1]).tanh() }),
    SecondOrderCase(name: "sum over channels", shapes: [[2, 3, 2, 2]], operation: { $0[0].sumOverChannels().squared() }),
    SecondOrderCase(name: "upsample 2x", shapes: [[2, 2, 3, 3]], operation: { $0[0].upsampledNearest2x().tanh() }),
    SecondOrderCase(name: "average pool 2x2", shapes: [[2, 2, 4, 6]], operation: { $0[0].averagePooled2x2().tanh() }),
]

@Test("recorded pullbacks: Hessian-vector products match differences of gradients", arguments: secondOrderCases)
func hessianVectorProducts(_ testCase: SecondOrderCase) {
    let inputs = testCase.shapes.enumerated().map { k, shape in
        randomTensor(shape, seed: UInt64(41 + k), scale: 0.7).map { abs($0) < 0.1 ? $0 + 0.3 : $0 }
    }
    let result = checkSecondOrder(inputs, constant: testCase.constant, operation: testCase.operation)
    #expect(result.worst < 1e-2, "\(testCase.name): \(result)")
    // The recorded first-order gradients are the tensor ones, up to rounding.
    #expect(result.recordedGradients.allSatisfy { $0.maxRelative < 1e-4 }, "\(testCase.name): \(result)")
}

@Test func hessian_of_a_cubic_by_hand() {
    // f(x) = Σ x³: ∇f = 3x², H = diag(6x), H·v = 6 x v.
    let tape = Tape()
    let x = tape.variable(Tensor(shape: [3], scalars: [1, -2, 0.5]))
    let f = (x * x * x).sum()
    let g = tape.gradients(of: f, withRespectTo: [x], createGraph: true)[0]
    #expect(g.value.scalars == [3, 12, 0.75])
    let v = tape.constant(Tensor(shape: [3], scalars: [1, 1, 2]))
    let hv = tape.gradients(of: (g * v).sum(), withRespectTo: [x])[0]
    #expect(hv.scalars == [6, -12, 6])
}

@Test func gradients_skip_operations_off_the_path_to_the_variables_asked_for() {
    // The weight gradient of a convolution is not computed when only the
    // input's is asked for: the weight's pullback sees needsGradient false.
    let tape = Tape()
    let x = tape.variable(randomTensor([1, 1, 3, 3], seed: 1))
    let w = tape.variable(randomTensor([1, 1, 3, 3], seed: 2))
    var seen = [Bool]()
    let y = x.conv2d(w, padding: 1)
    let probe = tape.record(y.value, inputs: [y, w], name: "probe") { g in
        seen = [y.needsGradient, w.needsGradient]
        return [g, nil]
    }
    _ = tape.gradients(of: probe.sum(), withRespectTo: [x])
    #expect(seen == [true, false])
    // Outside a backward pass, needsGradient is requiresGradient.
    #expect(w.needsGradient)
}

/// A small convolutional critic: conv 3x3 → leaky ReLU → average pool →
/// minibatch stddev (groups of 2) → conv 3x3 → leaky ReLU → dense to one
/// score per sample. Also returns the
/// leaky ReLUs' inputs, whose signs pick the branch of the (piecewise
/// linear) activation.
func smallCritic(_ x: Variable, _ p: [Variable]) -> (score: Variable, preActivations: [Variable]) {
    let n = x.shape[0]
    let a1 = x.conv2d(p[0], padding: 1).addingChannelBias(p[1])
    let h = a1.leakyReLU(slope: 0.2).averagePooled2x2().minibatchStandardDeviation(groupSize: 2)
    let a2 = h.conv2d(p[2], padding: 1).addingChannelBias(p[3])
    let flat = a2.leakyReLU(slope: 0.2).reshaped([n, a2.value.count / n])
    return (matmul(flat, p[4]).addingRowVector(p[5]), [a1, a2])
}

/// The WGAN-GP penalty mean((‖∇ₓD(x̂)‖ - 1)²) with its recorded gradient.
func gradientPenalty(_ xHat: Tensor, _ parameters: [Tensor], tape: Tape) -> (penalty: Variable, parameters: [Variable]) {
    let p = parameters.map { tape.variable($0) }
    let x = tape.variable(xHat)
    let score = smallCritic(x, p).score.sum()
    let g = tape.gradients(of: score, withRespectTo: [x], createGraph: true)[0]
    let n = xHat.shape[0]
    let perSample = matmul(g.squared().reshaped([n, xHat.count / n]), tape.constant(Tensor.ones([xHat.count / n, 1])))
    let norm = (perSample + 1e-12).squareRoot()
    return ((norm + -1).squared().mean(), p)
}

@Test func wgan_gp_penalty_gradient_matches_finite_differences() {
    let xHat = randomTensor([4, 2, 4, 4], seed: 11)
    let shapes = [[3, 2, 3, 3], [3], [2, 4, 3, 3], [2], [8, 1], [1]]
    let parameters = shapes.enumerated().map { randomTensor($1, seed: UInt64(60 + $0), scale: 0.6) }
    let tape = Tape()
    let (penalty, variables) = gradientPenalty(xHat, parameters, tape: tape)
    let analytic = tape.gradients(of: penalty, withRespectTo: variables)
    // The penalty from first-order gradients only, in Float, with the
    // branches its leaky ReLUs took.
    func value(_ parameters: [Tensor]) -> (penalty: Double, branches: [Bool]) {
        let tape = Tape()
        let p = parameters.map { tape.constant($0) }
        let x = tape.variable(xHat)
        let critic = smallCritic(x, p)
        let g = tape.gradients(of: critic.score.sum(), withRespectTo: [x])[0]
        let n = xHat.shape[0], per = xHat.count / n
        var total = 0.0
        for s in 0..<n {
            let norm = (g.scalars[(s * per)..<((s + 1) * per)].reduce(0.0) { $0 + Double($1) * Double($1) } + 1e-12).squareRoot()
            total += (norm - 1) * (norm - 1)
        }
        return (total / Double(n), critic.preActivations.flatMap { $0.value.scalars.map { $0 > 0 } })
    }
    let center = value(parameters)
    #expect(abs(center.penalty - Double(penalty.value.scalar)) < 1e-5)
    // The penalty jumps where a leaky ReLU changes branch (its gradient
    // does); directional differences are taken along directions whose
    // ±h steps stay on the branches of the centre.
    var rng = RandomGenerator(seed: 5)
    var checked = 0, attempts = 0
    while checked < 4 && attempts < 100 {
        attempts += 1
        let direction = shapes.map { shape in Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.normal()) }) }
        let h: Float = 2e-3
        func moved(_ sign: Float) -> [Tensor] {
            zip(parameters, direction).map { p, d in var p = p; p.addScaled(d, by: sign * h); return p }
        }
        let (plus, minus) = (value(moved(1)), value(moved(-1)))
        guard plus.branches == center.branches && minus.branches == center.branches else { continue }
        checked += 1
        let numeric = (plus.penalty - minus.penalty) / Double(2 * h)
        let exact = zip(analytic, direction).reduce(0.0) { sum, pair in
            sum + zip(pair.0.scalars, pair.1.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        #expect(abs(numeric - exact) < 2e-3 * max(1, abs(exact)), "directional derivative \(exact) vs \(numeric)")
    }
    #expect(checked == 4, "only \(checked) of \(attempts) directions kept every branch")
    // The critic's first-layer weights really receive a penalty gradient.
    #expect(analytic[0].norm() > 1e-3)
}
