// Tests of the binning estimator: hand-counted cases, NumPy fixtures of the original code,
// identities, invariances, and a cross-check against a naive sort-based count kept here.

import Foundation
import Testing
import Tensors
@testable import InfoTheory

// MARK: - Naive reference (independent of the fast path)

/// np.digitize(a, edges) by a linear scan: the number of edges <= a.
func naiveDigitize<T: Comparable>(_ a: T, _ edges: [T]) -> Int { edges.filter { $0 <= a }.count }

/// Bin codes of one value, re-derived from the documentation of each discretization.
func naiveCode(_ a: Float, _ disc: Discretization) -> Int {
    switch disc {
    case let .edges(n, fix):
        let step = 2.0 / Double(n - 1)
        var edges = (0..<n).map { Float(Double($0) * step - 1) }
        edges[n - 1] = 1
        let c = naiveDigitize(a, edges)
        return fix ? c : (c == 0 ? n - 1 : c - 1)
    case let .uniform(n, lo, hi):
        let step = (Double(hi) - Double(lo)) / Double(n)
        var edges = (0...n).map { Double($0) * step + Double(lo) }
        edges[n] = Double(hi)
        return min(max(naiveDigitize(Double(a), edges) - 1, 0), n - 1)
    case let .width(w):
        return Int((a / w).rounded(.down))
    }
}

/// Plug-in entropy (bits) of a list of symbols, counting by sorting.
func naiveEntropy<T: Comparable>(_ symbols: [T]) -> Double {
    let sorted = symbols.sorted()
    var counts: [Int] = []
    var i = 0
    while i < sorted.count {
        var j = i
        while j < sorted.count && sorted[j] == sorted[i] { j += 1 }
        counts.append(j - i)
        i = j
    }
    let n = Double(symbols.count)
    return counts.reduce(0) { $0 - Double($1) / n * log2(Double($1) / n) }
}

/// Rows of codes compared lexicographically.
struct CodeRow: Comparable {
    var codes: [Int]
    static func < (a: CodeRow, b: CodeRow) -> Bool { a.codes.lexicographicallyPrecedes(b.codes) }
}

struct Pair<A: Comparable, B: Comparable>: Comparable {
    var a: A, b: B
    static func < (x: Pair, y: Pair) -> Bool { x.a < y.a || (x.a == y.a && x.b < y.b) }
}

/// H(T), H(T|X), H(T|Y) by sorting: H(T|Y) = H(T,Y) - H(Y).
func naiveBinning(_ t: ActivationMatrix, labels: [Int], groups: [Int]?, _ disc: Discretization)
    -> (h: Double, hx: Double, hy: Double) {
    let rows = (0..<t.rows).map { i in
        CodeRow(codes: (0..<t.columns).map { naiveCode(t.scalars[i * t.columns + $0], disc) })
    }
    let h = naiveEntropy(rows)
    let hy = naiveEntropy(zip(rows, labels).map { Pair(a: $0, b: $1) }) - naiveEntropy(labels)
    var hx = 0.0
    if let groups { hx = naiveEntropy(zip(rows, groups).map { Pair(a: $0, b: $1) }) - naiveEntropy(groups) }
    return (h, hx, hy)
}

func randomMatrix(_ rows: Int, _ cols: Int, seed: UInt64, scale: Float = 1.3,
                  transform: (Float) -> Float = { tanhf($0) }) -> ActivationMatrix {
    var rng = RandomGenerator(seed: seed)
    return ActivationMatrix(rows: rows, columns: cols,
                            scalars: (0..<rows * cols).map { _ in transform(Float(rng.normal()) * scale) })
}

// MARK: - Tests

