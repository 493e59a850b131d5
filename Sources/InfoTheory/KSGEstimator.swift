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

    /// - Throws: `InfoTheoryError.invalidParameter` for k < 1, workers < 1, a negative jitter or
    ///   a non-positive noise variance.
    public init(k: Int = 3, algorithm: KSGAlgorithm = .one, seed: UInt64 = 0, jitter: Double = 1e-10,
                noiseVariance: Double? = nil, workers: Int = 2) throws {
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
        return Self.ksg(x, a.columns, y, b.columns, n: n, k: k, algorithm: algorithm, workers: workers)
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
        return try Self.ross(x, t.columns, labels: labels, k: k, workers: workers)
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

    /// The KSG sum on prepared data.
    static func ksg(_ x: [Double], _ dx: Int, _ y: [Double], _ dy: Int, n: Int, k: Int,
                    algorithm: KSGAlgorithm, workers: Int) -> Double {
        let dj = dx + dy
        var interleaved = [Double](repeating: 0, count: n * dj)
        for i in 0..<n {
            for j in 0..<dx { interleaved[i * dj + j] = x[i * dx + j] }
            for j in 0..<dy { interleaved[i * dj + dx + j] = y[i * dy + j] }
        }
        let joint = interleaved
        let trees = joint.withUnsafeBufferPointer { jp in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    (MaxNormTree(rows: jp, dimension: dj), MaxNormTree(rows: xp, dimension: dx), MaxNormTree(rows: yp, dimension: dy))
                }
            }
        }
        let (jointTree, xTree, yTree) = trees
        let psi = DigammaTable(upTo: n + 1)
        let sums = parallelSum(n, workers: workers) { range in
            var dist = [Double](repeating: 0, count: k), ids = [Int32](repeating: 0, count: k)
            var total = 0.0
            joint.withUnsafeBufferPointer { jp in
                x.withUnsafeBufferPointer { xp in
                    y.withUnsafeBufferPointer { yp in
                        for i in range {
                            let qx = xp.baseAddress! + i * dx, qy = yp.baseAddress! + i * dy
                            dist.withUnsafeMutableBufferPointer { dp in
                                ids.withUnsafeMutableBufferPointer { ip in
                                    jointTree.nearest(jp.baseAddress! + i * dj, k: k, exclude: i, distances: dp.baseAddress!, indices: ip.baseAddress!)
                                }
                            }
                            switch algorithm {
                            case .one:
                                let eps = dist[k - 1]
                                let na = xTree.count(within: eps, of: qx, strict: true) - 1
                                let nb = yTree.count(within: eps, of: qy, strict: true) - 1
                                total += psi[na + 1] + psi[nb + 1]
                            case .two:
                                var ea = 0.0, eb = 0.0
                                for m in 0..<k {
                                    let o = Int(ids[m])
                                    ea = max(ea, maxNorm(xp.baseAddress! + o * dx, qx, dx))
                                    eb = max(eb, maxNorm(yp.baseAddress! + o * dy, qy, dy))
                                }
                                let na = xTree.count(within: ea, of: qx, strict: false) - 1
                                let nb = yTree.count(within: eb, of: qy, strict: false) - 1
                                total += psi[na] + psi[nb]
                            }
                        }
                    }
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
    static func ross(_ t: [Double], _ d: Int, labels: [Int], k: Int, workers: Int) throws -> Double {
        let n = labels.count
        var members: [Int: [Int]] = [:]
        for (i, l) in labels.enumerated() { members[l, default: []].append(i) }
        let used = members.values.filter { $0.count > 1 }
        let m = used.reduce(0) { $0 + $1.count }
        if m == 0 { throw InfoTheoryError.invalidParameter("no class has two samples") }
        let (all, classTrees): (MaxNormTree, [Int: MaxNormTree]) = t.withUnsafeBufferPointer { tp in
            var trees: [Int: MaxNormTree] = [:]
            for (l, rows) in members where rows.count > 1 { trees[l] = MaxNormTree(rows: tp, dimension: d, subset: rows) }
            // The counts run over the samples of usable classes only, as scikit-learn's do.
            let subset = used.flatMap { $0 }.sorted()
            return (MaxNormTree(rows: tp, dimension: d, subset: subset), trees)
        }
        let psi = DigammaTable(upTo: n + 1)
        let sizes = members.mapValues(\.count)
        let sums = parallelSum(n, workers: workers) { range in
            var total = 0.0
            var dist = [Double](repeating: 0, count: k), ids = [Int32](repeating: 0, count: k)
            t.withUnsafeBufferPointer { tp in
                for i in range {
                    let size = sizes[labels[i]]!
                    guard size > 1 else { continue }
                    let kk = min(k, size - 1)
                    dist.withUnsafeMutableBufferPointer { dp in
                        ids.withUnsafeMutableBufferPointer { ip in
                            classTrees[labels[i]]!.nearest(tp.baseAddress! + i * d, k: kk, exclude: i, distances: dp.baseAddress!, indices: ip.baseAddress!)
                        }
                    }
                    let count = all.count(within: dist[kk - 1], of: tp.baseAddress! + i * d, strict: true)
                    total += psi[kk] - psi[size] - psi[count]
                }
            }
            return total
        }
        return psi[m] + sums / Double(m)
    }
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
    let chunk = 256
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

final class ChunkCounter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func claim() -> Int { lock.lock(); defer { lock.unlock() }; let v = value; value += 1; return v }
}
