// Kernel-density (pairwise-distance) bounds on the mutual information of a noisy layer.
//
// Kolchinsky & Tracey's estimator as used by Saxe et al. (ICLR 2018, App. B, Eq. 7-12): the
// layer T is made stochastic by adding Gaussian noise of variance s2 to each unit, T + Z, so
// I(X;T) is finite; the entropy of the resulting Gaussian mixture is bounded above with the
// Kullback-Leibler divergences between components and below with the Bhattacharyya distances.
// This file holds the public estimator and the blocked GEMM + log-sum-exp kernel. It does no I/O.

import Dispatch
import RealModule
import Tensors

/// Which KDE bound(s) to compute.
public enum KDEBound: String, Sendable, CaseIterable {
    /// The KL-divergence upper bound (kernel width 2 s2).
    case upper
    /// The Bhattacharyya lower bound (kernel width 8 s2).
    case lower
    /// Both bounds, from one pass over the pairwise distances.
    case both
}

/// One KDE bound on the information of a noisy layer, in nats (use `bits` for the CSV's unit).
public struct KDEBoundEstimate: Sendable, Equatable {
    /// I(X;T), nats: -(1/N) sum_i ln((1/N) sum_j exp(-D_ij / w)), w = 2 s2 (upper) or 8 s2 (lower).
    public var inputInformation: Double
    /// I(T;Y), nats: H(T) - sum_l p_l H(T|Y=l), each H(T|Y=l) over the rows of class l only;
    /// nil when the estimator has no labels.
    public var labelInformation: Double?
    /// The bound on the differential entropy h(T + Z), nats: I(X;T) + h(T+Z | X), where
    /// h(T+Z | X) = (d/2)(ln(2 pi s2) + 1) is the entropy of the noise (Saxe et al.'s `H_M`).
    public var entropy: Double

    /// The same values in bits (divided by ln 2), as Saxe et al.'s code reports them.
    public var bits: KDEBoundEstimate {
        let f = 1 / Double.log(2)
        return KDEBoundEstimate(inputInformation: inputInformation * f,
                                labelInformation: labelInformation.map { $0 * f },
                                entropy: entropy * f)
    }
}

/// The KDE bounds for one layer at one epoch; `upper` and `lower` are present as requested.
public struct KDEEstimate: Sendable, Equatable {
    public var upper: KDEBoundEstimate?
    public var lower: KDEBoundEstimate?
}

/// Upper and lower bounds on I(X;T) and I(T;Y) for a layer with additive Gaussian noise.
///
/// With D_ij = ||h_i - h_j||^2 over the N rows h_i of the layer and noise variance s2 (0.1 in
/// Saxe et al.), the upper (KL) bound is
///
///     I_upper(X;T) = -(1/N) sum_i ln( (1/N) sum_j exp(-D_ij / (2 s2)) )
///
/// and the lower (Bhattacharyya) bound is the same with 8 s2 in place of 2 s2: Kolchinsky &
/// Tracey's BD estimate is the KL estimate at variance 4 s2 plus (d/2) ln(1/4), and the
/// normalising constants cancel against H(T|X) = (d/2)(ln(2 pi s2) + 1) (ibsgd `kde.py`,
/// `entropy_estimator_bd`). Both lie in [0, ln N] nats. For I(T;Y) each class-conditional
/// entropy uses only that class's rows (and its own N_l), weighted by p_l = N_l / N.
///
/// The sums include j = i, whose term is exactly 1 (D_ii = 0), so every inner sum is >= 1: the
/// row-wise log-sum-exp needs no max shift and cannot underflow to ln 0.
///
/// Distances come from one GEMM per block of rows, D_ij = ||h_i||^2 + ||h_j||^2 - 2 h_i.h_j
/// (float32, clamped at 0, the diagonal exactly 0), only for j > i (D is symmetric: each pair's
/// term is added to both rows). Memory is O(blockRows x N), never N x N. Kernel values are
/// summed in float32 over at most 1024 columns, then in Double.
///
/// References: [Kolchinsky & Tracey 2017](https://doi.org/10.3390/e19070361),
/// [Saxe et al. 2018](https://openreview.net/forum?id=ry_WPG-A-), App. B;
/// code: [ibsgd](https://github.com/artemyk/ibsgd) `kde.py`.
public struct KDEEstimator: Sendable {
    /// s2, the variance of the Gaussian noise added to each unit.
    public let noiseVariance: Double
    /// The bound(s) computed.
    public let bound: KDEBound
    /// Threads used for one estimate. With more than 1, OpenBLAS is set to 1 thread for the
    /// duration (and restored); with 1 the caller's `BLAS.threads` is used as is.
    public let workers: Int
    /// Rows per GEMM block (memory per worker is about blockRows x N floats).
    public let blockRows: Int

