// Broadcasting, axis reductions, permutation, slicing, gather/scatter, the
// batched product, softmax, layer norm, pixel norm, the minibatch standard
// deviation and dropout: VJPs against finite differences of naive Double
// code, and their recorded pullbacks through Hessian-vector products.

import Autodiff
import Foundation
import Tensors
import Testing
import TestSupport

/// Row-major strides of a shape.
func strides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    for i in stride(from: shape.count - 2, through: 0, by: -1) { s[i] = s[i + 1] * shape[i + 1] }
    return s
}

/// The multi-index of flat offset `i` in `shape`.
func multiIndex(_ i: Int, _ shape: [Int]) -> [Int] {
    zip(strides(shape), shape).map { (i / $0) % $1 }
}

/// a ⊕ b under NumPy broadcasting, naively.
func naiveBroadcast(_ a: [Double], _ sa: [Int], _ b: [Double], _ sb: [Int], _ op: (Double, Double) -> Double) -> [Double] {
    let shape = Tensor.broadcastShape(sa, sb)!
    func offset(_ index: [Int], _ s: [Int]) -> Int {
        let pad = index.count - s.count
        return zip(s.indices, strides(s)).reduce(0) { $0 + (s[$1.0] == 1 ? 0 : index[pad + $1.0]) * $1.1 }
    }
    return (0..<shape.reduce(1, *)).map { i in
        let index = multiIndex(i, shape)
        return op(a[offset(index, sa)], b[offset(index, sb)])
    }
}

/// The reduction of `x` along `axis` by `combine`, naively.
func naiveReduce(_ x: [Double], _ shape: [Int], axis: Int, _ combine: ([Double]) -> Double) -> [Double] {
    var out = shape
    out.remove(at: axis)
    return (0..<out.reduce(1, *)).map { i in
        var index = multiIndex(i, out)
        index.insert(0, at: axis)
        return combine((0..<shape[axis]).map { k in
            index[axis] = k
            return x[zip(index, strides(shape)).reduce(0) { $0 + $1.0 * $1.1 }]
        })
    }
}

func naivePermute(_ x: [Double], _ shape: [Int], _ axes: [Int]) -> [Double] {
    let out = axes.map { shape[$0] }
    return (0..<x.count).map { i in
        let index = multiIndex(i, out)
        var source = [Int](repeating: 0, count: shape.count)
        for (k, a) in axes.enumerated() { source[a] = index[k] }
        return x[zip(source, strides(shape)).reduce(0) { $0 + $1.0 * $1.1 }]
    }
}

func naiveSoftmaxRows(_ z: [Double], d: Int) -> [Double] {
    stride(from: 0, to: z.count, by: d).flatMap { r -> [Double] in
        let row = Array(z[r..<(r + d)]), m = row.max()!
        let e = row.map { Foundation.exp($0 - m) }, s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}

func naiveLayerNorm(_ x: [Double], _ g: [Double], _ b: [Double], d: Int, epsilon: Double) -> [Double] {
    stride(from: 0, to: x.count, by: d).flatMap { r -> [Double] in
        let row = Array(x[r..<(r + d)])
        let mean = row.reduce(0, +) / Double(d)
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d)
        return (0..<d).map { (row[$0] - mean) / (variance + epsilon).squareRoot() * g[$0] + b[$0] }
    }
}

func naivePixelNorm(_ x: [Double], n: Int, c: Int, plane: Int) -> [Double] {
    var y = x
    for s in 0..<n { for p in 0..<plane {
        let ms = (0..<c).map { x[(s * c + $0) * plane + p] }.map { $0 * $0 }.reduce(0, +) / Double(c)
        for ch in 0..<c { y[(s * c + ch) * plane + p] = x[(s * c + ch) * plane + p] / (ms + 1e-8).squareRoot() }
    } }
    return y
}

/// Karras et al.'s minibatch stddev, by its definition, on flat NCHW.
func naiveMinibatchStddev(_ x: [Double], n: Int, c: Int, h: Int, w: Int, group: Int) -> [Double] {
    let m = n / group, plane = h * w, features = c * plane
    var perGroup = [Double](repeating: 0, count: m)
    for g in 0..<m {
        var total = 0.0
        for f in 0..<features {
            let members = (0..<group).map { x[($0 * m + g) * features + f] }
            let mean = members.reduce(0, +) / Double(group)
            let variance = members.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(group)
            total += (variance + 1e-8).squareRoot()
        }
        perGroup[g] = total / Double(features)
    }
    var y = [Double]()
    for s in 0..<n {
        y += x[(s * features)..<((s + 1) * features)]
        y += [Double](repeating: perGroup[s % m], count: plane)
    }
    return y
}

