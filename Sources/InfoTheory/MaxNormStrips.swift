// The k nearest neighbours under the max-norm in two dimensions (the joint space of a 1-D X
// and a 1-D T, the case of scikit-learn's `mutual_info_regression`), by strips: the stored
// points are cut, in order of x, into strips of equal counts, and each strip is kept sorted
// by y. A query walks out from its own strip, left and right, nearest gap first, and within a
// strip out from its y, nearer |dy| first; a strip whose x-gap, or a point whose |dy|, exceeds
// the current k-th distance ends that direction. On N points a query reads a few strips of
// about √(2N) points, each by one binary search and the handful of points within the k-th
// distance in y, where the k-d tree descends and backtracks through pointer-linked nodes.
//
// The answers are the other searches' bit for bit: distances max(|x − qx|, |y − qy|) in
// Double, equal distances ordered by the smaller caller index (a point at exactly the k-th
// distance is still read, since a smaller index would win the tie).
//
// The strips and the sorted line (`SortedLine`) are built with `radixOrder` (Tensors).

import Tensors

/// k-nearest-neighbour search over stored 2-D points (see the top of the file).
final class MaxNormStrips: MaxNormNeighbours, @unchecked Sendable {
    let dimension = 2
    /// Stored points in strip order (strips by x, each by (y, caller index)): y, x interleaved.
    private let points: [Double]
    private let ids: [Int32]
    /// Strip s holds points stripStart[s]..<stripStart[s + 1].
    private let stripStart: [Int]
    private let stripMinX: [Double]
    private let stripMaxX: [Double]

    /// - Parameters:
    ///   - rows: n x 2 row-major coordinates (x, y) by caller index.
    ///   - subset: the caller indices stored (nil: all).
    init(rows: UnsafeBufferPointer<Double>, subset: [Int]? = nil) {
        let ids = subset.map { $0.sorted() } ?? Array(0..<(rows.count / 2))
        let n = ids.count
        let byX = radixOrder(ids.map { rows[2 * $0] })
        let perStrip = max(16, Int((2 * Double(n)).squareRoot()))
        let strips = max(1, (n + perStrip - 1) / perStrip)
        // Strip of each stored point (by its rank in x), then a stable bucketing of the points
        // in (y, index) order by strip: each strip in (y, index) order.
        var stripOf = [Int32](repeating: 0, count: n)
        for (rank, p) in byX.enumerated() { stripOf[Int(p)] = Int32(rank / perStrip) }
        let byY = radixOrder(ids.map { rows[2 * $0 + 1] })
        var start = [Int](repeating: 0, count: strips + 1)
        for s in 0..<strips { start[s + 1] = min(n, (s + 1) * perStrip) }
        var fill = start
        var points = [Double](repeating: 0, count: 2 * n)
        var stored = [Int32](repeating: 0, count: n)
        var minX = [Double](repeating: .infinity, count: strips), maxX = [Double](repeating: -.infinity, count: strips)
        for p in byY {
            let s = Int(stripOf[Int(p)]), slot = fill[s]
            fill[s] += 1
            let row = ids[Int(p)]
            let x = rows[2 * row], y = rows[2 * row + 1]
            points[2 * slot] = y
            points[2 * slot + 1] = x
            stored[slot] = Int32(row)
            minX[s] = min(minX[s], x)
            maxX[s] = max(maxX[s], x)
        }
        self.points = points
        self.ids = stored
        self.stripStart = start
        self.stripMinX = minX
        self.stripMaxX = maxX
    }

    func nearest(_ queries: UnsafeBufferPointer<Int32>, rows: UnsafePointer<Double>, k: Int,
                 distances: UnsafeMutablePointer<Double>, indices: UnsafeMutablePointer<Int32>) {
        let strips = stripMinX.count
        points.withUnsafeBufferPointer { pts in
            ids.withUnsafeBufferPointer { ids in
                stripStart.withUnsafeBufferPointer { start in
                    stripMinX.withUnsafeBufferPointer { minX in
                        stripMaxX.withUnsafeBufferPointer { maxX in
                            for (m, q) in queries.enumerated() {
                                let qx = rows[2 * Int(q)], qy = rows[2 * Int(q) + 1]
                                let dist = distances + m * k, idx = indices + m * k
                                for j in 0..<k { dist[j] = .infinity; idx[j] = .max }
                                var list = KList(dist: dist, idx: idx, k: k, query: q)
                                // The strip that would hold qx: the last starting at or below it.
                                var lo = 0, hi = strips
                                while hi - lo > 1 {
                                    let mid = (lo + hi) / 2
                                    if minX[mid] <= qx { lo = mid } else { hi = mid }
                                }
                                let home = lo
                                scanStrip(home, pts, ids, start, qx, qy, &list)
                                var left = home - 1, right = home + 1
                                while left >= 0 || right < strips {
                                    let gapLeft = left >= 0 ? max(0, qx - maxX[left]) : .infinity
                                    let gapRight = right < strips ? max(0, minX[right] - qx) : .infinity
                                    if gapLeft <= gapRight {
                                        if !(gapLeft <= list.bound) { break }
                                        scanStrip(left, pts, ids, start, qx, qy, &list)
                                        left -= 1
                                    } else {
                                        if !(gapRight <= list.bound) { break }
                                        scanStrip(right, pts, ids, start, qx, qy, &list)
                                        right += 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Offers `list` the points of strip `s` with |y − qy| at most its bound, nearer |dy| first.
    @inline(__always)
    private func scanStrip(_ s: Int, _ pts: UnsafeBufferPointer<Double>, _ ids: UnsafeBufferPointer<Int32>,
                           _ start: UnsafeBufferPointer<Int>, _ qx: Double, _ qy: Double, _ list: inout KList) {
        let first = start[s], end = start[s + 1]
        // The first point of the strip with y >= qy.
        var lo = first, hi = end
        while lo < hi {
            let mid = (lo + hi) / 2
            if pts[2 * mid] < qy { lo = mid + 1 } else { hi = mid }
        }
        var up = lo, down = lo - 1
        while up < end || down >= first {
            let dyUp = up < end ? abs(pts[2 * up] - qy) : .infinity
            let dyDown = down >= first ? abs(pts[2 * down] - qy) : .infinity
            if dyUp <= dyDown {
                if !(dyUp <= list.bound) { return }
                list.offer(max(abs(pts[2 * up + 1] - qx), dyUp), ids[up])
                up += 1
            } else {
                if !(dyDown <= list.bound) { return }
                list.offer(max(abs(pts[2 * down + 1] - qx), dyDown), ids[down])
                down -= 1
            }
        }
    }
}

/// A query's k best (distance, index) pairs, ascending, in caller-provided storage.
private struct KList {
    let dist: UnsafeMutablePointer<Double>
    let idx: UnsafeMutablePointer<Int32>
    let k: Int
    let query: Int32

    /// The k-th distance so far: points beyond it cannot enter, points at it may (by index).
    @inline(__always) var bound: Double { dist[k - 1] }

    @inline(__always)
    mutating func offer(_ d: Double, _ i: Int32) {
        if i == query { return }
        let last = k - 1
        if d > dist[last] || (d == dist[last] && i >= idx[last]) { return }
        var j = last
        while j > 0 && (d < dist[j - 1] || (d == dist[j - 1] && i < idx[j - 1])) {
            dist[j] = dist[j - 1]; idx[j] = idx[j - 1]
            j -= 1
        }
        dist[j] = d; idx[j] = i
    }
}
