// Max-norm neighbour search for the Kraskov estimators, apart from the k-d tree
// (MaxNormTree.swift): the two queries both answer, a blocked brute-force scan for high
// dimensions, and a sorted array for the 1-D marginals' counts (and MaxNormStrips.swift, the
// 2-D k-nearest-neighbour search).
//
// The blocked scan is what "blocked BLAS distances" amounts to under the max-norm: a max-norm
// distance is a maximum of absolute differences, not an inner product, so it cannot be written
// as a GEMM (the Euclidean ‖a‖² + ‖b‖² − 2 a·b trick has no max-norm analogue). It is brute
// force, O(N² d), tiled over blocks of points (a quarter of a megabyte, kept in L2) times all
// the queries of a chunk, with the points of each group of 16 stored lane-interleaved so that a
// coordinate of 16 points is one 16-lane Float vector, the points in k-d order so that each
// query can start with the groups beside its own. Per query and group it stops reading
// coordinates as soon as all 16 partial distances exceed the current k-th distance (or the
// count's radius), which in high dimensions skips most of each row.
//
// All three give the same distances bit for bit (|p_j − q_j| maximized over j, in Double), the
// same neighbours (ties broken by the smaller caller index) and the same counts.

import Tensors

/// The k nearest stored points of stored points, under the max-norm.
protocol MaxNormNeighbours: Sendable {
    var dimension: Int { get }
    /// For each query (a caller index q, its coordinates at rows + q·d), the k nearest stored
    /// points other than q: distances ascending, equal distances by ascending caller index,
    /// written to `distances` and `indices` at m·k for the m-th query. Where fewer than k other
    /// points are stored the rest of the list is +infinity and `Int32.max`.
    func nearest(_ queries: UnsafeBufferPointer<Int32>, rows: UnsafePointer<Double>, k: Int,
                 distances: UnsafeMutablePointer<Double>, indices: UnsafeMutablePointer<Int32>)
}

/// The number of stored points within a radius of stored points, under the max-norm.
protocol MaxNormCounting: Sendable {
    var dimension: Int { get }
    /// For each query (coordinates at rows + q·d), the number of stored points (the query
    /// itself included when stored) at distance below `radii[m]` (strict) or at most it.
    func count(_ queries: UnsafeBufferPointer<Int32>, rows: UnsafePointer<Double>, radii: UnsafePointer<Double>,
               strict: Bool, counts: UnsafeMutablePointer<Int32>)
}

/// Blocked brute-force max-norm search over n points of dimension d (see the top of the file).
///
/// The scan runs in Float (16 lanes a vector) on the coordinates rounded to Float, and decides
/// in Double: a Float distance is within `slack` of the Double one (|p − q| and its rounding
/// stay below 2⁻²² max|coordinate| per coordinate, and a maximum is 1-Lipschitz; `slack` is twice
/// that), so a point whose Float distance exceeds the k-th distance (or the count's radius) by
/// more than `slack` cannot be a neighbour (or inside), one below the radius by more than `slack`
/// is surely inside, and only the rest are measured again in Double, by the same formula as the
/// tree's. Each query reads the coordinates in decreasing order of its distance from the mean,
/// so that the partial distances of most points pass the threshold within a few coordinates.
final class MaxNormScan: MaxNormNeighbours, MaxNormCounting, @unchecked Sendable {
    let count: Int
    let dimension: Int
    /// Groups of 16 points (the last padded with +infinity coordinates and index `Int32.max`).
    let groups: Int
    /// Groups per block: about 256 KB of coordinates.
    let blockGroups: Int
    /// The bound on |Float distance − Double distance| (see above).
    let slack: Double
    /// Group g's coordinate j of lane l at (g · d + j) · 16 + l, in Float.
    private let tiles: UnsafeMutablePointer<Float>
    /// The caller index of each slot g · 16 + l.
    private let order: UnsafeMutablePointer<Int32>
    /// The coordinates of each slot in Double, row-major.
    private let exact: UnsafeMutablePointer<Double>
    /// Per coordinate, the mean of the stored points (for the order of the coordinates).
    private let means: [Double]
    /// The group holding each caller index (-1: not stored).
    private let home: [Int32]
    /// A query's k-NN search starts with the groups within this many of its own.
    static let homeReach = 2

