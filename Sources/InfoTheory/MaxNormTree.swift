// A k-d tree under the max-norm (Chebyshev distance), for the Kraskov estimators.
//
// It answers the two queries KSG needs: the k nearest neighbours of a stored point (itself
// excluded) and the number of stored points strictly (or non-strictly) closer than a radius.
// Points are Double (the tie-breaking jitter is 1e-10 of a unit, below Float's resolution).
// It is built once and read concurrently; it deliberately supports neither insertion nor
// deletion, and no other norm.

/// A static k-d tree over n points of dimension d, max-norm.
struct MaxNormTree: @unchecked Sendable {
    let count: Int
    let dimension: Int
    /// The points in tree order, row-major n x d.
    let points: [Double]
    /// `order[p]` is the caller's index of tree point p; `position[i]` the tree position of point i.
    let order: [Int32]
    let position: [Int32]
    /// Nodes: the tree points `start[v]..<end[v]`, children (-1 for a leaf), bounding boxes.
    let start: [Int32], end: [Int32], left: [Int32], right: [Int32]
    /// Per node, d lower then d upper bounds.
    let boxes: [Double]

    static let leafSize = 16

    /// A tree over the rows of `rows` (n x d, row-major); `subset` restricts it to those rows.
    init(rows: UnsafeBufferPointer<Double>, dimension d: Int, subset: [Int]? = nil) {
        var idx: [Int32] = subset.map { $0.map(Int32.init) } ?? (0..<(rows.count / max(d, 1))).map(Int32.init)
        let n = idx.count
        var st: [Int32] = [], en: [Int32] = [], le: [Int32] = [], ri: [Int32] = [], bx: [Double] = []
        // Recursive median splits on the widest coordinate, written with an explicit stack.
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
                    idx[lo..<hi].sort { rows[Int($0) * d + axis] < rows[Int($1) * d + axis] }
                    let mid = (lo + hi) / 2
                    let l = build(lo, mid), r = build(mid, hi)
                    le[v] = l; ri[v] = r
                }
            }
            return Int32(v)
        }
        if n > 0 { _ = build(0, n) }
        count = n
        dimension = d
        order = idx
        var pos = [Int32](repeating: -1, count: rows.count / max(d, 1))
        for (p, i) in idx.enumerated() { pos[Int(i)] = Int32(p) }
        position = pos
        var pts = [Double](repeating: 0, count: n * d)
        for (p, i) in idx.enumerated() { for j in 0..<d { pts[p * d + j] = rows[Int(i) * d + j] } }
        points = pts
        start = st; end = en; left = le; right = ri; boxes = bx
    }

    /// The distances (ascending) and caller indices of the k nearest tree points to `query`,
    /// skipping the caller index `exclude`. Fewer than k points: returns what there is.
    func nearest(_ query: UnsafePointer<Double>, k: Int, exclude: Int,
                 distances: UnsafeMutablePointer<Double>, indices: UnsafeMutablePointer<Int32>) {
        let d = dimension
        for m in 0..<k { distances[m] = .infinity; indices[m] = -1 }
        guard count > 0 else { return }
        points.withUnsafeBufferPointer { pts in
            boxes.withUnsafeBufferPointer { bx in
                var stack = [Int32](); stack.reserveCapacity(64)
                stack.append(0)
                while let v32 = stack.popLast() {
                    let v = Int(v32)
                    let bound = boxDistance(query, bx.baseAddress! + v * 2 * d, d)
                    if bound >= distances[k - 1] { continue }
                    if left[v] < 0 {
                        for p in Int(start[v])..<Int(end[v]) {
                            if Int(order[p]) == exclude { continue }
                            let row = pts.baseAddress! + p * d
                            var dist = 0.0
                            for j in 0..<d { let a = abs(row[j] - query[j]); if a > dist { dist = a } }
                            if dist < distances[k - 1] {
                                // Insertion into the sorted k-list (k is small).
                                var m = k - 1
                                while m > 0 && distances[m - 1] > dist {
                                    distances[m] = distances[m - 1]; indices[m] = indices[m - 1]; m -= 1
                                }
                                distances[m] = dist; indices[m] = order[p]
                            }
                        }
                    } else {
                        // Visit the nearer child first: push it last.
                        let l = Int(left[v]), r = Int(right[v])
                        let dl = boxDistance(query, bx.baseAddress! + l * 2 * d, d)
                        let dr = boxDistance(query, bx.baseAddress! + r * 2 * d, d)
                        if dl <= dr { stack.append(Int32(r)); stack.append(Int32(l)) } else { stack.append(Int32(l)); stack.append(Int32(r)) }
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
        return points.withUnsafeBufferPointer { pts in
            boxes.withUnsafeBufferPointer { bx in
                var total = 0
                var stack = [Int32](); stack.reserveCapacity(64)
                stack.append(0)
                while let v32 = stack.popLast() {
                    let v = Int(v32)
                    let box = bx.baseAddress! + v * 2 * d
                    let near = boxDistance(query, box, d)
                    if strict ? near >= radius : near > radius { continue }
                    let far = boxFarthest(query, box, d)
                    if strict ? far < radius : far <= radius { total += Int(end[v] - start[v]); continue }
                    if left[v] < 0 {
                        for p in Int(start[v])..<Int(end[v]) {
                            let row = pts.baseAddress! + p * d
                            var dist = 0.0
                            for j in 0..<d { let a = abs(row[j] - query[j]); if a > dist { dist = a } }
                            if strict ? dist < radius : dist <= radius { total += 1 }
                        }
                    } else {
                        stack.append(left[v]); stack.append(right[v])
                    }
                }
                return total
            }
        }
    }
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
