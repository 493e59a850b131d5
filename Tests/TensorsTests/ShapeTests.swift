// Axis permutation, concatenation, splitting, slicing and scatter-add: by
// hand, against the index-by-index references, and as round trips.

import Tensors
import Testing
import TestSupport

@Test func permuted_by_hand() {
    let a = Tensor(rows: [[1, 2, 3], [4, 5, 6]])
    #expect(a.permuted([1, 0]) == a.transposed())
    #expect(a.permuted([0, 1]) == a)
    #expect(a.permuted([-1, -2]) == a.transposed())
    // [2, 2, 2]: x[i, j, k] = 4i + 2j + k; swapping the last two axes.
    let b = Tensor(shape: [2, 2, 2], scalars: (0..<8).map(Float.init))
    #expect(b.permuted([0, 2, 1]).scalars == [0, 2, 1, 3, 4, 6, 5, 7])
    #expect(b.permuted([2, 0, 1]).scalars == [0, 2, 4, 6, 1, 3, 5, 7])
    // Moving only axes of extent 1 keeps the order.
    let c = Tensor(shape: [1, 3, 1], scalars: [1, 2, 3])
    #expect(c.permuted([2, 1, 0]) == Tensor(shape: [1, 3, 1], scalars: [1, 2, 3]))
    #expect(c.permuted([1, 0, 2]).shape == [3, 1, 1])
    #expect(Tensor(5).permuted([]) == Tensor(5))
}

/// The permutations of 0..<n, in lexicographic order.
func allPermutations(_ n: Int) -> [[Int]] {
    if n == 0 { return [[]] }
    return allPermutations(n - 1).flatMap { p in (0...p.count).map { i in
        var q = p
        q.insert(n - 1, at: i)
        return q
    } }
}

func inverse(_ p: [Int]) -> [Int] {
    var q = [Int](repeating: 0, count: p.count)
    for (i, a) in p.enumerated() { q[a] = i }
    return q
}

@Test(arguments: [[3, 5, 7], [1, 4, 3], [7, 1, 9], [2, 3, 5, 7], [3, 1, 5, 1], [5, 33, 2, 37], [2, 3, 37, 35]])
func permuted_matches_naive_and_inverts(_ shape: [Int]) {
    let x = randomTensor(shape, seed: UInt64(shape.reduce(0, +)))
    for axes in allPermutations(shape.count) {
        let y = x.permuted(axes)
        #expect(y == naivePermuted(x, axes), "\(shape) permuted \(axes)")
        #expect(y.permuted(inverse(axes)) == x, "\(shape) round trip \(axes)")
    }
}

@Test func nchw_nhwc_round_trip() {
    let x = randomTensor([3, 5, 17, 19], seed: 4)
    let nhwc = x.permuted([0, 2, 3, 1])
    #expect(nhwc.shape == [3, 17, 19, 5])
    #expect(nhwc[2, 16, 3, 4] == x[2, 4, 16, 3])
    #expect(nhwc == naivePermuted(x, [0, 2, 3, 1]))
    #expect(nhwc.permuted([0, 3, 1, 2]) == x)
}

@Test func concatenate_split_and_slice_by_hand() {
    let a = Tensor(rows: [[1, 2], [3, 4]])
    let b = Tensor(rows: [[5, 6]])
    let c = Tensor(rows: [[7], [8]])
    #expect(Tensor.concatenate([a, b], axis: 0) == Tensor(rows: [[1, 2], [3, 4], [5, 6]]))
    #expect(Tensor.concatenate([a, c], axis: 1) == Tensor(rows: [[1, 2, 7], [3, 4, 8]]))
    #expect(Tensor.concatenate([a, c], axis: -1) == Tensor(rows: [[1, 2, 7], [3, 4, 8]]))
    let parts = Tensor(rows: [[1, 2, 7], [3, 4, 8]]).split(sizes: [2, 0, 1], axis: 1)
    #expect(parts.map(\.shape) == [[2, 2], [2, 0], [2, 1]])
    #expect(parts[0] == a && parts[2] == c)
    let m = Tensor(rows: [[1, 2, 3, 4], [5, 6, 7, 8]])
    #expect(m.slice(axis: 1, range: 1..<3) == Tensor(rows: [[2, 3], [6, 7]]))
    #expect(m.slice(axis: 0, range: 1..<2) == m.rows(1..<2))
    #expect(m.slice(axis: 1, range: 2..<2).shape == [2, 0])
}

@Test(arguments: [0, 1, 2, 3])
func concatenate_and_split_round_trip(_ axis: Int) {
    let shape = [3, 5, 1, 7]
    let x = randomTensor(shape, seed: UInt64(10 + axis))
    let n = shape[axis]
    let sizes = n == 1 ? [0, 1] : [1, n - 3, 0, 2].filter { $0 >= 0 }
    let pieces = x.split(sizes: sizes, axis: axis)
    #expect(pieces.map { $0.shape[axis] } == sizes)
    #expect(Tensor.concatenate(pieces, axis: axis) == x)
    // Concatenating different tensors, then splitting them apart again.
    var otherShape = shape
    otherShape[axis] = 2
    let y = randomTensor(otherShape, seed: 99)
    let joined = Tensor.concatenate([x, y, x], axis: axis)
    #expect(joined.split(sizes: [n, 2, n], axis: axis) == [x, y, x])
    #expect(joined.split(sizes: [n, 2, n], axis: axis - 4) == [x, y, x])
}

@Test func slice_matches_naive() {
    let shape = [3, 5, 4, 7]
    let x = randomTensor(shape, seed: 21)
    for axis in 0..<4 {
        for range in [0..<1, 1..<3, 0..<shape[axis], 2..<2] where range.upperBound <= shape[axis] {
            let y = x.slice(axis: axis, range: range)
            var newShape = shape
            newShape[axis] = range.count
            let expected = (0..<newShape.reduce(1, *)).map { o -> Float in
                var index = multiIndex(o, newShape)
                index[axis] += range.lowerBound
                return x.scalars[flatIndex(index, shape)]
            }
            #expect(y == Tensor(shape: newShape, scalars: expected), "axis \(axis) range \(range)")
        }
    }
}

@Test func scatterAddRows_by_hand() {
    let source = Tensor(rows: [[1, 2], [3, 4], [5, 6], [7, 8]])
    let result = Tensor.scatterAddRows(source, indices: [2, 0, 2, 2], rowCount: 4)
    #expect(result == Tensor(rows: [[3, 4], [0, 0], [13, 16], [0, 0]]))
    #expect(Tensor.scatterAddRows(Tensor(shape: [0, 3], scalars: []), indices: [], rowCount: 2) == .zeros([2, 3]))
    let vector = Tensor(shape: [3], scalars: [1, 10, 100])
    #expect(Tensor.scatterAddRows(vector, indices: [1, 1, 0], rowCount: 2).scalars == [100, 11])
}

@Test func scatterAddRows_is_the_adjoint_of_gatherRows() {
    let x = randomTensor([9, 3, 5], seed: 31)
    let indices = [4, 0, 8, 4, 4, 2, 7, 0, 1, 1, 6]
    let y = randomTensor([indices.count, 3, 5], seed: 32)
    let lhs = dot(x.gatherRows(indices), y)
    let rhs = dot(x, Tensor.scatterAddRows(y, indices: indices, rowCount: 9))
    #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)), "\(lhs) vs \(rhs)")
}
