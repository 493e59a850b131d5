// Tests of the KDE bounds: a direct double loop in Double, a closed form, the [0, ln N] range,
// lower <= upper, agreement across block sizes and thread counts, and the vectorized exp.

import Foundation
import Testing
import Tensors
@testable import InfoTheory

/// Kolchinsky & Tracey's bounds by the definition, in Double: (I_XT, I_TY) in nats for kernel
/// width w (2 s2 upper, 8 s2 lower).
func naiveKDE(_ t: ActivationMatrix, labels: [Int], width w: Double) -> (ixt: Double, ity: Double) {
    let n = t.rows, d = t.columns
    func dist(_ i: Int, _ j: Int) -> Double {
        var s = 0.0
        for k in 0..<d { let v = Double(t.scalars[i * d + k]) - Double(t.scalars[j * d + k]); s += v * v }
        return s
    }
    // -(1/|S|) sum_{i in S} ln((1/|S|) sum_{j in S} exp(-D_ij / w))
    func kernelInformation(_ rows: [Int]) -> Double {
        var total = 0.0
        for i in rows {
            var s = 0.0
            for j in rows { s += exp(-dist(i, j) / w) }
            total += log(s / Double(rows.count))
        }
        return -total / Double(rows.count)
    }
    let all = Array(0..<n)
    let ixt = kernelInformation(all)
    var conditional = 0.0
    for label in Set(labels) {
        let rows = all.filter { labels[$0] == label }
        conditional += Double(rows.count) / Double(n) * kernelInformation(rows)
    }
    return (ixt, ixt - conditional)
}

@Suite struct KDETests {
    @Test func fastExpMatchesLibm() {
        var worst: Float = 0
        var x: Float = 0
        while x > -87 {
            let v = SIMD8<Float>(x, x * 0.999, x * 0.5, x * 0.25, x * 0.1, x * 0.01, x * 0.001, x * 1e-5)
            let e = expNonPositive(v)
            for k in 0..<8 {
                let ref = Foundation.exp(Double(v[k]))
                worst = max(worst, Float(abs(Double(e[k]) - ref) / ref))
            }
            x -= 0.0137
        }
        #expect(worst < 4e-7)
        #expect(expNonPositive(SIMD8(repeating: 0)) == SIMD8(repeating: 1))
        #expect(expNonPositive(SIMD8(repeating: -1e30)).max() < 1e-37)
    }

    @Test(arguments: [(97, 3, 1, 128), (150, 10, 2, 16), (64, 7, 2, 5), (33, 40, 1, 7)])
    func matchesTheDoubleLoop(n: Int, d: Int, workers: Int, blockRows: Int) throws {
        let t = randomMatrix(n, d, seed: UInt64(n * d), scale: 1.0)
        let labels = (0..<n).map { ($0 * 5) % 3 }
        let s2 = 0.1
        let e = try KDEEstimator(noiseVariance: s2, bound: .both, labels: labels,
                                 workers: workers, blockRows: blockRows).estimate(t)
        let upper = try #require(e.upper), lower = try #require(e.lower)
        let refUpper = naiveKDE(t, labels: labels, width: 2 * s2)
        let refLower = naiveKDE(t, labels: labels, width: 8 * s2)
        // float32 distances and kernel values: agreement to ~1e-5 nats.
        #expect(abs(upper.inputInformation - refUpper.ixt) < 2e-5)
        #expect(abs(try #require(upper.labelInformation) - refUpper.ity) < 2e-5)
        #expect(abs(lower.inputInformation - refLower.ixt) < 2e-5)
        #expect(abs(try #require(lower.labelInformation) - refLower.ity) < 2e-5)
        // Ranges: 0 <= lower <= upper <= ln N.
        #expect(0 <= lower.inputInformation && lower.inputInformation <= upper.inputInformation)
        #expect(upper.inputInformation <= log(Double(n)) + 1e-12)
        // Single bounds agree with the two-bound pass; H(T) adds the noise entropy.
        let onlyUpper = try KDEEstimator(noiseVariance: s2, bound: .upper, labels: labels).estimate(t)
        #expect(onlyUpper.lower == nil)
        #expect(abs(try #require(onlyUpper.upper).inputInformation - upper.inputInformation) < 1e-9)
        let noise = Double(d) / 2 * (log(2 * Double.pi * s2) + 1)
        #expect(abs(upper.entropy - (upper.inputInformation + noise)) < 1e-12)
        #expect(abs(upper.bits.inputInformation - upper.inputInformation / log(2)) < 1e-12)
    }

