// The ways of turning one layer's real-valued activations into bin indices.
//
// Each discretization maps an activation `a` (a `Float`) to an integer code; a row of codes is
// the discrete variable T whose plug-in entropy the binning estimator measures. This file holds
// the public choice (`Discretization`), the streaming bounds for Saxe et al.'s `global` scheme
// (`ActivationRange`) and the exact per-value code functions. Rows are then packed into 64-bit
// words (`packRows`) so that equal rows of codes give equal keys; the raw float bytes are never
// compared (-0.0 and +0.0 differ as bytes but fall in the same bin). Counting those keys is in
// RowGrouping.swift; the entropies in BinningEstimator.swift.

/// How activations are binned before counting.
///
/// Every case is documented with the exact arithmetic, so that a NumPy reimplementation (as in
/// the notebooks) reproduces the same bins bit for bit. Activations are `Float` (float32).
public enum Discretization: Sendable, Hashable, CustomStringConvertible {
    /// Shwartz-Ziv & Tishby's binning ([IDNNs], `idnns/information/information_process.py`;
    /// also Saxe et al.'s `simplebinmi.bin_calc_information`).
    ///
    /// The `bins` edges are `np.linspace(-1, 1, bins)` computed in Double (`k * (2 / (bins - 1)) - 1`,
    /// the last edge exactly 1) and then rounded to float32 (`bins.astype(np.float32)` in IDNNs,
    /// `dtype='float32'` in ibsgd). A value `a` goes to bucket `np.digitize(a, edges) - 1`, where
    /// `digitize` counts the edges `<= a` (float32 comparisons). Hence, with n = `bins`:
    /// `-1 <= a < edges[1]` is bucket 0, ..., `edges[n-2] <= a < 1` is bucket n-2, and `a >= 1`
    /// (a saturated tanh unit, exactly +1.0) is bucket n-1.
    ///
    /// The quirk: a value below -1 gets `digitize = 0`, so `0 - 1 = -1`, which NumPy reads as the
    /// *last* bucket: values below -1 share bucket n-1 with values at or above +1. Tanh never
    /// goes below -1, so the quirk only matters for other activations. With
    /// `fixBelowRangeQuirk: true` values below -1 get a bucket of their own (n + 1 buckets in
    /// all); the default keeps the original behaviour for reproductions.
    ///
    /// [IDNNs]: https://github.com/ravidziv/IDNNs
    case edges(bins: Int, fixBelowRangeQuirk: Bool = false)

    /// `bins` equal bins between `lower` and `upper`.
    ///
    /// The edges are `np.linspace(lower, upper, bins + 1)` in Double; bin `k` is
    /// `edges[k] <= a < edges[k+1]` compared in Double, i.e. `np.digitize(a, edges) - 1`, then
    /// clipped to `0...bins-1`: `a == upper` falls in the last bin, and values outside
    /// `[lower, upper]` are put in the end bins. When `lower == upper` every value is in one bin.
    case uniform(bins: Int, lower: Float, upper: Float)

    /// Bins of a fixed width `w` anchored at 0: `a` goes to bin `floor(a / w)`, the division in
    /// float32 as in Saxe et al.'s notebooks ([ibsgd] `simplebinmi.bin_calc_information2`:
    /// `np.floor(d / binsize)` on float32 `d`). The paper's notebooks use w = 0.07 for the 12-bit
    /// task and 0.5 for MNIST. The number of bins is unbounded (it follows the data).
    ///
    /// [ibsgd]: https://github.com/artemyk/ibsgd
    case width(Float)

    public var description: String {
        switch self {
        case let .edges(bins, fix): return "edges(bins: \(bins)\(fix ? ", fixBelowRangeQuirk" : ""))"
        case let .uniform(bins, lower, upper): return "uniform(bins: \(bins), lower: \(lower), upper: \(upper))"
        case let .width(w): return "width(\(w))"
        }
    }

    /// Checks the parameters' domain.
    /// - Throws: `InfoTheoryError.invalidParameter`.
    public func validate() throws {
        switch self {
        case let .edges(bins, _):
            if bins < 2 { throw InfoTheoryError.invalidParameter("edges needs at least 2 bins, got \(bins)") }
        case let .uniform(bins, lower, upper):
            if bins < 1 { throw InfoTheoryError.invalidParameter("uniform needs at least 1 bin, got \(bins)") }
            if !(lower.isFinite && upper.isFinite && lower <= upper) {
                throw InfoTheoryError.invalidParameter("uniform needs finite lower <= upper, got \(lower), \(upper)")
            }
        case let .width(w):
            if !(w.isFinite && w > 0) { throw InfoTheoryError.invalidParameter("width must be positive and finite, got \(w)") }
        }
    }

