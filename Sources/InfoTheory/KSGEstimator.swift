// k-nearest-neighbour (Kraskov-Stögbauer-Grassberger) estimates of mutual information.
//
// KSG algorithms 1 and 2 for two continuous variables, and Ross's form for a continuous
// variable and a discrete one, all under the max-norm with exact neighbours from a k-d tree
// (`MaxNormTree`), parallel over samples. Inputs are standardized per column and given a
// seeded jitter to break ties, as scikit-learn does. This file does no I/O; it returns nats.

import Dispatch
import Foundation
import RealModule
import Tensors

/// Which of Kraskov et al.'s two estimators (their Eq. 8 and 9).
public enum KSGAlgorithm: Int, Sendable, CaseIterable {
    /// Eq. 8: one radius (the k-th neighbour's in the joint space) for both marginal counts.
    case one = 1
    /// Eq. 9: per-marginal radii (the largest marginal distance among the k neighbours).
    case two = 2
}

/// Kraskov-Stögbauer-Grassberger estimates of I(A;B), and Ross's I(T;Y) for a discrete Y.
///
/// With ε_i the max-norm distance from sample i to its k-th nearest neighbour in the joint
/// space (a, b), n_a(i) and n_b(i) the numbers of other samples closer than ε_i in each marginal
/// space (also max-norm), algorithm 1 is
///
///     I(A;B) = ψ(k) + ψ(N) − ⟨ψ(n_a + 1) + ψ(n_b + 1)⟩,
///
/// and algorithm 2 uses the marginal radii ε_a(i), ε_b(i) (the largest marginal distance among
/// the k neighbours), counts within them inclusively, and gives ψ(k) − 1/k + ψ(N) − ⟨ψ(n_a) + ψ(n_b)⟩.
/// Both are in nats, are exact (zero bias) for independent variables in expectation, and are
/// biased towards zero for strongly dependent ones, less so as N grows; estimates can be
/// slightly negative and are not clipped. For a discrete label Y (Ross 2014), with d_i the
/// distance from t_i to its k-th neighbour among the N_y samples of its class and m_i the number
/// of all samples (itself included) closer than d_i,
///
///     I(T;Y) = ψ(N) + ψ(k) − ⟨ψ(N_y)⟩ − ⟨ψ(m)⟩,
///
/// over the samples whose class has at least two members (k reduced to N_y − 1 in smaller
/// classes), as scikit-learn's `mutual_info_classif` computes it.
///
/// Preprocessing, as scikit-learn's: each column is divided by its standard deviation (a
/// constant column is left as it is), then receives the jitter 1e-10 · max(1, mean |column|) · z
/// with z standard normal from a generator seeded with `seed`. The jitter separates tied values
/// (repeated activations of a saturated unit) without moving any distance by more than ~1e-9.
///
/// Where T is a deterministic function of a continuous X, I(X;T) is infinite in theory; the
/// estimate is then finite only because N is, and grows with N. `noiseVariance` gives the
/// finite alternative: T + Z with Z Gaussian of that variance per unit (seeded).
///
/// References: [Kraskov, Stögbauer & Grassberger 2004](https://doi.org/10.1103/PhysRevE.69.066138),
/// [Ross 2014](https://doi.org/10.1371/journal.pone.0087357).
public struct KSGEstimator: Sendable {
    /// k, the number of neighbours (>= 1).
    public let k: Int
    public let algorithm: KSGAlgorithm
    /// The seed of the tie-breaking jitter (and of the noise, when `noiseVariance` is set).
    public let seed: UInt64
    /// The relative size of the jitter (1e-10, scikit-learn's).
    public let jitter: Double
    /// The variance of Gaussian noise added to T before estimating (nil: none).
    public let noiseVariance: Double?
    /// Threads over samples.
    public let workers: Int
    /// The exact neighbour search (all give the same estimate; they differ in speed).
    public let search: KSGNeighbourSearch