    /// Slots in k-d order (median splits on the widest coordinate down to 16 points, at
    /// multiples of 16), so that a group and its neighbours in slot order hold points near each
    /// other: a query that starts there has a small k-th distance, hence early exits, at once.
    private static func spatialOrder(_ idx: inout [Int32], rows: UnsafeBufferPointer<Double>, d: Int) {
        var keys = [Double](repeating: 0, count: idx.count)
        func split(_ lo: Int, _ hi: Int) {
            guard hi - lo > 16, d > 0 else { return }
            var axis = 0, widest = -1.0
            for j in 0..<d {
                var a = Double.infinity, b = -Double.infinity
                for p in lo..<hi { let v = rows[Int(idx[p]) * d + j]; a = min(a, v); b = max(b, v) }
                if b - a > widest { widest = b - a; axis = j }
            }
            guard widest > 0 else { return }
            let mid = lo + max(16, ((hi - lo) / 2 + 8) / 16 * 16)
            guard mid < hi else { return }
            for p in lo..<hi { keys[p] = rows[Int(idx[p]) * d + axis] }
            idx.withUnsafeMutableBufferPointer { ip in
                keys.withUnsafeMutableBufferPointer { kp in selectNth(ip.baseAddress!, kp.baseAddress!, lo, hi, mid) }
            }
            split(lo, mid); split(mid, hi)
        }
        split(0, idx.count)
    }

    static let blockBytes = 256 * 1024

    /// Whether the scan can represent these rows (their Float copies and differences stay finite).
    static func accepts(_ rows: UnsafeBufferPointer<Double>) -> Bool {
        rows.allSatisfy { abs($0) < 1e36 }
    }

    /// - Precondition: `accepts(rows)`.
    init(rows: UnsafeBufferPointer<Double>, dimension d: Int, subset: [Int]? = nil) {
        var idx: [Int32] = subset.map { $0.map(Int32.init) } ?? (0..<(rows.count / max(d, 1))).map(Int32.init)
        Self.spatialOrder(&idx, rows: rows, d: d)
        var home = [Int32](repeating: -1, count: rows.count / max(d, 1))
        for (s, i) in idx.enumerated() { home[Int(i)] = Int32(s / 16) }
        self.home = home
        count = idx.count
        dimension = d
        groups = (idx.count + 15) / 16
        blockGroups = max(1, Self.blockBytes / (4 * 16 * max(d, 1)))
        var largest = 0.0
        for v in rows { largest = max(largest, abs(v)) }
        precondition(largest < 1e36, "MaxNormScan: coordinates beyond Float's range")
        slack = 0x1p-21 * largest + 0x1p-140   // the second term: Float's subnormal spacing
        tiles = .allocate(capacity: max(groups * d * 16, 1))
        order = .allocate(capacity: max(groups * 16, 1))
        exact = .allocate(capacity: max(groups * 16 * d, 1))
        var mean = [Double](repeating: 0, count: d)
        for s in 0..<(groups * 16) {
            let g = s / 16, l = s % 16
            if s < idx.count {
                let i = Int(idx[s])
                order[s] = idx[s]
                for j in 0..<d {
                    let v = rows[i * d + j]
                    tiles[(g * d + j) * 16 + l] = Float(v); exact[s * d + j] = v; mean[j] += v
                }
            } else {
                order[s] = .max
                for j in 0..<d { tiles[(g * d + j) * 16 + l] = .infinity; exact[s * d + j] = .infinity }
            }
        }
        means = mean.map { $0 / Double(max(idx.count, 1)) }
    }

    deinit { tiles.deallocate(); order.deallocate(); exact.deallocate() }

