// batchedMatmul against per-batch naive products, for every transpose
// combination, a shared B, batch 1 and odd sizes, on the small-kernel and the
// OpenBLAS side of `SmallGEMM.prefersBLAS`; and the checks of matmul and gemm.

import Tensors
import Testing
import TestSupport

@Test func batchedMatmul_by_hand() {
    let a = Tensor(shape: [2, 2, 2], scalars: [1, 2, 3, 4, 1, 0, 0, 1])
    let b = Tensor(shape: [2, 2, 1], scalars: [1, 1, 5, 7])
    #expect(Tensor.batchedMatmul(a, b).scalars == [3, 7, 5, 7])
    let shared = Tensor(rows: [[1], [2]])
    #expect(Tensor.batchedMatmul(a, shared).scalars == [5, 11, 1, 2])
    #expect(Tensor.batchedMatmul(a, shared, transposeA: true).scalars == [7, 10, 1, 2])
    #expect(Tensor.batchedMatmul(a, Tensor(rows: [[1, 2]]), transposeB: true).scalars == [5, 11, 1, 2])
    #expect(Tensor.batchedMatmul(Tensor.zeros([0, 3, 2]), Tensor.zeros([2, 4])).shape == [0, 3, 4])
    #expect(Tensor.batchedMatmul(Tensor.zeros([2, 3, 0]), Tensor.zeros([2, 0, 4])) == .zeros([2, 3, 4]))
}

/// The naive product op(A[i]) · op(B[i]) (B shared when of rank 2), in Double.
func naiveBatchedProduct(_ a: Tensor, _ b: Tensor, _ transposeA: Bool, _ transposeB: Bool) -> [Double] {
    let batch = a.shape[0]
    let m = transposeA ? a.shape[2] : a.shape[1], k = transposeA ? a.shape[1] : a.shape[2]
    let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
    var result = [Double]()
    for i in 0..<batch {
        let bi = b.rank == 3 ? [i] : []
        for r in 0..<m { for c in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let x = transposeA ? a[i, p, r] : a[i, r, p]
                let y = transposeB ? b[bi + [c, p]] : b[bi + [p, c]]
                s += Double(x) * Double(y)
            }
            result.append(s)
        } }
    }
    return result
}

extension Tensor {
    /// Element access by an array multi-index (the variadic subscript's array form).
    subscript(_ index: [Int]) -> Float { scalars[flatIndex(index, shape)] }
}

/// (batch, m, n, k): 7×5×3 and 3×9×2 go to SmallGEMM, 33×37×35 and 64×20×12
/// to OpenBLAS (see `SmallGEMM.prefersBLAS`).
@Test(arguments: [(1, 7, 5, 3), (3, 7, 5, 3), (4, 3, 9, 2), (1, 33, 37, 35), (3, 33, 37, 35), (2, 64, 20, 12)])
func batchedMatmul_matches_naive(_ sizes: (Int, Int, Int, Int)) {
    let (batch, m, n, k) = sizes
    for transposeA in [false, true] {
        for transposeB in [false, true] {
            let a = randomTensor(transposeA ? [batch, k, m] : [batch, m, k], seed: 1)
            let shapeB = transposeB ? [n, k] : [k, n]
            for b in [randomTensor([batch] + shapeB, seed: 2), randomTensor(shapeB, seed: 3)] {
                let c = Tensor.batchedMatmul(a, b, transposeA: transposeA, transposeB: transposeB)
                #expect(c.shape == [batch, m, n])
                let d = difference(c.scalars.map(Double.init), naiveBatchedProduct(a, b, transposeA, transposeB),
                                   floor: 1)
                #expect(d.maxRelative < 1e-4, "\(sizes) \(transposeA) \(transposeB) B \(b.shape): \(d)")
            }
        }
    }
}

@Test func batchedMatmul_per_batch_equals_matmul() {
    let a = randomTensor([3, 12, 40], seed: 5), b = randomTensor([3, 40, 24], seed: 6)
    let c = Tensor.batchedMatmul(a, b)
    for i in 0..<3 {
        let ai = a.slice(axis: 0, range: i..<(i + 1)).reshaped([12, 40])
        let bi = b.slice(axis: 0, range: i..<(i + 1)).reshaped([40, 24])
        #expect(c.slice(axis: 0, range: i..<(i + 1)).reshaped([12, 24]) == Tensor.matmul(ai, bi))
    }
}

@Test func gemm_accumulates_into_c() {
    let a = Tensor(rows: [[1, 2], [3, 4]]), b = Tensor(rows: [[1, 0], [0, 1]])
    var c = Tensor(rows: [[1, 1], [1, 1]])
    Tensor.gemm(a, b, into: &c, transposeA: true, alpha: 2, beta: 1)
    #expect(c.scalars == [3, 7, 5, 9])
}