    /// - Throws: `InfoTheoryError.invalidParameter` for k < 1, workers < 1, a negative jitter or
    ///   a non-positive noise variance.
    public init(k: Int = 3, algorithm: KSGAlgorithm = .one, seed: UInt64 = 0, jitter: Double = 1e-10,
                noiseVariance: Double? = nil, workers: Int = 2, search: KSGNeighbourSearch = .automatic) throws {
        guard k >= 1 else { throw InfoTheoryError.invalidParameter("k must be at least 1, got \(k)") }
        guard workers >= 1 else { throw InfoTheoryError.invalidParameter("workers must be at least 1") }
        guard jitter >= 0, jitter.isFinite else { throw InfoTheoryError.invalidParameter("jitter must be non-negative") }
        if let s2 = noiseVariance, !(s2 > 0 && s2.isFinite) {
            throw InfoTheoryError.invalidParameter("noise variance must be positive and finite, got \(s2)")
        }
        self.k = k
        self.algorithm = algorithm
        self.seed = seed
        self.jitter = jitter
        self.noiseVariance = noiseVariance
        self.workers = workers
        self.search = search
    }

    /// I(A;B) in nats for two continuous variables observed on the same N samples.
    ///
    /// The noise of `noiseVariance`, when set, is added to `b` (the layer T), before standardizing.
    /// - Throws: `.rowCountMismatch`, `.emptyLayer`, `.nonFinite`, or `.invalidParameter` when k >= N.
    /// - Complexity: O(N log N) tree builds and, for low dimensions, about O(N k log N) queries.
    public func mutualInformation(_ a: ActivationMatrix, _ b: ActivationMatrix) throws -> Double {
        if a.rows != b.rows { throw InfoTheoryError.rowCountMismatch(activationRows: b.rows, expected: a.rows, what: "inputs") }
        try a.validate(); try b.validate()
        let n = a.rows
        if k >= n { throw InfoTheoryError.invalidParameter("k = \(k) needs more than \(k) samples, got \(n)") }
        var rng = RandomGenerator(seed: seed)
        let x = prepared(a, noise: nil, rng: &rng)
        let y = prepared(b, noise: noiseVariance, rng: &rng)
        return Self.ksg(x, a.columns, y, b.columns, n: n, k: k, algorithm: algorithm, workers: workers, search: search)
    }

    /// I(T;Y) in nats for a continuous T and discrete labels (Ross 2014).
    /// - Throws: `.rowCountMismatch`, `.emptyLayer`, `.nonFinite`, or `.invalidParameter` when
    ///   k >= N or no class has two samples.
    public func labelInformation(_ t: ActivationMatrix, labels: [Int]) throws -> Double {
        if labels.count != t.rows { throw InfoTheoryError.rowCountMismatch(activationRows: t.rows, expected: labels.count, what: "labels") }
        try t.validate()
        let n = t.rows
        if k >= n { throw InfoTheoryError.invalidParameter("k = \(k) needs more than \(k) samples, got \(n)") }
        var rng = RandomGenerator(seed: seed)
        let x = prepared(t, noise: noiseVariance, rng: &rng)
        return try Self.ross(x, t.columns, labels: labels, k: k, workers: workers, search: search)
    }

    /// Noise (optional), per-column standardization, jitter; Double, row-major.
    func prepared(_ m: ActivationMatrix, noise: Double?, rng: inout RandomGenerator) -> [Double] {
        let n = m.rows, d = m.columns
        var out = m.scalars.map(Double.init)
        if let s2 = noise {
            let s = s2.squareRoot()
            for i in 0..<out.count { out[i] += s * rng.normal() }
        }
        guard n > 0 else { return out }
        out.withUnsafeMutableBufferPointer { p in
            for j in 0..<d {
                var mean = 0.0
                for i in 0..<n { mean += p[i * d + j] }
                mean /= Double(n)
                var v = 0.0
                for i in 0..<n { let c = p[i * d + j] - mean; v += c * c }
                let std = (v / Double(n)).squareRoot()
                if std > 0 { for i in 0..<n { p[i * d + j] /= std } }
                var meanAbs = 0.0
                for i in 0..<n { meanAbs += abs(p[i * d + j]) }
                meanAbs /= Double(n)
                let size = jitter * max(1, meanAbs)
                for i in 0..<n { p[i * d + j] += size * rng.normal() }
            }
        }
        return out
    }

    /// The neighbour search for the joint (or class) k-nearest-neighbour queries; automatic: the
    /// strips in two dimensions, else the tree or the scan by `prefersScan`. Rows beyond
    /// Float's range (|v| >= 1e36 after standardizing) never get the scan.
    static func neighbours(_ rows: UnsafeBufferPointer<Double>, _ d: Int, subset: [Int]? = nil,
                           search: KSGNeighbourSearch) -> any MaxNormNeighbours {
        let n = subset?.count ?? rows.count / d
        if search == .automatic && d == 2 { return MaxNormStrips(rows: rows, subset: subset) }
        let scan = MaxNormScan.accepts(rows) && (search == .scan || (search == .automatic && prefersScan(n: n, d: d, query: .nearest)))
        return scan ? MaxNormScan(rows: rows, dimension: d, subset: subset) : MaxNormTree(rows: rows, dimension: d, subset: subset)
    }

