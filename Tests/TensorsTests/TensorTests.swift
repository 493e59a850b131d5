// Tensor arithmetic, matmul dispatch and the RNG.

import Foundation
import Tensors
import Testing
import TestSupport

@Test func elementwise_and_broadcast_by_hand() {
    let a = Tensor(rows: [[1, 2, 3], [4, 5, 6]])
    let b = Tensor(rows: [[6, 5, 4], [3, 2, 1]])
    #expect((a + b).scalars == [7, 7, 7, 7, 7, 7])
    #expect((a * b).scalars == [6, 10, 12, 12, 10, 6])
    #expect(a.addingRowVector(Tensor(shape: [3], scalars: [10, 20, 30])).scalars == [11, 22, 33, 14, 25, 36])
    #expect(a.sumRows().scalars == [5, 7, 9])
    #expect(a.transposed().scalars == [1, 4, 2, 5, 3, 6])
    #expect(a.sum() == 21)
    #expect(a.gatherRows([1, 1, 0]).scalars == [4, 5, 6, 4, 5, 6, 1, 2, 3])
    #expect(Tensor(rows: [[0, 3, 3], [2, 1, 0]]).argmaxRows() == [1, 0])
}

@Test func matmul_by_hand() {
    let a = Tensor(rows: [[1, 2], [3, 4], [5, 6]])
    let b = Tensor(rows: [[1, 0, 2], [0, 1, 3]])
    #expect(Tensor.matmul(a, b).scalars == [1, 2, 8, 3, 4, 18, 5, 6, 28])
    #expect(Tensor.matmul(a, a, transposeA: true).scalars == [35, 44, 44, 56])
    #expect(Tensor.matmul(a, a, transposeB: true).shape == [3, 3])
}

/// BLAS and the small kernel must agree on shapes either side of the crossover.
@Test(arguments: [(1, 1, 1), (256, 10, 12), (256, 12, 10), (10, 12, 256), (64, 64, 64), (100, 70, 90)])
func matmul_matches_naive(_ shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    let a = randomTensor([m, k], seed: 1), b = randomTensor([k, n], seed: 2)
    let c = Tensor.matmul(a, b)
    var expected = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { for p in 0..<k {
        expected[i * n + j] += Double(a.scalars[i * k + p]) * Double(b.scalars[p * n + j])
    } } }
    let d = difference(c.scalars.map(Double.init), expected, floor: 1)
    #expect(d.maxRelative < 1e-4, "\(d)")
}

@Test func rng_is_deterministic_and_restorable() {
    var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
    let xs = (0..<100).map { _ in a.next() }
    let ys = (0..<100).map { _ in b.next() }
    #expect(xs == ys)
    var c = RandomGenerator(seed: 43)
    #expect(c.next() != xs[0])
    let saved = a.stateWords
    let next = a.next()
    var restored = RandomGenerator(state: saved)
    #expect(restored.next() == next)
}

@Test func rng_distributions_have_their_moments() {
    var rng = RandomGenerator(seed: 7)
    let n = 200_000
    var (s, s2) = (0.0, 0.0)
    for _ in 0..<n { let z = rng.normal(); s += z; s2 += z * z }
    // Standard errors: 1/sqrt(n) = 0.0022 for the mean, sqrt(2/n) = 0.0032 for the variance.
    #expect(abs(s / Double(n)) < 0.01)
    #expect(abs(s2 / Double(n) - 1) < 0.015)
    var (t, t2, tmax) = (0.0, 0.0, 0.0)
    for _ in 0..<n { let z = rng.truncatedNormal(std: 1); t += z; t2 += z * z; tmax = max(tmax, abs(z)) }
    // A standard normal truncated to [-2, 2] has variance 1 - 2·2φ(2)/(2Φ(2) - 1) = 0.77372.
    #expect(tmax <= 2)
    #expect(abs(t / Double(n)) < 0.01)
    #expect(abs(t2 / Double(n) - 0.77372) < 0.01)
    var u = 0.0
    for _ in 0..<n { u += Double(rng.nextFloat()) }
    #expect(abs(u / Double(n) - 0.5) < 0.005)
}

@Test func permutation_is_a_permutation_and_uniform_in_first_position() {
    var rng = RandomGenerator(seed: 9)
    var counts = [Int](repeating: 0, count: 5)
    for _ in 0..<10_000 {
        let p = rng.permutation(5)
        #expect(p.sorted() == [0, 1, 2, 3, 4])
        counts[p[0]] += 1
    }
    // Each value leads with probability 1/5: 2000 ± 40 (one sd); allow 5 sd.
    #expect(counts.allSatisfy { abs($0 - 2000) < 200 }, "\(counts)")
}