@Suite struct BinningTests {
    @Test func edgesMatchNumPyLinspaceInFloat32() {
        // np.linspace(-1, 1, 30).astype(np.float32).view(np.uint32), NumPy 2.4.
        let expected: [UInt32] = [
            0xbf800000, 0xbf6e5847, 0xbf5cb08d, 0xbf4b08d4, 0xbf39611a, 0xbf27b961, 0xbf1611a8,
            0xbf0469ee, 0xbee5846a, 0xbec234f7, 0xbe9ee584, 0xbe772c23, 0xbe308d3e, 0xbdd3dcb1,
            0xbd0d3dcb, 0x3d0d3dcb, 0x3dd3dcb1, 0x3e308d3e, 0x3e772c23, 0x3e9ee584, 0x3ec234f7,
            0x3ee5846a, 0x3f0469ee, 0x3f1611a8, 0x3f27b961, 0x3f39611a, 0x3f4b08d4, 0x3f5cb08d,
            0x3f6e5847, 0x3f800000,
        ]
        #expect(Discretization.idnnsEdges(bins: 30).map(\.bitPattern) == expected)
    }

    @Test func saturatedTanhLandsWhereTheOriginalCodePutsIt() {
        // np.digitize([-1, 1, -1.5, 2, 0], linspace(-1, 1, 30).astype(float32)) = [1, 30, 0, 30, 15];
        // minus 1 gives buckets 0, 29, -1 (= 29 in NumPy), 29, 14.
        let edges = paddedEdges(Discretization.idnnsEdges(bins: 30))
        edges.withUnsafeBufferPointer { e in
            let faithful = EdgesCoder(padded: e.baseAddress!, n: 30, fix: false)
            #expect([Float(-1), 1, -1.5, 2, 0].map { faithful.digitize($0) } == [1, 30, 0, 30, 15])
            #expect([Float(-1), 1, -1.5, 2, 0].map { faithful.code($0) } == [0, 29, 29, 29, 14])
            #expect(faithful.code(Float(-1).nextDown) == 29)          // just below -1: the top bucket
            #expect(faithful.code(Float(1).nextDown) == 28)
            let fixed = EdgesCoder(padded: e.baseAddress!, n: 30, fix: true)
            #expect([Float(-1), 1, -1.5, 2, 0].map { fixed.code($0) } == [1, 30, 0, 30, 15])
        }
        // Through the estimator: -1.5 and +1.0 share a bin unless the quirk is fixed.
        let t = ActivationMatrix(rows: [[-1.5], [1.0], [-1.0], [0.0]])
        let labels = [0, 0, 1, 1]
        let original = try! BinningEstimator.estimate(activations: t, labels: labels, discretization: .edges(bins: 30))
        #expect(original.distinctRows == 3)
        #expect(abs(original.entropy - 1.5) < 1e-12)
        let fixed = try! BinningEstimator.estimate(activations: t, labels: labels,
                                                   discretization: .edges(bins: 30, fixBelowRangeQuirk: true))
        #expect(fixed.distinctRows == 4)
        #expect(abs(fixed.entropy - 2) < 1e-12)
    }

    @Test func matchesTheOriginalNumPyCode() throws {
        // a[k] = float32((37 k mod 201) - 100) / float32(95), 90 x 3, labels k mod 3, inputs in
        // pairs; reference values from IDNNs-style NumPy code (digitize, np.unique, log2):
        // 7 values are below -1 and 8 at or above +1, so the quirk is exercised.
        let n = 90, d = 3
        let a = (0..<n * d).map { Float((($0 * 37) % 201) - 100) / Float(95) }
        let t = ActivationMatrix(rows: n, columns: d, scalars: a)
        let labels = (0..<n).map { $0 % 3 }
        let estimator = try BinningEstimator(labels: labels, inputGroups: (0..<n).map { $0 / 2 })
        let cases: [(Int, Double, Double, Double)] = [
            (30, 5.836080318455742, 0.9291897228472239, 4.836080318455741),
            (8, 4.416907892060741, 0.16579007432615445, 3.4169078920607405),
        ]
        for (bins, h, ity, ixt) in cases {
            let e = try estimator.estimate(t, discretization: .edges(bins: bins))
            #expect(abs(e.entropy - h) < 1e-12)
            #expect(abs(e.labelInformation - ity) < 1e-12)
            #expect(abs(e.inputInformation - ixt) < 1e-12)
        }
    }

