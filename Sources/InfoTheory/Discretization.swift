// The ways of turning one layer's real-valued activations into bin indices.
//
// Each discretization maps an activation `a` (a `Float`) to an integer code; a row of codes is
// the discrete variable T whose plug-in entropy the binning estimator measures. This file holds
// the public choice (`Discretization`), the streaming bounds for Saxe et al.'s `global` scheme
// (`ActivationRange`) and the exact per-value code functions. On the general path rows are then
// packed into 64-bit words (`packRows`) so that equal rows of codes give equal keys; the raw
// float bytes are never compared (-0.0 and +0.0 differ as bytes but fall in the same bin).
// Counting those keys is in RowGrouping.swift; the entropies in BinningEstimator.swift. Layers
// of up to 16 units with at most 256 codes take the fast path in BinningKernel.swift instead
// (one byte per code, the same codes).

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
                lo = select(lessMask(v, lo), v, lo)
                hi = select(lessMask(hi, v), v, hi)
                i += 8
            }
        }
        var l = lo.min(), h = hi.max()
        while i < n { l = Swift.min(l, values[i]); h = Swift.max(h, values[i]); i += 1 }
        lower = l
        upper = h
    }

    /// Widens the range to include every element of `values` and returns true, or returns false
    /// (leaving the range meaningless) when some element is a NaN or an infinity: one pass for
    /// the validation and the bounds of `.width`.
    mutating func updateIfFinite(with values: UnsafeBufferPointer<Float>) -> Bool {
        var lo = SIMD8<Float>(repeating: lower), hi = SIMD8<Float>(repeating: upper)
        var exponents = SIMD8<Int32>(repeating: 0)
        var i = 0
        let n = values.count
        if let base = values.baseAddress {
            while i + 8 <= n {
                let v = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self)
                // (bits & exponent) + 2^23 has its sign bit set only for an all-ones exponent.
                exponents |= (unsafeBitCast(v, to: SIMD8<Int32>.self) & 0x7F80_0000) &+ 0x0080_0000
                lo = select(lessMask(v, lo), v, lo)
                hi = select(lessMask(hi, v), v, hi)
                i += 8
            }
        }
        if anyLane(exponents &>> 31) { return false }
        var l = lo.min(), h = hi.max()
        while i < n {
            if !values[i].isFinite { return false }
            l = Swift.min(l, values[i]); h = Swift.max(h, values[i]); i += 1
        }
        lower = l
        upper = h
        return true
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

/// Edges padded with sentinels for branch-free digitizing: `[-inf] + edges + [+inf]`.
func paddedEdges<T: BinaryFloatingPoint>(_ edges: [T]) -> [T] { [-T.infinity] + edges + [T.infinity] }

/// `.edges`: digitize against float32 edges (`padded` = `paddedEdges` of the n edges).
struct EdgesCoder: BinCoder {
    let padded: UnsafePointer<Float>
    let n: Int
    let scale: Float
    let fix: Bool

    init(padded: UnsafePointer<Float>, n: Int, fix: Bool) {
        self.padded = padded
        self.n = n
        self.scale = Float(n - 1) / 2
        self.fix = fix
    }

    var codeCount: UInt64 { UInt64(fix ? n + 1 : n) }

    /// `np.digitize(a, edges)`: the number of edges `<= a`, in `0...n`.
    @inline(__always)
    func digitize(_ a: Float) -> Int {
        // Guess from the arithmetic position of `a` (clamped to 0...n), then correct by one
        // against the real float32 edges: the rounding of the guess and of the edges is far
        // below one bin, so the count is off by at most one. In padded coordinates the count c
        // satisfies padded[c] <= a < padded[c + 1]; both loads are always in range.
        let x = Swift.min(Swift.max((a + 1) * scale + 1, 0), Float(n))
        let c = Int(x)
        return c &+ (padded[c &+ 1] <= a ? 1 : 0) &- (padded[c] > a ? 1 : 0)
    }

    @inline(__always)
    func code(_ a: Float) -> UInt64 {
        let c = digitize(a)
        if fix { return UInt64(truncatingIfNeeded: c) }
        // digitize - 1, with -1 read as the last bucket (NumPy's negative index).
        return UInt64(truncatingIfNeeded: c == 0 ? n &- 1 : c &- 1)
    }
}

/// `.uniform`: digitize against Double edges `linspace(lower, upper, bins + 1)`, clipped.
struct UniformCoder: BinCoder {
    let padded: UnsafePointer<Double>   // paddedEdges of the bins + 1 edges
    let bins: Int
    let lower: Double
    let scale: Double

