// Tests of SmallGEMM against a naive triple loop in Double, over shapes, strides,
// alpha/beta and all four transpose combinations; and agreement with BLAS.sgemm.

import Testing
import Tensors

/// One GEMM problem: sizes, storage strides (before transposition) and scalars.
struct GEMMCase: Sendable, CustomStringConvertible {
    var transposeA = false, transposeB = false
    var m: Int, n: Int, k: Int
    var alpha: Float = 1, beta: Float = 0
    /// Extra elements at the end of each stored row (lda = stored columns + pad).
    var padA = 0, padB = 0, padC = 0

    var description: String {
        "\(transposeA ? "T" : "N")\(transposeB ? "T" : "N") \(m)x\(n)x\(k) "
            + "alpha \(alpha) beta \(beta) pads \(padA),\(padB),\(padC)"
    }

    var aRows: Int { transposeA ? k : m }
    var lda: Int { (transposeA ? m : k) + padA }
    var bRows: Int { transposeB ? n : k }
    var ldb: Int { (transposeB ? k : n) + padB }
    var ldc: Int { n + padC }

    /// op(A)[i, p] and op(B)[p, j] from the stored arrays.
    func opA(_ a: [Float], _ i: Int, _ p: Int) -> Double {
        Double(transposeA ? a[p * lda + i] : a[i * lda + p])
    }
    func opB(_ b: [Float], _ p: Int, _ j: Int) -> Double {
        Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
    }
}

/// The reference: C = alpha op(A) op(B) + beta C in Double, element by element.
func naiveGEMM(_ g: GEMMCase, _ a: [Float], _ b: [Float], _ c: [Float]) -> [Double] {
    var result = c.map(Double.init)
    for i in 0..<g.m {
        for j in 0..<g.n {
            var sum = 0.0
            for p in 0..<g.k { sum += g.opA(a, i, p) * g.opB(b, p, j) }
            let old = g.beta == 0 ? 0 : Double(g.beta) * Double(c[i * g.ldc + j])
            result[i * g.ldc + j] = Double(g.alpha) * sum + old
        }
    }
    return result
}

/// Runs SmallGEMM (or BLAS) on seeded random inputs; returns the inputs and C.
func runGEMM(_ g: GEMMCase, seed: UInt64, initialC: Float? = nil, useBLAS: Bool = false)
    -> (a: [Float], b: [Float], c0: [Float], c: [Float]) {
    var rng = RandomGenerator(seed: seed)
    let a = (0..<max(1, g.aRows * g.lda)).map { _ in rng.uniform(-1, 1) }
    let b = (0..<max(1, g.bRows * g.ldb)).map { _ in rng.uniform(-1, 1) }
    let c0 = (0..<max(1, g.m * g.ldc)).map { _ in initialC ?? rng.uniform(-1, 1) }
    var c = c0
    a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                if useBLAS {
                    BLAS.sgemm(transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
                               alpha: g.alpha, a: ap.baseAddress!, lda: g.lda, b: bp.baseAddress!, ldb: g.ldb,
                               beta: g.beta, c: cp.baseAddress!, ldc: g.ldc)
                } else {
                    SmallGEMM.sgemm(transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
                                    alpha: g.alpha, a: ap.baseAddress!, lda: g.lda, b: bp.baseAddress!, ldb: g.ldb,
                                    beta: g.beta, c: cp.baseAddress!, ldc: g.ldc)
                }
            }
        }
    }
    return (a, b, c0, c)
}

/// Checks every element of C (and that the padding columns are untouched)
/// against the Double reference, with a tolerance scaled to the sum's size.
func checkAgainstNaive(_ g: GEMMCase, seed: UInt64) {
    let (a, b, c0, c) = runGEMM(g, seed: seed)
    let expected = naiveGEMM(g, a, b, c0)
    // |sum| <= k for entries in [-1, 1]; Float accumulation error <= ~k ulp(k).
    let tolerance = 1e-6 * Double(max(g.k, 1)) * (Double(abs(g.alpha)) * Double(max(g.k, 1)) + 1) + 1e-6
    var worst = 0.0
    for i in 0..<g.m {
        for j in 0..<g.ldc {
            let index = i * g.ldc + j
            if j < g.n {
                worst = max(worst, abs(Double(c[index]) - expected[index]))
            } else {
                #expect(c[index] == c0[index], "\(g): padding C[\(i), \(j)] was written")
            }
        }
    }
    #expect(worst <= tolerance, "\(g): max error \(worst) > \(tolerance)")
}