    let classIds: [Int32]?
    let classSizes: [Int]

    /// An estimator with the given noise, bound(s), labels and parallelism.
    ///
    /// - Parameters:
    ///   - noiseVariance: s2 > 0 (Saxe et al.: 0.1; their 12-bit notebook also used 1e-3).
    ///   - bound: `.upper`, `.lower` or `.both`.
    ///   - labels: Y per sample, for I(T;Y); nil to compute I(X;T) only.
    ///   - workers: threads for one estimate (>= 1).
    ///   - blockRows: rows per distance block (>= 1).
    /// - Throws: `InfoTheoryError.invalidParameter`.
    public init(noiseVariance: Double = 0.1, bound: KDEBound = .both, labels: [Int]? = nil,
                workers: Int = 1, blockRows: Int = 128) throws {
        guard noiseVariance.isFinite && noiseVariance > 0 else {
            throw InfoTheoryError.invalidParameter("noise variance must be positive and finite, got \(noiseVariance)")
        }
        guard workers >= 1, blockRows >= 1 else {
            throw InfoTheoryError.invalidParameter("workers and blockRows must be at least 1")
        }
        self.noiseVariance = noiseVariance
        self.bound = bound
        self.workers = workers
        self.blockRows = blockRows
        if let labels {
            let groups = groupValues(labels)
            classIds = groups.ids
            classSizes = groups.counts.map { Int($0) }
        } else {
            classIds = nil
            classSizes = []
        }
    }

    /// The bounds for one layer at one epoch.
    ///
    /// - Parameter activations: T, N x d (N = the number of labels, when labels were given).
    /// - Throws: `InfoTheoryError.rowCountMismatch`, `.emptyLayer`, `.nonFinite(row:column:value:)`.
    /// - Complexity: N^2 d flops in GEMM (half of the full product) and N^2 / 2 exponentials per bound.
    public func estimate(_ activations: ActivationMatrix) throws -> KDEEstimate {
        if let classIds, classIds.count != activations.rows {
            throw InfoTheoryError.rowCountMismatch(activationRows: activations.rows, expected: classIds.count, what: "labels")
        }
        try activations.validate()
        let n = activations.rows, d = activations.columns
        var widths: [Double] = []
        if bound != .lower { widths.append(2 * noiseVariance) }
        if bound != .upper { widths.append(8 * noiseVariance) }
        let sums = kernelRowSums(activations, coefficients: widths.map { Float(-1 / $0) },
                                 classIds: classIds, workers: workers, blockRows: blockRows)
        let noiseEntropy = Double(d) / 2 * (Double.log(2 * Double.pi * noiseVariance) + 1)
        let logN = Double.log(Double(n))
        var results: [KDEBoundEstimate] = []
        for s in 0..<widths.count {
            var sumLog = 0.0, sumLabel = 0.0
            for i in 0..<n {
                let li = Double.log(sums.all[s][i])
                sumLog += li
                if let classIds {
                    let size = Double(classSizes[Int(classIds[i])])
                    // ln(S^c_i / N_l) - ln(S_i / N)
                    sumLabel += Double.log(sums.sameClass[s][i]) - Double.log(size) - li + logN
                }
            }
            let ixt = max(0, logN - sumLog / Double(n))
            let ity = classIds == nil ? nil : max(0, sumLabel / Double(n))
            results.append(KDEBoundEstimate(inputInformation: ixt, labelInformation: ity,
                                            entropy: ixt + noiseEntropy))
        }
        switch bound {
        case .upper: return KDEEstimate(upper: results[0], lower: nil)
        case .lower: return KDEEstimate(upper: nil, lower: results[0])
        case .both: return KDEEstimate(upper: results[0], lower: results[1])
        }
    }
}

