// A k-d tree under the max-norm (Chebyshev distance), for the Kraskov estimators.
//
// It answers the two queries KSG needs (`MaxNormNeighbours`, `MaxNormCounting` in
// MaxNormScan.swift): the k nearest neighbours of a stored point (itself excluded, ties broken
// by the smaller caller index) and the number of stored points strictly (or non-strictly) closer
// than a radius. Points are Double (the tie-breaking jitter is 1e-10 of a unit, below Float's
// resolution). It is built once and read concurrently; it deliberately supports neither
// insertion nor deletion, and no other norm. Storage is raw memory (no bounds checks and no
// allocation in the queries); splits are median selections (quickselect, O(n) per level).

/// A static k-d tree over n points of dimension d, max-norm.
final class MaxNormTree: MaxNormNeighbours, MaxNormCounting, @unchecked Sendable {
    let count: Int
    let dimension: Int
    /// The number of nodes.
    let nodes: Int
    /// The points in tree order, row-major n x d.
    private let points: UnsafeMutablePointer<Double>
    /// `order[p]` is the caller's index of tree point p.
    private let order: UnsafeMutablePointer<Int32>
    /// Per node: the tree points `start..<end`, children (-1 for a leaf).
    private let start: UnsafeMutablePointer<Int32>, end: UnsafeMutablePointer<Int32>
    private let left: UnsafeMutablePointer<Int32>, right: UnsafeMutablePointer<Int32>
    /// Per node, d lower then d upper bounds.
    private let boxes: UnsafeMutablePointer<Double>

    static let leafSize = 16
    /// Deeper than any tree of at most 2^31 points (the stack of a depth-first search holds at
    /// most one sibling per level).
    private static let stackCapacity = 128

    /// A tree over the rows of `rows` (n x d, row-major); `subset` restricts it to those rows.
    init(rows: UnsafeBufferPointer<Double>, dimension d: Int, subset: [Int]? = nil) {
        var idx: [Int32] = subset.map { $0.map(Int32.init) } ?? (0..<(rows.count / max(d, 1))).map(Int32.init)
        let n = idx.count
        var st: [Int32] = [], en: [Int32] = [], le: [Int32] = [], ri: [Int32] = [], bx: [Double] = []
        var keys = [Double](repeating: 0, count: n)
        // Median splits on the widest coordinate.
        func build(_ lo: Int, _ hi: Int) -> Int32 {
            let v = st.count
            st.append(Int32(lo)); en.append(Int32(hi)); le.append(-1); ri.append(-1)
            var lower = [Double](repeating: .infinity, count: d), upper = [Double](repeating: -.infinity, count: d)
            for p in lo..<hi {
                let base = Int(idx[p]) * d
                for j in 0..<d {
                    let x = rows[base + j]
                    if x < lower[j] { lower[j] = x }
                    if x > upper[j] { upper[j] = x }
                }
            }
            bx.append(contentsOf: lower); bx.append(contentsOf: upper)
            if hi - lo > MaxNormTree.leafSize {
                var axis = 0, widest = -1.0
                for j in 0..<d where upper[j] - lower[j] > widest { widest = upper[j] - lower[j]; axis = j }
                if widest > 0 {
                    let mid = (lo + hi) / 2
                    for p in lo..<hi { keys[p] = rows[Int(idx[p]) * d + axis] }
                    idx.withUnsafeMutableBufferPointer { ip in
                        keys.withUnsafeMutableBufferPointer { kp in
                            selectNth(ip.baseAddress!, kp.baseAddress!, lo, hi, mid)
                        }
                    }
                    let l = build(lo, mid), r = build(mid, hi)
                    le[v] = l; ri[v] = r
                }
            }
            return Int32(v)
        }
        if n > 0 { _ = build(0, n) }
        count = n
        dimension = d
        nodes = st.count
        order = .allocate(capacity: max(n, 1))
        points = .allocate(capacity: max(n * d, 1))
        for (p, i) in idx.enumerated() {
            order[p] = i
            for j in 0..<d { points[p * d + j] = rows[Int(i) * d + j] }
        }
        func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(a.count, 1))
            a.withUnsafeBufferPointer { if let b = $0.baseAddress { p.initialize(from: b, count: a.count) } }
            return p
        }
        start = copy(st); end = copy(en); left = copy(le); right = copy(ri); boxes = copy(bx)
    }

    deinit {
        points.deallocate(); order.deallocate(); start.deallocate(); end.deallocate()
        left.deallocate(); right.deallocate(); boxes.deallocate()
    }

    /// The distances (ascending; equal distances by ascending caller index) and caller indices
    /// of the k nearest tree points to `query`, skipping the caller index `exclude`. Fewer than
    /// k points: the rest of the list is +infinity and `Int32.max`.
    func nearest(_ query: UnsafePointer<Double>, k: Int, exclude: Int32,
                 distances: UnsafeMutablePointer<Double>, indices: UnsafeMutablePointer<Int32>) {
        let d = dimension
        for m in 0..<k { distances[m] = .infinity; indices[m] = .max }
        guard count > 0 else { return }
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.stackCapacity) { stack in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: Self.stackCapacity) { bounds in
                var top = 1
                stack[0] = 0; bounds[0] = 0
                while top > 0 {
                    top -= 1
                    let v = Int(stack[top])
                    // `>`, not `>=`: a point at exactly the k-th distance with a smaller index
                    // would still enter the list.
                    if bounds[top] > distances[k - 1] { continue }
                    if left[v] < 0 {
                        for p in Int(start[v])..<Int(end[v]) {
                            let id = order[p]
                            if id == exclude { continue }
                            let row = points + p * d
                            var dist = 0.0
                            for j in 0..<d { let a = abs(row[j] - query[j]); if a > dist { dist = a } }
                            if dist < distances[k - 1] || (dist == distances[k - 1] && id < indices[k - 1]) {
                                insertNeighbour(dist, id, k: k, distances: distances, indices: indices)
                            }
                        }
                    } else {
                        // Visit the nearer child first: push it last.
                        let l = Int(left[v]), r = Int(right[v])
                        let dl = boxDistance(query, boxes + l * 2 * d, d)
                        let dr = boxDistance(query, boxes + r * 2 * d, d)
                        if dl <= dr {
                            stack[top] = Int32(r); bounds[top] = dr; stack[top + 1] = Int32(l); bounds[top + 1] = dl
                        } else {
                            stack[top] = Int32(l); bounds[top] = dl; stack[top + 1] = Int32(r); bounds[top + 1] = dr
                        }
                        top += 2
                    }
                }
            }
        }
    }

    /// The number of tree points p with max-norm distance to `query` below `radius`
    /// (strictly when `strict`, else at most `radius`), the query itself included if stored.
    func count(within radius: Double, of query: UnsafePointer<Double>, strict: Bool) -> Int {
        let d = dimension
        guard count > 0 else { return 0 }
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.stackCapacity) { stack in
            var total = 0
            var top = 1
            stack[0] = 0
            while top > 0 {
                top -= 1
                let v = Int(stack[top])
                let box = boxes + v * 2 * d
                let near = boxDistance(query, box, d)
                if strict ? near >= radius : near > radius { continue }
                let far = boxFarthest(query, box, d)
                if strict ? far < radius : far <= radius { total += Int(end[v] - start[v]); continue }
                if left[v] < 0 {
                    for p in Int(start[v])..<Int(end[v]) {
                        let row = points + p * d
                        var dist = 0.0
                        for j in 0..<d { let a = abs(row[j] - query[j]); if a > dist { dist = a } }
                        if strict ? dist < radius : dist <= radius { total += 1 }
                    }
                } else {
                    stack[top] = left[v]; stack[top + 1] = right[v]
                    top += 2
                }
            }
            return total
        }
    }

    func nearest(_ queries: UnsafeBufferPointer<Int32>, rows: UnsafePointer<Double>, k: Int,
                 distances: UnsafeMutablePointer<Double>, indices: UnsafeMutablePointer<Int32>) {
        for (m, q) in queries.enumerated() {
            nearest(rows + Int(q) * dimension, k: k, exclude: q, distances: distances + m * k, indices: indices + m * k)
        }
    }

    func count(_ queries: UnsafeBufferPointer<Int32>, rows: UnsafePointer<Double>, radii: UnsafePointer<Double>,
               strict: Bool, counts: UnsafeMutablePointer<Int32>) {
        for (m, q) in queries.enumerated() {
            counts[m] = Int32(count(within: radii[m], of: rows + Int(q) * dimension, strict: strict))
        }
    }
}