/// The shapes of the small networks and edge cases, each in all four
/// transpose combinations.
let gemmShapes: [(m: Int, n: Int, k: Int)] = [
    (1, 1, 1), (1, 1, 7), (3, 1, 1), (1, 5, 1), (2, 3, 4), (5, 4, 3),
    (37, 10, 12), (33, 7, 10), (29, 5, 7), (17, 4, 5), (13, 3, 4), (11, 2, 3),  // forward x·Wᵀ
    (10, 12, 37), (7, 10, 33), (2, 3, 41),                                      // weight-gradient shapes
    (9, 16, 3), (6, 17, 5), (5, 33, 9), (8, 20, 20), (4, 8, 8), (7, 9, 2),      // panel widths 4/8/16 and >16
    (64, 12, 64),
]

let transposeCombinations: [(Bool, Bool)] = [(false, false), (false, true), (true, false), (true, true)]

@Suite struct SmallGEMMTests {
    @Test(arguments: transposeCombinations)
    func shapesAgainstNaive(_ transposes: (Bool, Bool)) {
        for (index, s) in gemmShapes.enumerated() {
            let g = GEMMCase(transposeA: transposes.0, transposeB: transposes.1, m: s.m, n: s.n, k: s.k)
            checkAgainstNaive(g, seed: UInt64(index))
        }
    }

    @Test(arguments: transposeCombinations)
    func stridedStorage(_ transposes: (Bool, Bool)) {
        for (index, s) in [(5, 3, 4), (9, 10, 7), (4, 18, 6), (8, 4, 12)].enumerated() {
            let g = GEMMCase(transposeA: transposes.0, transposeB: transposes.1, m: s.0, n: s.1, k: s.2,
                             padA: 3, padB: 2, padC: 5)
            checkAgainstNaive(g, seed: 100 + UInt64(index))
        }
    }

    static let scalarCases: [(Float, Float)] = [(1, 0), (2.5, 0), (-1, 1), (0.5, -2), (1, 1), (0, 0.5), (0, 0)]

    @Test(arguments: scalarCases)
    func alphaAndBeta(_ scalars: (Float, Float)) {
        for (t, transposes) in transposeCombinations.enumerated() {
            for (index, s) in [(7, 3, 5), (6, 10, 4), (3, 19, 2), (1, 1, 1)].enumerated() {
                let g = GEMMCase(transposeA: transposes.0, transposeB: transposes.1, m: s.0, n: s.1, k: s.2,
                                 alpha: scalars.0, beta: scalars.1, padC: 1)
                checkAgainstNaive(g, seed: 200 + UInt64(10 * t + index))
            }
        }
    }

    /// beta = 0 must not read C: NaN there must not reach the result.
    @Test(arguments: transposeCombinations)
    func betaZeroIgnoresNaNInC(_ transposes: (Bool, Bool)) {
        for s in [(6, 3, 4), (5, 10, 3), (4, 17, 2)] {
            let g = GEMMCase(transposeA: transposes.0, transposeB: transposes.1, m: s.0, n: s.1, k: s.2)
            let (a, b, c0, c) = runGEMM(g, seed: 7, initialC: .nan)
            let expected = naiveGEMM(g, a, b, c0.map { _ in 0 })
            for index in c.indices {
                #expect(!c[index].isNaN, "\(g): NaN leaked at \(index)")
                #expect(abs(Double(c[index]) - expected[index]) <= 1e-5)
            }
        }
    }

