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
    /// - Precondition: A and B are matrices (rank 2) with equal inner
    ///   dimensions k.
    /// - Complexity: 2mnk floating-point operations.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        let (m, n, k) = productSizes("matmul", a, b, transposeA: transposeA, transposeB: transposeB)
        // beta = 0: neither kernel reads C, so it need not be zeroed first.
        return Tensor(shape: [m, n]) { c in
            multiply(a, b, into: c.baseAddress!, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                     alpha: 1, beta: 0)
        }
    }

    /// C = alpha op(A) op(B) + beta C into an existing matrix C of shape [m, n].
    /// - Precondition: A and B are matrices with equal inner dimensions k,
    ///   and C is [m, n].
    public static func gemm(_ a: Tensor, _ b: Tensor, into c: inout Tensor,
                            transposeA: Bool = false, transposeB: Bool = false,
                            alpha: Float = 1, beta: Float) {
        let (m, n, k) = productSizes("gemm", a, b, transposeA: transposeA, transposeB: transposeB)
        precondition(c.shape == [m, n],
                     "gemm: result of shape \(c.shape) for \(operands(a, b, transposeA, transposeB)), expected [\(m), \(n)]")
        c.scalars.withUnsafeMutableBufferPointer { pc in
            multiply(a, b, into: pc.baseAddress!, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                     alpha: alpha, beta: beta)
        }
    }

    /// "[3, 2]ᵀ × [3, 4]": the operands of a product as the messages name them.
    static func operands(_ a: Tensor, _ b: Tensor, _ transposeA: Bool, _ transposeB: Bool) -> String {
        "\(a.shape)\(transposeA ? "ᵀ" : "") × \(b.shape)\(transposeB ? "ᵀ" : "")"
    }

    /// (m, n, k) of op(A) · op(B), after checking that both are matrices
    /// and that their inner dimensions agree.
    private static func productSizes(_ name: String, _ a: Tensor, _ b: Tensor,
                                     transposeA: Bool, transposeB: Bool) -> (m: Int, n: Int, k: Int) {
        precondition(a.rank == 2 && b.rank == 2,
                     "\(name): \(operands(a, b, transposeA, transposeB)) needs two matrices (rank 2), "
                     + "got ranks \(a.rank) and \(b.rank)")
        let (m, ka) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transposeB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        precondition(ka == kb, "\(name): \(operands(a, b, transposeA, transposeB)): inner dimensions \(ka) and \(kb) differ "
                     + "(transposeA: \(transposeA), transposeB: \(transposeB))")
        return (m, n, ka)
    }

    /// Whole-matrix product through `multiply(transposeA:...)`, with the
    /// leading dimensions of A and B as stored.
    private static func multiply(_ a: Tensor, _ b: Tensor, into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int,
                                 transposeA: Bool, transposeB: Bool, alpha: Float, beta: Float) {
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                         a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                         beta: beta, c: c, ldc: n)
            }
        }
    }

    /// The one place that chooses between OpenBLAS and the small-shape kernel
    /// (`SmallGEMM.prefersBLAS`); arguments as `BLAS.sgemm`.
    @inline(__always)
    static func multiply(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                         a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                         beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if SmallGEMM.prefersBLAS(m: m, n: n, k: k) {
            BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                       a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        } else {
            SmallGEMM.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                            a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }
}