    /// The search for the marginal counts; automatic: a sorted array for one coordinate.
    static func counting(_ rows: UnsafeBufferPointer<Double>, _ d: Int, subset: [Int]? = nil,
                         search: KSGNeighbourSearch) -> any MaxNormCounting {
        let n = subset?.count ?? rows.count / d
        if search == .automatic && d == 1 { return SortedLine(rows: rows, subset: subset) }
        let scan = MaxNormScan.accepts(rows) && (search == .scan || (search == .automatic && prefersScan(n: n, d: d, query: .count)))
        return scan ? MaxNormScan(rows: rows, dimension: d, subset: subset) : MaxNormTree(rows: rows, dimension: d, subset: subset)
    }

    enum Query { case nearest, count }

    /// Whether the blocked scan beats the k-d tree for n points in d dimensions.
    ///
    /// Measured (release, `INFOPLANE_BENCH_KSG=shapes infoplane-bench ksg`, 2 workers, best of
    /// 3, 2-core AMD EPYC with AVX-512, shared with other jobs; data as in that benchmark: X
    /// standard normal, T = tanh(X + 0.5 X shifted) + 0.3 noise; the k-NN (k = 3) in (X, T), the
    /// strict count in X at each sample's k-th joint distance):
    ///
    ///     N      joint d  tree kNN   scan kNN  | marginal d  tree count  scan count
    ///     65536     2       40 ms      468 ms  |     1          31 ms      320 ms
    ///     4096      4      2.8 ms      4.9 ms  |     2         2.6 ms      2.6 ms
    ///     4096     10      7.6 ms      8.4 ms  |     5         5.6 ms      4.1 ms
    ///     16384    10       44 ms       82 ms  |     5          33 ms       43 ms
    ///     4096     12       11 ms      9.5 ms  |     6         7.8 ms      5.4 ms
    ///     16384    12       63 ms       93 ms  |     6          50 ms       53 ms
    ///     4096     16       17 ms       11 ms  |     8          11 ms      6.5 ms
    ///     16384    16      120 ms      104 ms  |     8          83 ms       64 ms
    ///     65536    16      922 ms     1132 ms  |     8         620 ms      751 ms
    ///     4096     20       30 ms       14 ms  |    10          18 ms      8.6 ms
    ///     16384    20      223 ms      124 ms  |    10         145 ms       77 ms
    ///     65536    20     1721 ms     1357 ms  |    10        1157 ms      867 ms
    ///     4096     40      135 ms       25 ms  |    20          70 ms       15 ms
    ///     16384    40     1609 ms      222 ms  |    20         890 ms      150 ms
    ///
    /// The scan costs O(N² d) at best and the tree grows more slowly in N, so the crossover
    /// dimension rises with N: for the k-NN the scan wins from 12 dimensions at N <= 4096, from
    /// 16 at N <= 16384 and from 20 at any N measured; for the counts (wider radii in fewer
    /// dimensions) from 5, 8 and 10. The rule is that table's boundaries. 1-D counts use
    /// `SortedLine` (binary search), faster than both.
    static func prefersScan(n: Int, d: Int, query: Query) -> Bool {
        let (small, medium, any) = query == .nearest ? (12, 16, 20) : (5, 8, 10)
        return d >= any || (d >= medium && n <= 16384) || (d >= small && n <= 4096)
    }

    /// Chunks of samples per task of the parallel loops (fixed by n alone).
    static let chunk = 256

