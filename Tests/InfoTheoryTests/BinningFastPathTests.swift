// Tests of the binning estimator's fast path (byte codes, reused hash table, fused label
// counts): every code against the naive per-value rules, every estimate bit for bit against
// the general path and within rounding of the sort-based reference, and the table's edge cases.

import Foundation
import Testing
import Tensors
@testable import InfoTheory

/// Every bin edge of `disc` and its two float neighbours (for `.width`, the edges k·w, |k| ≤ 20).
func edgeNeighbourhood(_ disc: Discretization) -> [Float] {
    let edges: [Float]
    switch disc {
    case let .edges(n, _): edges = Discretization.idnnsEdges(bins: n)
    case let .uniform(n, lo, hi): edges = Discretization.linspace(Double(lo), Double(hi), n + 1).map { Float($0) }
    case let .width(w): edges = (-20...20).map { Float($0) * w }
    }
    return edges.flatMap { [$0, $0.nextUp, $0.nextDown] }
}

/// tanh-like values with saturated units (exact +-1.0), values beyond [-1, 1], zeros of both
/// signs, and values at and next to the edges of `disc`.
func awkwardValues(_ disc: Discretization, count: Int, seed: UInt64) -> [Float] {
    var rng = RandomGenerator(seed: seed)
    let special: [Float] = [0, -0.0, 1, -1, 1, -1, 1.5, -1.5, Float(1).nextDown, Float(-1).nextUp,
                            Float(-1).nextDown, Float(1).nextUp, 1 - 0x1p-24, 3, -3] + edgeNeighbourhood(disc)
    var v: [Float] = []
    while v.count < count {
        let r = rng.nextDouble()
        if r < 0.2 {
            v.append(special[Int(rng.nextDouble() * Double(special.count))])
        } else if r < 0.35 {
            v.append(rng.nextDouble() < 0.5 ? 1 : -1)
        } else {
            v.append(1.2 * tanhf(Float(rng.normal()) * 2))
        }
    }
    return v
}

let fastPathDiscretizations: [Discretization] = [
    .edges(bins: 30), .edges(bins: 12, fixBelowRangeQuirk: true), .edges(bins: 2), .edges(bins: 255, fixBelowRangeQuirk: true),
    .edges(bins: 256), .uniform(bins: 100, lower: -1, upper: 1), .uniform(bins: 13, lower: -0.3, upper: 2.1),
    .uniform(bins: 256, lower: -1.2, upper: 1.2), .uniform(bins: 1, lower: -1, upper: 1), .uniform(bins: 5, lower: 0.5, upper: 0.5),
    .width(0.07), .width(0.5), .width(0.03),
]

