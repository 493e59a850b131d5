// Every differentiable operation's VJP against central finite differences
// of a naive Double reference.

import Autodiff
import Foundation
import Tensors
import Testing
import TestSupport

/// A named operation with its Double reference and input shapes.
struct OperationCase: CustomStringConvertible, Sendable {
    var name: String
    var shapes: [[Int]]
    var operation: @Sendable ([Variable]) -> Variable
    var reference: @Sendable ([[Double]]) -> [Double]
    /// Coordinates checked per input (nil: all).
    var coordinates: Int? = nil
    var description: String { name }
}

/// Reference matrix product of row-major [m, k] and [k, n] in Double.
func naiveMatmul(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { for p in 0..<k { c[i * n + j] += a[i * k + p] * b[p * n + j] } } }
    return c
}

func naiveTranspose(_ a: [Double], rows: Int, columns: Int) -> [Double] {
    var t = [Double](repeating: 0, count: a.count)
    for i in 0..<rows { for j in 0..<columns { t[j * rows + i] = a[i * columns + j] } }
    return t
}

let operationCases: [OperationCase] = [
    OperationCase(name: "add", shapes: [[3, 4], [3, 4]], operation: { $0[0] + $0[1] },
                  reference: { zip($0[0], $0[1]).map(+) }),
    OperationCase(name: "subtract", shapes: [[3, 4], [3, 4]], operation: { $0[0] - $0[1] },
                  reference: { zip($0[0], $0[1]).map(-) }),
    OperationCase(name: "multiply", shapes: [[3, 4], [3, 4]], operation: { $0[0] * $0[1] },
                  reference: { zip($0[0], $0[1]).map(*) }),
    OperationCase(name: "scale", shapes: [[5]], operation: { 2.5 * $0[0] }, reference: { $0[0].map { 2.5 * $0 } }),
    OperationCase(name: "add constant", shapes: [[5]], operation: { $0[0] + 1.5 }, reference: { $0[0].map { $0 + 1.5 } }),
    OperationCase(name: "addingRowVector", shapes: [[3, 4], [4]], operation: { $0[0].addingRowVector($0[1]) },
                  reference: { x in (0..<12).map { x[0][$0] + x[1][$0 % 4] } }),
    OperationCase(name: "matmul", shapes: [[3, 4], [4, 5]], operation: { matmul($0[0], $0[1]) },
                  reference: { naiveMatmul($0[0], $0[1], m: 3, k: 4, n: 5) }),
    OperationCase(name: "matmul Aᵀ", shapes: [[4, 3], [4, 5]], operation: { matmul($0[0], $0[1], transposeA: true) },
                  reference: { naiveMatmul(naiveTranspose($0[0], rows: 4, columns: 3), $0[1], m: 3, k: 4, n: 5) }),
    OperationCase(name: "matmul Bᵀ", shapes: [[3, 4], [5, 4]], operation: { matmul($0[0], $0[1], transposeB: true) },
                  reference: { naiveMatmul($0[0], naiveTranspose($0[1], rows: 5, columns: 4), m: 3, k: 4, n: 5) }),
    OperationCase(name: "matmul AᵀBᵀ", shapes: [[4, 3], [5, 4]],
                  operation: { matmul($0[0], $0[1], transposeA: true, transposeB: true) },
                  reference: { naiveMatmul(naiveTranspose($0[0], rows: 4, columns: 3),
                                           naiveTranspose($0[1], rows: 5, columns: 4), m: 3, k: 4, n: 5) }),
    OperationCase(name: "matmul large (BLAS path)", shapes: [[100, 80], [80, 90]], operation: { matmul($0[0], $0[1]) },
                  reference: { naiveMatmul($0[0], $0[1], m: 100, k: 80, n: 90) }, coordinates: 24),
    OperationCase(name: "tanh", shapes: [[4, 3]], operation: { $0[0].tanh() }, reference: { $0[0].map { Foundation.tanh($0) } }),
    OperationCase(name: "relu", shapes: [[4, 3]], operation: { $0[0].relu() }, reference: { $0[0].map { max($0, 0) } }),
    OperationCase(name: "sigmoid", shapes: [[4, 3]], operation: { $0[0].sigmoid() },
                  reference: { $0[0].map { 1 / (1 + Foundation.exp(-$0)) } }),
    OperationCase(name: "softsign", shapes: [[4, 3]], operation: { $0[0].softsign() },
                  reference: { $0[0].map { $0 / (1 + abs($0)) } }),
    OperationCase(name: "softplus", shapes: [[4, 3]], operation: { $0[0].softplus() },
                  reference: { $0[0].map { Foundation.log1p(Foundation.exp($0)) } }),
    OperationCase(name: "exp", shapes: [[6]], operation: { $0[0].exp() }, reference: { $0[0].map { Foundation.exp($0) } }),
    OperationCase(name: "squared", shapes: [[6]], operation: { $0[0].squared() }, reference: { $0[0].map { $0 * $0 } }),
    OperationCase(name: "sum", shapes: [[3, 4]], operation: { $0[0].sum() }, reference: { [$0[0].reduce(0, +)] }),
    OperationCase(name: "mean", shapes: [[3, 4]], operation: { $0[0].mean() },
                  reference: { [$0[0].reduce(0, +) / 12] }),
    OperationCase(name: "reshape", shapes: [[3, 4]], operation: { $0[0].reshaped([2, 6]).tanh() },
                  reference: { $0[0].map { Foundation.tanh($0) } }),
    OperationCase(name: "composition (shared input)", shapes: [[3, 3]],
                  operation: { ($0[0] * $0[0].tanh()) + $0[0] },
                  reference: { $0[0].map { $0 * Foundation.tanh($0) + $0 } }),
]