    @Test func handCountedCases() throws {
        // Width 1: bins 0, 0, 0, 1 -> H(T) = -(3/4 log 3/4 + 1/4 log 1/4).
        let t = ActivationMatrix(rows: [[0.2], [0.5], [-0.0], [1.5]])
        let h = -(0.75 * log2(0.75) + 0.25 * log2(0.25))
        // Y = 0 holds bins {0, 0} (H = 0), Y = 1 holds {0, 1} (H = 1): H(T|Y) = 1/2.
        var e = try BinningEstimator.estimate(activations: t, labels: [0, 1, 0, 1], discretization: .width(1))
        #expect(abs(e.entropy - h) < 1e-12)
        #expect(abs(e.entropyGivenLabel - 0.5) < 1e-12)
        #expect(abs(e.labelInformation - (h - 0.5)) < 1e-12)
        #expect(e.entropyGivenInput == 0 && e.inputInformation == e.entropy)
        // Repeated inputs: X = {a, a, b, b}; T|X=a = {0, 0} (H = 0), T|X=b = {0, 1} (H = 1).
        e = try BinningEstimator.estimate(activations: t, labels: [0, 0, 1, 1], inputGroups: [7, 7, 9, 9],
                                          discretization: .width(1))
        #expect(abs(e.entropyGivenInput - 0.5) < 1e-12)
        #expect(abs(e.inputInformation - (h - 0.5)) < 1e-12)
        // Labels determine T here too: I(T;Y) = H(Y) - H(Y|T) with H(Y|T) = 3/4 * H(1/3).
        let hY1T = 0.75 * -(1.0 / 3 * log2(1.0 / 3) + 2.0 / 3 * log2(2.0 / 3))
        #expect(abs(e.labelInformation - (1 - hY1T)) < 1e-12)
    }

    @Test func signedZeroAndWidthFloor() throws {
        // -0.0 and +0.0 differ as bytes but share a bin; floor goes down for negatives.
        let t = ActivationMatrix(rows: [[0.0], [-0.0], [-0.01], [-0.07], [0.069]])
        let codes = try packRows(t, .width(0.07)).keys
        #expect(codes[0] == codes[1])
        #expect(codes[2] == codes[3])            // floor(-0.01/0.07) = floor(-1) = -1
        #expect(codes[4] == codes[0])            // floor(0.069/0.07) = 0
        #expect(codes[2] != codes[0])
        let u = try packRows(t, .uniform(bins: 4, lower: -1, upper: 1)).keys
        #expect(u[0] == u[1])
        // The same through the 8-lane path (16 values): every zero in one bin, for every scheme.
        let zeros = ActivationMatrix(rows: 16, columns: 1, scalars: (0..<16).map { $0 % 2 == 0 ? 0.0 : -0.0 })
        for disc in [Discretization.width(0.07), .edges(bins: 30), .edges(bins: 31), .uniform(bins: 4, lower: -1, upper: 1)] {
            #expect(Set(try packRows(zeros, disc).keys).count == 1, "\(disc)")
        }
    }

