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
    /// Threads used for one estimate. With more than 1, each makes its GEMMs on 1 BLAS thread;
    /// with 1 the caller's `BLAS.threads` is used as is.
    public let workers: Int
    /// Rows per GEMM block (memory per worker is about blockRows x N floats); nil chooses 128
    /// for narrow layers and 256 from 128 units on (measured faster for 10000 x 1024).
    public let blockRows: Int?

    let classIds: [Int32]?
    let classSizes: [Int]

    /// An estimator with the given noise, bound(s), labels and parallelism.
    ///
    /// - Parameters:
    ///   - noiseVariance: s2 > 0 (Saxe et al.: 0.1; their 12-bit notebook also used 1e-3).
    ///   - bound: `.upper`, `.lower` or `.both`.
    ///   - labels: Y per sample, for I(T;Y); nil to compute I(X;T) only.
    ///   - workers: threads for one estimate (>= 1).
    ///   - blockRows: rows per distance block (>= 1), or nil for the automatic choice.
    /// - Throws: `InfoTheoryError.invalidParameter`.
    public init(noiseVariance: Double = 0.1, bound: KDEBound = .both, labels: [Int]? = nil,
                workers: Int = 1, blockRows: Int? = nil) throws {
        guard noiseVariance.isFinite && noiseVariance > 0 else {
            throw InfoTheoryError.invalidParameter("noise variance must be positive and finite, got \(noiseVariance)")
        }
        guard workers >= 1, (blockRows ?? 1) >= 1 else {
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
                                 classIds: classIds, workers: workers, blockRows: blockRows ?? (d >= 128 ? 256 : 128))
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
                    BLAS.concurrentPerform(iterations: workers, threads: 1, execute: work)
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
                kernelRow(OneScale.self, row: row, from: r + 1, to: nc, i0: i0, i: i, sq: sq, classes: sq,
                          c0: c0, c1: c0, n: n, rowPart: rowPart, colF: colF)
            case (true, nil):
                kernelRow(TwoScales.self, row: row, from: r + 1, to: nc, i0: i0, i: i, sq: sq, classes: sq,
                          c0: c0, c1: c1, n: n, rowPart: rowPart, colF: colF)
            case (false, let cl?):
                kernelRow(OneScaleLabeled.self, row: row, from: r + 1, to: nc, i0: i0, i: i, sq: sq, classes: cl,
                          c0: c0, c1: c0, n: n, rowPart: rowPart, colF: colF)
            case (true, let cl?):
                kernelRow(TwoScalesLabeled.self, row: row, from: r + 1, to: nc, i0: i0, i: i, sq: sq, classes: cl,
                          c0: c0, c1: c1, n: n, rowPart: rowPart, colF: colF)
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

/// Compile-time choice of the kernel loop: one or two kernel widths, with or without classes.
private protocol KernelMode {
    static var twoScales: Bool { get }
    static var labeled: Bool { get }
}
private enum OneScale: KernelMode { static let twoScales = false; static let labeled = false }
private enum TwoScales: KernelMode { static let twoScales = true; static let labeled = false }
private enum OneScaleLabeled: KernelMode { static let twoScales = false; static let labeled = true }
private enum TwoScalesLabeled: KernelMode { static let twoScales = true; static let labeled = true }

/// Running sums of one row's kernel terms (8 lanes each).
private struct RowAccumulators {
    var all0 = SIMD8<Float>(), all1 = SIMD8<Float>(), same0 = SIMD8<Float>(), same1 = SIMD8<Float>()
}

/// The kernel terms of row i against columns j = i0 + c for c in from..<to (all j > i):
/// adds each term to row i's sums (rowPart) and to column j's float sums (colF).
@inline(__always)
private func kernelRow<M: KernelMode>(_ mode: M.Type, row: UnsafeMutablePointer<Float>, from: Int, to: Int,
                                      i0: Int, i: Int, sq: UnsafeMutablePointer<Float>,
                                      classes: UnsafeMutablePointer<Float>, c0: Float, c1: Float, n: Int,
                                      rowPart: UnsafeMutablePointer<Double>, colF: UnsafeMutablePointer<Float>) {
    if from >= to { return }
    let sqi = SIMD8<Float>(repeating: sq[i])
    let yi = SIMD8<Float>(repeating: M.labeled ? classes[i] : 0)
    // Accumulator slots: 0 = all (scale 0), 1 = all (scale 1), then same-class ones.
    let cls0 = M.twoScales ? 2 : 1
    let col0 = colF, col1 = colF + n, colC0 = colF + cls0 * n, colC1 = colF + (cls0 + 1) * n

    /// One chunk of 8 columns starting at column c; `valid` masks the lanes past the end.
    @inline(__always)
    func chunk(_ c: Int, _ gv: SIMD8<Float>, _ sqj: SIMD8<Float>, _ yj: SIMD8<Float>, _ valid: SIMD8<Int32>?,
               _ acc: inout RowAccumulators,
               _ load: (UnsafeMutablePointer<Float>) -> SIMD8<Float>,
               _ store: (UnsafeMutablePointer<Float>, SIMD8<Float>) -> Void) {
        let j = i0 + c
        var dist = sqi + sqj - 2 * gv
        dist = keep(dist, where: ~signMask(dist))
        var e0 = expNonPositive(dist * c0)
        if let valid { e0 = keep(e0, where: valid) }
        acc.all0 += e0
        store(col0 + j, load(col0 + j) + e0)
        var e1 = SIMD8<Float>()
        if M.twoScales {
            e1 = expNonPositive(dist * c1)
            if let valid { e1 = keep(e1, where: valid) }
            acc.all1 += e1
            store(col1 + j, load(col1 + j) + e1)
        }
        if M.labeled {
            let same = equalMask(yj, yi)
            let m0 = keep(e0, where: same)
            acc.same0 += m0
            store(colC0 + j, load(colC0 + j) + m0)
            if M.twoScales {
                let m1 = keep(e1, where: same)
                acc.same1 += m1
                store(colC1 + j, load(colC1 + j) + m1)
            }
        }
    }

    var total0 = 0.0, total1 = 0.0, totalC0 = 0.0, totalC1 = 0.0
    var start = from
    while start < to {
        // Float lanes sum at most 1024 columns before the Double total takes them over.
        let end = min(to, start + 1024)
        var acc = RowAccumulators()
        var c = start
        while c + 8 <= end {
            let j = i0 + c
            let yj = M.labeled ? UnsafeRawPointer(classes + j).loadUnaligned(as: SIMD8<Float>.self) : SIMD8<Float>()
            chunk(c, UnsafeRawPointer(row + c).loadUnaligned(as: SIMD8<Float>.self),
                  UnsafeRawPointer(sq + j).loadUnaligned(as: SIMD8<Float>.self), yj, nil, &acc,
                  { UnsafeRawPointer($0).loadUnaligned(as: SIMD8<Float>.self) },
                  { UnsafeMutableRawPointer($0).storeBytes(of: $1, as: SIMD8<Float>.self) })
            c += 8
        }
        if c < end {
            // The last 1 to 7 columns: padded lanes, masked out of every sum.
            let count = end - c, j = i0 + c
            var gv = SIMD8<Float>(), sqj = SIMD8<Float>(), yj = SIMD8<Float>(repeating: -1)
            for k in 0..<count {
                gv[k] = row[c + k]
                sqj[k] = sq[j + k]
                if M.labeled { yj[k] = classes[j + k] }
            }
            let valid = lessMask(SIMD8<Float>(0, 1, 2, 3, 4, 5, 6, 7), SIMD8(repeating: Float(count)))
            chunk(c, gv, sqj, yj, valid, &acc,
                  { p in
                      var v = SIMD8<Float>()
                      for k in 0..<count { v[k] = p[k] }
                      return v
                  },
                  { p, v in for k in 0..<count { p[k] = v[k] } })
        }
        total0 += Double(acc.all0.sum())
        total1 += Double(acc.all1.sum())
        totalC0 += Double(acc.same0.sum())
        totalC1 += Double(acc.same1.sum())
        start = end
    }
    rowPart[i] += total0
    if M.twoScales { rowPart[n + i] += total1 }
    if M.labeled {
        rowPart[cls0 * n + i] += totalC0
        if M.twoScales { rowPart[(cls0 + 1) * n + i] += totalC1 }
    }
}