@Suite struct BinningFastPathTests {
    @Test(arguments: fastPathDiscretizations)
    func byteCodesAreTheDocumentedCodes(_ disc: Discretization) throws {
        // Enough values for many 64-value blocks, with and without values near edges.
        let v = awkwardValues(disc, count: 5000, seed: 3)
        let t = ActivationMatrix(rows: v.count, columns: 1, scalars: v)
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: v.count + 16)
        defer { out.deallocate() }
        #expect(try codeBytes(t, disc, into: out))
        if case let .uniform(_, lo, hi) = disc, lo == hi {
            // One bin (the naive edges are all equal there).
            #expect((0..<v.count).allSatisfy { out[$0] == 0 })
            return
        }
        for (i, a) in v.enumerated() {
            // Width codes are floor(a / w) mod 256 (equal bytes, equal bins, within 256 bins).
            let expected = UInt8(truncatingIfNeeded: naiveCode(a, disc))
            if out[i] != expected {
                Issue.record("\(disc): \(a) (bits \(String(a.bitPattern, radix: 16))) coded \(out[i]), expected \(expected)")
                return
            }
        }
    }

    @Test func blocksAwayFromEdgesTakeTheVectorGuess() {
        // The guess must vouch for ordinary blocks, or the fast path is only exact, not fast.
        var rng = RandomGenerator(seed: 8)
        let v = (0..<64).map { _ in tanhf(Float(rng.normal())) }
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
        defer { out.deallocate() }
        let edges = paddedEdges(Discretization.idnnsEdges(bins: 30))
        let g = AffineGuess(lower: -1, upper: 1, scale: 14.5, limit: 0.5 - (1e-5 + 30e-6), highest: 28, base: 0, below: 29)
        let away = v.map { a -> Float in
            // Move values near an inner edge to the middle of their bin.
            let x = (a + 1) * 14.5
            return abs(x - x.rounded()) < 0.01 ? (x.rounded(.down) + 0.5) / 14.5 - 1 : a
        }
        away.withUnsafeBufferPointer { #expect(edgesCodeBlock($0.baseAddress!, out, 64, g)) }
        edges.withUnsafeBufferPointer { e in
            let exact = EdgesCoder(padded: e.baseAddress!, n: 30, fix: false)
            for (i, a) in away.enumerated() { #expect(UInt64(out[i]) == exact.code(a)) }
        }
        // An exact edge in the block sends it to the exact coder.
        var edged = away
        edged[17] = Discretization.idnnsEdges(bins: 30)[9]
        edged.withUnsafeBufferPointer { #expect(!edgesCodeBlock($0.baseAddress!, out, 64, g)) }
    }

    @Test(arguments: fastPathDiscretizations)
    func fastPathIsBitForBitTheGeneralPath(_ disc: Discretization) throws {
        // Many distinct rows, repeated rows, every width up to 16 units (two key words from 9
        // units on), 2 and 3 classes, with and without repeated inputs.
        var rng = RandomGenerator(seed: 21)
        for (n, d) in [(700, 1), (700, 2), (700, 3), (1000, 5), (1000, 8), (1000, 9), (999, 10), (1000, 16), (64, 16), (5, 3)] {
            var t = ActivationMatrix(rows: n, columns: d, scalars: awkwardValues(disc, count: n * d, seed: UInt64(n * 31 + d)))
            if d % 2 == 1 { t = t.selectingRows((0..<n).map { _ in Int(rng.nextDouble() * Double(n)) }) }
            for classes in [2, 3] {
                let labels = (0..<n).map { ($0 * 7 + $0 / 5) % classes }
                for groups in [nil, (0..<n).map { $0 / 3 }] {
                    let estimator = try BinningEstimator(labels: labels, inputGroups: groups)
                    let fast = try #require(try estimator.fastEstimate(t, disc), "\(disc) \(n)x\(d)")
                    let general = try estimator.generalEstimate(t, disc)
                    #expect(fast == general, "\(disc) \(n)x\(d) classes \(classes)")
                    #expect(fast.entropy.bitPattern == general.entropy.bitPattern)
                    // The public entry point takes the fast path.
                    #expect(try estimator.estimate(t, discretization: disc) == fast)
                }
            }
        }
    }

    @Test func fastPathAgreesWithTheSortBasedCount() throws {
        for disc in [Discretization.edges(bins: 30), .uniform(bins: 100, lower: -1, upper: 1), .width(0.07)] {
            for (n, d) in [(400, 1), (400, 9), (300, 16)] {
                let t = ActivationMatrix(rows: n, columns: d, scalars: awkwardValues(disc, count: n * d, seed: 5))
                let labels = (0..<n).map { $0 % 2 }
                let groups = (0..<n).map { $0 / 2 }
                let fast = try #require(try BinningEstimator(labels: labels, inputGroups: groups).fastEstimate(t, disc))
                let slow = naiveBinning(t, labels: labels, groups: groups, disc)
                #expect(abs(fast.entropy - slow.h) < 1e-10, "\(disc) \(n)x\(d)")
                #expect(abs(fast.entropyGivenInput - slow.hx) < 1e-10, "\(disc) \(n)x\(d)")
                #expect(abs(fast.entropyGivenLabel - slow.hy) < 1e-10, "\(disc) \(n)x\(d)")
            }
        }
    }

    @Test func rowsThatDifferOnlyInTheSecondKeyWordOrInOneBit() throws {
        // 12 units: the first 8 codes equal in every row, the others spell the row number in
        // base 30; then pairs of rows that differ by one bin in the last unit.
        let n = 30 * 30 * 4, d = 12
        let edges = Discretization.idnnsEdges(bins: 30)
        func mid(_ k: Int) -> Float { (edges[k] + edges[k + 1]) / 2 }
        var s = [Float](repeating: mid(3), count: n * d)
        for i in 0..<n {
            s[i * d + 8] = mid(i % 29); s[i * d + 9] = mid((i / 29) % 29)
            s[i * d + 10] = mid((i / 841) % 29); s[i * d + 11] = mid(i % 2)
        }
        let t = ActivationMatrix(rows: n, columns: d, scalars: s)
        let estimator = try BinningEstimator(labels: (0..<n).map { $0 % 2 })
        let fast = try #require(try estimator.fastEstimate(t, .edges(bins: 30)))
        let general = try estimator.generalEstimate(t, .edges(bins: 30))
        #expect(fast == general)
        #expect(fast.distinctRows == general.distinctRows)
        #expect(fast.distinctRows == Set((0..<n).map { [$0 % 29, ($0 / 29) % 29, ($0 / 841) % 29, $0 % 2] }).count)
    }

    @Test func manyDistinctRowsFillTheTable() throws {
        // 20000 distinct rows (load factor 1/2 at the end), then every row twice.
        let n = 20_000, d = 16
        var rng = RandomGenerator(seed: 77)
        let t = ActivationMatrix(rows: n, columns: d, scalars: (0..<n * d).map { _ in Float(rng.nextDouble() * 2 - 1) })
        let estimator = try BinningEstimator(labels: (0..<n).map { $0 % 3 })
        let e = try #require(try estimator.fastEstimate(t, .uniform(bins: 256, lower: -1, upper: 1)))
        #expect(e.distinctRows == n)
        #expect(abs(e.entropy - log2(Double(n))) < 1e-12)
        #expect(e == (try estimator.generalEstimate(t, .uniform(bins: 256, lower: -1, upper: 1))))
        let twice = t.selectingRows((0..<n).map { $0 / 2 })
        let e2 = try #require(try estimator.fastEstimate(twice, .uniform(bins: 256, lower: -1, upper: 1)))
        #expect(e2.distinctRows == n / 2)
        #expect(e2 == (try estimator.generalEstimate(twice, .uniform(bins: 256, lower: -1, upper: 1))))
    }

    @Test func reusedScratchAndGenerationWrapAround() throws {
        let n = 500
        let estimator = try BinningEstimator(labels: (0..<n).map { $0 % 2 })
        let layers = (0..<4).map { randomMatrix(n, 4, seed: UInt64(40 + $0)) }
        let expected = try layers.map { try estimator.generalEstimate($0, .edges(bins: 8)) }
        // Sequential calls reuse one scratch; stale slots from earlier calls must read as empty,
        // including across the wrap-around of the generation stamp.
        estimator.scratch.withScratch { $0.generation = UInt32.max - 2 }
        for round in 0..<3 {
            for (m, e) in zip(layers, expected) {
                #expect(try estimator.estimate(m, discretization: .edges(bins: 8)) == e, "round \(round)")
            }
        }
        // Concurrent calls each get their own scratch.
        let results = try parallelMap(64, workers: 4) { k in try estimator.estimate(layers[k % 4], discretization: .edges(bins: 8)) }
        for (k, r) in results.enumerated() { #expect(r == expected[k % 4]) }
    }

    @Test func repeatedInputsWithManyPairsAreCountedInTheScratchTable() throws {
        // 3000 rows in 1000 input groups (of 3) and about 3000 distinct binned rows: far more
        // (row, input) cells than a dense table takes, so the pairs go through the hash table.
        let n = 3000
        let t = ActivationMatrix(rows: n, columns: 6, scalars: awkwardValues(.edges(bins: 30), count: n * 6, seed: 12))
        let estimator = try BinningEstimator(labels: (0..<n).map { $0 % 2 }, inputGroups: (0..<n).map { ($0 * 7) % 1000 })
        let fast = try #require(try estimator.fastEstimate(t, .edges(bins: 30)))
        #expect(fast.distinctRows * 1000 > max(1 << 16, 4 * n))
        #expect(fast == (try estimator.generalEstimate(t, .edges(bins: 30))))
        #expect(fast.entropyGivenInput > 0)
        let slow = naiveBinning(t, labels: (0..<n).map { $0 % 2 }, groups: (0..<n).map { ($0 * 7) % 1000 }, .edges(bins: 30))
        #expect(abs(fast.entropyGivenInput - slow.hx) < 1e-10)
    }

    @Test func manyClassesUseTheGeneralJointSum() throws {
        // N * classes above the dense-table limit: (row, label) pairs are summed by `jointSum`.
        let n = 300
        let labels = (0..<n).map { $0 }
        let estimator = try BinningEstimator(labels: labels)
        #expect(estimator.countClasses == 1)
        let t = randomMatrix(n, 3, seed: 9)
        let fast = try #require(try estimator.fastEstimate(t, .edges(bins: 10)))
        #expect(fast == (try estimator.generalEstimate(t, .edges(bins: 10))))
        #expect(fast.entropyGivenLabel == 0)
    }

    @Test func signedZerosShareABinOnTheFastPath() throws {
        let t = ActivationMatrix(rows: 100, columns: 3, scalars: (0..<300).map { $0 % 3 == 0 ? 0.0 : -0.0 })
        let estimator = try BinningEstimator(labels: (0..<100).map { $0 % 2 })
        for disc in fastPathDiscretizations {
            #expect(try estimator.fastEstimate(t, disc)?.distinctRows == 1, "\(disc)")
        }
    }

    @Test func nonFiniteValuesAndBadParametersAreReportedAsBefore() throws {
        let n = 200, d = 10
        let estimator = try BinningEstimator(labels: (0..<n).map { $0 % 2 })
        for disc in [Discretization.edges(bins: 30), .uniform(bins: 100, lower: -1, upper: 1), .width(0.07),
                     .uniform(bins: 3, lower: 1, upper: 1)] {
            for (k, bad) in [(1234, Float.nan), (7, Float.infinity), (1999, -Float.infinity)] {
                var s = randomMatrix(n, d, seed: 2).scalars
                s[k] = bad
                s[1500] = .nan   // a later one is not the one reported
                let t = ActivationMatrix(rows: n, columns: d, scalars: k < 1500 ? s : { var c = s; c[1500] = 0.5; return c }())
                do {
                    _ = try estimator.estimate(t, discretization: disc)
                    Issue.record("\(disc): \(bad) not reported")
                } catch let error as InfoTheoryError {
                    guard case let .nonFinite(row, column, value) = error else { Issue.record("\(error)"); continue }
                    #expect(row == k / d && column == k % d, "\(disc)")
                    #expect(value.isNaN == bad.isNaN)
                }
            }
        }
        // A non-finite value is reported before a bad parameter, as on the general path.
        let t = ActivationMatrix(rows: n, columns: d, scalars: (0..<n * d).map { $0 == 5 ? .nan : 0.1 })
        #expect(throws: InfoTheoryError.self) { try estimator.estimate(t, discretization: .edges(bins: 1)) }
        do { _ = try estimator.estimate(t, discretization: .edges(bins: 1)) } catch let error as InfoTheoryError {
            guard case .nonFinite = error else { Issue.record("\(error)"); return }
        }
        // Width: an index beyond 62 bits is reported as before; more than 256 bins go to the
        // general path with the same result.
        #expect(throws: InfoTheoryError.binIndexOutOfRange(row: 1, column: 0, value: 3e38)) {
            try BinningEstimator(labels: [0, 1, 0]).estimate(ActivationMatrix(rows: [[0.1], [3e38], [0.3]]),
                                                              discretization: .width(1e-12))
        }
        let wide = randomMatrix(n, 2, seed: 4, scale: 3, transform: { $0 })
        #expect(try estimator.fastEstimate(wide, .width(0.01)) == nil)
        #expect(try estimator.estimate(wide, discretization: .width(0.01)) == (try estimator.generalEstimate(wide, .width(0.01))))
    }
}