    init(padded: UnsafePointer<Double>, bins: Int, lower: Float, upper: Float) {
        self.padded = padded
        self.bins = bins
        self.lower = Double(lower)
        self.scale = upper > lower ? Double(bins) / (Double(upper) - Double(lower)) : 0
    }

    var codeCount: UInt64 { UInt64(bins) }

    @inline(__always)
    func code(_ a: Float) -> UInt64 {
        let v = Double(a)
        let x = Swift.min(Swift.max((v - lower) * scale + 1, 0), Double(bins + 1))
        var c = Int(x)
        c = c &+ (padded[c &+ 1] <= v ? 1 : 0) &- (padded[c] > v ? 1 : 0)
        // c - 1 is np.digitize(a, edges) - 1; clip to the bins.
        return UInt64(truncatingIfNeeded: Swift.min(Swift.max(c &- 1, 0), bins &- 1))
    }
}

/// `.uniform` with `lower == upper`: a single bin.
struct ConstantCoder: BinCoder {
    var codeCount: UInt64 { 1 }
    @inline(__always) func code(_ a: Float) -> UInt64 { 0 }
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
        let t = Int64(q)
        return t &- (Float(t) > q ? 1 : 0)
    }

    @inline(__always)
    func code(_ a: Float) -> UInt64 {
        UInt64(bitPattern: WidthCoder.index(a, width) &- offset)
    }
}

/// A coder that also bins 8 values at once when it can do so exactly.
protocol VectorBinCoder: BinCoder {
    /// The codes of 8 values, or nil when some lane needs the exact scalar path.
    func codes(_ a: SIMD8<Float>) -> SIMD8<UInt32>?
}

