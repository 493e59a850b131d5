// Tests of the exact max-norm neighbour searches behind the Kraskov estimators: the k-d tree
// (MaxNormTree), the blocked scan (MaxNormScan), the 2-D strips (MaxNormStrips) and the sorted
// line (SortedLine) against an O(N^2) loop by the definition, on data with many exact ties; the
// radix order against the standard sort; and the estimates' independence of the search and of
// the thread count.

import Foundation
import Testing
import Tensors
@testable import InfoTheory

/// Points on a coarse grid (values in {-2, -1.75, ..., 2}): many exactly tied distances.
private func tiedPoints(n: Int, d: Int, seed: UInt64) -> [Double] {
    var rng = RandomGenerator(seed: seed)
    return (0..<(n * d)).map { _ in max(-2, min(2, (rng.normal() * 4).rounded() / 4)) }
}

private func maxNormDistance(_ v: [Double], _ d: Int, _ i: Int, _ j: Int) -> Double {
    var m = 0.0
    for c in 0..<d { m = max(m, abs(v[i * d + c] - v[j * d + c])) }
    return m
}

/// The k nearest of `stored` (caller indices) to point q, q excluded, sorted by (distance, index).
private func naiveNearest(_ v: [Double], _ d: Int, stored: [Int], q: Int, k: Int) -> [(Double, Int32)] {
    let all = stored.filter { $0 != q }.map { (maxNormDistance(v, d, q, $0), Int32($0)) }
    let sorted = all.sorted { $0.0 < $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
    return Array(sorted.prefix(k)) + Array(repeating: (Double.infinity, Int32.max), count: max(0, k - sorted.count))
}

private func naiveCount(_ v: [Double], _ d: Int, stored: [Int], q: Int, radius: Double, strict: Bool) -> Int32 {
    Int32(stored.filter { strict ? maxNormDistance(v, d, q, $0) < radius : maxNormDistance(v, d, q, $0) <= radius }.count)
}

@Suite struct KSGSearchTests {
    /// Both searches return the definition's k-lists (distances and indices, ties by the smaller
    /// index) and counts (strict and not, at radii that are themselves tied distances), over all
    /// points and over a subset, in 1 to 24 dimensions. The 1-D counts also by the sorted line.
    @Test(arguments: [1, 2, 3, 5, 12, 24], [1, 3, 6])
    func searchesMatchTheDefinition(d: Int, k: Int) {
        let n = 203   // not a multiple of 16: the scan's last group is padded
        let v = tiedPoints(n: n, d: d, seed: UInt64(31 * d + k))
        let subsets: [[Int]?] = [nil, (0..<n).filter { $0 % 3 != 1 }]
        for subset in subsets {
            let stored = subset ?? Array(0..<n)
            let (tree, scan, line) = v.withUnsafeBufferPointer { p in
                (MaxNormTree(rows: p, dimension: d, subset: subset), MaxNormScan(rows: p, dimension: d, subset: subset),
                 d == 1 ? SortedLine(rows: p, subset: subset) : nil)
            }
            // Queries: stored points (as the estimators ask) and, for the counts, others too.
            let queries = stored.map(Int32.init)
            let all = (0..<n).map(Int32.init)
            var expected: [(Double, Int32)] = []
            for q in stored { expected += naiveNearest(v, d, stored: stored, q: q, k: k) }
            var nearestSearches: [any MaxNormNeighbours] = [tree, scan]
            if d == 2 { nearestSearches.append(v.withUnsafeBufferPointer { MaxNormStrips(rows: $0, subset: subset) }) }
            for search in nearestSearches {
                var dist = [Double](repeating: 0, count: queries.count * k), ids = [Int32](repeating: 0, count: queries.count * k)
                v.withUnsafeBufferPointer { p in
                    queries.withUnsafeBufferPointer { search.nearest($0, rows: p.baseAddress!, k: k, distances: &dist, indices: &ids) }
                }
                #expect(dist == expected.map(\.0), "\(type(of: search)) distances, d = \(d), k = \(k)")
                #expect(ids == expected.map(\.1), "\(type(of: search)) indices, d = \(d), k = \(k)")
            }
            // Radii: each point's k-th distance (exactly tied with other distances on the grid).
            let radii = all.map { q in naiveNearest(v, d, stored: stored, q: Int(q), k: k)[k - 1].0 }
                .map { $0.isFinite ? $0 : 1 }
            for strict in [true, false] {
                let want = all.map { naiveCount(v, d, stored: stored, q: Int($0), radius: radii[Int($0)], strict: strict) }
                var searches: [any MaxNormCounting] = [tree, scan]
                if let line { searches.append(line) }
                for search in searches {
                    var got = [Int32](repeating: -1, count: n)
                    v.withUnsafeBufferPointer { p in
                        all.withUnsafeBufferPointer { search.count($0, rows: p.baseAddress!, radii: radii, strict: strict, counts: &got) }
                    }
                    #expect(got == want, "\(type(of: search)) counts, strict \(strict), d = \(d), k = \(k)")
                }
            }
        }
    }

    /// The strips on more points than one strip holds, with strips of tied x and a strongly
    /// correlated cloud (a thin diagonal, where strips are narrow in y as well as in x).
    @Test(arguments: [0.0, 0.999])
    func stripsMatchTree(correlation: Double) {
        let n = 3000, k = 3
        var rng = RandomGenerator(seed: 17)
        var v = [Double](repeating: 0, count: 2 * n)
        for i in 0..<n {
            let a = rng.normal(), b = rng.normal()
            v[2 * i] = i % 7 == 0 ? 0.25 : a   // a seventh of the points share one x
            v[2 * i + 1] = correlation * a + (1 - correlation * correlation).squareRoot() * b
        }
        let (tree, strips) = v.withUnsafeBufferPointer { (MaxNormTree(rows: $0, dimension: 2), MaxNormStrips(rows: $0)) }
        let queries = (0..<n).map(Int32.init)
        var results: [([Double], [Int32])] = []
        for search in [tree as any MaxNormNeighbours, strips] {
            var dist = [Double](repeating: 0, count: n * k), ids = [Int32](repeating: 0, count: n * k)
            v.withUnsafeBufferPointer { p in
                queries.withUnsafeBufferPointer { search.nearest($0, rows: p.baseAddress!, k: k, distances: &dist, indices: &ids) }
            }
            results.append((dist, ids))
        }
        #expect(results[0].0 == results[1].0)
        #expect(results[0].1 == results[1].1)
    }

    /// The sorted line's counts, from a few values to thousands (past its vector reads, into
    /// the galloping), strict and not, against a count by the definition.
    @Test func sortedLineCountsSmallAndLarge() {
        let n = 4000
        var rng = RandomGenerator(seed: 23)
        let v = (0..<n).map { _ in (rng.normal() * 64).rounded() / 64 }   // ties at every radius
        let line = v.withUnsafeBufferPointer { SortedLine(rows: $0) }
        let queries = (0..<n).map(Int32.init)
        let radii = (0..<n).map { i in [0.0, 1.0 / 64, 0.01, 0.1, 0.5, 3, 10][i % 7] }
        for strict in [true, false] {
            var got = [Int32](repeating: -1, count: n)
            v.withUnsafeBufferPointer { p in
                queries.withUnsafeBufferPointer { line.count($0, rows: p.baseAddress!, radii: radii, strict: strict, counts: &got) }
            }
            let want = (0..<n).map { q in Int32(v.filter { strict ? abs($0 - v[q]) < radii[q] : abs($0 - v[q]) <= radii[q] }.count) }
            #expect(got == want, "strict \(strict)")
        }
    }

    /// The radix order is the standard sort by (value, position), with -0 equal to +0, across
    /// signs, magnitudes, infinities and ties.
    @Test func radixOrderIsTheStableSort() {
        var rng = RandomGenerator(seed: 3)
        var values = (0..<5000).map { i -> Double in
            switch i % 5 {
            case 0: return (rng.normal() * 4).rounded() / 4
            case 1: return rng.normal() * 1e-300
            case 2: return rng.normal() * 1e300
            case 3: return i % 2 == 0 ? -0.0 : 0.0
            default: return rng.normal()
            }
        }
        values[10] = .infinity; values[11] = -.infinity; values[12] = -Double.leastNonzeroMagnitude
        let expected = values.indices.sorted { (values[$0], $0) < (values[$1], $1) }.map(Int32.init)
        #expect(radixOrder(values) == expected)
        #expect(radixOrder([]) == [])
        #expect(radixOrder([2, 2, 2]) == [0, 1, 2])
    }

    /// The scan's blocks: more points than one block holds, so queries carry k-lists across blocks.
    @Test func scanAcrossBlocksMatchesTree() {
        let d = 40, n = 2000   // 256 KB blocks hold 51 groups of 16 at d = 40: 3 blocks
        let v = tiedPoints(n: n, d: d, seed: 5)
        let (tree, scan) = v.withUnsafeBufferPointer { (MaxNormTree(rows: $0, dimension: d), MaxNormScan(rows: $0, dimension: d)) }
        #expect(scan.groups > scan.blockGroups)
        let queries = (0..<n).map(Int32.init), k = 4
        var lists: [[Double]] = [], idss: [[Int32]] = []
        for search in [tree as any MaxNormNeighbours, scan] {
            var dist = [Double](repeating: 0, count: n * k), ids = [Int32](repeating: 0, count: n * k)
            v.withUnsafeBufferPointer { p in
                queries.withUnsafeBufferPointer { search.nearest($0, rows: p.baseAddress!, k: k, distances: &dist, indices: &ids) }
            }
            lists.append(dist); idss.append(ids)
        }
        #expect(lists[0] == lists[1])
        #expect(idss[0] == idss[1])
    }

    /// The estimates are bit-for-bit the same with either search and with 1, 2 or 3 threads
    /// (per-sample terms depend only on the data; the sums run in a fixed order).
    @Test(arguments: [(1, 1), (2, 3), (6, 4)])
    func estimatesIndependentOfSearchAndThreads(dims: (Int, Int)) throws {
        let (dx, dy) = dims
        let n = 1500
        var rng = RandomGenerator(seed: UInt64(dx * 10 + dy))
        let xs = (0..<(n * dx)).map { _ in Float(rng.normal()) }
        let ys = (0..<(n * dy)).map { i in tanhf(xs[(i / dy) * dx + (i % dy) % dx]) + 0.4 * Float(rng.normal()) }
        let a = ActivationMatrix(rows: n, columns: dx, scalars: xs), b = ActivationMatrix(rows: n, columns: dy, scalars: ys)
        let labels = (0..<n).map { i in xs[i * dx] > 0.5 ? 2 : (xs[i * dx] > -0.5 ? 1 : 0) }
        for algorithm in KSGAlgorithm.allCases {
            var values: Set<Double> = [], ross: Set<Double> = []
            for search in KSGNeighbourSearch.allCases {
                for workers in [1, 2, 3] {
                    let est = try KSGEstimator(k: 3, algorithm: algorithm, seed: 11, workers: workers, search: search)
                    values.insert(try est.mutualInformation(a, b))
                    ross.insert(try est.labelInformation(b, labels: labels))
                }
            }
            #expect(values.count == 1, "algorithm \(algorithm.rawValue): \(values)")
            #expect(ross.count == 1, "Ross: \(ross)")
        }
    }
}
