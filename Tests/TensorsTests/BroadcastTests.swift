// NumPy broadcasting of + - * /, broadcast(to:), and sum(toShape:) as its
// adjoint: by hand and against the multi-index reference.

import Tensors
import Testing
import TestSupport

@Test func broadcastShape_follows_numpy() {
    #expect(Tensor.broadcastShape([2, 3, 4], [4]) == [2, 3, 4])
    #expect(Tensor.broadcastShape([2, 1, 4], [3, 1]) == [2, 3, 4])
    #expect(Tensor.broadcastShape([1], [5, 2]) == [5, 2])
    #expect(Tensor.broadcastShape([], [5, 2]) == [5, 2])
    #expect(Tensor.broadcastShape([3], []) == [3])
    #expect(Tensor.broadcastShape([], []) == [])
    #expect(Tensor.broadcastShape([0, 1], [1, 3]) == [0, 3])
    #expect(Tensor.broadcastShape([2, 3], [3, 2]) == nil)
    #expect(Tensor.broadcastShape([2, 3], [2]) == nil)
    #expect(Tensor.broadcastShape([0], [2]) == nil)
}

@Test func broadcast_arithmetic_by_hand() {
    let m = Tensor(rows: [[1, 2, 3], [4, 5, 6]])
    let row = Tensor(shape: [3], scalars: [10, 20, 30])
    let column = Tensor(shape: [2, 1], scalars: [100, 200])
    #expect((m + row) == m.addingRowVector(row))
    #expect((row + m) == m.addingRowVector(row))
    #expect((m - column).scalars == [-99, -98, -97, -196, -195, -194])
    #expect((column * row) == Tensor(rows: [[1000, 2000, 3000], [2000, 4000, 6000]]))
    #expect((m / Tensor(2)).scalars == [0.5, 1, 1.5, 2, 2.5, 3])
    #expect((Tensor(12) / m).scalars == [12, 6, 4, 3, 2.4, 2])
    #expect((Tensor(shape: [1], scalars: [1]) + Tensor(2)) == Tensor(shape: [1], scalars: [3]))
    #expect((Tensor(shape: [0, 1], scalars: []) + row).shape == [0, 3])
}

@Test func equal_shapes_keep_the_elementwise_loop() {
    let a = randomTensor([7, 13], seed: 1), b = randomTensor([7, 13], seed: 2)
    #expect((a + b).scalars == zip(a.scalars, b.scalars).map { $0 + $1 })
    #expect((a - b).scalars == zip(a.scalars, b.scalars).map { $0 - $1 })
    #expect((a * b).scalars == zip(a.scalars, b.scalars).map { $0 * $1 })
    #expect((a / b).scalars == zip(a.scalars, b.scalars).map { $0 / $1 })
}

let broadcastPairs: [([Int], [Int])] = [
    ([2, 3, 4], [4]), ([2, 1, 4], [3, 1]), ([1], [5, 2]), ([], [5, 2]), ([3, 4], []),
    ([5, 1, 7, 1], [3, 1, 9]), ([1, 6, 1], [4, 1, 5]), ([3, 1], [1, 17]), ([2, 3, 5], [2, 3, 5]),
    ([4, 1, 1, 3], [1, 5, 2, 1]), ([1, 1], [1]),
]

@Test(arguments: broadcastPairs)
func broadcast_arithmetic_matches_naive(_ shapes: ([Int], [Int])) {
    let a = randomTensor(shapes.0, seed: 3), b = randomTensor(shapes.1, seed: 4)
    // Divisors away from zero.
    let divisor = b.map { $0 >= 0 ? $0 + 0.5 : $0 - 0.5 }
    guard let shape = Tensor.broadcastShape(a.shape, b.shape) else {
        Issue.record("\(shapes) should broadcast")
        return
    }
    #expect(a + b == naiveBroadcast(a, b, shape, +), "\(shapes) +")
    #expect(b + a == naiveBroadcast(b, a, shape, +), "\(shapes) + swapped")
    #expect(a - b == naiveBroadcast(a, b, shape, -), "\(shapes) -")
    #expect(b - a == naiveBroadcast(b, a, shape, -), "\(shapes) - swapped")
    #expect(a * b == naiveBroadcast(a, b, shape, *), "\(shapes) *")
    #expect(a / divisor == naiveBroadcast(a, divisor, shape, /), "\(shapes) /")
    #expect(a.broadcast(to: shape) == naiveBroadcast(a, Tensor(0), shape, +), "\(shapes) broadcast(to:)")
    #expect(b.broadcast(to: shape) == naiveBroadcast(b, Tensor(0), shape, +), "\(shapes) broadcast(to:)")
}

@Test func broadcast_to_by_hand() {
    let column = Tensor(shape: [2, 1], scalars: [1, 2])
    #expect(column.broadcast(to: [3, 2, 2]).scalars == [1, 1, 2, 2, 1, 1, 2, 2, 1, 1, 2, 2])
    #expect(Tensor(7).broadcast(to: [2, 2]) == Tensor(shape: [2, 2], repeating: 7))
    #expect(column.broadcast(to: [2, 1]) == column)
}

@Test func sum_toShape_by_hand() {
    let m = Tensor(rows: [[1, 2, 3], [4, 5, 6]])
    #expect(m.sum(toShape: [3]) == m.sumRows())
    #expect(m.sum(toShape: [1, 3]).scalars == [5, 7, 9])
    #expect(m.sum(toShape: [2, 1]).scalars == [6, 15])
    #expect(m.sum(toShape: []) == Tensor(21))
    #expect(m.sum(toShape: [1]).scalars == [21])
    #expect(m.sum(toShape: [2, 3]) == m)
    #expect(Tensor(shape: [0, 3], scalars: []).sum(toShape: [1, 3]) == .zeros([1, 3]))
}

@Test func sum_toShape_matches_sumRows_bit_for_bit() {
    let x = randomTensor([257, 19], seed: 8)
    #expect(x.sum(toShape: [19]) == x.sumRows())
    #expect(x.sum(alongAxis: 0) == x.sumRows())
}

@Test(arguments: broadcastPairs)
func sum_toShape_is_the_adjoint_of_broadcast(_ shapes: ([Int], [Int])) {
    let shape = Tensor.broadcastShape(shapes.0, shapes.1)!
    for small in [shapes.0, shapes.1] {
        let x = randomTensor(small, seed: 5), y = randomTensor(shape, seed: 6)
        let lhs = dot(x.broadcast(to: shape), y)
        let reduced = y.sum(toShape: small)
        #expect(reduced.shape == small)
        let rhs = dot(x, reduced)
        #expect(abs(lhs - rhs) <= 1e-4 * max(1, abs(lhs)), "\(small) → \(shape): \(lhs) vs \(rhs)")
        // And against summing every broadcast copy into its source by index.
        var expected = [Double](repeating: 0, count: x.count)
        let pad = shape.count - small.count
        for o in 0..<y.count {
            let index = multiIndex(o, shape)
            let source = small.indices.map { small[$0] == 1 ? 0 : index[$0 + pad] }
            expected[flatIndex(source, small)] += Double(y.scalars[o])
        }
        let d = difference(reduced.scalars.map(Double.init), expected, floor: 1)
        #expect(d.maxRelative < 1e-5, "\(small) → \(shape): \(d)")
    }
}
