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
        let k = ka
        return a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                Tensor(shape: [m, n]) { pc in
                    if SmallGEMM.prefersBLAS(m: m, n: n, k: k) {
                        BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                   a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                                   beta: 0, c: pc.baseAddress!, ldc: n)
                    } else {
                        SmallGEMM.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                        a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                                        beta: 0, c: pc.baseAddress!, ldc: n)
                    }
                }
            }
        }
    }

    /// C = alpha op(A) op(B) + beta C into an existing matrix C of shape [m, n].
    public static func gemm(_ a: Tensor, _ b: Tensor, into c: inout Tensor,
                            transposeA: Bool = false, transposeB: Bool = false,
                            alpha: Float = 1, beta: Float) {
        let (m, k) = transposeA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition(c.shape == [m, n], "gemm: result \(c.shape), expected [\(m), \(n)]")
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                c.scalars.withUnsafeMutableBufferPointer { pc in
                    if SmallGEMM.prefersBLAS(m: m, n: n, k: k) {
                        BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                   a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                                   beta: beta, c: pc.baseAddress!, ldc: n)
                    } else {
                        SmallGEMM.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                        a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                                        beta: beta, c: pc.baseAddress!, ldc: n)
                    }
                }
            }
        }
    }
}
