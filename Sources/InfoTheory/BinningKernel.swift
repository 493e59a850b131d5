// The binning estimator's fast path: one byte per bin code, rows counted in a reused hash table.
//
// For layers of up to 16 units whose discretization has at most 256 codes (every binning of the
// 12-bit task's networks), a row of codes is at most 16 bytes, so it is its own key: two 64-bit
// words compared exactly, no packing. One vectorized pass turns the row-major activations into
// code bytes (`codeBytes`), checking on the way that every value is finite (and, for `.width`,
// finding the range of the bins); one pass over the rows counts each distinct row and, in the
// same probe, each (row, label) pair (`countRows`). The table, the counters and the code buffer
// belong to a `BinningScratch` that is reused from call to call (one per thread at a time), and
// the table is emptied by bumping a generation stamp rather than by clearing memory.
//
// The codes are exactly those of the scalar coders in Discretization.swift (the fast guess is
// checked, and a block with a value too close to an inner bin boundary is recoded exactly; for
// `.width` the byte is floor(a / w) mod 256, used only when the layer spans fewer than 256
// bins), and the distinct rows get the same first-appearance ids as `groupRows`, so the entropy
// sums run over the same terms in the same order and give the same bits as the general path.
//
// On the reference machine (one core, noisy neighbours) a 4096 x 10 layer-epoch takes about
// 31-36 us at best (edges(30), width(0.07), uniform(100); `infoplane-bench estimators`), against
// 74-97 us for the general path; about half of it is the code pass, half the counting. In whole
// runs, where the data change from call to call, the counting takes about two thirds (whether
// a row is new or repeated is unpredictable there, and the table is larger than the L1 cache;
// a 2N-slot table measured slower, an 8N-slot one no faster).

import Foundation

// MARK: - Codes as bytes

/// Values per block of the vector code pass: a block with any value too close to an inner bin
/// boundary is recoded with the exact scalar coder.
let codeBlock = 64

/// 1.5 * 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to an integer,
/// which can then be read from the low mantissa bits.
private let roundingMagic: Float = 12_582_912
private let roundingMagicBits = Int32(bitPattern: roundingMagic.bitPattern)

/// The sign bit is set when `a` is a NaN or an infinity (all exponent bits set).
@inline(__always)
func nonFiniteSign(_ a: Float) -> Int32 {
    Int32(bitPattern: (a.bitPattern & 0x7F80_0000) &+ 0x0080_0000)
}

/// Parameters of the affine guess for `.edges` and `.uniform`: x = (a - lower) * scale puts the
/// M interior bins at x in [k, k + 1), k = 0..<M.
///
/// The kernels compute y = x - 1/2 (one fused multiply-add), clamp it to [0, M - 1] and round
/// it to the nearest integer: that is floor(x) clamped to 0...M-1 wherever x is not within
/// `margin` of an inner boundary 1...M-1 (y within `margin` of a half-integer). Such values, and
/// non-finite ones, send their block to the exact scalar coder. `margin` is far wider than the
/// float32 rounding of x and of the edges (see `GuessCoder`). Near the outer boundaries 0 and
/// M no check is needed: the clamp gives the end bins, and the codes of values at or beyond
/// `lower` and `upper` follow from exact comparisons (`.edges`) or from the clipping
/// (`.uniform`).
struct AffineGuess {
    var lower: Float, upper: Float, scale: Float
    /// 1/2 - margin.
    var limit: Float
    /// M - 1.
    var highest: Float
    /// Added to the clamped floor: 1 for `.edges` with the quirk fixed, else 0.
    var base: Int32
    /// `.edges` only: the code of values below `lower` (n - 1 with the quirk, 0 without).
    var below: Int32
}