let causalMask: Tensor = {
    var mask = Tensor.zeros([3, 4])
    for i in 0..<3 { for j in 0..<4 where j > i { mask[i, j] = -1e9 } }
    return mask
}()

/// Elements 1..<4 along axis 1 of [2, 5, 3].
func naiveSlice(_ x: [Double]) -> [Double] {
    var y = [Double]()
    for a in 0..<2 { for b in 1..<4 { for c in 0..<3 { y.append(x[(a * 5 + b) * 3 + c]) } } }
    return y
}

/// [2, 2] and [2, 3] joined along axis 1.
func naiveConcatenate(_ a: [Double], _ b: [Double]) -> [Double] {
    var y = [Double]()
    for r in 0..<2 { y += a[(2 * r)..<(2 * r + 2)]; y += b[(3 * r)..<(3 * r + 3)] }
    return y
}

func naiveGather(_ x: [Double], _ rows: [Int], width: Int) -> [Double] {
    var y = [Double]()
    for r in rows { y += x[(r * width)..<((r + 1) * width)] }
    return y
}

/// [2, 3, 4] x [2, 4, 5].
func naiveBatchedMatmul(_ a: [Double], _ b: [Double]) -> [Double] {
    var y = [Double]()
    for i in 0..<2 { y += naiveMatmul(Array(a[(12 * i)..<(12 * i + 12)]), Array(b[(20 * i)..<(20 * i + 20)]), m: 3, k: 4, n: 5) }
    return y
}

