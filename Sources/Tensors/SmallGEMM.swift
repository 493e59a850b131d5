// A register-blocked SIMD GEMM for the tiny matrices of the small networks.
//
// The 12-bit network 12-10-7-5-4-3-2 multiplies [256, 12] by [12, 10] and
// smaller: at most 60,000 flops per product, while one `cblas_sgemm` call
// costs 1-2 µs before any arithmetic (argument checks, packing into its
// panels, edge kernels). This kernel has almost no set-up: each row of C is
// one SIMD4, SIMD8 or SIMD16 accumulator (by the width of the 16-column
// panel), built as the sum over p of scalar(op(A)[i, p]) × row(op(B)[p, :]),
// with 2-4 rows of C per pass so each loaded row of op(B) is reused.
//
// It is deliberately not a general GEMM: there is no cache blocking and no
// fused multiply-add (its results do not depend on the build's vector
// unit), while OpenBLAS runs FMA kernels, so BLAS wins once the work
// dominates. `prefersBLAS` holds the measured crossover and callers dispatch
// on it. (The 12-bit network's training step no longer comes here: narrow
// networks train through NeuralNets' feature-major kernels. Recording and
// evaluation of wider small networks, and the linear networks, do.)

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
    /// Sums run in increasing p in Float and alpha multiplies the sum, so
    /// results can differ from BLAS by rounding.
    /// - Precondition: m, n, k ≥ 0.
    /// - Complexity: 2mnk flops, plus copying at most k × min(n, 16)
    ///   elements of op(B) per 16-column panel.
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
        // Without a full pack, at most 1 + 15 rows of B are copied (Panel.run).
        let packedRows = Panel.packsAllOfB(m: m, k: k, transposeB: transposeB) ? k : min(k, 16)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: packedRows * widest + 16) { buffer in
            // Start the packed rows on a 64-byte boundary (one cache line).
            let raw = UInt(bitPattern: buffer.baseAddress!)
            let packing = UnsafeMutablePointer<Float>(bitPattern: (raw + 63) & ~63)!
            var j0 = 0
            while j0 < n {
                let width = min(16, n - j0)
                let vectorWidth = width <= 4 ? 4 : width <= 8 ? 8 : 16
                var overlapRows = 0
                if beta == 0 && n <= 16 && ldc == n && m * n >= vectorWidth {
                    // Row i's vector ends inside C: i * n + vectorWidth <= m * n.
                    overlapRows = (m * n - vectorWidth) / n + 1
                }
                let panel = Panel(
                    m: m, k: k, columns: width, alpha: alpha,
                    a: a, rowStride: rowStride, depthStride: depthStride,
                    b: transposeB ? b + j0 * ldb : b + j0, ldb: ldb, transposeB: transposeB,
                    beta: beta, c: c + j0, ldc: ldc, packing: packing, overlapRows: overlapRows)
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
    /// Per flop OpenBLAS's FMA kernels are about twice as fast as this
    /// kernel's separate multiplies and adds; `sgemm` wins only where BLAS's
    /// fixed cost (~1-2 µs per call: dispatch, packing, edge kernels) is
    /// comparable to the work, or where its 16-wide column panels fit the
    /// shape. Measured with infoplane-bench (release, OPENBLAS_NUM_THREADS=1;
    /// `runKernelBenchmarks` prints the full grid) first against OpenBLAS's
    /// SSE3 kernels, then checked against its SkylakeX ones (see `BLASCore`):
    /// on the 12-bit network's products at batch 256 and 4096 the rule's
    /// total stays within 2 % of the faster of the two kernels. `sgemm` is
    /// faster for:
    /// - tiny outputs, m·n ≤ 64: the weight gradients dYᵀ·X of the 12-bit
    ///   network's narrow layers, for any batch k (1.3-2.8× at m, n ≤ 8);
    /// - m < 12 rows not a multiple of 4 with n ≤ 12, where BLAS falls back
    ///   to edge kernels: the 10→7 and 12→10 weight gradients (7×10×256:
    ///   2.0-2.6 µs against 2.5-3.5 µs; 10×12×256 at par), while 8×10 and
    ///   12×12 are up to 1.8× faster in BLAS;
    /// - depth k ≤ 4, any n (1.0-1.9×);
    /// - k ≤ 16 with n ≤ 4, and k ≤ 10 with n ≤ 8 (SIMD4/SIMD8 rows, no waste).
    /// Everything else, including the batch-sized products of the 12→10 and
    /// 10→7 layers with n ≥ 10 and all of the 784-1024-20-20-20-10 network,
    /// goes to BLAS. On the network shapes the rule picks the faster kernel
    /// or one within ~5 %; over the benchmark grid (720 shapes) it picks the
    /// faster one in ~85 % of shapes, and the wrong picks, all near the
    /// boundary, cost ~8 % in total time (run-to-run noise is ±15 %).
    public static func prefersBLAS(m: Int, n: Int, k: Int) -> Bool {
        if m * n <= 64 { return false }
        if m < 12 && m % 4 != 0 && n <= 12 { return false }
        if k <= 4 { return false }
        if n <= 4 && k <= 16 { return false }
        if n <= 8 && k <= 10 { return false }
        return true
    }

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
///
/// Rows of op(B) are read as whole `V` vectors. With `transposeB` the
/// k × columns panel of op(B) (the small weight matrix W) is packed first.
/// Without it, op(B) is packed when many row passes reuse it (m large, k
/// small), and otherwise read in place from B: a vector starting at row p
/// may run past the panel's columns into the rest of the row or the next row
/// (lanes that are never stored), so only the last rows, where it could run
/// past the end of B, are copied into a zero-padded buffer.
struct Panel {
    let m: Int, k: Int, columns: Int
    let alpha: Float
    let a: UnsafePointer<Float>, rowStride: Int, depthStride: Int
    /// Points at op(B)[0, j0].
    let b: UnsafePointer<Float>, ldb: Int, transposeB: Bool
    let beta: Float
    /// Points at C[0, j0].
    let c: UnsafeMutablePointer<Float>, ldc: Int
    /// Room for k × `V.scalarCount` floats of packed op(B), 64-byte aligned.
    let packing: UnsafeMutablePointer<Float>
    /// Rows 0..<overlapRows of C may be stored as whole vectors of `V`
    /// lanes although only `columns` are valid. This holds when C is one
    /// contiguous m × n block (ldc = n, a single panel), beta is 0 (no old
    /// values to read) and rows are stored in increasing order, so the
    /// spill-over is overwritten by the next row, and the vector ends inside C.
    let overlapRows: Int

    /// Whether all of op(B) is packed: always with `transposeB`, else when
    /// many row passes reuse it (see `run`).
    static func packsAllOfB(m: Int, k: Int, transposeB: Bool) -> Bool {
        transposeB || (m >= 16 && k <= 64)
    }

    /// Rows of op(B) for p in 0..<count, row p at `base + p * stride`, each
    /// with at least `V.scalarCount` readable floats.
    struct Segment {
        var base: UnsafePointer<Float>, stride: Int, count: Int
    }

    @inline(__always)
    func run<V: SIMD>(_: V.Type, rowsPerPass: Int) where V.Scalar == Float {
        let width = V.scalarCount
        if transposeB {
            // op(B)[p, j] = b[j * ldb + p]: read each stored row once.
            if columns < width { packing.initialize(repeating: 0, count: k * width) }
            for j in 0..<columns {
                let source = b + j * ldb
                var target = packing + j
                for p in 0..<k {
                    target.initialize(to: source[p])
                    target += width
                }
            }
            let packed = Segment(base: UnsafePointer(packing), stride: width, count: k)
            sweep(V.self, rowsPerPass: rowsPerPass, packed, Segment(base: packed.base, stride: width, count: 0))
            return
        }
        // Pack all of op(B) when many passes over the rows of C reuse it:
        // aligned rows never straddle cache lines. Otherwise (the weight
        // gradient: k = batch, m = out) read it in place while row p's vector
        // ends inside B; B's last element (relative to b) is at
        // (k - 1) * ldb + columns - 1.
        var copied = 0
        if Panel.packsAllOfB(m: m, k: k, transposeB: false) {
            copied = k
        } else if columns < width {
            let overrun = width - columns
            copied = min(k, 1 + (overrun + ldb - 1) / max(ldb, 1))
        }
        let direct = Segment(base: b, stride: ldb, count: k - copied)
        if copied > 0 {
            if columns < width { packing.initialize(repeating: 0, count: copied * width) }
            for t in 0..<copied {
                (packing + t * width).update(from: b + (direct.count + t) * ldb, count: columns)
            }
        }
        sweep(V.self, rowsPerPass: rowsPerPass, direct,
              Segment(base: UnsafePointer(packing), stride: width, count: copied))
    }

    /// Computes every row of the panel from op(B) rows in two segments
    /// (p in 0..<first.count, then the rest).
    @inline(__always)
    func sweep<V: SIMD>(_: V.Type, rowsPerPass: Int, _ first: Segment, _ second: Segment)
    where V.Scalar == Float {
        var i = 0
        if rowsPerPass == 4 {
            while i + 4 <= m {
                var acc = (V(), V(), V(), V())
                var pa = a + i * rowStride
                accumulate4(&acc, &pa, first)
                accumulate4(&acc, &pa, second)
                store(acc.0, row: i)
                store(acc.1, row: i + 1)
                store(acc.2, row: i + 2)
                store(acc.3, row: i + 3)
                i += 4
            }
        }
        while i + 2 <= m {
            var acc = (V(), V())
            var pa = a + i * rowStride
            accumulate2(&acc, &pa, first)
            accumulate2(&acc, &pa, second)
            store(acc.0, row: i)
            store(acc.1, row: i + 1)
            i += 2
        }
        if i < m {
            var acc = V()
            var pa = a + i * rowStride
            accumulate1(&acc, &pa, first)
            accumulate1(&acc, &pa, second)
            store(acc, row: i)
        }
    }

    @inline(__always)
    func load<V: SIMD>(_ p: UnsafePointer<Float>) -> V where V.Scalar == Float {
        UnsafeRawPointer(p).loadUnaligned(as: V.self)
    }

    // Micro-kernels: acc[r] += op(A)[i + r, p] · op(B)[p, :] for the rows of
    // one segment; `pa` points at op(A)[i, p] and advances with p.

    @inline(__always)
    func accumulate4<V: SIMD>(_ acc: inout (V, V, V, V), _ pa: inout UnsafePointer<Float>, _ s: Segment)
    where V.Scalar == Float {
        let r1 = rowStride, r2 = 2 * rowStride, r3 = 3 * rowStride
        var pb = s.base
        for _ in 0..<s.count {
            let row: V = load(pb)
            acc.0 += row * pa[0]
            acc.1 += row * pa[r1]
            acc.2 += row * pa[r2]
            acc.3 += row * pa[r3]
            pa += depthStride
            pb += s.stride
        }
    }

    @inline(__always)
    func accumulate2<V: SIMD>(_ acc: inout (V, V), _ pa: inout UnsafePointer<Float>, _ s: Segment)
    where V.Scalar == Float {
        let r1 = rowStride
        var pb = s.base
        for _ in 0..<s.count {
            let row: V = load(pb)
            acc.0 += row * pa[0]
            acc.1 += row * pa[r1]
            pa += depthStride
            pb += s.stride
        }
    }

    @inline(__always)
    func accumulate1<V: SIMD>(_ acc: inout V, _ pa: inout UnsafePointer<Float>, _ s: Segment)
    where V.Scalar == Float {
        var pb = s.base
        for _ in 0..<s.count {
            let row: V = load(pb)
            acc += row * pa[0]
            pa += depthStride
            pb += s.stride
        }
    }

    /// Writes alpha · `value` (its first `columns` lanes) to C row `i`,
    /// adding beta · C only when beta is not 0.
    @inline(__always)
    func store<V: SIMD>(_ value: V, row i: Int) where V.Scalar == Float {
        let target = UnsafeMutableRawPointer(c + i * ldc)
        var v = value
        if alpha != 1 { v *= alpha }
        if columns == V.scalarCount {
            if beta != 0 { v += beta * target.loadUnaligned(as: V.self) }
            target.storeBytes(of: v, as: V.self)
            return
        }
        if i < overlapRows {
            // The extra lanes land on the start of row i + 1, which is
            // written after this one (see `overlapRows`).
            target.storeBytes(of: v, as: V.self)
            return
        }
        // A partial row: lanes in chunks of 8, 4, 2 and 1 (a lane loop with a
        // variable index spills the vector once per lane).
        var offset = 0, remaining = columns
        if remaining >= 8 {
            storeChunk(SIMD8<Float>.self, v, target, offset)
            offset += 8
            remaining -= 8
        }
        if remaining >= 4 {
            storeChunk(SIMD4<Float>.self, v, target, offset)
            offset += 4
            remaining -= 4
        }
        if remaining >= 2 {
            storeChunk(SIMD2<Float>.self, v, target, offset)
            offset += 2
            remaining -= 2
        }
        if remaining == 1 {
            var x = v[offset]
            if beta != 0 { x += beta * target.load(fromByteOffset: 4 * offset, as: Float.self) }
            target.storeBytes(of: x, toByteOffset: 4 * offset, as: Float.self)
        }
    }

    /// Stores lanes offset ..< offset + Chunk.scalarCount of `v` (plus beta · C).
    @inline(__always)
    func storeChunk<Chunk: SIMD, V: SIMD>(_: Chunk.Type, _ v: V, _ target: UnsafeMutableRawPointer, _ offset: Int)
    where Chunk.Scalar == Float, V.Scalar == Float {
        var chunk = Chunk()
        for lane in 0..<Chunk.scalarCount { chunk[lane] = v[offset + lane] }
        if beta != 0 { chunk += beta * target.loadUnaligned(fromByteOffset: 4 * offset, as: Chunk.self) }
        target.storeBytes(of: chunk, toByteOffset: 4 * offset, as: Chunk.self)
    }
}