/// `.edges` codes of `count` values into bytes; false when some value needs the exact coder.
@inline(__always)
func edgesCodeBlock(_ src: UnsafePointer<Float>, _ out: UnsafeMutablePointer<UInt8>, _ count: Int,
                    _ g: AffineGuess) -> Bool {
    // lower = -1: y = (a + 1) * scale - 1/2 = a * scale + (scale - 1/2), exact constants.
    let offset = g.scale - 0.5
    var flags: Int32 = 0
    for k in 0..<count {
        let a = src[k]
        let y = offset.addingProduct(a, g.scale)
        // Written so that the compiler emits vminps / vmaxps.
        let ym = g.highest < y ? g.highest : y
        let yc = ym > 0 ? ym : 0
        let shifted = yc + roundingMagic
        let nearest = shifted - roundingMagic
        let floor = Int32(bitPattern: shifted.bitPattern) &- roundingMagicBits
        // The sign bit of (1/2 - margin) - |y - nearest| marks x too close to a boundary.
        flags |= Int32(bitPattern: (g.limit - Float(bitPattern: (yc - nearest).bitPattern & 0x7FFF_FFFF)).bitPattern)
        flags |= nonFiniteSign(a)
        // a >= upper: bucket n - 1 (digitize = n); a < lower: the documented bucket.
        let code = floor &+ g.base &+ (a >= g.upper ? 1 : 0)
        out[k] = UInt8(truncatingIfNeeded: a < g.lower ? g.below : code)
    }
    return flags >= 0
}

/// `.uniform` codes of `count` values into bytes (clipped to the end bins); false when some
/// value needs the exact coder.
@inline(__always)
func uniformCodeBlock(_ src: UnsafePointer<Float>, _ out: UnsafeMutablePointer<UInt8>, _ count: Int,
                      _ g: AffineGuess) -> Bool {
    var flags: Int32 = 0
    for k in 0..<count {
        let a = src[k]
        let y = Float(-0.5).addingProduct(a - g.lower, g.scale)
        let ym = g.highest < y ? g.highest : y
        let yc = ym > 0 ? ym : 0
        let shifted = yc + roundingMagic
        let nearest = shifted - roundingMagic
        flags |= Int32(bitPattern: (g.limit - Float(bitPattern: (yc - nearest).bitPattern & 0x7FFF_FFFF)).bitPattern)
        flags |= nonFiniteSign(a)
        out[k] = UInt8(truncatingIfNeeded: Int32(bitPattern: shifted.bitPattern) &- roundingMagicBits)
    }
    return flags >= 0
}

/// Parameters of the `.width` guess: q = a * (1 / w) in float32, whose floor equals the floor
/// of the float32 quotient a / w wherever q is at least `margin` = 2^-12 from an integer and
/// |q| < 2^8 (the two differ by less than 2^-22 |q|). Other values, and non-finite ones, send
/// their block to the exact scalar coder. Exact zeros (ReLU) are exact: q = ±0, floor 0.
struct WidthGuess {
    var reciprocal: Float
    static let margin: Float = 0x1p-12
    static let largest: Float = 0x1p8
}

/// `.width` codes of `count` values into bytes (floor(a / w) mod 256), with the smallest and
/// largest floor; nil when some value needs the exact coder.
@inline(__always)
func widthCodeBlock(_ src: UnsafePointer<Float>, _ out: UnsafeMutablePointer<UInt8>, _ count: Int,
                    _ g: WidthGuess) -> (lower: Int32, upper: Int32)? {
    var flags: Int32 = 0
    var lower = Int32.max, upper = Int32.min
    for k in 0..<count {
        let a = src[k]
        let q = a * g.reciprocal
        let shifted = q + roundingMagic
        let nearest = shifted - roundingMagic
        let floor = (Int32(bitPattern: shifted.bitPattern) &- roundingMagicBits) &- (q < nearest ? 1 : 0)
        let close = Int32(bitPattern: (Float(bitPattern: (q - nearest).bitPattern & 0x7FFF_FFFF) - WidthGuess.margin).bitPattern)
        let large = Int32(bitPattern: (WidthGuess.largest - Float(bitPattern: q.bitPattern & 0x7FFF_FFFF)).bitPattern)
        flags |= (a == 0 ? 0 : close) | large | nonFiniteSign(a)
        lower = Swift.min(lower, floor)
        upper = Swift.max(upper, floor)
        out[k] = UInt8(truncatingIfNeeded: floor)
    }
    return flags >= 0 ? (lower, upper) : nil
}

/// Codes every value of `src` into `out`, block by block: the vector guess, and the exact scalar
/// coder for the blocks it cannot vouch for.
///
/// - Returns: false when some value is not finite (its code is then meaningless).
@inline(__always)
func codeBytes<C: BinCoder>(_ src: UnsafePointer<Float>, _ out: UnsafeMutablePointer<UInt8>, count: Int,
                            exact: C, guess: (UnsafePointer<Float>, UnsafeMutablePointer<UInt8>, Int) -> Bool) -> Bool {
    var finite = true
    var k = 0
    while k < count {
        let length = Swift.min(codeBlock, count - k)
        if !guess(src + k, out + k, length) {
            for j in k..<k + length {
                let a = src[j]
                if !a.isFinite { finite = false; continue }
                out[j] = UInt8(truncatingIfNeeded: exact.code(a))
            }
        }
        k += length
    }
    return finite
}