    @Test(arguments: [
        Discretization.edges(bins: 30), .edges(bins: 12, fixBelowRangeQuirk: true), .edges(bins: 2),
        .uniform(bins: 10, lower: -0.8, upper: 0.9), .uniform(bins: 100, lower: 0, upper: 3),
        .width(0.07), .width(0.5),
    ])
    func fastPathMatchesSortBasedCount(_ disc: Discretization) throws {
        // Values beyond [-1, 1] too (scaled tanh), narrow and wide rows (d * bits > 64).
        // The last case repeats every row three times (shuffled), so equal keys collide in
        // the table on every row width.
        for (n, d, seed) in [(300, 4, UInt64(1)), (257, 10, 2), (120, 40, 3), (240, 10, 4), (240, 40, 5)] {
            var t = randomMatrix(n, d, seed: seed, transform: { 1.2 * tanhf($0) })
            if seed >= 4 {
                var rng = RandomGenerator(seed: seed)
                t = t.selectingRows(rng.permutation(n).map { $0 / 3 })
            }
            let labels = (0..<n).map { ($0 * 7) % 3 }
            let groups = (0..<n).map { $0 / 3 }
            let fast = try BinningEstimator(labels: labels, inputGroups: groups).estimate(t, discretization: disc)
            let slow = naiveBinning(t, labels: labels, groups: groups, disc)
            #expect(abs(fast.entropy - slow.h) < 1e-10, "\(disc) \(n)x\(d)")
            #expect(abs(fast.entropyGivenInput - slow.hx) < 1e-10, "\(disc) \(n)x\(d)")
            #expect(abs(fast.entropyGivenLabel - slow.hy) < 1e-10, "\(disc) \(n)x\(d)")
        }
    }

    @Test func eachValueGetsTheDocumentedCode() throws {
        // Per-value check of the guess-and-correct digitize against the linear scan, on values
        // at and next to every edge.
        for disc in [Discretization.edges(bins: 30), .edges(bins: 7, fixBelowRangeQuirk: true),
                     .uniform(bins: 13, lower: -0.3, upper: 2.1)] {
            let values: [Float] = [-3, -1, 1, 3, 0, -0.0] + edgeNeighbourhood(disc)
            let t = ActivationMatrix(rows: values.count, columns: 1, scalars: values)
            let packed = try packRows(t, disc)
            for (i, v) in values.enumerated() {
                #expect(Int(packed.keys[i]) == naiveCode(v, disc), "\(disc) at \(v)")
            }
        }
    }

    @Test func identitiesAndInvariances() throws {
        let n = 200, d = 6
        let t = randomMatrix(n, d, seed: 11)
        let labels = (0..<n).map { $0 % 4 }
        let estimator = try BinningEstimator(labels: labels)
        let disc = Discretization.edges(bins: 12)
        let e = try estimator.estimate(t, discretization: disc)
        // Distinct inputs: I(X;T) = H(T), and I(T;Y) <= min(H(T), H(Y)).
        #expect(e.inputInformation == e.entropy)
        #expect(e.labelInformation <= min(e.entropy, estimator.labelEntropy) + 1e-12)
        #expect(e.labelInformation >= 0)
        #expect(abs(estimator.labelEntropy - 2) < 1e-12)
        // Permuting units (columns) or samples (rows, with their labels) changes nothing.
        let perm = [3, 0, 5, 1, 4, 2]
        let cols = ActivationMatrix(rows: n, columns: d, scalars: (0..<n * d).map { t.scalars[($0 / d) * d + perm[$0 % d]] })
        let ec = try estimator.estimate(cols, discretization: disc)
        #expect(abs(ec.entropy - e.entropy) < 1e-12 && abs(ec.labelInformation - e.labelInformation) < 1e-12)
        var rng = RandomGenerator(seed: 5)
        let order = rng.permutation(n)
        let er = try BinningEstimator(labels: order.map { labels[$0] }).estimate(t.selectingRows(order), discretization: disc)
        #expect(abs(er.entropy - e.entropy) < 1e-12 && abs(er.labelInformation - e.labelInformation) < 1e-12)
        // Inputs given as a matrix: duplicated rows form groups.
        let x = ActivationMatrix(rows: (0..<n).map { [Float($0 / 2), $0 % 2 == 0 ? 0.0 : -0.0] })
        let ex = try BinningEstimator(labels: labels, inputs: x).estimate(t, discretization: disc)
        let eg = try BinningEstimator(labels: labels, inputGroups: (0..<n).map { $0 / 2 }).estimate(t, discretization: disc)
        #expect(ex == eg)
        #expect(ex.inputInformation <= e.inputInformation)
    }

