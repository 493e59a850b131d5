// A register-blocked SIMD GEMM for the tiny matrices of the small networks.
//
// The 12-bit network 12-10-7-5-4-3-2 multiplies [256, 12] by [12, 10] and
// smaller: about 60,000 flops per product, where one `cblas_sgemm` call costs
// ~3 µs in dispatch, packing and thread checks alone. This kernel has no
// set-up beyond packing op(B) (at most 16 columns) into a small buffer: each
// row of C is 1-4 SIMD registers (SIMD4/8/16 by the panel width) accumulated
// as scalar(op(A)[i, p]) × row(op(B)[p, :]), with 2-4 rows of C per pass to
// reuse each loaded row of B.
//
// It is deliberately not a general GEMM: there is no cache blocking over k
// or m, so it loses to OpenBLAS once the matrices are large. `prefersBLAS`
// holds the measured crossover, and callers dispatch on it.

/// Row-major single-precision GEMM for small matrices.
///
/// Same semantics and argument order as `BLAS.sgemm`; see `sgemm`.
public enum SmallGEMM {
    /// C = alpha · op(A) · op(B) + beta · C, all row-major.
    ///
    /// op(A) is m × k, op(B) is k × n, C is m × n; `lda`, `ldb`, `ldc` are
    /// the row strides of A, B and C as stored (A is stored k × m when
    /// `transposeA`, B is stored n × k when `transposeB`). The Dense layer
    /// shapes are: forward x·Wᵀ with `transposeB` (m = batch, n = out,
    /// k = in), input gradient dY·W (m = batch, n = in, k = out) and weight
    /// gradient dYᵀ·X with `transposeA` (m = out, n = in, k = batch).
    ///
    /// As in BLAS, when `beta == 0` C is not read (it may be uninitialized or
    /// hold NaN), and when `alpha == 0` or `k == 0` A and B are not read.
    /// Sums run in increasing p in Float; alpha is applied to op(B) before
    /// the products, so results can differ from BLAS by rounding.
    /// - Precondition: m, n, k ≥ 0.
    /// - Complexity: 2mnk flops, plus packing k × min(n, 16) elements of B
    ///   per 16-column panel.
    public static func sgemm(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "SmallGEMM.sgemm: negative size \(m)x\(n)x\(k)")
        if m == 0 || n == 0 { return }
        if k == 0 || alpha == 0 {
            scale(c, ldc: ldc, m: m, n: n, beta: beta)
            return
        }
        // Element (i, p) of op(A) is a[i * rowStride + p * depthStride].
        let rowStride = transposeA ? 1 : lda
        let depthStride = transposeA ? lda : 1
        // One packing buffer for every panel; the allocation sits here, in
        // concrete code, so that the generic panel code below is specialized
        // (a generic closure passed to withUnsafeTemporaryAllocation is not).
        let widest = n > 8 ? 16 : n > 4 ? 8 : 4
        withUnsafeTemporaryAllocation(of: Float.self, capacity: k * widest) { buffer in
            let packing = buffer.baseAddress!
            var j0 = 0
            while j0 < n {
                let width = min(16, n - j0)
                let panel = Panel(
                    m: m, k: k, columns: width, alpha: alpha,
                    a: a, rowStride: rowStride, depthStride: depthStride,
                    b: transposeB ? b + j0 * ldb : b + j0, ldb: ldb, transposeB: transposeB,
                    beta: beta, c: c + j0, ldc: ldc, packing: packing)
                if width <= 4 {
                    panel.run(SIMD4<Float>.self, rowsPerPass: 4)
                } else if width <= 8 {
                    panel.run(SIMD8<Float>.self, rowsPerPass: 4)
                } else {
                    panel.run(SIMD16<Float>.self, rowsPerPass: 2)
                }
                j0 += width
            }
        }
    }

    /// Whether `cblas_sgemm` (one thread) is faster than `sgemm` here for an
    /// m × n × k product.
    ///
    /// Measured with infoplane-bench (release, OPENBLAS_NUM_THREADS=1) over
    /// all three Dense shapes; see `runKernelBenchmarks` for the table. The
    /// small kernel wins whenever op(B) fits one or two 16-wide panels and the
    /// product is small; OpenBLAS wins for wide outputs and deep sums, where
    /// its cache blocking and 4-row × 16-column micro-kernel pay off.
    public static func prefersBLAS(m: Int, n: Int, k: Int) -> Bool {
        let flops = 2 * m * n * k
        if flops < crossoverFlops { return false }
        return n > 16 || (k > 64 && m > 64)
    }

    /// Below this many flops BLAS's fixed per-call cost always dominates.
    static let crossoverFlops = 200_000

    /// C = beta · C without reading C when beta is 0.
    static func scale(_ c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, beta: Float) {
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else if beta != 1 {
                for j in 0..<n { row[j] *= beta }
            }
        }
    }
}

