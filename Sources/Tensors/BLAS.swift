// The one door to OpenBLAS: single-precision GEMM and the thread count.
//
// Everything that multiplies matrices in InfoPlane goes through `BLAS.sgemm`,
// so that the thread policy is set in one place. OpenBLAS by default spreads
// even tiny products over every core, which costs far more in synchronisation
// than it saves: callers choose the thread count on purpose (see
// `BLAS.threads` and the benchmark executable for the measured choice).

internal import CBLAS

/// Single-precision BLAS through OpenBLAS.
public enum BLAS {
    /// The number of threads OpenBLAS uses for one call.
    ///
    /// Set it once at start-up: 1 for small products and for code that runs
    /// its own threads (per-layer estimators), 2 for large GEMMs
    /// (784 x 1024 layers, KDE distance blocks).
    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
        set { openblas_set_num_threads(Int32(max(1, newValue))) }
    }

    /// C = alpha * op(A) * op(B) + beta * C, all row-major.
    ///
    /// op(A) is m x k, op(B) is k x n, C is m x n; `lda`, `ldb`, `ldc` are the
    /// row strides of A, B and C as stored (before transposition).
    /// - Complexity: 2mnk floating-point operations.
    @inline(__always)
    public static func sgemm(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "sgemm: negative size \(m)x\(n)x\(k)")
        if m == 0 || n == 0 { return }
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Double-precision GEMM, row-major, for the exact-MI and reference code.
    public static func dgemm(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Double = 1,
        a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double = 0,
        c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "dgemm: negative size \(m)x\(n)x\(k)")
        if m == 0 || n == 0 { return }
        cblas_dgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