let shapeCases: [OperationCase] = [
    OperationCase(name: "add broadcast [2,3,4] + [4]", shapes: [[2, 3, 4], [4]], operation: { $0[0] + $0[1] },
                  reference: { naiveBroadcast($0[0], [2, 3, 4], $0[1], [4], +) }),
    OperationCase(name: "multiply broadcast [2,1,4] * [3,1]", shapes: [[2, 1, 4], [3, 1]], operation: { $0[0] * $0[1] },
                  reference: { naiveBroadcast($0[0], [2, 1, 4], $0[1], [3, 1], *) }),
    OperationCase(name: "subtract broadcast [] - [2,3]", shapes: [[], [2, 3]], operation: { $0[0] - $0[1] },
                  reference: { naiveBroadcast($0[0], [], $0[1], [2, 3], -) }),
    OperationCase(name: "divide broadcast [3,2] / [1,2]", shapes: [[3, 2], [1, 2]],
                  operation: { $0[0] / ($0[1].squared() + 1) },
                  reference: { naiveBroadcast($0[0], [3, 2], $0[1].map { $0 * $0 + 1 }, [1, 2], /) }),
    OperationCase(name: "broadcasted(to:)", shapes: [[3, 1]], operation: { $0[0].broadcasted(to: [2, 3, 4]) },
                  reference: { naiveBroadcast([Double](repeating: 0, count: 24), [2, 3, 4], $0[0], [3, 1], +) }),
    OperationCase(name: "sum along axis 1", shapes: [[2, 3, 5]], operation: { $0[0].sum(alongAxis: 1) },
                  reference: { naiveReduce($0[0], [2, 3, 5], axis: 1) { $0.reduce(0, +) } }),
    OperationCase(name: "mean along axis -1, kept", shapes: [[3, 1, 4]], operation: { $0[0].mean(alongAxis: -1, keepingDimension: true) },
                  reference: { naiveReduce($0[0], [3, 1, 4], axis: 2) { $0.reduce(0, +) / 4 } }),
    OperationCase(name: "max along axis 0", shapes: [[4, 3]], operation: { $0[0].max(alongAxis: 0) },
                  reference: { naiveReduce($0[0], [4, 3], axis: 0) { $0.max()! } }),
    OperationCase(name: "permute [2,0,1]", shapes: [[2, 3, 5]], operation: { $0[0].permuted([2, 0, 1]) },
                  reference: { naivePermute($0[0], [2, 3, 5], [2, 0, 1]) }),
    OperationCase(name: "permute NCHW to NHWC", shapes: [[2, 3, 2, 5]], operation: { $0[0].permuted([0, 2, 3, 1]) },
                  reference: { naivePermute($0[0], [2, 3, 2, 5], [0, 2, 3, 1]) }),
    OperationCase(name: "slice axis 1", shapes: [[2, 5, 3]], operation: { $0[0].slice(axis: 1, range: 1..<4) },
                  reference: { x in naiveSlice(x[0]) }),
    OperationCase(name: "concatenate axis 1", shapes: [[2, 2], [2, 3]],
                  operation: { Variable.concatenate([$0[0], $0[1]], axis: 1) },
                  reference: { x in naiveConcatenate(x[0], x[1]) }),
    OperationCase(name: "gather rows (repeated)", shapes: [[5, 3]], operation: { $0[0].gatherRows([1, 4, 1, 0]) },
                  reference: { x in naiveGather(x[0], [1, 4, 1, 0], width: 3) }),
    OperationCase(name: "scatter-add rows", shapes: [[4, 2]], operation: { $0[0].scatterAddedRows(indices: [2, 0, 2, 1], rowCount: 3) },
                  reference: { x in
                      var y = [Double](repeating: 0, count: 6)
                      for (i, r) in [2, 0, 2, 1].enumerated() { y[2 * r] += x[0][2 * i]; y[2 * r + 1] += x[0][2 * i + 1] }
                      return y
                  }),
    OperationCase(name: "batched matmul", shapes: [[2, 3, 4], [2, 4, 5]], operation: { batchedMatmul($0[0], $0[1]) },
                  reference: { x in naiveBatchedMatmul(x[0], x[1]) }),
    OperationCase(name: "batched matmul AᵀBᵀ, batch 1", shapes: [[1, 4, 3], [1, 5, 4]],
                  operation: { batchedMatmul($0[0], $0[1], transposeA: true, transposeB: true) },
                  reference: { x in naiveMatmul(naiveTranspose(x[0], rows: 4, columns: 3), naiveTranspose(x[1], rows: 5, columns: 4),
                                                m: 3, k: 4, n: 5) }),
    OperationCase(name: "softmax last axis", shapes: [[2, 3, 4]], operation: { $0[0].softmax() },
                  reference: { naiveSoftmaxRows($0[0], d: 4) }),
    OperationCase(name: "softmax with causal mask", shapes: [[2, 3, 4]], operation: { $0[0].softmax(additiveMask: causalMask) },
                  reference: { naiveSoftmaxRows(naiveBroadcast($0[0], [2, 3, 4], causalMask.scalars.map(Double.init), [3, 4], +), d: 4) }),
    OperationCase(name: "layer norm", shapes: [[3, 5], [5], [5]],
                  operation: { $0[0].layerNormalized(scale: $0[1], offset: $0[2]) },
                  reference: { naiveLayerNorm($0[0], $0[1], $0[2], d: 5, epsilon: 1e-5) }),
    OperationCase(name: "layer norm, rank 3, odd width", shapes: [[2, 1, 7], [7], [7]],
                  operation: { $0[0].layerNormalized(scale: $0[1], offset: $0[2]) },
                  reference: { naiveLayerNorm($0[0], $0[1], $0[2], d: 7, epsilon: 1e-5) }),
    OperationCase(name: "pixel norm NCHW", shapes: [[2, 3, 2, 2]], operation: { $0[0].pixelNormalized() },
                  reference: { naivePixelNorm($0[0], n: 2, c: 3, plane: 4) }),
    OperationCase(name: "pixel norm latent [N, C]", shapes: [[1, 5]], operation: { $0[0].pixelNormalized() },
                  reference: { naivePixelNorm($0[0], n: 1, c: 5, plane: 1) }),
    OperationCase(name: "minibatch stddev, groups of 2", shapes: [[4, 2, 2, 3]],
                  operation: { $0[0].minibatchStandardDeviation(groupSize: 2) },
                  reference: { naiveMinibatchStddev($0[0], n: 4, c: 2, h: 2, w: 3, group: 2) }),
    OperationCase(name: "minibatch stddev, one group of 3", shapes: [[3, 1, 2, 2]],
                  operation: { $0[0].minibatchStandardDeviation(groupSize: 3) },
                  reference: { naiveMinibatchStddev($0[0], n: 3, c: 1, h: 2, w: 2, group: 3) }),
    OperationCase(name: "dropout 0.3 (seeded)", shapes: [[4, 5]],
                  operation: { var rng = RandomGenerator(seed: 9); return $0[0].dropout(rate: 0.3, rng: &rng) },
                  reference: { x in
                      var rng = RandomGenerator(seed: 9)
                      return x[0].map { rng.nextDouble() >= 0.3 ? $0 / 0.7 : 0 }
                  }),
]