// MARK: - Kernel

/// Per-row kernel sums: `all[s][i] = sum_j exp(c_s D_ij)` over all j (including j = i), and
/// `sameClass[s][i]` the same over the j with the class of i (empty without classes).
struct KernelRowSums {
    var all: [[Double]]
    var sameClass: [[Double]]
}

/// A raw pointer that may cross into `concurrentPerform` workers, each writing its own part.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafeMutablePointer<T>
}

/// Computes the kernel row sums with blocked GEMM distances and the symmetry of D.
///
/// - Parameters:
///   - coefficients: c_s < 0, one per kernel width (c = -1 / width).
///   - classIds: dense class per row, or nil.
func kernelRowSums(_ t: ActivationMatrix, coefficients: [Float], classIds: [Int32]?,
                   workers requestedWorkers: Int, blockRows: Int) -> KernelRowSums {
    let n = t.rows, d = t.columns
    let scales = coefficients.count
    precondition(scales == 1 || scales == 2)
    let labeled = classIds != nil
    let accumulators = scales * (labeled ? 2 : 1)   // order: all_0, [all_1], [cls_0, [cls_1]]
    let block = min(blockRows, n)
    let blocks = (n + block - 1) / block
    let workers = max(1, min(requestedWorkers, blocks))

    // Squared norms, accumulated in Double.
    let norms: [Float] = t.scalars.withUnsafeBufferPointer { x in
        (0..<n).map { i in
            var s = 0.0
            for j in 0..<d { let v = Double(x[i * d + j]); s += v * v }
            return Float(s)
        }
    }
    // Class ids as floats (exact below 2^24): float lane comparisons vectorize, integer ones did not.
    let classes: [Float] = classIds?.map { Float($0) } ?? [0]   // never read when unlabeled

    // rowPart: accumulators x n (each row written by the worker owning its block);
    // colPart: workers x accumulators x n (each worker its own slice), reduced below.
    let rowPart = UnsafeMutablePointer<Double>.allocate(capacity: accumulators * n)
    rowPart.initialize(repeating: 0, count: accumulators * n)
    let colPart = UnsafeMutablePointer<Double>.allocate(capacity: workers * accumulators * n)
    colPart.initialize(repeating: 0, count: workers * accumulators * n)
    defer { rowPart.deallocate(); colPart.deallocate() }
    let rowShared = SharedPointer(base: rowPart), colShared = SharedPointer(base: colPart)

    let savedThreads = BLAS.threads
    if workers > 1 { BLAS.threads = 1 }
    defer { if workers > 1 { BLAS.threads = savedThreads } }

    t.scalars.withUnsafeBufferPointer { xBuffer in
        norms.withUnsafeBufferPointer { normBuffer in
            classes.withUnsafeBufferPointer { classBuffer in
                let x = SharedPointer(base: UnsafeMutablePointer(mutating: xBuffer.baseAddress!))
                let sq = SharedPointer(base: UnsafeMutablePointer(mutating: normBuffer.baseAddress!))
                let cls = SharedPointer(base: UnsafeMutablePointer(mutating: classBuffer.baseAddress!))
                let work: @Sendable (Int) -> Void = { w in
                    // Snake order balances the triangle: block b has n - b*block columns.
                    var mine: [Int] = []
                    for b in 0..<blocks {
                        let round = b / workers, lane = b % workers
                        if (round % 2 == 0 ? lane : workers - 1 - lane) == w { mine.append(b) }
                    }
                    kernelWorker(blocks: mine, block: block, n: n, d: d,
                                 x: x.base, sq: sq.base, classes: labeled ? cls.base : nil,
                                 coefficients: coefficients, accumulators: accumulators,
                                 rowPart: rowShared.base, colPart: colShared.base + w * accumulators * n)
                }
                if workers == 1 {
                    work(0)
                } else {
                    DispatchQueue.concurrentPerform(iterations: workers, execute: work)
                }
            }
        }
    }

    var all = [[Double]](repeating: [], count: scales)
    var same = [[Double]](repeating: [], count: labeled ? scales : 0)
    for a in 0..<accumulators {
        var sums = [Double](repeating: 1, count: n)   // the diagonal term exp(0) = 1
        for i in 0..<n {
            var s = rowPart[a * n + i]
            for w in 0..<workers { s += colPart[(w * accumulators + a) * n + i] }
            sums[i] += s
        }
        if a < scales { all[a] = sums } else { same[a - scales] = sums }
    }
    return KernelRowSums(all: all, sameClass: same)
}