    /// The KSG sum on prepared data.
    static func ksg(_ x: [Double], _ dx: Int, _ y: [Double], _ dy: Int, n: Int, k: Int,
                    algorithm: KSGAlgorithm, workers: Int, search: KSGNeighbourSearch = .automatic) -> Double {
        let dj = dx + dy
        var interleaved = [Double](repeating: 0, count: n * dj)
        for i in 0..<n {
            for j in 0..<dx { interleaved[i * dj + j] = x[i * dx + j] }
            for j in 0..<dy { interleaved[i * dj + dx + j] = y[i * dy + j] }
        }
        let joint = interleaved
        // The three searches are built side by side (the arrays outlive the loop).
        let built = SearchSlots()
        parallelFor(3, workers: workers) { part in
            joint.withUnsafeBufferPointer { jp in
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeBufferPointer { yp in
                        switch part {
                        case 0: built.set(neighbours: neighbours(jp, dj, search: search))
                        case 1: built.set(x: counting(xp, dx, search: search))
                        default: built.set(y: counting(yp, dy, search: search))
                        }
                    }
                }
            }
        }
        let (jointSearch, xSearch, ySearch) = built.all()
        let psi = DigammaTable(upTo: n + 1)
        let sums = parallelSum(n, workers: workers) { range in
            let m = range.count
            var dist = [Double](repeating: 0, count: m * k), ids = [Int32](repeating: 0, count: m * k)
            var ra = [Double](repeating: 0, count: m), rb = [Double](repeating: 0, count: m)
            var na = [Int32](repeating: 0, count: m), nb = [Int32](repeating: 0, count: m)
            let queries = range.map(Int32.init)
            var total = 0.0
            joint.withUnsafeBufferPointer { jp in
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeBufferPointer { yp in
                        queries.withUnsafeBufferPointer { qs in
                            dist.withUnsafeMutableBufferPointer { dp in
                                ids.withUnsafeMutableBufferPointer { ip in
                                    jointSearch.nearest(qs, rows: jp.baseAddress!, k: k, distances: dp.baseAddress!, indices: ip.baseAddress!)
                                }
                            }
                            for (q, i) in range.enumerated() {
                                switch algorithm {
                                case .one:
                                    ra[q] = dist[q * k + k - 1]; rb[q] = ra[q]
                                case .two:
                                    let qx = xp.baseAddress! + i * dx, qy = yp.baseAddress! + i * dy
                                    var ea = 0.0, eb = 0.0
                                    for s in 0..<k {
                                        let o = Int(ids[q * k + s])
                                        ea = max(ea, maxNorm(xp.baseAddress! + o * dx, qx, dx))
                                        eb = max(eb, maxNorm(yp.baseAddress! + o * dy, qy, dy))
                                    }
                                    ra[q] = ea; rb[q] = eb
                                }
                            }
                            let strict = algorithm == .one
                            xSearch.count(qs, rows: xp.baseAddress!, radii: ra, strict: strict, counts: &na)
                            ySearch.count(qs, rows: yp.baseAddress!, radii: rb, strict: strict, counts: &nb)
                        }
                    }
                }
            }
            // The counts include the sample itself.
            for q in 0..<m {
                switch algorithm {
                case .one: total += psi[Int(na[q])] + psi[Int(nb[q])]
                case .two: total += psi[Int(na[q]) - 1] + psi[Int(nb[q]) - 1]
                }
            }
            return total
        }
        let mean = sums / Double(n)
        switch algorithm {
        case .one: return psi[k] + psi[n] - mean
        case .two: return psi[k] - 1 / Double(k) + psi[n] - mean
        }
    }

    /// Ross's sum on prepared data.
    static func ross(_ t: [Double], _ d: Int, labels: [Int], k: Int, workers: Int,
                     search: KSGNeighbourSearch = .automatic) throws -> Double {
        let n = labels.count
        var members: [Int: [Int]] = [:]
        for (i, l) in labels.enumerated() { members[l, default: []].append(i) }
        // Classes in order of their smallest member (the dictionary's order is not fixed).
        let used = members.values.filter { $0.count > 1 }.sorted { $0[0] < $1[0] }
        let m = used.reduce(0) { $0 + $1.count }
        if m == 0 { throw InfoTheoryError.invalidParameter("no class has two samples") }
        let (all, classSearches): (any MaxNormCounting, [any MaxNormNeighbours]) = t.withUnsafeBufferPointer { tp in
            // The counts run over the samples of usable classes only, as scikit-learn's do.
            let subset = used.flatMap { $0 }.sorted()
            return (counting(tp, d, subset: subset, search: search), used.map { neighbours(tp, d, subset: $0, search: search) })
        }
        let psi = DigammaTable(upTo: n + 1)
        // Tasks: chunks of each class's members; each writes its samples' terms, summed below in
        // sample order (so the result does not depend on the thread count).
        var tasks: [(cls: Int, range: Range<Int>)] = []
        for (c, rows) in used.enumerated() {
            for s in stride(from: 0, to: rows.count, by: chunk) { tasks.append((c, s..<min(rows.count, s + chunk))) }
        }
        let terms = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        defer { terms.deallocate() }
        terms.initialize(repeating: 0)
        let shared = SharedPointer(base: terms.baseAddress!)
        let todo = tasks
        parallelFor(todo.count, workers: workers) { task in
            let (c, range) = todo[task]
            let rows = used[c]
            let size = rows.count, kk = min(k, size - 1)
            let queries = rows[range].map(Int32.init)
            var dist = [Double](repeating: 0, count: queries.count * kk), ids = [Int32](repeating: 0, count: queries.count * kk)
            var radii = [Double](repeating: 0, count: queries.count), counts = [Int32](repeating: 0, count: queries.count)
            t.withUnsafeBufferPointer { tp in
                queries.withUnsafeBufferPointer { qs in
                    classSearches[c].nearest(qs, rows: tp.baseAddress!, k: kk, distances: &dist, indices: &ids)
                    for q in 0..<queries.count { radii[q] = dist[q * kk + kk - 1] }
                    all.count(qs, rows: tp.baseAddress!, radii: radii, strict: true, counts: &counts)
                }
            }
            for (q, i) in queries.enumerated() { shared.base[Int(i)] = psi[kk] - psi[size] - psi[Int(counts[q])] }
        }
        var total = 0.0
        for i in 0..<n { total += terms[i] }
        return psi[m] + total / Double(m)
    }
}

