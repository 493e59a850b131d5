// Sum, mean and max along an axis: by hand, and against naive loops on every
// axis of rank-4 tensors with odd and unit extents.

import Tensors
import Testing
import TestSupport

@Test func reductions_by_hand() {
    let m = Tensor(rows: [[1, 5, 3], [4, 2, 6]])
    #expect(m.sum(alongAxis: 0) == Tensor(shape: [3], scalars: [5, 7, 9]))
    #expect(m.sum(alongAxis: 1) == Tensor(shape: [2], scalars: [9, 12]))
    #expect(m.sum(alongAxis: -1, keepingDimension: true) == Tensor(shape: [2, 1], scalars: [9, 12]))
    #expect(m.mean(alongAxis: 1).scalars == [3, 4])
    #expect(m.mean(alongAxis: 0, keepingDimension: true) == Tensor(shape: [1, 3], scalars: [2.5, 3.5, 4.5]))
    let (values, indices) = m.max(alongAxis: 1)
    #expect(values.scalars == [5, 6] && indices == [1, 2])
    let (columnMax, rows) = m.max(alongAxis: 0, keepingDimension: true)
    #expect(columnMax == Tensor(shape: [1, 3], scalars: [4, 5, 6]) && rows == [1, 0, 1])
    #expect(Tensor(shape: [3], scalars: [1, 2, 3]).sum(alongAxis: 0) == Tensor(6))
    #expect(Tensor(shape: [2, 0], scalars: []).sum(alongAxis: 1) == .zeros([2]))
    #expect(Tensor(shape: [0, 2], scalars: []).sum(alongAxis: 1).shape == [0])
}

@Test func max_takes_the_first_of_ties_and_nan() {
    let t = Tensor(rows: [[3, 1, 3, 2], [-1, -1, -1, -1], [0, 7, 7, 7]])
    #expect(t.max(alongAxis: 1).indices == [0, 0, 1])
    #expect(t.max(alongAxis: 1).indices == t.argmaxRows())
    let columns = Tensor(rows: [[2, 5], [2, 5], [1, 5]])
    #expect(columns.max(alongAxis: 0).indices == [0, 0])
    let nan = Tensor(shape: [5], scalars: [1, .nan, 9, .nan, 3]).max(alongAxis: 0)
    #expect(nan.values.scalar.isNaN && nan.indices == [1])
}

@Test(arguments: [[3, 1, 5, 7], [1, 4, 3, 1], [5, 3, 1, 9], [2, 17, 3, 33]])
func reductions_match_naive_on_every_axis(_ shape: [Int]) {
    let x = randomTensor(shape, seed: UInt64(shape.reduce(1, *)))
    // A few ties: round some values to one decimal.
    let tied = x.map { ($0 * 2).rounded() / 2 }
    for axis in 0..<4 {
        for keep in [false, true] {
            var kept = shape
            kept[axis] = 1
            var dropped = shape
            dropped.remove(at: axis)
            let expectedShape = keep ? kept : dropped
            let (sums, maxima, positions) = naiveReduce(x, axis: axis)

            let s = x.sum(alongAxis: axis, keepingDimension: keep)
            #expect(s.shape == expectedShape)
            let d = difference(s.scalars.map(Double.init), sums, floor: 1)
            #expect(d.maxRelative < 1e-5, "sum axis \(axis): \(d)")
            #expect(x.sum(alongAxis: axis - 4, keepingDimension: keep) == s)

            let mean = x.mean(alongAxis: axis, keepingDimension: keep)
            #expect(mean.shape == expectedShape)
            let dm = difference(mean.scalars.map(Double.init), sums.map { $0 / Double(shape[axis]) }, floor: 1)
            #expect(dm.maxRelative < 1e-5, "mean axis \(axis): \(dm)")

            let (values, indices) = x.max(alongAxis: axis, keepingDimension: keep)
            #expect(values.shape == expectedShape)
            #expect(values.scalars == maxima && indices == positions, "max axis \(axis)")

            let tiedNaive = naiveReduce(tied, axis: axis)
            let tiedMax = tied.max(alongAxis: axis, keepingDimension: keep)
            #expect(tiedMax.values.scalars == tiedNaive.max && tiedMax.indices == tiedNaive.argmax,
                    "tied max axis \(axis)")
        }
    }
}