    /// The float32 edges of `.edges(bins: n)`: `Float(np.linspace(-1, 1, n))`.
    ///
    /// NumPy computes `arange(n) * step + start` in Double with `step = (stop - start) / (n - 1)`
    /// and then sets the last element to `stop` exactly; the cast to float32 rounds to nearest.
    public static func idnnsEdges(bins n: Int) -> [Float] {
        linspace(-1, 1, n).map { Float($0) }
    }

    /// NumPy's `linspace(start, stop, count)` (endpoint included) in Double, bit for bit.
    static func linspace(_ start: Double, _ stop: Double, _ count: Int) -> [Double] {
        precondition(count >= 1)
        if count == 1 { return [start] }
        let step = (stop - start) / Double(count - 1)
        var y = (0..<count).map { Double($0) * step + start }
        y[count - 1] = stop
        return y
    }
}

/// The minimum and maximum of activations seen so far: the bounds of Saxe et al.'s `global`
/// binning for unbounded activations such as ReLU.
///
/// Saxe et al. (ICLR 2018, Sec. 2 and App. C) bin ReLU layers with 100 equal bins between the
/// smallest and largest activation over all units and all recorded epochs of the run. Feed every
/// epoch's matrix with `update(with:)` (one layer, or all layers for the pooled variant), then
/// use `discretization(bins:)`. NaN and infinities are not accepted (validate first).
public struct ActivationRange: Sendable, Equatable {
    /// The smallest value seen (+infinity before any update).
    public private(set) var lower: Float = .infinity
    /// The largest value seen (-infinity before any update).
    public private(set) var upper: Float = -.infinity

    public init() {}

    /// True before any value was seen.
    public var isEmpty: Bool { lower > upper }

    /// Widens the range to include every element of `values`.
    public mutating func update(with values: ActivationMatrix) {
        values.scalars.withUnsafeBufferPointer { update(with: $0) }
    }

    /// Widens the range to include every element of `values`.
    public mutating func update(with values: UnsafeBufferPointer<Float>) {
        var lo = SIMD8<Float>(repeating: lower), hi = SIMD8<Float>(repeating: upper)
        var i = 0
        let n = values.count
        if let base = values.baseAddress {
            while i + 8 <= n {
                let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self)
                lo = pointwiseMin(lo, v)
                hi = pointwiseMax(hi, v)
                i += 8
            }
        }
        var l = lo.min(), h = hi.max()
        while i < n { l = Swift.min(l, values[i]); h = Swift.max(h, values[i]); i += 1 }
        lower = l
        upper = h
    }

    /// Merges another range into this one (for ranges gathered on several threads).
    public mutating func formUnion(_ other: ActivationRange) {
        lower = Swift.min(lower, other.lower)
        upper = Swift.max(upper, other.upper)
    }

    /// `bins` equal bins between the bounds: `.uniform(bins:lower:upper:)`.
    /// - Precondition: the range is not empty.
    public func discretization(bins: Int) -> Discretization {
        precondition(!isEmpty, "ActivationRange: no values seen")
        return .uniform(bins: bins, lower: lower, upper: upper)
    }
}

// MARK: - Codes

/// A map from an activation to a code in `0..<codeCount`.
protocol BinCoder {
    var codeCount: UInt64 { get }
    func code(_ a: Float) -> UInt64
}

/// `.edges`: digitize against float32 edges (`edges` points at n of them).
struct EdgesCoder: BinCoder {
    let edges: UnsafePointer<Float>
    let n: Int
    let scale: Float
    let fix: Bool

    init(edges: UnsafePointer<Float>, n: Int, fix: Bool) {
        self.edges = edges
        self.n = n
        self.scale = Float(n - 1) / 2
        self.fix = fix
    }

    var codeCount: UInt64 { UInt64(fix ? n + 1 : n) }

    /// `np.digitize(a, edges)`: the number of edges `<= a`, in `0...n`.
    @inline(__always)
    func digitize(_ a: Float) -> Int {
        // Guess from the arithmetic position of `a`, then correct against the real float32
        // edges; rounding makes the guess off by at most one, so the loops run at most once.
        let x = (a + 1) * scale
        var c: Int
        if x >= 0 { c = x < Float(n) ? Int(x) + 1 : n } else { c = 0 }
        if c > n { c = n }
        while c < n && edges[c] <= a { c += 1 }
        while c > 0 && edges[c - 1] > a { c -= 1 }
        return c
    }

    @inline(__always)
    func code(_ a: Float) -> UInt64 {
        let c = digitize(a)
        if fix { return UInt64(c) }
        return UInt64(c == 0 ? n - 1 : c - 1)
    }
}

/// `.uniform`: digitize against Double edges `linspace(lower, upper, bins + 1)`, clipped.
struct UniformCoder: BinCoder {
    let edges: UnsafePointer<Double>   // bins + 1 of them
    let bins: Int
    let lower: Double
    let scale: Double

    init(edges: UnsafePointer<Double>, bins: Int, lower: Float, upper: Float) {
        self.edges = edges
        self.bins = bins
        self.lower = Double(lower)
        self.scale = upper > lower ? Double(bins) / (Double(upper) - Double(lower)) : 0
    }