    /// Contiguous C (ldc = n) is stored with whole vectors that spill into
    /// the next row; nothing may land past the last element of C.
    @Test(arguments: transposeCombinations)
    func noWritesPastTheEndOfC(_ transposes: (Bool, Bool)) {
        for s in [(1, 3, 2), (1, 2, 5), (2, 3, 3), (3, 5, 2), (1, 9, 2), (2, 7, 3), (1, 13, 1), (5, 2, 4)] {
            let g = GEMMCase(transposeA: transposes.0, transposeB: transposes.1, m: s.0, n: s.1, k: s.2)
            var rng = RandomGenerator(seed: 5)
            let a = (0..<g.aRows * g.lda).map { _ in rng.uniform(-1, 1) }
            let b = (0..<g.bRows * g.ldb).map { _ in rng.uniform(-1, 1) }
            var c = [Float](repeating: 777, count: g.m * g.n + 16)
            SmallGEMM.sgemm(transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k,
                            a: a, lda: g.lda, b: b, ldb: g.ldb, c: &c, ldc: g.n)
            let expected = naiveGEMM(g, a, b, Array(c[0..<(g.m * g.n)]))
            for index in 0..<(g.m * g.n) { #expect(abs(Double(c[index]) - expected[index]) <= 1e-5, "\(g)") }
            #expect(c[(g.m * g.n)...].allSatisfy { $0 == 777 }, "\(g) wrote past C")
        }
    }

    /// k = 0 gives C = beta·C (zeros for beta = 0, even over NaN); m = 0 or
    /// n = 0 touch nothing.
    @Test func emptySizes() {
        let zeroDepth = runGEMM(GEMMCase(m: 3, n: 5, k: 0), seed: 1, initialC: .nan)
        #expect(zeroDepth.c.allSatisfy { $0 == 0 })
        let scaled = runGEMM(GEMMCase(m: 2, n: 3, k: 0, beta: 2), seed: 2, initialC: 1.5)
        #expect(scaled.c.allSatisfy { $0 == 3 })
        for g in [GEMMCase(m: 0, n: 4, k: 3), GEMMCase(m: 4, n: 0, k: 3, padC: 2)] {
            let r = runGEMM(g, seed: 3, initialC: 9)
            #expect(r.c == r.c0)
        }
    }

    /// A hand-computed product: [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]].
    @Test func handComputed() {
        let a: [Float] = [1, 2, 3, 4], b: [Float] = [5, 6, 7, 8]
        var c = [Float](repeating: .nan, count: 4)
        SmallGEMM.sgemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 2,
                        a: a, lda: 2, b: b, ldb: 2, c: &c, ldc: 2)
        #expect(c == [19, 22, 43, 50])
        // Aᵀ · Bᵀ = (B · A)ᵀ: B·A = [[23, 34], [31, 46]].
        SmallGEMM.sgemm(transposeA: true, transposeB: true, m: 2, n: 2, k: 2,
                        a: a, lda: 2, b: b, ldb: 2, c: &c, ldc: 2)
        #expect(c == [23, 31, 34, 46])
    }

    /// Same answer as OpenBLAS on the Dense shapes (up to Float rounding).
    @Test(arguments: transposeCombinations)
    func agreesWithBLAS(_ transposes: (Bool, Bool)) {
        for s in [(64, 10, 12), (12, 10, 64), (40, 20, 20)] {
            let g = GEMMCase(transposeA: transposes.0, transposeB: transposes.1, m: s.0, n: s.1, k: s.2,
                             alpha: 0.75, beta: 0.5)
            let small = runGEMM(g, seed: 11).c
            let blas = runGEMM(g, seed: 11, useBLAS: true).c
            for index in small.indices { #expect(abs(small[index] - blas[index]) <= 1e-4) }
        }
    }

    /// The dispatch rule: tiny products stay here, large ones go to BLAS, and
    /// the 12-bit network's narrow layers (n <= 8, k <= 10) stay here.
    @Test func prefersBLASOnlyForLargeProducts() {
        for (m, n, k) in [(1, 1, 1), (2, 3, 4096), (8, 8, 256), (256, 7, 10), (256, 5, 7),
                          (256, 4, 5), (256, 2, 3), (4096, 3, 4), (128, 64, 4), (7, 10, 256), (10, 12, 4096)] {
            #expect(!SmallGEMM.prefersBLAS(m: m, n: n, k: k), "\(m)x\(n)x\(k)")
        }
        for (m, n, k) in [(128, 1024, 784), (128, 20, 1024), (20, 1024, 128), (128, 20, 20),
                          (256, 10, 12), (256, 64, 64), (8, 10, 256), (12, 12, 256)] {
            #expect(SmallGEMM.prefersBLAS(m: m, n: n, k: k), "\(m)x\(n)x\(k)")
        }
    }

    @Test func negativeSizeTraps() async {
        await #expect(processExitsWith: .failure) {
            var c: [Float] = [0]
            SmallGEMM.sgemm(transposeA: false, transposeB: false, m: -1, n: 1, k: 1,
                            a: [1], lda: 1, b: [1], ldb: 1, c: &c, ldc: 1)
        }
    }
}