    @Test func twoDistantClustersGiveLn2() throws {
        // Half the rows at one point, half at another 100 units away: each inner sum is N/2
        // (the other cluster contributes exp(-10^4 / 0.2) = 0), so I(X;T) = ln 2 for both bounds,
        // and I(T;Y) = ln 2 when the label is the cluster.
        let n = 120, d = 5
        let rows: [[Float]] = (0..<n).map { i in [Float](repeating: i % 2 == 0 ? 0 : 100 / sqrt(5), count: d) }
        let t = ActivationMatrix(rows: rows)
        let e = try KDEEstimator(noiseVariance: 0.1, bound: .both, labels: (0..<n).map { $0 % 2 },
                                 workers: 2, blockRows: 16).estimate(t)
        for b in [e.upper!, e.lower!] {
            #expect(abs(b.inputInformation - log(2)) < 1e-6)
            #expect(abs(b.labelInformation! - log(2)) < 1e-6)
            #expect(abs(b.bits.inputInformation - 1) < 1e-6)
        }
        // All rows equal: no information at all.
        let same = try KDEEstimator(bound: .both).estimate(ActivationMatrix(rows: (0..<40).map { _ in [0.3, -0.2] }))
        // (float32 rounding of ||h||^2 + ||h||^2 - 2 h.h leaves distances of order 1e-8)
        #expect(same.upper!.inputInformation < 1e-6 && same.lower!.inputInformation < 1e-6)
        #expect(same.upper!.labelInformation == nil)
    }

    @Test func independentOfBlockingThreadsAndRowOrder() throws {
        let n = 130, d = 6
        let t = randomMatrix(n, d, seed: 77)
        let labels = (0..<n).map { $0 % 4 }
        let reference = try KDEEstimator(labels: labels, workers: 1, blockRows: 1000).estimate(t)
        var rng = RandomGenerator(seed: 3)
        let order = rng.permutation(n)
        let permuted = try KDEEstimator(labels: order.map { labels[$0] }).estimate(t.selectingRows(order))
        for (workers, block) in [(2, 1), (2, 9), (3, 50), (1, 13)] {
            let e = try KDEEstimator(labels: labels, workers: workers, blockRows: block).estimate(t)
            for (a, b) in [(e.upper!, reference.upper!), (e.lower!, reference.lower!),
                           (permuted.upper!, reference.upper!)] {
                #expect(abs(a.inputInformation - b.inputInformation) < 1e-5)
                #expect(abs(a.labelInformation! - b.labelInformation!) < 1e-5)
            }
        }
    }

    @Test func badInputIsReported() throws {
        let estimator = try KDEEstimator(labels: [0, 1, 1])
        #expect(throws: InfoTheoryError.rowCountMismatch(activationRows: 2, expected: 3, what: "labels")) {
            try estimator.estimate(ActivationMatrix(rows: [[0.1], [0.2]]))
        }
        #expect(throws: InfoTheoryError.nonFinite(row: 2, column: 0, value: -.infinity)) {
            try estimator.estimate(ActivationMatrix(rows: [[0.1, 0], [0.2, 0], [-.infinity, 0]]))
        }
        #expect(throws: InfoTheoryError.emptyLayer(rows: 0, columns: 4)) {
            try KDEEstimator().estimate(ActivationMatrix(rows: 0, columns: 4, scalars: []))
        }
        #expect(throws: InfoTheoryError.self) { try KDEEstimator(noiseVariance: 0) }
        #expect(throws: InfoTheoryError.self) { try KDEEstimator(noiseVariance: .nan) }
    }
}