// MARK: - Scratch

/// One slot of the open-addressing table: a row key (two words) and its id, valid only when
/// `generation` is the table's current generation.
struct RowSlot {
    var key0: UInt64
    var key1: UInt64
    var generation: UInt32
    var id: Int32
}

/// Buffers for one estimate at a time, reused across calls: the code bytes, the hash table
/// (at least 4N slots, a power of two, so that its load factor stays below 1/4) and the per-row
/// and per-(row, label) counters.
final class BinningScratch {
    let rows: Int
    let classes: Int
    let codes: UnsafeMutablePointer<UInt8>       // rows * 16 + 16 bytes
    let slots: UnsafeMutablePointer<RowSlot>
    let slotMask: Int
    let shift: UInt64
    let joint: UnsafeMutablePointer<Int32>       // id * classes + label
    let rowIds: UnsafeMutablePointer<Int32>
    /// N zeros: the labels of a count without labels.
    let zeros: UnsafeMutablePointer<Int32>
    /// A word that the counting pass may overwrite at will.
    let spare: UnsafeMutablePointer<Int32>
    var generation: UInt32 = 0

    init(rows: Int, classes: Int) {
        self.rows = rows
        self.classes = classes
        var capacity = 16
        while capacity < 4 * rows { capacity <<= 1 }
        slotMask = capacity - 1
        shift = UInt64(64 - capacity.trailingZeroBitCount)
        codes = .allocate(capacity: rows * 16 + 16)
        codes.initialize(repeating: 0, count: rows * 16 + 16)
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: RowSlot(key0: 0, key1: 0, generation: 0, id: 0), count: capacity)
        joint = .allocate(capacity: rows * classes)
        joint.initialize(repeating: 0, count: rows * classes)
        rowIds = .allocate(capacity: rows)
        rowIds.initialize(repeating: 0, count: rows)
        zeros = .allocate(capacity: rows)
        zeros.initialize(repeating: 0, count: rows)
        spare = .allocate(capacity: 2)
        spare.initialize(repeating: 0, count: 2)
    }

    deinit {
        codes.deallocate()
        slots.deallocate()
        joint.deallocate()
        rowIds.deallocate()
        zeros.deallocate()
        spare.deallocate()
    }

    /// Empties the table: a new generation, or a real clear when the stamp wraps around.
    func nextGeneration() -> UInt32 {
        generation &+= 1
        if generation == 0 {
            for s in 0...slotMask { slots[s].generation = 0 }
            generation = 1
        }
        return generation
    }
}

/// Scratch buffers shared by the copies of one estimator: a call takes one (or makes one) and
/// gives it back, so concurrent calls never share buffers and sequential calls reuse them.
final class BinningScratchPool: @unchecked Sendable {
    private let lock = NSLock()
    private var free: [BinningScratch] = []
    let rows: Int, classes: Int

    init(rows: Int, classes: Int) {
        self.rows = rows
        self.classes = classes
    }

    func withScratch<R>(_ body: (BinningScratch) throws -> R) rethrows -> R {
        lock.lock()
        let scratch = free.popLast() ?? BinningScratch(rows: rows, classes: classes)
        lock.unlock()
        defer {
            lock.lock()
            if free.count < 16 { free.append(scratch) }
            lock.unlock()
        }
        return try body(scratch)
    }
}

// MARK: - Counting rows

/// Counts the distinct rows of `rows` code rows of `width` <= 16 bytes (row i at
/// `scratch.codes + i * width`), and each (row, label) pair.
///
/// Ids are dense, in order of first appearance (as in `groupRows`); afterwards
/// `scratch.joint[id * classes + label]` holds the pair counts and, when `recordIds` is set,
/// `scratch.rowIds[i]` the id of row i.
///
/// - Returns: the number of distinct rows.
func countRows(_ scratch: BinningScratch, rows n: Int, width: Int, labels: UnsafePointer<Int32>,
               classes: Int, recordIds: Bool) -> Int {
    // Specialized copies for the common cases: one key word (up to 8 units), binary labels.
    switch (width > 8, classes, recordIds) {
    case (false, 2, false):
        return countRows(OneWordBinary.self, scratch, rows: n, width: width, labels: labels, classes: 2, recordIds: false)
    case (true, 2, false):
        return countRows(TwoWordsBinary.self, scratch, rows: n, width: width, labels: labels, classes: 2, recordIds: false)
    default:
        return countRows(AnyRows.self, scratch, rows: n, width: width, labels: labels, classes: classes, recordIds: recordIds)
    }
}