/// One panel of at most 16 columns of C: C[:, j0 ..< j0 + columns].
struct Panel {
    let m: Int, k: Int, columns: Int
    let alpha: Float
    let a: UnsafePointer<Float>, rowStride: Int, depthStride: Int
    /// Points at op(B)[0, j0].
    let b: UnsafePointer<Float>, ldb: Int, transposeB: Bool
    let beta: Float
    /// Points at C[0, j0].
    let c: UnsafeMutablePointer<Float>, ldc: Int
    /// Room for k × `V.scalarCount` floats of packed op(B).
    let packing: UnsafeMutablePointer<Float>

    /// Packs alpha · op(B)[:, panel] into rows of `V.scalarCount` floats
    /// (zero-padded) unless B can be used in place, then sweeps the rows of C.
    @inline(__always)
    func run<V: SIMD>(_: V.Type, rowsPerPass: Int) where V.Scalar == Float {
        let width = V.scalarCount
        if !transposeB && alpha == 1 && columns == width {
            // Rows of B are already contiguous and full width: no packing.
            sweep(V.self, rowsPerPass: rowsPerPass, packed: b, packedStride: ldb)
            return
        }
        let packed = packing
        if columns < width {
            packed.initialize(repeating: 0, count: k * width)
        }
        if transposeB {
            // op(B)[p, j] = b[j * ldb + p]: read each stored row once.
            for j in 0..<columns {
                let source = b + j * ldb
                var target = packed + j
                for p in 0..<k {
                    target.initialize(to: alpha * source[p])
                    target += width
                }
            }
        } else {
            for p in 0..<k {
                let source = b + p * ldb
                let target = packed + p * width
                for j in 0..<columns { target[j] = alpha * source[j] }
            }
        }
        sweep(V.self, rowsPerPass: rowsPerPass, packed: UnsafePointer(packed), packedStride: width)
    }

    /// Computes every row of the panel from op(B) rows at `packed` (row p at
    /// `packed + p * packedStride`, at least `V.scalarCount` readable floats).
    @inline(__always)
    func sweep<V: SIMD>(_: V.Type, rowsPerPass: Int, packed: UnsafePointer<Float>, packedStride: Int)
    where V.Scalar == Float {
        var i = 0
        if rowsPerPass == 4 {
            while i + 4 <= m {
                rows4(V.self, i, packed, packedStride)
                i += 4
            }
        }
        while i + 2 <= m {
            rows2(V.self, i, packed, packedStride)
            i += 2
        }
        if i < m {
            rows1(V.self, i, packed, packedStride)
        }
    }

    @inline(__always)
    func load<V: SIMD>(_ p: UnsafePointer<Float>) -> V where V.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    /// Writes `value` (the first `columns` lanes) to C row `i`, adding
    /// beta · C only when beta is not 0.
    @inline(__always)
    func store<V: SIMD>(_ value: V, row i: Int) where V.Scalar == Float {
        let target = c + i * ldc
        if columns == V.scalarCount {
            var v = value
            if beta != 0 { v += beta * load(UnsafePointer(target)) as V }
            UnsafeMutableRawPointer(target).storeBytes(of: v, as: V.self)
        } else if beta == 0 {
            for j in 0..<columns { target[j] = value[j] }
        } else {
            for j in 0..<columns { target[j] = value[j] + beta * target[j] }
        }
    }

    // Micro-kernels: 4, 2 or 1 rows of C, each a V accumulator per row.

    @inline(__always)
    func rows4<V: SIMD>(_: V.Type, _ i: Int, _ packed: UnsafePointer<Float>, _ stride: Int)
    where V.Scalar == Float {
        var acc0 = V(), acc1 = V(), acc2 = V(), acc3 = V()
        var pa = a + i * rowStride
        var pb = packed
        let r1 = rowStride, r2 = 2 * rowStride, r3 = 3 * rowStride
        for _ in 0..<k {
            let row: V = load(pb)
            acc0 += row * pa[0]
            acc1 += row * pa[r1]
            acc2 += row * pa[r2]
            acc3 += row * pa[r3]
            pa += depthStride
            pb += stride
        }
        store(acc0, row: i)
        store(acc1, row: i + 1)
        store(acc2, row: i + 2)
        store(acc3, row: i + 3)
    }

    @inline(__always)
    func rows2<V: SIMD>(_: V.Type, _ i: Int, _ packed: UnsafePointer<Float>, _ stride: Int)
    where V.Scalar == Float {
        var acc0 = V(), acc1 = V()
        var pa = a + i * rowStride
        var pb = packed
        let r1 = rowStride
        for _ in 0..<k {
            let row: V = load(pb)
            acc0 += row * pa[0]
            acc1 += row * pa[r1]
            pa += depthStride
            pb += stride
        }
        store(acc0, row: i)
        store(acc1, row: i + 1)
    }

    @inline(__always)
    func rows1<V: SIMD>(_: V.Type, _ i: Int, _ packed: UnsafePointer<Float>, _ stride: Int)
    where V.Scalar == Float {
        var acc0 = V()
        var pa = a + i * rowStride
        var pb = packed
        for _ in 0..<k {
            let row: V = load(pb)
            acc0 += row * pa[0]
            pa += depthStride
            pb += stride
        }
        store(acc0, row: i)
    }
}
