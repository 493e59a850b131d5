// Matrix products: op(A) · op(B) for row-major matrices.
//
// Large products go to OpenBLAS; small ones (the 2-to-12-unit layers of the
// 12-bit network) to `SmallGEMM`, because one BLAS call costs about 3 µs,
// more than the arithmetic. `SmallGEMM.prefersBLAS` holds the measured
// crossover.

extension Tensor {
    /// C = op(A) · op(B), where op transposes when asked.
    ///
    /// A is [m, k] (or [k, m] with `transposeA`), B is [k, n] (or [n, k] with
    /// `transposeB`); the result is [m, n].
    /// - Complexity: 2mnk floating-point operations.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2, "matmul: \(a.shape) × \(b.shape)")
        let (m, ka) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        precondition(ka == kb, "matmul: \(a.shape)\(transposeA ? "ᵀ" : "") × \(b.shape)\(transposeB ? "ᵀ" : "")")
        // beta = 0: neither kernel reads C, so it need not be zeroed first.
        return Tensor(shape: [m, n]) { c in
            multiply(a, b, into: c.baseAddress!, m: m, n: n, k: ka, transposeA: transposeA, transposeB: transposeB,
                     alpha: 1, beta: 0)
        }
    }

    /// C = alpha op(A) op(B) + beta C into an existing matrix C of shape [m, n].
    public static func gemm(_ a: Tensor, _ b: Tensor, into c: inout Tensor,
                            transposeA: Bool = false, transposeB: Bool = false,
                            alpha: Float = 1, beta: Float) {
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(c.shape == [m, n], "gemm: result \(c.shape), expected [\(m), \(n)]")
        c.scalars.withUnsafeMutableBufferPointer { pc in
            multiply(a, b, into: pc.baseAddress!, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                     alpha: alpha, beta: beta)
        }
    }

    /// The one place that chooses between OpenBLAS and the small-shape kernel.
    private static func multiply(_ a: Tensor, _ b: Tensor, into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int,
                                 transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float) {
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                if SmallGEMM.prefersBLAS(m: m, n: n, k: k) {
                    BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                               a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                               beta: beta, c: c, ldc: n)
                } else {
                    SmallGEMM.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                    a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                                    beta: beta, c: c, ldc: n)
                }
            }
        }
    }
}