/// floor(x) for 8 floats with |x| < 2^22, without SSE4.1: add and subtract 1.5 * 2^23 to round
/// to nearest, read the integer from the low mantissa bits, and step down where rounding went up.
/// Also returns the nearest integer (as a float) and the distance to it.
@inline(__always)
func floorSmall(_ x: SIMD8<Float>) -> (floor: SIMD8<Int32>, nearest: SIMD8<Float>, distanceToInteger: SIMD8<Float>) {
    let magic: Float = 12_582_912
    let shifted = x + magic
    let nearest = shifted - magic
    let rounded = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- Int32(bitPattern: magic.bitPattern)
    let floor = rounded &+ lessMask(x, nearest)
    let distance = unsafeBitCast(unsafeBitCast(nearest - x, to: SIMD8<Int32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
    return (floor, nearest, distance)
}

/// `.edges` and `.uniform` on 8 lanes: x = (a - lower) * scale in float32, so that the M
/// interior bins are x in [k, k + 1) for k = 0..<M. Inside (lower, upper) the bin is floor(x),
/// clamped to 0...M-1, wherever x is not within `margin` of an inner boundary 1...M-1; the margin
/// is far wider than the float32 rounding of x and of the edges (about M * 2e-7), so the
/// result equals the exact scalar digitize. Near the outer boundaries 0 and M no check is
/// needed: lower < a < upper is tested exactly (the first and last edges are the bounds), so
/// the bin there can only be 0 or M-1 (this keeps values like tanh's 1 - 2^-24, where x rounds
/// to exactly M, on the fast path). Chunks with a lane near an inner edge go to the scalar
/// path. Values at or outside the bounds get their codes from the documented rules directly.
struct GuessCoder<Exact: BinCoder>: VectorBinCoder {
    let exact: Exact
    let lower: Float, upper: Float, scale: Float, margin: Float
    let interiorBins: Int32           // M
    let interiorOffset: Int32         // code = floor(x) + interiorOffset inside (lower, upper)
    let codeAbove: UInt32, codeAtLower: UInt32, codeBelow: UInt32

    var codeCount: UInt64 { exact.codeCount }
    @inline(__always) func code(_ a: Float) -> UInt64 { exact.code(a) }

    @inline(__always)
    func codes(_ a: SIMD8<Float>) -> SIMD8<UInt32>? {
        let x = (a - lower) * scale
        let (f, nearest, distance) = floorSmall(x)
        let lo = SIMD8<Float>(repeating: lower), hi = SIMD8<Float>(repeating: upper)
        let m = Float(interiorBins)
        let belowUpper = lessMask(a, hi)
        let interior = lessMask(lo, a) & belowUpper
        let innerBoundary = lessMask(SIMD8(repeating: 0.5), nearest) & lessMask(nearest, SIMD8(repeating: m - 0.5))
        if anyLane(interior & innerBoundary & lessMask(distance, SIMD8(repeating: margin))) { return nil }
        // Clamp the interior floor to 0...M-1 (rounding can give -1 or M next to the bounds);
        // exterior lanes are overwritten below. Comparisons are float sign tests (SIMDSelect).
        var c = f & ~(f &>> 31)
        c = c &+ ~lessMask(x, SIMD8(repeating: m))
        c = c &+ interiorOffset
        if allLanes(interior) { return unsafeBitCast(c, to: SIMD8<UInt32>.self) }
        let below = lessMask(a, lo)
        c = select(~belowUpper, SIMD8(repeating: Int32(bitPattern: codeAbove)), c)
        c = select(equalMask(a, lo), SIMD8(repeating: Int32(bitPattern: codeAtLower)), c)
        c = select(below, SIMD8(repeating: Int32(bitPattern: codeBelow)), c)
        return unsafeBitCast(c, to: SIMD8<UInt32>.self)
    }
}

extension EdgesCoder {
    var vectorized: GuessCoder<EdgesCoder> {
        // digitize - 1 inside (-1, 1) is floor((a + 1)(n - 1) / 2); the fix keeps digitize itself.
        GuessCoder(exact: self, lower: -1, upper: 1, scale: scale,
                   margin: 1e-4 + Float(n) * 1e-6, interiorBins: Int32(n - 1),
                   interiorOffset: fix ? 1 : 0,
                   codeAbove: UInt32(fix ? n : n - 1), codeAtLower: fix ? 1 : 0,
                   codeBelow: fix ? 0 : UInt32(n - 1))
    }
}

extension UniformCoder {
    func vectorized(lower: Float, upper: Float) -> GuessCoder<UniformCoder> {
        GuessCoder(exact: self, lower: lower, upper: upper, scale: Float(Double(bins) / (Double(upper) - Double(lower))),
                   margin: 1e-4 + Float(bins) * 1e-6, interiorBins: Int32(bins),
                   interiorOffset: 0,
                   codeAbove: UInt32(bins - 1), codeAtLower: 0, codeBelow: 0)
    }
}

extension WidthCoder: VectorBinCoder {
    @inline(__always)
    func codes(_ a: SIMD8<Float>) -> SIMD8<UInt32>? {
        let q = a / width
        let limit = SIMD8<Float>(repeating: 0x1p22)
        if anyLane(~lessMask(q, limit) | ~lessMask(-limit, q)) { return nil }
        // Exact floor (see floorSmall) minus the offset; the code range fits 32 bits here
        // because |q| < 2^22.
        let f = floorSmall(q).floor
        return unsafeBitCast(f &- Int32(truncatingIfNeeded: offset), to: SIMD8<UInt32>.self)
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

/// Packs rows with the 8-lane coder: the codes of a block of rows (about 8192 values, so the
/// scratch stays in L1) first, vectorized and exact, then those rows packed from the codes.
@inline(__always)
func packRows<C: VectorBinCoder>(_ t: ActivationMatrix, _ coder: C) -> PackedRows {
    let n = t.rows, d = t.columns
    if coder.codeCount > UInt64(UInt32.max) { return packRows(t, ScalarOnly(coder)) }
    let bits = Swift.max(1, 64 - (coder.codeCount - 1).leadingZeroBitCount)
    let perWord = 64 / bits
    let words = (d + perWord - 1) / perWord
    // Rows per block: a multiple of 8, so every block but the last is whole 8-lane chunks.
    let blockRows = Swift.max(8, (8192 / d) / 8 * 8)
    let scratch = UnsafeMutablePointer<UInt32>.allocate(capacity: blockRows * d)
    defer { scratch.deallocate() }
    let keys = [UInt64](unsafeUninitializedCapacity: n * words) { out, initialized in
        t.scalars.withUnsafeBufferPointer { src in
            let a = src.baseAddress!
            var r0 = 0
            while r0 < n {
                let r1 = Swift.min(n, r0 + blockRows)
                let base = a + r0 * d, count = (r1 - r0) * d
                var k = 0
                while k + 8 <= count {
                    let v = UnsafeRawPointer(base + k).loadUnaligned(as: SIMD8<Float>.self)
                    if let c = coder.codes(v) {
                        UnsafeMutableRawPointer(scratch + k).storeBytes(of: c, as: SIMD8<UInt32>.self)
                    } else {
                        for l in 0..<8 { scratch[k + l] = UInt32(truncatingIfNeeded: coder.code(base[k + l])) }
                    }
                    k += 8
                }
                while k < count { scratch[k] = UInt32(truncatingIfNeeded: coder.code(base[k])); k += 1 }
                packCodes(scratch, rows: r1 - r0, columns: d, bits: bits, words: words,
                          into: out.baseAddress! + r0 * words)
                r0 = r1
            }
        }
        initialized = n * words
    }
    return PackedRows(keys: keys, rows: n, wordsPerRow: words)
}

/// Packs `rows` rows of `columns` codes (row-major) into `words` words per row, column j of a
/// word at bit (j mod perWord) * bits.
@inline(__always)
func packCodes(_ c: UnsafeMutablePointer<UInt32>, rows n: Int, columns d: Int, bits: Int, words: Int,
               into out: UnsafeMutablePointer<UInt64>) {
    let perWord = 64 / bits
    var start = 0
    if words == 1 {
        // Horner's rule from the last column (so column j lands at bit j * bits, as in the
        // general loop), four rows at a time to overlap the dependency chains.
        let b = UInt64(bits)
        while start + 4 <= n {
            let r0 = c + start * d, r1 = r0 + d, r2 = r1 + d, r3 = r2 + d
            var k0: UInt64 = 0, k1: UInt64 = 0, k2: UInt64 = 0, k3: UInt64 = 0
            var j = d - 1
            while j >= 0 {
                k0 = (k0 &<< b) | UInt64(r0[j])
                k1 = (k1 &<< b) | UInt64(r1[j])
                k2 = (k2 &<< b) | UInt64(r2[j])
                k3 = (k3 &<< b) | UInt64(r3[j])
                j -= 1
            }
            out[start] = k0; out[start + 1] = k1; out[start + 2] = k2; out[start + 3] = k3
            start += 4
        }
    }
    for i in start..<n {
        let row = c + i * d
        for w in 0..<words {
            let j0 = w * perWord, j1 = Swift.min(d, j0 + perWord)
            var key: UInt64 = 0
            var shift: UInt64 = 0
            for j in j0..<j1 {
                key |= UInt64(row[j]) &<< shift
                shift &+= UInt64(bits)
            }
            out[i * words + w] = key
        }
    }
}

/// Hides a coder's vector path (for code ranges beyond 32 bits).
struct ScalarOnly<C: BinCoder>: BinCoder {
    let coder: C
    init(_ coder: C) { self.coder = coder }
    var codeCount: UInt64 { coder.codeCount }
    @inline(__always) func code(_ a: Float) -> UInt64 { coder.code(a) }
}

/// Bins every value of `t` and packs each row's codes.
///
/// - Precondition: `t` was validated (non-empty, finite) and `discretization` too.
/// - Throws: `InfoTheoryError.binIndexOutOfRange` for `.width` when `floor(a / w)` overflows.
func packRows(_ t: ActivationMatrix, _ discretization: Discretization) throws -> PackedRows {
    switch discretization {
    case let .edges(bins, fix):
        let edges = paddedEdges(Discretization.idnnsEdges(bins: bins))
        return edges.withUnsafeBufferPointer { e in
            packRows(t, EdgesCoder(padded: e.baseAddress!, n: bins, fix: fix).vectorized)
        }
    case let .uniform(_, lower, upper) where lower == upper:
        return packRows(t, ConstantCoder())
    case let .uniform(bins, lower, upper):
        let edges = paddedEdges(Discretization.linspace(Double(lower), Double(upper), bins + 1))
        return edges.withUnsafeBufferPointer { e in
            let exact = UniformCoder(padded: e.baseAddress!, bins: bins, lower: lower, upper: upper)
            let scale = Float(Double(bins) / (Double(upper) - Double(lower)))
            // The 8-lane guess needs a finite float32 scale and x = (a - lower) * scale < 2^22.
            if bins <= 1 << 20 && scale.isFinite && scale > 0 {
                return packRows(t, exact.vectorized(lower: lower, upper: upper))
            }
            return packRows(t, exact)
        }
    case let .width(w):
        let (lo, hi) = try widthIndexRange(t, w)
        return packRows(t, WidthCoder(width: w, offset: lo, codeCount: UInt64(hi - lo) + 1))
    }
}

/// The smallest and largest `floor(a / w)` over `t` (from its smallest and largest values, in
/// `range` when already known: the map is monotone).
///
/// - Throws: `InfoTheoryError.binIndexOutOfRange` for the first value (in row-major order) at
///   the end of the range whose index does not fit 62 bits.
func widthIndexRange(_ t: ActivationMatrix, _ w: Float, _ range: ActivationRange? = nil) throws -> (lower: Int64, upper: Int64) {
    let range = range ?? { var r = ActivationRange(); r.update(with: t); return r }()
    let limit: Float = 0x1p62
    for v in [range.lower, range.upper] {
        let q = v / w
        if !(abs(q) < limit) {
            let k = t.scalars.firstIndex(of: v)!
            throw InfoTheoryError.binIndexOutOfRange(row: k / t.columns, column: k % t.columns, value: v)
        }
    }
    return (WidthCoder.index(range.lower, w), WidthCoder.index(range.upper, w))
}