/// Which exact neighbour search the KSG and Ross sums use (all give the same result).
public enum KSGNeighbourSearch: Sendable, CaseIterable {
    /// The faster at the shape: in two dimensions the strips (`MaxNormStrips`), else the tree or
    /// the scan by a rule measured on this code (`KSGEstimator.prefersScan`); 1-D marginal
    /// counts by binary search in the sorted values.
    case automatic
    /// The k-d tree (`MaxNormTree`) for every query.
    case tree
    /// The blocked brute-force scan (`MaxNormScan`) for every query.
    case scan
}

@inline(__always)
func maxNorm(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, _ d: Int) -> Double {
    var m = 0.0
    for j in 0..<d { let v = abs(a[j] - b[j]); if v > m { m = v } }
    return m
}

/// ψ(n) for integers 1...N: ψ(1) = −γ, ψ(n + 1) = ψ(n) + 1/n (ψ(0) is taken as ψ(1), a count of 0
/// cannot occur for a stored query point).
struct DigammaTable: Sendable {
    let values: [Double]
    init(upTo n: Int) {
        var v = [Double](repeating: 0, count: n + 2)
        v[1] = -0.577_215_664_901_532_9
        if n + 1 >= 2 { for m in 2...(n + 1) { v[m] = v[m - 1] + 1 / Double(m - 1) } }
        v[0] = v[1]
        values = v
    }
    subscript(_ n: Int) -> Double { values[n] }
}

/// The sum of `body` over chunks of 0..<n, on `workers` threads; chunks are fixed by n alone
/// and summed in chunk order, so the result does not depend on the thread count.
func parallelSum(_ n: Int, workers: Int, _ body: @escaping @Sendable (Range<Int>) -> Double) -> Double {
    let chunk = KSGEstimator.chunk
    let chunks = (n + chunk - 1) / chunk
    let partial = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(chunks, 1))
    defer { partial.deallocate() }
    let out = SharedPointer(base: partial.baseAddress!)
    let next = ChunkCounter()
    let work: @Sendable (Int) -> Void = { _ in
        while true {
            let c = next.claim()
            if c >= chunks { return }
            out.base[c] = body((c * chunk)..<min(n, (c + 1) * chunk))
        }
    }
    if workers <= 1 || chunks <= 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: min(workers, chunks), execute: work) }
    var total = 0.0
    for c in 0..<chunks { total += partial[c] }
    return total
}

/// `body(t)` for t in 0..<tasks on `workers` threads, tasks claimed in order.
func parallelFor(_ tasks: Int, workers: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let next = ChunkCounter()
    let work: @Sendable (Int) -> Void = { _ in
        while true {
            let t = next.claim()
            if t >= tasks { return }
            body(t)
        }
    }
    if workers <= 1 || tasks <= 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: min(workers, tasks), execute: work) }
}