/// One worker: the GEMM and kernel sums for its blocks of rows.
private func kernelWorker(blocks: [Int], block: Int, n: Int, d: Int,
                          x: UnsafeMutablePointer<Float>, sq: UnsafeMutablePointer<Float>,
                          classes: UnsafeMutablePointer<Float>?, coefficients: [Float],
                          accumulators: Int, rowPart: UnsafeMutablePointer<Double>,
                          colPart: UnsafeMutablePointer<Double>) {
    if blocks.isEmpty { return }
    let g = UnsafeMutablePointer<Float>.allocate(capacity: block * n)
    // Float column sums for the current block (at most `block` terms each), flushed to Double.
    let colF = UnsafeMutablePointer<Float>.allocate(capacity: accumulators * n)
    colF.initialize(repeating: 0, count: accumulators * n)
    defer { g.deallocate(); colF.deallocate() }
    let twoScales = coefficients.count == 2
    let c0 = coefficients[0], c1 = coefficients.count == 2 ? coefficients[1] : 0

    for b in blocks {
        let i0 = b * block, i1 = min(n, i0 + block)
        let m = i1 - i0, nc = n - i0
        // G = X[i0..<i1] X[i0..<n]^T, m x nc.
        BLAS.sgemm(transposeA: false, transposeB: true, m: m, n: nc, k: d,
                   a: x + i0 * d, lda: d, b: x + i0 * d, ldb: d, c: g, ldc: nc)
        for r in 0..<m {
            let i = i0 + r
            let row = g + r * nc
            // Dispatch once per row to a loop specialised for the number of scales and labels.
            switch (twoScales, classes) {
            case (false, nil):
                kernelRow(row: row, from: r + 1, to: nc, i0: i0, i: i, sq: sq, classes: nil,
                          c0: c0, c1: c0, twoScales: false, labeled: false, n: n, rowPart: rowPart, colF: colF)
            case (true, nil):
                kernelRow(row: row, from: r + 1, to: nc, i0: i0, i: i, sq: sq, classes: nil,
                          c0: c0, c1: c1, twoScales: true, labeled: false, n: n, rowPart: rowPart, colF: colF)
            case (false, let cl?):
                kernelRow(row: row, from: r + 1, to: nc, i0: i0, i: i, sq: sq, classes: cl,
                          c0: c0, c1: c0, twoScales: false, labeled: true, n: n, rowPart: rowPart, colF: colF)
            case (true, let cl?):
                kernelRow(row: row, from: r + 1, to: nc, i0: i0, i: i, sq: sq, classes: cl,
                          c0: c0, c1: c1, twoScales: true, labeled: true, n: n, rowPart: rowPart, colF: colF)
            }
        }
        // Flush this block's column sums (columns i0+1 ..< n were touched).
        for a in 0..<accumulators {
            let f = colF + a * n, dst = colPart + a * n
            for j in (i0 + 1)..<max(i0 + 1, n) {
                dst[j] += Double(f[j])
                f[j] = 0
            }
        }
    }
}