    /// Per query, its Float coordinates and the offsets (16 · j) of its coordinates in
    /// decreasing |q_j − mean_j|.
    private func prepareQueries(_ queries: UnsafeBufferPointer<Int32>, rows: UnsafePointer<Double>,
                                _ body: (UnsafePointer<Float>, UnsafePointer<Int>) -> Void) {
        let d = dimension
        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(queries.count * d, 1)) { qf in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: max(queries.count * d, 1)) { offsets in
                var spread = [Double](repeating: 0, count: d), dims = [Int](repeating: 0, count: d)
                for (m, qi) in queries.enumerated() {
                    let q = rows + Int(qi) * d
                    for j in 0..<d { spread[j] = abs(q[j] - means[j]); dims[j] = j }
                    dims.sort { spread[$0] > spread[$1] || (spread[$0] == spread[$1] && $0 < $1) }
                    for (r, j) in dims.enumerated() { qf[m * d + r] = Float(q[j]); offsets[m * d + r] = 16 * j }
                }
                body(UnsafePointer(qf.baseAddress!), UnsafePointer(offsets.baseAddress!))
            }
        }
    }

    @inline(__always)
    private func exactDistance(slot: Int, _ q: UnsafePointer<Double>) -> Double {
        let row = exact + slot * dimension
        var dist = 0.0
        for j in 0..<dimension { let a = abs(row[j] - q[j]); if a > dist { dist = a } }
        return dist
    }

    func nearest(_ queries: UnsafeBufferPointer<Int32>, rows: UnsafePointer<Double>, k: Int,
                 distances: UnsafeMutablePointer<Double>, indices: UnsafeMutablePointer<Int32>) {
        let d = dimension, n = count
        for m in 0..<(queries.count * k) { distances[m] = .infinity; indices[m] = .max }
        prepareQueries(queries, rows: rows) { qf, offsets in
            for g0 in stride(from: 0, to: groups, by: blockGroups) {
                let g1 = min(groups, g0 + blockGroups)
                for (m, qi) in queries.enumerated() {
                    let q = rows + Int(qi) * d, qm = qf + m * d, om = offsets + m * d
                    let dl = distances + m * k, il = indices + m * k
                    // Float(τ + slack) rounded up, so that no candidate is lost to the rounding.
                    var tv = SIMD16<Float>(repeating: Float(dl[k - 1] + slack).nextUp)
                    // The groups next to the query's own first (with the first block), then the
                    // block's others.
                    let h = Int(home[Int(qi)])
                    let nearLo = h < 0 ? 0 : max(0, h - Self.homeReach), nearHi = h < 0 ? 0 : min(groups, h + Self.homeReach + 1)
                    let extra = g0 == 0 ? nearHi - nearLo : 0
                    for t in 0..<(extra + g1 - g0) {
                        let g = t < extra ? nearLo + t : g0 + t - extra
                        if t >= extra && g >= nearLo && g < nearHi { continue }
                        guard let a = groupDistances(tiles + g * d * 16, om, qm, d, within: tv) else { continue }
                        let c = a .<= tv
                        guard any(c) else { continue }
                        for l in 0..<16 where c[l] {
                            let slot = g * 16 + l
                            let id = order[slot]
                            if slot >= n || id == qi { continue }
                            let dist = exactDistance(slot: slot, q)
                            if dist < dl[k - 1] || (dist == dl[k - 1] && id < il[k - 1]) {
                                insertNeighbour(dist, id, k: k, distances: dl, indices: il)
                            }
                        }
                        tv = SIMD16<Float>(repeating: Float(dl[k - 1] + slack).nextUp)
                    }
                }
            }
        }
    }

    func count(_ queries: UnsafeBufferPointer<Int32>, rows: UnsafePointer<Double>, radii: UnsafePointer<Double>,
               strict: Bool, counts: UnsafeMutablePointer<Int32>) {
        let d = dimension, n = count
        for m in 0..<queries.count { counts[m] = 0 }
        prepareQueries(queries, rows: rows) { qf, offsets in
            for g0 in stride(from: 0, to: groups, by: blockGroups) {
                let g1 = min(groups, g0 + blockGroups)
                for (m, qi) in queries.enumerated() {
                    let q = rows + Int(qi) * d, qm = qf + m * d, om = offsets + m * d
                    let r = radii[m]
                    // Below `inner` surely inside, above `outer` surely outside (Float bounds
                    // rounded inwards and outwards).
                    let inner = SIMD16<Float>(repeating: Float(r - slack).nextDown)
                    let outer = SIMD16<Float>(repeating: Float(r + slack).nextUp)
                    var tally = SIMD16<Int32>(repeating: 0)
                    var extra: Int32 = 0
                    for g in g0..<g1 {
                        guard let a = groupDistances(tiles + g * d * 16, om, qm, d, within: outer) else { continue }
                        let sure = a .< inner
                        tally = tally.replacing(with: tally &+ 1, where: sure)
                        let unsure = (a .<= outer) .& .!sure
                        guard any(unsure) else { continue }
                        for l in 0..<16 where unsure[l] {
                            let slot = g * 16 + l
                            if slot >= n { continue }
                            let dist = exactDistance(slot: slot, q)
                            if strict ? dist < r : dist <= r { extra += 1 }
                        }
                    }
                    counts[m] += tally.wrappedSum() + extra
                }
            }
        }
    }
}

