// Branch-free lane masks and selection for SIMD8 vectors.
//
// In this toolchain, comparison operators on SIMD8 (`.<`, `.==`) and the standard library's
// `replace(with:where:)` and `any(_:)` compiled to masks bounced through general-purpose
// registers (about 10 instructions per mask) in the hot loops of the binning and KDE kernels.
// For finite floats, a < b exactly when a - b is negative (the difference of two distinct
// floats is never zero), so a mask is the sign bit of a - b smeared by an arithmetic shift, and
// selection is bitwise arithmetic. Nothing else lives here.

/// -1 in the lanes where x has its sign bit set (x < 0 or x = -0.0), else 0.
@inline(__always)
func signMask(_ x: SIMD8<Float>) -> SIMD8<Int32> { unsafeBitCast(x, to: SIMD8<Int32>.self) &>> 31 }

/// -1 where a < b, else 0 (a and b finite).
///
/// The difference of equal values can be -0.0 (for -0.0 - +0.0), whose sign bit would read as
/// "less"; adding +0.0 turns -0.0 into +0.0 and leaves every other value unchanged.
@inline(__always)
func lessMask(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Int32> { signMask((a - b) + 0) }

/// -1 where a == b, else 0 (a and b finite).
@inline(__always)
func equalMask(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Int32> {
    // |a - b| as bits is 0 only for equal values; subtracting 1 then sets the sign bit.
    let magnitude = unsafeBitCast(a - b, to: SIMD8<Int32>.self) & 0x7FFF_FFFF
    return (magnitude &- 1) &>> 31
}

/// `m ? a : b` lane-wise, m all-ones or all-zeros per lane.
@inline(__always)
func select(_ m: SIMD8<Int32>, _ a: SIMD8<Int32>, _ b: SIMD8<Int32>) -> SIMD8<Int32> { (a & m) | (b & ~m) }

/// `m ? a : b` lane-wise for floats.
@inline(__always)
func select(_ m: SIMD8<Int32>, _ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
    let ai = unsafeBitCast(a, to: SIMD8<Int32>.self), bi = unsafeBitCast(b, to: SIMD8<Int32>.self)
    return unsafeBitCast((ai & m) | (bi & ~m), to: SIMD8<Float>.self)
}

/// `m ? a : 0` lane-wise for floats.
@inline(__always)
func keep(_ a: SIMD8<Float>, where m: SIMD8<Int32>) -> SIMD8<Float> {
    unsafeBitCast(unsafeBitCast(a, to: SIMD8<Int32>.self) & m, to: SIMD8<Float>.self)
}

/// True when any lane of the mask is set.
@inline(__always)
func anyLane(_ m: SIMD8<Int32>) -> Bool {
    let h = m.lowHalf | m.highHalf
    let q = h.lowHalf | h.highHalf
    return (q[0] | q[1]) != 0
}

/// True when every lane of the mask is set.
@inline(__always)
func allLanes(_ m: SIMD8<Int32>) -> Bool {
    let h = m.lowHalf & m.highHalf
    let q = h.lowHalf & h.highHalf
    return (q[0] & q[1]) != 0
}
