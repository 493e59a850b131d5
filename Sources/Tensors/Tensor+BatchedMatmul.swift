// Batched matrix products: one op(A[i]) · op(B[i]) per batch element.
//
// OpenBLAS 0.3.21, the version Debian 12 ships, has no batched GEMM
// (`cblas_sgemm_batch` arrived in later releases and is neither exported
// by its libopenblas.so.0 nor declared in its cblas.h), so the batch is a
// loop of single products, each dispatched like `matmul` (OpenBLAS or
// `SmallGEMM` by `SmallGEMM.prefersBLAS`). When B is shared and A is not
// transposed, the batch is one [batch · m, k] × op(B) product instead.

extension Tensor {
    /// C[i] = op(A[i]) · op(B[i]) for every batch index i, where op
    /// transposes the last two axes when asked.
    ///
    /// A is [batch, m, k] (or [batch, k, m] with `transposeA`); B is
    /// [batch, k, n] (or [batch, n, k] with `transposeB`), or a matrix
    /// [k, n] (or [n, k]) shared by every batch element. The result is
    /// [batch, m, n]. Each product is computed as `matmul` computes it,
    /// except that a shared B with an untransposed A is one product of
    /// [batch · m, k] rows, which may take the other kernel and round
    /// differently.
    /// - Precondition: A has rank 3; B has rank 3 with the same batch, or
    ///   rank 2; the inner dimensions agree.
    /// - Complexity: 2 · batch · mnk floating-point operations.
    public static func batchedMatmul(_ a: Tensor, _ b: Tensor,
                                     transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank == 3 && (b.rank == 3 || b.rank == 2),
                     "batchedMatmul: \(operands(a, b, transposeA, transposeB)) needs A of rank 3 and B of rank 3 or 2")
        let batch = a.shape[0]
        precondition(b.rank == 2 || b.shape[0] == batch,
                     "batchedMatmul: \(operands(a, b, transposeA, transposeB)): batch sizes \(batch) and \(b.shape[0]) differ")
        let (m, ka) = transposeA ? (a.shape[2], a.shape[1]) : (a.shape[1], a.shape[2])
        let (rowsB, columnsB) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (kb, n) = transposeB ? (columnsB, rowsB) : (rowsB, columnsB)
        precondition(ka == kb,
                     "batchedMatmul: \(operands(a, b, transposeA, transposeB)): inner dimensions \(ka) and \(kb) differ "
                     + "(transposeA: \(transposeA), transposeB: \(transposeB))")
        let k = ka
        if batch * m * n == 0 || k == 0 { return Tensor.zeros([batch, m, n]) }
        if b.rank == 2 && !transposeA {
            let rows = Tensor(shape: [batch * m, k], scalars: a.scalars)
            return matmul(rows, b, transposeB: transposeB).reshaped([batch, m, n])
        }
        let strideA = a.shape[1] * a.shape[2], strideB = b.rank == 3 ? rowsB * columnsB : 0
        return a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                Tensor(shape: [batch, m, n]) { c in
                    for i in 0..<batch {
                        // beta = 0: C is written, never read.
                        multiply(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: 1,
                                 a: pa.baseAddress! + i * strideA, lda: a.shape[2],
                                 b: pb.baseAddress! + i * strideB, ldb: columnsB,
                                 beta: 0, c: c.baseAddress! + i * m * n, ldc: n)
                    }
                }
            }
        }
    }
}
