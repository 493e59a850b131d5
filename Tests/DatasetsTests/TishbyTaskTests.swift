// The 12-bit task: geometry consistent with the adjacency, invariance under
// the icosahedron's 120 symmetries and under no transposition, balance, the
// per-k label statistics, and the same properties of the original data.

import Testing
import Foundation
import ArrayIO
@testable import Datasets

/// All column permutations σ that preserve the neighbour graph (σ(i)~σ(j) iff i~j),
/// found by backtracking: assign σ(0), σ(1), … checking edges to earlier columns.
func graphAutomorphisms(_ neighbours: [[Int]]) -> [[Int]] {
    let n = neighbours.count
    let adjacent = (0..<n).map { i in (0..<n).map { neighbours[i].contains($0) } }
    var result = [[Int]]()
    var image = [Int]()
    var used = [Bool](repeating: false, count: n)
    func extend() {
        let c = image.count
        if c == n { result.append(image); return }
        for v in 0..<n where !used[v] {
            guard (0..<c).allSatisfy({ adjacent[c][$0] == adjacent[v][image[$0]] }) else { continue }
            image.append(v); used[v] = true
            extend()
            image.removeLast(); used[v] = false
        }
    }
    extend()
    return result
}

/// The row index whose column σ[j] holds what column j holds in `row`.
func permute(row: Int, by sigma: [Int]) -> Int {
    var out = 0
    for j in 0..<12 where (row >> (11 - j)) & 1 == 1 { out |= 1 << (11 - sigma[j]) }
    return out
}

/// Whether `labels` are unchanged when the columns are permuted by `sigma`.
func invariant(_ labels: [Int], under sigma: [Int]) -> Bool {
    (0..<4096).allSatisfy { labels[permute(row: $0, by: sigma)] == labels[$0] }
}

let transpositions: [[Int]] = (0..<12).flatMap { a in
    ((a + 1)..<12).map { b in
        var sigma = Array(0..<12)
        sigma.swapAt(a, b)
        return sigma
    }
}

/// The original data's directory, `../shared/data/tishby-var-u` from the package root, if present.
let originalDataDirectory: String? = {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    let directory = root.appendingPathComponent("../shared/data/tishby-var-u").standardized.path
    return FileManager.default.fileExists(atPath: directory + "/x.csv") ? directory : nil
}()

@Suite struct TishbyTaskTests {
    static let automorphisms = graphAutomorphisms(TishbyTask.neighbours)
    static let labels = TishbyTask.labels()

    @Test func verticesMatchTheAdjacency() {
        for i in 0..<12 {
            let v = TishbyTask.vertices[i]
            #expect(abs((v * v).sum() - 1) < 1e-12)
            let close = (0..<12).filter { j in
                let d = TishbyTask.rawVertices[i] - TishbyTask.rawVertices[j]
                return j != i && abs((d * d).sum() - 4) < 1e-9
            }
            #expect(close == TishbyTask.neighbours[i], "column \(i)")
        }
        let antipodal = (0..<12).flatMap { i in (i + 1..<12).compactMap { j in
            (TishbyTask.vertices[i] + TishbyTask.vertices[j]).max() < 1e-12
                && (TishbyTask.vertices[i] + TishbyTask.vertices[j]).min() > -1e-12 ? [i, j] : nil } }
        #expect(antipodal == [[0, 9], [1, 7], [2, 5], [3, 6], [4, 10], [8, 11]])
    }