    @Test func wideLayerWithAThousandUnits() throws {
        // 1024 units: d * bits far beyond 64. Two patterns that differ only in the last unit,
        // repeated: exactly 1 bit.
        let d = 1024, n = 64
        var scalars = [Float](repeating: 0.3, count: n * d)
        for i in stride(from: 1, to: n, by: 2) { scalars[i * d + d - 1] = -0.9 }
        let t = ActivationMatrix(rows: n, columns: d, scalars: scalars)
        let e = try BinningEstimator.estimate(activations: t, labels: (0..<n).map { $0 % 2 },
                                              discretization: .edges(bins: 30))
        #expect(e.distinctRows == 2)
        #expect(abs(e.entropy - 1) < 1e-12)
        #expect(abs(e.labelInformation - 1) < 1e-12)
    }

    @Test func globalRangeStreamsOverEpochs() throws {
        let epochs = (0..<3).map { randomMatrix(50, 4, seed: UInt64(20 + $0), transform: { max(0, $0) }) }
        var range = ActivationRange()
        #expect(range.isEmpty)
        for m in epochs { range.update(with: m) }
        let all = epochs.flatMap(\.scalars)
        #expect(range.lower == all.min()! && range.upper == all.max()!)
        var a = ActivationRange(), b = ActivationRange()
        a.update(with: epochs[0]); b.update(with: epochs[1]); b.update(with: epochs[2])
        a.formUnion(b)
        #expect(a == range)
        // The maximum lands in the last of the 100 bins, the minimum (0) in the first.
        let disc = range.discretization(bins: 100)
        let packed = try packRows(ActivationMatrix(rows: [[range.upper], [range.lower]]), disc)
        #expect(packed.keys == [99, 0])
    }

    @Test func badInputIsReported() throws {
        let labels = [0, 1, 0]
        let estimator = try BinningEstimator(labels: labels)
        #expect(throws: InfoTheoryError.rowCountMismatch(activationRows: 2, expected: 3, what: "labels")) {
            try estimator.estimate(ActivationMatrix(rows: [[0.1], [0.2]]), discretization: .edges(bins: 30))
        }
        #expect(throws: InfoTheoryError.nonFinite(row: 1, column: 2, value: .infinity)) {
            try estimator.estimate(ActivationMatrix(rows: [[0, 0, 0], [0, 0, .infinity], [0, 0, 0]]),
                                   discretization: .edges(bins: 30))
        }
        do {
            // NaN far into a long row (past the SIMD blocks).
            var s = [Float](repeating: 0.5, count: 3 * 21)
            s[2 * 21 + 19] = .nan
            _ = try estimator.estimate(ActivationMatrix(rows: 3, columns: 21, scalars: s), discretization: .width(0.5))
            Issue.record("NaN not reported")
        } catch let error as InfoTheoryError {
            guard case let .nonFinite(row, column, value) = error else { Issue.record("\(error)"); return }
            #expect(row == 2 && column == 19 && value.isNaN)
            #expect(error.description.contains("row 2, column 19"))
        }
        #expect(throws: InfoTheoryError.emptyLayer(rows: 3, columns: 0)) {
            try estimator.estimate(ActivationMatrix(rows: 3, columns: 0, scalars: []), discretization: .width(1))
        }
        #expect(throws: InfoTheoryError.self) {
            try estimator.estimate(ActivationMatrix(rows: [[0.1], [0.2], [0.3]]), discretization: .edges(bins: 1))
        }
        #expect(throws: InfoTheoryError.binIndexOutOfRange(row: 1, column: 0, value: 3e38)) {
            try estimator.estimate(ActivationMatrix(rows: [[0.1], [3e38], [0.3]]), discretization: .width(1e-12))
        }
        #expect(throws: InfoTheoryError.emptyLayer(rows: 0, columns: 0)) { try BinningEstimator(labels: []) }
    }
}

