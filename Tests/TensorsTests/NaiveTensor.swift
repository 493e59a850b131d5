// Index-by-index reference implementations for the shape, broadcasting and
// reduction tests: every element is found through its full multi-index, with
// none of the strides, merged axes or contiguous runs of the library code.

import Tensors

/// The multi-index of row-major position `flat` in `shape`.
func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
    var index = [Int](repeating: 0, count: shape.count)
    var rest = flat
    for axis in shape.indices.reversed() {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return index
}

/// The row-major position of `index` in `shape`.
func flatIndex(_ index: [Int], _ shape: [Int]) -> Int {
    var flat = 0
    for (i, n) in zip(index, shape) { flat = flat * n + i }
    return flat
}

func naivePermuted(_ x: Tensor, _ axes: [Int]) -> Tensor {
    let shape = axes.map { x.shape[$0] }
    var out = [Float](repeating: .nan, count: x.count)
    for o in out.indices {
        let index = multiIndex(o, shape)
        var source = [Int](repeating: 0, count: x.rank)
        for i in axes.indices { source[axes[i]] = index[i] }
        out[o] = x.scalars[flatIndex(source, x.shape)]
    }
    return Tensor(shape: shape, scalars: out)
}

/// The element of `x` that broadcasting reads for `index` of `shape`.
func broadcastElement(_ x: Tensor, _ index: [Int], _ shape: [Int]) -> Float {
    let pad = shape.count - x.rank
    let source = x.shape.indices.map { x.shape[$0] == 1 ? 0 : index[$0 + pad] }
    return x.scalars[flatIndex(source, x.shape)]
}

func naiveBroadcast(_ a: Tensor, _ b: Tensor, _ shape: [Int], _ op: (Float, Float) -> Float) -> Tensor {
    let count = shape.reduce(1, *)
    return Tensor(shape: shape, scalars: (0..<count).map { o in
        let index = multiIndex(o, shape)
        return op(broadcastElement(a, index, shape), broadcastElement(b, index, shape))
    })
}

/// Sum (in Double), max and argmax along `axis` by walking the axis for
/// each output index; the output keeps the axis with extent 1.
func naiveReduce(_ x: Tensor, axis: Int) -> (sum: [Double], max: [Float], argmax: [Int]) {
    var shape = x.shape
    let n = shape[axis]
    shape[axis] = 1
    let count = shape.reduce(1, *)
    var sums = [Double](), maxima = [Float](), positions = [Int]()
    for o in 0..<count {
        var index = multiIndex(o, shape)
        var s = 0.0, best = -Float.infinity, at = -1
        for j in 0..<n {
            index[axis] = j
            let v = x.scalars[flatIndex(index, x.shape)]
            s += Double(v)
            if at < 0 || v > best { best = v; at = j }
        }
        sums.append(s)
        maxima.append(best)
        positions.append(at)
    }
    return (sums, maxima, positions)
}

/// ⟨x, y⟩ in Double.
func dot(_ x: Tensor, _ y: Tensor) -> Double {
    precondition(x.count == y.count)
    return zip(x.scalars, y.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
}