    @Test func scoreMatchesTheGraphFormula() {
        // On the unit icosahedron vᵢ·vⱼ is 1/√5 for neighbours, −1 for antipodes and
        // −1/√5 otherwise, so ‖Σv‖² = k + 2 Σ_{i<j} vᵢ·vⱼ needs only the graph.
        let r5 = 1 / 5.0.squareRoot()
        var worst = 0.0
        for row in 0..<4096 {
            let active = (0..<12).filter { (row >> (11 - $0)) & 1 == 1 }
            var norm2 = Double(active.count)
            for (a, i) in active.enumerated() {
                for j in active[(a + 1)...] {
                    let isNeighbour = TishbyTask.neighbours[i].contains(j)
                    let isAntipode = !isNeighbour && TishbyTask.neighbours[i].allSatisfy { !TishbyTask.neighbours[j].contains($0) }
                    norm2 += 2 * (isNeighbour ? r5 : isAntipode ? -1 : -r5)
                }
            }
            // Compare squared norms: at a zero resultant the square root would amplify rounding.
            let norm = TishbyTask.score(row: row) - Double(active.count)
            worst = max(worst, abs(norm * norm - norm2))
        }
        #expect(worst < 1e-12)
    }

    @Test func exactly120Automorphisms() {
        #expect(Self.automorphisms.count == 120)
        #expect(Set(Self.automorphisms).count == 120)
    }

    @Test func labelsInvariantUnderAllSymmetries() {
        let broken = Self.automorphisms.filter { !invariant(Self.labels, under: $0) }
        #expect(broken.isEmpty, "not invariant under \(broken.prefix(3))")
    }

    @Test func labelsNotInvariantUnderAnyTransposition() {
        #expect(transpositions.count == 66)
        let kept = transpositions.filter { invariant(Self.labels, under: $0) }
        #expect(kept.isEmpty, "invariant under transpositions \(kept)")
    }

    @Test func balanced() {
        // Tolerance: p(y=1) within 0.02 of 1/2.
        let p = Double(Self.labels.reduce(0, +)) / 4096
        #expect(abs(p - 0.5) <= 0.02, "p(y=1) = \(p)")
    }

    @Test func statisticsByNumberOfActiveInputs() {
        // The original data's counts of y = 1 among rows with k ones (its README):
        // k ≤ 4 none, k = 5: 60 of 792, k = 6: 532 of 924, k = 7: 732 of 792, k ≥ 8 all.
        var ones = [Int](repeating: 0, count: 13), rows = [Int](repeating: 0, count: 13)
        for row in 0..<4096 {
            let k = row.nonzeroBitCount
            rows[k] += 1
            ones[k] += Self.labels[row]
        }
        #expect(Array(ones[0...4]) == [0, 0, 0, 0, 0])
        #expect(ones[5] == 60 && ones[6] == 532 && ones[7] == 732)
        #expect(Array(ones[8...12]) == Array(rows[8...12]))
    }

    @Test func thresholdHasAMargin() {
        let closest = (0..<4096).map { abs(TishbyTask.score(row: $0) - TishbyTask.threshold) }.min()!
        #expect(closest > 0.035)
    }

    @Test func inputsAreTheBinaryPatterns() {
        let x = TishbyTask.inputs()
        #expect(x.shape == [4096, 12])
        #expect(Array(x.scalars[(5 * 12)..<(6 * 12)]) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1])
        #expect(Array(x.scalars[(2048 * 12)..<(2049 * 12)]) == [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        let d = TishbyTask.dataset(split: .leading(count: 4096))
        #expect(d.classCount == 2 && d.featureCount == 12 && d.sampleCount == 4096)
    }

    @Test(.enabled(if: originalDataDirectory != nil, "needs ../shared/data/tishby-var-u"))
    func originalDataHasTheSameSymmetries() throws {
        let original = try TishbyCSV.read(directory: try #require(originalDataDirectory))
        #expect(original.inputs == TishbyTask.inputs())  // row i is the binary of i
        let y = original.labels
        #expect(y.reduce(0, +) == 2118)
        #expect(Self.automorphisms.allSatisfy { invariant(y, under: $0) })
        #expect(transpositions.allSatisfy { !invariant(y, under: $0) })
        // The generated rule reproduces the original labels.
        let shared = zip(y, Self.labels).filter { $0 == $1 }.count
        #expect(shared == 4096)
    }
}