@Suite struct VectorCodeTests {
    /// Random values in [-1.3, 1.3], exact +-1 and 0, and values at and next to every edge.
    func values(edges: [Float]) -> [Float] {
        var rng = RandomGenerator(seed: 99)
        var v = (0..<4000).map { _ in Float(rng.nextDouble() * 2.6 - 1.3) }
        v += [1, -1, 0, -0.0, 1, 1, -1, -1, 1.5, -1.5, 1, -1]
        for e in edges { v += [e, e.nextUp, e.nextDown] }
        return v
    }

    /// Checks the 8-lane codes against the exact scalar codes; returns how many chunks took
    /// the vector path.
    func check<C: VectorBinCoder>(_ coder: C, _ v: [Float]) -> Int {
        var vectorChunks = 0
        for k in stride(from: 0, to: v.count - 7, by: 8) {
            let chunk = SIMD8<Float>(v[k..<k + 8])
            guard let codes = coder.codes(chunk) else { continue }
            vectorChunks += 1
            for l in 0..<8 { #expect(UInt64(codes[l]) == coder.code(chunk[l]), "value \(chunk[l]) bits \(String(chunk[l].bitPattern, radix: 16))") }
        }
        return vectorChunks
    }

    @Test(arguments: [(30, false), (30, true), (2, false), (257, false)])
    func edgesVectorPathIsExact(bins: Int, fix: Bool) {
        let edges = Discretization.idnnsEdges(bins: bins)
        let padded = paddedEdges(edges)
        padded.withUnsafeBufferPointer { p in
            let coder = EdgesCoder(padded: p.baseAddress!, n: bins, fix: fix).vectorized
            let v = values(edges: edges)
            #expect(check(coder, v) > v.count / 8 / 2)
            // Saturated chunks (exact +-1, beyond, and just inside) take the vector path too.
            let saturated = SIMD8<Float>(1, -1, Float(1).nextDown, Float(-1).nextUp, 2, -2, 1 - 0x1p-24, -1)
            let codes = coder.codes(saturated)
            #expect(codes != nil)
            for l in 0..<8 { #expect(UInt64(codes![l]) == coder.code(saturated[l])) }
        }
    }

    @Test(arguments: [(100, Float(0), Float(3.7)), (10, -1.3, 1.3), (7, 0.25, 0.5)])
    func uniformVectorPathIsExact(bins: Int, lower: Float, upper: Float) {
        let edges = Discretization.linspace(Double(lower), Double(upper), bins + 1)
        paddedEdges(edges).withUnsafeBufferPointer { p in
            let coder = UniformCoder(padded: p.baseAddress!, bins: bins, lower: lower, upper: upper)
                .vectorized(lower: lower, upper: upper)
            var v = values(edges: edges.map { Float($0) })
            v += [lower, upper, lower, upper, lower.nextDown, upper.nextUp, lower, upper]
            #expect(check(coder, v.map { $0 * 1.5 + 1 }) > 0)
            #expect(check(coder, v) > 0)
        }
    }

    @Test func widthVectorPathIsExact() {
        let v = values(edges: (-20...20).map { Float($0) * 0.07 }) + [3e10, -3e10, 1e-30, -1e-30, 0, -0.0, 0.07, -0.07]
        for w: Float in [0.07, 0.5, 1e-6] {
            let lo = v.map { WidthCoder.index($0, w) }.min()!, hi = v.map { WidthCoder.index($0, w) }.max()!
            let coder = WidthCoder(width: w, offset: lo, codeCount: UInt64(hi - lo) + 1)
            // packRows only takes the 8-lane path when the codes fit 32 bits.
            #expect(coder.codeCount > UInt64(UInt32.max))
            let small = v.filter { abs($0) < 1e3 }
            let smallLo = small.map { WidthCoder.index($0, w) }.min()!, smallHi = small.map { WidthCoder.index($0, w) }.max()!
            #expect(check(WidthCoder(width: w, offset: smallLo, codeCount: UInt64(smallHi - smallLo) + 1), small) > 0)
            for x in v { #expect(Int64(bitPattern: coder.code(x)) + lo == Int64((Double(x / w)).rounded(.down))) }
        }
    }
}