/// What `countRows` knows at compile time about the rows it counts.
protocol RowShape {
    /// Whether a row key has two words (more than 8 units); nil: decided at run time.
    static var wide: Bool? { get }
    /// Whether the labels are binary and no row ids are recorded.
    static var binary: Bool { get }
}
enum OneWordBinary: RowShape { static var wide: Bool? { false }; static var binary: Bool { true } }
enum TwoWordsBinary: RowShape { static var wide: Bool? { true }; static var binary: Bool { true } }
enum AnyRows: RowShape { static var wide: Bool? { nil }; static var binary: Bool { false } }

/// `countRows` specialized for a `RowShape`.
@inline(__always)
func countRows<Shape: RowShape>(_ shape: Shape.Type, _ scratch: BinningScratch, rows n: Int, width: Int,
                                labels: UnsafePointer<Int32>, classes runtimeClasses: Int, recordIds runtimeRecord: Bool) -> Int {
    let wide = Shape.wide ?? (width > 8)
    let classes = Shape.binary ? 2 : runtimeClasses
    let recordIds = Shape.binary ? false : runtimeRecord
    let generation = scratch.nextGeneration()
    let slots = scratch.slots, joint = scratch.joint, rowIds = scratch.rowIds, spare = scratch.spare
    let codes = UnsafeRawPointer(scratch.codes)
    let mask = scratch.slotMask, shift = scratch.shift
    // Row bytes beyond `width` belong to the next row: masked off.
    let mask0: UInt64 = width >= 8 ? ~0 : (1 << UInt64(8 * width)) - 1
    let mask1: UInt64 = width <= 8 ? 0 : (width >= 16 ? ~0 : (1 << UInt64(8 * (width - 8))) - 1)
    var distinct = 0
    for i in 0..<n {
        let p = codes + i * width
        let k0 = p.loadUnaligned(as: UInt64.self) & mask0
        let k1 = wide ? (p + 8).loadUnaligned(as: UInt64.self) & mask1 : 0
        // Multiplicative (Fibonacci) hashing of both words: the top bits depend on every bit.
        var h = (k0 &* 0x9e37_79b9_7f4a_7c15) ^ (k1 &* 0xc2b2_ae3d_27d4_eb4f)
        h = (h ^ (h &>> 32)) &* 0xd6e8_feb8_6659_fd93
        var s = Int(truncatingIfNeeded: h &>> shift)
        var id: Int
        // The home slot decides almost every row (load factor <= 1/4): empty (a new row) or
        // holding this key, both handled in one block written with selects; only a collision
        // takes the probe loop. (The compiler still branches on empty against repeated, which
        // is unpredictable in whole runs; integer masks that keep it from doing so measured
        // slower.)
        let home = slots + s
        let empty = home.pointee.generation != generation
        let equal = (home.pointee.key0 ^ k0) | (home.pointee.key1 ^ k1) == 0
        if (empty ? 1 : 0) | (equal ? 1 : 0) != 0 {
            id = empty ? distinct : Int(home.pointee.id)
            distinct &+= empty ? 1 : 0
            home.pointee = RowSlot(key0: k0, key1: k1, generation: generation, id: Int32(truncatingIfNeeded: id))
            let row = joint + id &* classes
            if classes == 2 {
                // Zero a new row's counters, or a spare word for a repeated row: a store to a
                // selected address (reading the counters back as one word would wait on the
                // narrower stores that incremented them).
                UnsafeMutableRawPointer(empty ? row : spare).storeBytes(of: 0, as: UInt64.self)
            } else {
                for y in 0..<classes { row[y] = empty ? 0 : row[y] }
            }
        } else {
            s = (s &+ 1) & mask
            while true {
                let slot = slots + s
                if slot.pointee.generation != generation {
                    id = distinct
                    distinct += 1
                    slot.pointee = RowSlot(key0: k0, key1: k1, generation: generation, id: Int32(truncatingIfNeeded: id))
                    let row = joint + id &* classes
                    for y in 0..<classes { row[y] = 0 }
                    break
                }
                if slot.pointee.key0 == k0 && slot.pointee.key1 == k1 {
                    id = Int(slot.pointee.id)
                    break
                }
                s = (s &+ 1) & mask
            }
        }
        joint[id &* classes &+ Int(labels[i])] &+= 1
        if recordIds { rowIds[i] = Int32(truncatingIfNeeded: id) }
    }
    return distinct
}