/// Counts on one coordinate by binary search in the sorted values.
final class SortedLine: MaxNormCounting, @unchecked Sendable {
    let dimension = 1
    private let values: [Double]
    /// The position in `values` of each row's value (-1 for rows outside the subset).
    private let position: [Int32]

    init(rows: UnsafeBufferPointer<Double>, subset: [Int]? = nil) {
        let ids = subset.map { $0.sorted() } ?? Array(0..<rows.count)
        let unsorted = ids.map { rows[$0] }
        let order = radixOrder(unsorted)   // by (value, caller index)
        values = order.map { unsorted[Int($0)] }
        var position = [Int32](repeating: -1, count: rows.count)
        for (k, p) in order.enumerated() { position[ids[Int(p)]] = Int32(k) }
        self.position = position
    }

    /// |v − q| < r holds exactly for the sorted values between the first with q − v < r and the
    /// first with v − q ≥ r: both differences are monotone in v, and |v − q| is one of them.
    /// A query that is one of the values starts from its own position and reads outwards, 8
    /// values at a time for the first few cache lines (the usual counts of a KSG sum end
    /// there, and a linear read beats the unpredictable branches of a search), then gallops,
    /// so a count of c costs O(log c) instead of O(log N) of scattered reads.
    func count(_ queries: UnsafeBufferPointer<Int32>, rows: UnsafePointer<Double>, radii: UnsafePointer<Double>,
               strict: Bool, counts: UnsafeMutablePointer<Int32>) {
        values.withUnsafeBufferPointer { v in
            for (m, qi) in queries.enumerated() {
                let q = rows[Int(qi)], r = radii[m]
                let start = Int(qi) < position.count ? Int(position[Int(qi)]) : -1
                let lower: Int, upper: Int
                let q8 = SIMD8<Double>(repeating: q), r8 = SIMD8<Double>(repeating: r)
                if strict {
                    lower = firstTrueNear(v, from: start, rising: false, { q - $0 < r }, { q8 - $0 .< r8 })
                    upper = firstTrueNear(v, from: start, rising: true, { $0 - q >= r }, { $0 - q8 .>= r8 })
                } else {
                    lower = firstTrueNear(v, from: start, rising: false, { q - $0 <= r }, { q8 - $0 .<= r8 })
                    upper = firstTrueNear(v, from: start, rising: true, { $0 - q > r }, { $0 - q8 .> r8 })
                }
                counts[m] = Int32(max(0, upper - lower))
            }
        }
    }
}

/// The first index where `p` holds, for a predicate false then true over `v`, searched by
/// galloping from `start` (leftwards when `rising` is false and `p` holds at `start`, rightwards
/// when `rising` is true and `p` fails there), else by bisection of all of `v`.
@inline(__always)
private func firstTrue(_ v: UnsafeBufferPointer<Double>, from start: Int, rising: Bool, _ p: (Double) -> Bool) -> Int {
    let n = v.count
    guard start >= 0 && start < n else { return partitionPoint(v, p) }
    if !rising && p(v[start]) {
        // p holds at start: the answer is in (start − step, start − step/2].
        var hi = start, step = 1
        var lo = start - step
        while lo >= 0 && p(v[lo]) { hi = lo; step <<= 1; lo = start - step }
        return bisect(v, max(lo + 1, 0), hi, p)
    }
    if rising && !p(v[start]) {
        var lo = start, step = 1
        var hi = start + step
        while hi < n && !p(v[hi]) { lo = hi; step <<= 1; hi = start + step }
        return bisect(v, lo + 1, min(hi, n), p)
    }
    return partitionPoint(v, p)
}