@Test("VJP matches central finite differences", arguments: operationCases)
func vjpMatchesFiniteDifferences(_ testCase: OperationCase) {
    // ReLU's kink: keep inputs away from 0 so that the finite difference is defined.
    let inputs = testCase.shapes.enumerated().map { k, shape in
        randomTensor(shape, seed: UInt64(17 + k)).map { abs($0) < 0.05 ? $0 + 0.2 : $0 }
    }
    let result = checkGradients(inputs, coordinates: testCase.coordinates, operation: testCase.operation, reference: testCase.reference)
    #expect(result.worst < 2e-3, "\(testCase.name): \(result)")
}

@Test func log_vjp_on_positive_inputs() {
    let x = randomTensor([6], seed: 3).map { abs($0) + 0.5 }
    let result = checkGradients([x], operation: { $0[0].log() }, reference: { $0[0].map { Foundation.log($0) } })
    #expect(result.worst < 2e-3, "\(result)")
}

@Test func gradient_of_unused_variable_is_zero() {
    let tape = Tape()
    let a = tape.variable(Tensor(shape: [2], scalars: [1, 2]))
    let b = tape.variable(Tensor(shape: [3], scalars: [1, 2, 3]))
    let y = (a * a).sum()
    let grads = tape.gradients(of: y, withRespectTo: [a, b])
    #expect(grads[0].scalars == [2, 4])
    #expect(grads[1].scalars == [0, 0, 0])
}

@Test func constants_receive_no_gradient_and_skip_work() {
    let tape = Tape()
    let x = tape.constant(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
    let w = tape.variable(Tensor(shape: [2, 2], scalars: [1, 0, 0, 1]))
    var pullbackInputsNeeded = [Bool]()
    let y = tape.record(Tensor.matmul(x.value, w.value), inputs: [x, w]) { g in
        pullbackInputsNeeded = [x.requiresGradient, w.requiresGradient]
        return [nil, Tensor.matmul(x.value, g, transposeA: true)]
    }
    let grads = tape.gradients(of: y.sum(), withRespectTo: [w])
    #expect(pullbackInputsNeeded == [false, true])
    // d/dW sum(X W) = Xᵀ 1 = column sums of X broadcast: [[4, 4], [6, 6]].
    #expect(grads[0].scalars == [4, 4, 6, 6])
}

@Test func gradients_accumulate_over_fan_out() {
    // y = x·x + 3x at x = 2: dy/dx = 2x + 3 = 7.
    let tape = Tape()
    let x = tape.variable(Tensor(shape: [1], scalars: [2]))
    let y = (x * x + 3 * x).sum()
    #expect(tape.gradients(of: y, withRespectTo: [x])[0].scalars == [7])
}

@Test func a_tape_is_freed_after_its_step() {
    // Pullbacks capture variables; variables must not keep their tape alive.
    weak var released: Tape?
    do {
        let tape = Tape()
        released = tape
        let x = tape.variable(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]))
        let loss = (matmul(x, x).tanh() * x).sum()
        _ = tape.gradients(of: loss, withRespectTo: [x])
    }
    #expect(released == nil)
}

@Test func a_tape_is_freed_after_a_step_through_every_kind_of_operation() {
    // Pullbacks, recorded pullbacks and kept outputs must not hold the tape,
    // first- and second-order passes alike.
    weak var released: Tape?
    do {
        let tape = Tape()
        released = tape
        let x = tape.variable(randomTensor([4, 2, 4, 4], seed: 1))
        _ = x.sumOverChannels()
        let w = tape.variable(randomTensor([3, 2, 3, 3], seed: 2))
        let gamma = tape.variable(Tensor.ones([4])), beta = tape.variable(Tensor.zeros([4]))
        var h = x.conv2d(w, padding: 1).addingChannelBias(w.sum(alongAxis: 3).sum(alongAxis: 2).sum(alongAxis: 1)).leakyReLU(slope: 0.2)
        h = h.averagePooled2x2().upsampledNearest2x().pixelNormalized().minibatchStandardDeviation(groupSize: 2)
        let rows = h.reshaped([16, 16]).slice(axis: 1, range: 0..<4).layerNormalized(scale: gamma, offset: beta)
        let y = rows.softmax().max(alongAxis: 1).sum() + rows.split(sizes: [1, 3], axis: 1)[1].sum()
            + rows.gatherRows([0, 2]).scatterAddedRows(indices: [1, 1], rowCount: 3).sum()
        let g = tape.gradients(of: y, withRespectTo: [x, w], createGraph: true)
        _ = tape.gradients(of: (g[0] * g[0]).sum() + g[1].sum(), withRespectTo: [w])
    }
    #expect(released == nil)
}