/// Inserts (dist, id) into the k-list sorted by (distance, index), dropping its last entry.
/// The caller has checked that (dist, id) comes before that last entry.
@inline(__always)
func insertNeighbour(_ dist: Double, _ id: Int32, k: Int,
                     distances: UnsafeMutablePointer<Double>, indices: UnsafeMutablePointer<Int32>) {
    var m = k - 1
    while m > 0 && (distances[m - 1] > dist || (distances[m - 1] == dist && indices[m - 1] > id)) {
        distances[m] = distances[m - 1]; indices[m] = indices[m - 1]; m -= 1
    }
    distances[m] = dist; indices[m] = id
}

/// Reorders `idx[lo..<hi]` (and `keys` with it) so that position `nth` holds the element of rank
/// nth - lo by key, smaller-or-equal keys before it and greater-or-equal after (Hoare's select,
/// median-of-three pivot; deterministic).
func selectNth(_ idx: UnsafeMutablePointer<Int32>, _ keys: UnsafeMutablePointer<Double>,
                       _ lo: Int, _ hi: Int, _ nth: Int) {
    var l = lo, r = hi - 1
    while r > l {
        let a = keys[l], b = keys[(l + r) / 2], c = keys[r]
        let pivot = max(min(a, b), min(max(a, b), c))
        var i = l, j = r
        while i <= j {
            while keys[i] < pivot { i += 1 }
            while keys[j] > pivot { j -= 1 }
            if i <= j {
                keys.swapAt(i, j)
                let t = idx[i]; idx[i] = idx[j]; idx[j] = t
                i += 1; j -= 1
            }
        }
        if nth <= j { r = j } else if nth >= i { l = i } else { return }
    }
}

private extension UnsafeMutablePointer where Pointee == Double {
    @inline(__always) func swapAt(_ i: Int, _ j: Int) { let t = self[i]; self[i] = self[j]; self[j] = t }
}

/// Max-norm distance from `q` to the box (d lower bounds, then d upper bounds); 0 inside.
@inline(__always)
private func boxDistance(_ q: UnsafePointer<Double>, _ box: UnsafePointer<Double>, _ d: Int) -> Double {
    var m = 0.0
    for j in 0..<d {
        let below = box[j] - q[j], above = q[j] - box[d + j]
        let g = max(below, above)
        if g > m { m = g }
    }
    return m
}

/// Max-norm distance from `q` to the farthest point of the box.
@inline(__always)
private func boxFarthest(_ q: UnsafePointer<Double>, _ box: UnsafePointer<Double>, _ d: Int) -> Double {
    var m = 0.0
    for j in 0..<d {
        let g = max(abs(q[j] - box[j]), abs(box[d + j] - q[j]))
        if g > m { m = g }
    }
    return m
}
