// The eigendecomposition of a real symmetric matrix in Double, by LAPACK's
// dsyevd (OpenBLAS's), and the functions of a positive semidefinite matrix
// built on it: its square root and the trace of its square root.

internal import CBLAS

/// A = V·diag(λ)·Vᵀ for a symmetric n x n matrix A.
public struct SymmetricEigendecomposition: Sendable {
    /// n.
    public let size: Int
    /// λ, ascending.
    public let values: [Double]
    /// The eigenvectors, one a row: `vectors[i * n + j]` is component j of
    /// the eigenvector of `values[i]` (orthonormal rows).
    public let vectors: [Double]

    /// Decomposes `matrix` (n x n, row-major; only its lower triangle in
    /// row-major order, LAPACK's upper in column-major, is read).
    /// - Precondition: `matrix` holds n² finite values and is symmetric.
    public init(_ matrix: [Double], size n: Int) {
        precondition(n >= 1 && matrix.count == n * n, "SymmetricEigendecomposition: \(matrix.count) values for \(n) x \(n)")
        precondition(matrix.allSatisfy(\.isFinite), "SymmetricEigendecomposition: the matrix is not finite")
        for i in 0..<n {
            for j in 0..<i {
                let a = matrix[i * n + j], b = matrix[j * n + i]
                precondition(abs(a - b) <= 1e-9 * max(1, abs(a), abs(b)),
                             "SymmetricEigendecomposition: not symmetric at (\(i), \(j)): \(a) and \(b)")
            }
        }
        var a = matrix, w = [Double](repeating: 0, count: n)
        var size = Int32(n), lda = Int32(n), info: Int32 = 0
        // Workspace query, then the decomposition.
        var workSize = 0.0, iworkSize: Int32 = 0, query: Int32 = -1, iquery: Int32 = -1
        "V".withCString { jobz in
            "U".withCString { uplo in
                dsyevd_(jobz, uplo, &size, &a, &lda, &w, &workSize, &query, &iworkSize, &iquery, &info, 1, 1)
            }
        }
        precondition(info == 0, "SymmetricEigendecomposition: dsyevd's workspace query failed (info \(info))")
        var lwork = Int32(workSize), liwork = iworkSize
        var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
        "V".withCString { jobz in
            "U".withCString { uplo in
                dsyevd_(jobz, uplo, &size, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
            }
        }
        precondition(info == 0, "SymmetricEigendecomposition: dsyevd did not converge (info \(info))")
        self.size = n
        values = w
        // Column-major eigenvectors: column i, contiguous, is row i here.
        vectors = a
    }

    /// V·diag(f(λ))·Vᵀ, row-major.
    public func applying(_ f: (Double) -> Double) -> [Double] {
        let n = size, fl = values.map(f)
        var out = [Double](repeating: 0, count: n * n)
        for k in 0..<n where fl[k] != 0 {
            let v = vectors[(k * n)..<((k + 1) * n)], base = k * n
            for i in 0..<n {
                let s = fl[k] * vectors[base + i]
                for j in 0..<n { out[i * n + j] += s * v[base + j] }
            }
        }
        return out
    }

    /// The square root of a positive semidefinite matrix, its eigenvalues
    /// below 0 (rounding) taken as 0.
    public var squareRoot: [Double] { applying { $0 > 0 ? $0.squareRoot() : 0 } }

    /// tr(A^½) = Σ √λ, the eigenvalues below 0 (rounding) taken as 0.
    public var traceOfSquareRoot: Double { values.reduce(0) { $0 + ($1 > 0 ? $1.squareRoot() : 0) } }
}