/// The kernel terms of row i against columns j = i0 + c for c in from..<to (all j > i):
/// adds each term to row i's sums (rowPart) and to column j's float sums (colF).
@inline(__always)
private func kernelRow(row: UnsafeMutablePointer<Float>, from: Int, to: Int, i0: Int, i: Int,
                       sq: UnsafeMutablePointer<Float>, classes: UnsafeMutablePointer<Float>?,
                       c0: Float, c1: Float, twoScales: Bool, labeled: Bool, n: Int,
                       rowPart: UnsafeMutablePointer<Double>, colF: UnsafeMutablePointer<Float>) {
    if from >= to { return }
    let sqi = SIMD8<Float>(repeating: sq[i])
    let yi = SIMD8<Float>(repeating: labeled ? classes![i] : 0)
    let zero = SIMD8<Float>(repeating: 0)
    // Accumulator slots: 0 = all (scale 0), 1 = all (scale 1), then same-class ones.
    let cls0 = twoScales ? 2 : 1
    let col0 = colF, col1 = colF + n, colC0 = colF + cls0 * n, colC1 = colF + (cls0 + 1) * n
    var total0 = 0.0, total1 = 0.0, totalC0 = 0.0, totalC1 = 0.0
    var start = from
    while start < to {
        let end = min(to, start + 1024)
        var a0 = zero, a1 = zero, ac0 = zero, ac1 = zero
        var c = start
        while c < end {
            let j = i0 + c
            let count = min(8, end - c)
            var gv: SIMD8<Float>, sqj: SIMD8<Float>, yj = SIMD8<Float>(repeating: -1)
            var valid = SIMD8<Int32>(repeating: -1)
            if count == 8 {
                gv = UnsafeRawPointer(row + c).loadUnaligned(as: SIMD8<Float>.self)
                sqj = UnsafeRawPointer(sq + j).loadUnaligned(as: SIMD8<Float>.self)
                if labeled { yj = UnsafeRawPointer(classes! + j).loadUnaligned(as: SIMD8<Float>.self) }
            } else {
                gv = zero
                sqj = zero
                for k in 0..<count {
                    gv[k] = row[c + k]
                    sqj[k] = sq[j + k]
                    if labeled { yj[k] = classes![j + k] }
                }
                valid = lessMask(SIMD8<Float>(0, 1, 2, 3, 4, 5, 6, 7), SIMD8(repeating: Float(count)))
            }
            var dist = sqi + sqj - 2 * gv
            dist = keep(dist, where: ~signMask(dist))
            var e0 = expNonPositive(dist * c0)
            if count < 8 { e0 = keep(e0, where: valid) }
            a0 += e0
            store(col0 + j, count, load(col0 + j, count) + e0)
            var e1 = zero
            if twoScales {
                e1 = expNonPositive(dist * c1)
                if count < 8 { e1 = keep(e1, where: valid) }
                a1 += e1
                store(col1 + j, count, load(col1 + j, count) + e1)
            }
            if labeled {
                let same = equalMask(yj, yi)
                let m0 = keep(e0, where: same)
                ac0 += m0
                store(colC0 + j, count, load(colC0 + j, count) + m0)
                if twoScales {
                    let m1 = keep(e1, where: same)
                    ac1 += m1
                    store(colC1 + j, count, load(colC1 + j, count) + m1)
                }
            }
            c += 8
        }
        total0 += Double(a0.sum())
        total1 += Double(a1.sum())
        totalC0 += Double(ac0.sum())
        totalC1 += Double(ac1.sum())
        start = end
    }
    rowPart[i] += total0
    if twoScales { rowPart[n + i] += total1 }
    if labeled {
        rowPart[cls0 * n + i] += totalC0
        if twoScales { rowPart[(cls0 + 1) * n + i] += totalC1 }
    }
}

@inline(__always)
private func load(_ p: UnsafeMutablePointer<Float>, _ count: Int) -> SIMD8<Float> {
    if count == 8 { return UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    var v = SIMD8<Float>(repeating: 0)
    for k in 0..<count { v[k] = p[k] }
    return v
}

@inline(__always)
private func store(_ p: UnsafeMutablePointer<Float>, _ count: Int, _ v: SIMD8<Float>) {
    if count == 8 { UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self); return }
    for k in 0..<count { p[k] = v[k] }
}