/// As `firstTrue`, reading the values beside `start` 8 at a time (`p8`, the same predicate on a
/// vector) for up to 32 vectors before galloping from where that stopped.
@inline(__always)
private func firstTrueNear(_ v: UnsafeBufferPointer<Double>, from start: Int, rising: Bool, _ p: (Double) -> Bool,
                           _ p8: (SIMD8<Double>) -> SIMDMask<SIMD8<Int64>>) -> Int {
    let n = v.count, nearVectors = 32
    guard start >= 0 && start < n, let base = v.baseAddress else { return partitionPoint(v, p) }
    if rising {
        if p(v[start]) { return firstTrue(v, from: start, rising: true, p) }
        var i = start + 1, vectors = 0   // p fails at i − 1
        while vectors < nearVectors && i + 8 <= n {
            let m = p8(UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Double>.self))
            if any(m) {
                var j = 0
                while !m[j] { j += 1 }
                return i + j
            }
            i += 8; vectors += 1
        }
        return firstTrue(v, from: i - 1, rising: true, p)
    }
    if !p(v[start]) { return firstTrue(v, from: start, rising: false, p) }
    var i = start, vectors = 0   // p holds at i
    while vectors < nearVectors && i >= 8 {
        let m = p8(UnsafeRawPointer(base + i - 8).loadUnaligned(as: SIMD8<Double>.self))
        if !all(m) {
            var j = 7
            while m[j] { j -= 1 }
            return i - 8 + j + 1
        }
        i -= 8; vectors += 1
    }
    return firstTrue(v, from: i, rising: false, p)
}

/// The first index in lo..<hi where `p` holds, or hi.
@inline(__always)
private func bisect(_ v: UnsafeBufferPointer<Double>, _ lo: Int, _ hi: Int, _ p: (Double) -> Bool) -> Int {
    var lo = lo, hi = hi
    while lo < hi {
        let mid = (lo + hi) / 2
        if p(v[mid]) { hi = mid } else { lo = mid + 1 }
    }
    return lo
}

/// The first index where `p` holds, for a predicate false then true over `v`.
@inline(__always)
private func partitionPoint(_ v: UnsafeBufferPointer<Double>, _ p: (Double) -> Bool) -> Int {
    var lo = 0, hi = v.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if p(v[mid]) { hi = mid } else { lo = mid + 1 }
    }
    return lo
}

/// The Float max-norm distances from a query to one group of 16 points (coordinate j of the
/// group at `base + offsets[j]`, the query's at `query[j]`), or nil once every lane is above
/// `bound` (checked every second coordinate).
@inline(__always)
private func groupDistances(_ base: UnsafePointer<Float>, _ offsets: UnsafePointer<Int>, _ query: UnsafePointer<Float>, _ d: Int,
                            within bound: SIMD16<Float>) -> SIMD16<Float>? {
    var a = SIMD16<Float>(repeating: 0)
    var j = 0
    while j < d {
        a = vmax(a, absDiff(load16(base + offsets[j]), SIMD16<Float>(repeating: query[j])))
        j += 1
        if j & 1 == 0 && !any(a .<= bound) { return nil }
    }
    return a
}

@inline(__always)
private func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self) }

@inline(__always)
private func absDiff(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    unsafeBitCast(unsafeBitCast(a - b, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
}

/// Lane-wise maximum; the form that compiles to one `vmaxps` (the standard library's
/// `pointwiseMax` did not, in this toolchain).
@inline(__always)
private func vmax(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a.replacing(with: b, where: a .< b) }