/// The searches of a KSG sum, built on worker threads.
private final class SearchSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var neighbours: (any MaxNormNeighbours)?
    private var x: (any MaxNormCounting)?
    private var y: (any MaxNormCounting)?
    func set(neighbours n: any MaxNormNeighbours) { lock.lock(); neighbours = n; lock.unlock() }
    func set(x c: any MaxNormCounting) { lock.lock(); x = c; lock.unlock() }
    func set(y c: any MaxNormCounting) { lock.lock(); y = c; lock.unlock() }
    /// The three, once all are set.
    func all() -> (any MaxNormNeighbours, any MaxNormCounting, any MaxNormCounting) {
        lock.lock(); defer { lock.unlock() }
        return (neighbours!, x!, y!)
    }
}

final class ChunkCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func claim() -> Int { lock.lock(); defer { lock.unlock() }; let v = value; value += 1; return v }
}

/// Timings of the two neighbour searches, for the benchmark that sets `prefersScan`.
@_spi(Benchmarks) public enum KSGSearchTiming {
    /// Wall seconds of the KSG searches on `joint` (n x (dx + dy), row-major): the build and
    /// the k-nearest-neighbour pass over all samples in the joint space with the tree or the
    /// scan, then the build and the count pass in the first dx coordinates (radius: each
    /// sample's k-th joint distance, strict) with the tree or the scan, on `workers` threads.
    /// Also returns the sum of the counts (the same for both searches).
    /// With `automatic`, the searches the estimators choose (the strips in two dimensions, the
    /// sorted line for 1-D counts, else the tree or the scan by `prefersScan`) instead.
    public static func measure(joint: [Double], dx: Int, dy: Int, k: Int, scanNearest: Bool, scanCount: Bool,
                               automatic: Bool = false, workers: Int) -> (nearest: Double, count: Double, countSum: Int) {
        let dj = dx + dy, n = joint.count / dj
        var xs = [Double](repeating: 0, count: n * dx)
        for i in 0..<n { for j in 0..<dx { xs[i * dx + j] = joint[i * dj + j] } }
        let x = xs
        let chunks = (n + KSGEstimator.chunk - 1) / KSGEstimator.chunk
        let radii = UnsafeMutableBufferPointer<Double>.allocate(capacity: n)
        let counts = UnsafeMutableBufferPointer<Int32>.allocate(capacity: n)
        defer { radii.deallocate(); counts.deallocate() }
        let r = SharedPointer(base: radii.baseAddress!), c = SharedPointer(base: counts.baseAddress!)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let near: any MaxNormNeighbours = joint.withUnsafeBufferPointer {
            if automatic { return KSGEstimator.neighbours($0, dj, search: .automatic) }
            return scanNearest ? MaxNormScan(rows: $0, dimension: dj) as any MaxNormNeighbours : MaxNormTree(rows: $0, dimension: dj)
        }
        parallelFor(chunks, workers: workers) { ch in
            let range = (ch * KSGEstimator.chunk)..<min(n, (ch + 1) * KSGEstimator.chunk)
            let qs = range.map(Int32.init)
            var dist = [Double](repeating: 0, count: qs.count * k), ids = [Int32](repeating: 0, count: qs.count * k)
            joint.withUnsafeBufferPointer { jp in
                qs.withUnsafeBufferPointer { near.nearest($0, rows: jp.baseAddress!, k: k, distances: &dist, indices: &ids) }
            }
            for (q, i) in range.enumerated() { r.base[i] = dist[q * k + k - 1] }
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        let counter: any MaxNormCounting = x.withUnsafeBufferPointer {
            if automatic { return KSGEstimator.counting($0, dx, search: .automatic) }
            return scanCount ? MaxNormScan(rows: $0, dimension: dx) as any MaxNormCounting : MaxNormTree(rows: $0, dimension: dx)
        }
        parallelFor(chunks, workers: workers) { ch in
            let range = (ch * KSGEstimator.chunk)..<min(n, (ch + 1) * KSGEstimator.chunk)
            let qs = range.map(Int32.init)
            x.withUnsafeBufferPointer { xp in
                qs.withUnsafeBufferPointer {
                    counter.count($0, rows: xp.baseAddress!, radii: r.base + range.lowerBound, strict: true, counts: c.base + range.lowerBound)
                }
            }
        }
        let t2 = DispatchTime.now().uptimeNanoseconds
        return (Double(t1 - t0) / 1e9, Double(t2 - t1) / 1e9, counts.reduce(0) { $0 + Int($1) })
    }
}