    var codeCount: UInt64 { UInt64(bins) }

    @inline(__always)
    func code(_ a: Float) -> UInt64 {
        let v = Double(a)
        let m = bins + 1
        let x = (v - lower) * scale
        var c: Int
        if x >= 0 { c = x < Double(m) ? Int(x) + 1 : m } else { c = 0 }
        while c < m && edges[c] <= v { c += 1 }
        while c > 0 && edges[c - 1] > v { c -= 1 }
        // c - 1 is np.digitize(a, edges) - 1; clip to the bins.
        return UInt64(Swift.min(Swift.max(c - 1, 0), bins - 1))
    }
}

/// `.width`: `floor(a / w)` in float32, offset by the smallest index in the matrix.
struct WidthCoder: BinCoder {
    let width: Float
    let offset: Int64
    let codeCount: UInt64

    @inline(__always)
    static func index(_ a: Float, _ w: Float) -> Int64 {
        // floor without libm: truncate, then step down for negative non-integers. Exact for
        // |a / w| < 2^62 because every float of magnitude >= 2^23 is an integer.
        let q = a / w
        var t = Int64(q)
        if Float(t) > q { t -= 1 }
        return t
    }

    @inline(__always)
    func code(_ a: Float) -> UInt64 {
        UInt64(bitPattern: WidthCoder.index(a, width) &- offset)
    }
}

/// Rows of codes packed into 64-bit words: `wordsPerRow` words per row, `codeBits` bits per
/// code, `64 / codeBits` codes per word (a code never straddles two words).
struct PackedRows {
    var keys: [UInt64]
    var rows: Int
    var wordsPerRow: Int
}

/// Packs the codes of every row of `t`.
///
/// Two rows get equal keys exactly when their codes are equal, for any number of columns: when
/// d * bits exceeds 64 the row simply takes several words.
@inline(__always)
func packRows<C: BinCoder>(_ t: ActivationMatrix, _ coder: C) -> PackedRows {
    let n = t.rows, d = t.columns
    let bits = Swift.max(1, 64 - (coder.codeCount - 1).leadingZeroBitCount)
    let perWord = 64 / bits
    let words = (d + perWord - 1) / perWord
    let keys = [UInt64](unsafeUninitializedCapacity: n * words) { out, initialized in
        t.scalars.withUnsafeBufferPointer { src in
            let a = src.baseAddress!
            if words == 1 {
                for i in 0..<n {
                    let row = a + i * d
                    var key: UInt64 = 0
                    var shift: UInt64 = 0
                    for j in 0..<d {
                        key |= coder.code(row[j]) &<< shift
                        shift &+= UInt64(bits)
                    }
                    out[i] = key
                }
            } else {
                for i in 0..<n {
                    let row = a + i * d
                    for w in 0..<words {
                        let j0 = w * perWord, j1 = Swift.min(d, j0 + perWord)
                        var key: UInt64 = 0
                        var shift: UInt64 = 0
                        for j in j0..<j1 {
                            key |= coder.code(row[j]) &<< shift
                            shift &+= UInt64(bits)
                        }
                        out[i * words + w] = key
                    }
                }
            }
        }
        initialized = n * words
    }
    return PackedRows(keys: keys, rows: n, wordsPerRow: words)
}

/// Bins every value of `t` and packs each row's codes.
///
/// - Precondition: `t` was validated (non-empty, finite) and `discretization` too.
/// - Throws: `InfoTheoryError.binIndexOutOfRange` for `.width` when `floor(a / w)` overflows.
func packRows(_ t: ActivationMatrix, _ discretization: Discretization) throws -> PackedRows {
    switch discretization {
    case let .edges(bins, fix):
        let edges = Discretization.idnnsEdges(bins: bins)
        return edges.withUnsafeBufferPointer { e in
            packRows(t, EdgesCoder(edges: e.baseAddress!, n: bins, fix: fix))
        }
    case let .uniform(bins, lower, upper):
        let edges = Discretization.linspace(Double(lower), Double(upper), bins + 1)
        return edges.withUnsafeBufferPointer { e in
            packRows(t, UniformCoder(edges: e.baseAddress!, bins: bins, lower: lower, upper: upper))
        }
    case let .width(w):
        var range = ActivationRange()
        range.update(with: t)
        // floor(a / w) is monotone in a, so the smallest and largest values give the index range.
        let limit: Float = 0x1p62
        for v in [range.lower, range.upper] {
            let q = v / w
            if !(abs(q) < limit) {
                let k = t.scalars.firstIndex(of: v)!
                throw InfoTheoryError.binIndexOutOfRange(row: k / t.columns, column: k % t.columns, value: v)
            }
        }
        let lo = WidthCoder.index(range.lower, w), hi = WidthCoder.index(range.upper, w)
        return packRows(t, WidthCoder(width: w, offset: lo, codeCount: UInt64(hi - lo) + 1))
    }
}