@Test("shape and sequence VJPs match central finite differences", arguments: shapeCases)
func shapeAndSequenceVJP(_ testCase: OperationCase) {
    let inputs = testCase.shapes.enumerated().map { randomTensor($1, seed: UInt64(71 + $0)) }
    let result = checkGradients(inputs, operation: testCase.operation, reference: testCase.reference)
    #expect(result.worst < 2e-3, "\(testCase.name): \(result)")
}

let shapeSecondOrderCases: [SecondOrderCase] = [
    SecondOrderCase(name: "broadcast multiply", shapes: [[2, 1, 4], [3, 1]], operation: { ($0[0] * $0[1]).tanh() }),
    SecondOrderCase(name: "broadcast divide", shapes: [[3, 2], [2]], operation: { $0[0] / ($0[1].squared() + 1) }),
    SecondOrderCase(name: "sum and mean along axes", shapes: [[2, 3, 4]],
                    operation: { $0[0].tanh().sum(alongAxis: 1).squared().mean(alongAxis: -1, keepingDimension: true) }),
    SecondOrderCase(name: "max along axis", shapes: [[4, 3]], operation: { $0[0].max(alongAxis: 1).squared() }),
    SecondOrderCase(name: "permute", shapes: [[2, 3, 4]], operation: { $0[0].permuted([1, 2, 0]).tanh() }),
    SecondOrderCase(name: "slice and concatenate", shapes: [[2, 5], [2, 2]],
                    operation: { Variable.concatenate([$0[0].slice(axis: 1, range: 1..<4), $0[1]], axis: 1).tanh() }),
    SecondOrderCase(name: "gather and scatter", shapes: [[4, 3]],
                    operation: { $0[0].gatherRows([3, 0, 3]).tanh().scatterAddedRows(indices: [1, 1, 0], rowCount: 2).squared() }),
    SecondOrderCase(name: "batched matmul", shapes: [[2, 3, 4], [2, 4, 2]], operation: { batchedMatmul($0[0], $0[1]).tanh() }),
    SecondOrderCase(name: "softmax with mask", shapes: [[2, 3, 4]], operation: { $0[0].softmax(additiveMask: causalMask) }),
    SecondOrderCase(name: "layer norm", shapes: [[3, 5], [5], [5]],
                    operation: { $0[0].layerNormalized(scale: $0[1], offset: $0[2]).tanh() }),
    SecondOrderCase(name: "pixel norm", shapes: [[2, 3, 2, 2]], operation: { $0[0].pixelNormalized().tanh() }),
    SecondOrderCase(name: "minibatch stddev", shapes: [[4, 2, 2, 2]],
                    operation: { $0[0].minibatchStandardDeviation(groupSize: 2).tanh() }),
]

@Test("shape and sequence recorded pullbacks: Hessian-vector products", arguments: shapeSecondOrderCases)
func shapeAndSequenceSecondOrder(_ testCase: SecondOrderCase) {
    let inputs = testCase.shapes.enumerated().map { k, shape in randomTensor(shape, seed: UInt64(81 + k), scale: 0.8) }
    let result = checkSecondOrder(inputs, constant: testCase.constant, operation: testCase.operation)
    #expect(result.worst < 1e-2, "\(testCase.name): \(result)")
    #expect(result.recordedGradients.allSatisfy { $0.maxRelative < 1e-4 }, "\(testCase.name): \(result)")
}

@Test func softmax_rows_sum_to_one_and_the_mask_removes_entries() {
    let tape = Tape()
    let x = tape.variable(randomTensor([2, 3, 4], seed: 3))
    let y = x.softmax(additiveMask: causalMask).value
    for r in 0..<6 {
        let row = y.scalars[(4 * r)..<(4 * r + 4)]
        #expect(abs(row.reduce(0, +) - 1) < 1e-6)
        for j in 0..<4 where j > r % 3 { #expect(row[4 * r + j] == 0) }
    }
}

@Test func dropout_is_seeded_and_keeps_the_mean() {
    let x = Tensor.ones([100, 100])
    let tape = Tape()
    var a = RandomGenerator(seed: 4), b = RandomGenerator(seed: 4)
    let v = tape.constant(x)
    let ya = v.dropout(rate: 0.25, rng: &a).value, yb = v.dropout(rate: 0.25, rng: &b).value
    #expect(ya == yb)
    let kept = ya.scalars.filter { $0 != 0 }.count
    #expect(abs(Double(kept) / 10_000 - 0.75) < 0.02)
    #expect(abs(Double(ya.mean()) - 1) < 0.03)
}