/// Codes the scalars of `t` into bytes (row-major, `t.columns` bytes a row), or returns false
/// when the discretization has more than 256 codes here (or the guesses do not apply), leaving
/// the general path to do it.
///
/// - Precondition: `t` is not empty and `discretization` is valid.
/// - Throws: the errors of `ActivationMatrix.validate()` for a NaN or an infinity, and
///   `InfoTheoryError.binIndexOutOfRange` for `.width`, as the general path.
func codeBytes(_ t: ActivationMatrix, _ discretization: Discretization, into out: UnsafeMutablePointer<UInt8>) throws -> Bool {
    let count = t.rows * t.columns
    let outcome: CodeOutcome = try t.scalars.withUnsafeBufferPointer { buffer -> CodeOutcome in
        let src = buffer.baseAddress!
        switch discretization {
        case let .edges(bins, fix):
            if bins + (fix ? 1 : 0) > 256 { return .left }
            let edges = paddedEdges(Discretization.idnnsEdges(bins: bins))
            return edges.withUnsafeBufferPointer { e in
                let exact = EdgesCoder(padded: e.baseAddress!, n: bins, fix: fix)
                let g = AffineGuess(lower: -1, upper: 1, scale: exact.scale, limit: 0.5 - (1e-4 + Float(bins) * 1e-6),
                                    highest: Float(bins - 2), base: fix ? 1 : 0, below: fix ? 0 : Int32(bins - 1))
                return codeBytes(src, out, count: count, exact: exact) { edgesCodeBlock($0, $1, $2, g) } ? .coded : .nonFinite
            }
        case let .uniform(_, lower, upper) where lower == upper:
            // One bin; only the finiteness is left to check.
            out.update(repeating: 0, count: count)
            return t.firstNonFinite() == nil ? .coded : .nonFinite
        case let .uniform(bins, lower, upper):
            let scale = Float(Double(bins) / (Double(upper) - Double(lower)))
            if bins > 256 || !(scale.isFinite && scale > 0) { return .left }
            let edges = paddedEdges(Discretization.linspace(Double(lower), Double(upper), bins + 1))
            return edges.withUnsafeBufferPointer { e in
                let exact = UniformCoder(padded: e.baseAddress!, bins: bins, lower: lower, upper: upper)
                let g = AffineGuess(lower: lower, upper: upper, scale: scale, limit: 0.5 - (1e-4 + Float(bins) * 1e-6),
                                    highest: Float(bins - 1), base: 0, below: 0)
                return codeBytes(src, out, count: count, exact: exact) { uniformCodeBlock($0, $1, $2, g) } ? .coded : .nonFinite
            }
        case let .width(w):
            // Codes floor(a / w) mod 256 in one pass, which also finds the smallest and largest
            // floor: when they are less than 256 apart, equal bytes mean equal bins.
            let g = WidthGuess(reciprocal: Float(1 / Double(w)))
            if !(g.reciprocal.isFinite && g.reciprocal > 0) { return .left }
            var lower = Int64.max, upper = Int64.min
            var k = 0
            while k < count {
                let length = Swift.min(codeBlock, count - k)
                if let (lo, hi) = widthCodeBlock(src + k, out + k, length, g) {
                    lower = Swift.min(lower, Int64(lo))
                    upper = Swift.max(upper, Int64(hi))
                } else {
                    for j in k..<k + length {
                        let a = src[j]
                        if !a.isFinite { return .nonFinite }
                        // Beyond 62 bits the general path reports the value.
                        if !(abs(a / w) < 0x1p62) { return .left }
                        let floor = WidthCoder.index(a, w)
                        lower = Swift.min(lower, floor)
                        upper = Swift.max(upper, floor)
                        out[j] = UInt8(truncatingIfNeeded: floor)
                    }
                }
                k += length
            }
            return upper - lower < 256 ? .coded : .left
        }
    }
    if outcome == .nonFinite { try t.validate() }
    return outcome == .coded
}

enum CodeOutcome { case coded, left, nonFinite }
