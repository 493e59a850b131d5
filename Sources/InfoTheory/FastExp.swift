// A vectorized exp for the KDE kernel sums (8 floats at a time, inputs <= 0).
//
// The KDE bounds need exp(-D_ij / (2 s2)) for every pair of samples: 8 to 17 million calls for
// N = 4096, where a libm call per element would dominate. This is the classic Cephes `expf`
// scheme (Cody-Waite range reduction x = k ln2 + r, |r| <= ln2 / 2, a degree-5 polynomial,
// scaling by 2^k through the exponent bits), written with SIMD8 so that it vectorizes on the
// baseline x86-64 (SSE2) and on ARM NEON. It is deliberately not a general exp: arguments
// below -87 are clamped (exp(-87) ~ 1.6e-38, negligible next to the kernel's diagonal term 1).

/// exp(x) for x <= 0, lane-wise; relative error about 2e-7 (2 ulp).
@inline(__always)
func expNonPositive(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let xc = select(signMask(x + 87), SIMD8(repeating: -87), x)
    // k = round(x / ln 2) with the 1.5 * 2^23 trick: after the addition the low mantissa bits
    // hold k (no SSE4.1 round instruction needed), and subtracting gives k as a float.
    let magic: Float = 12_582_912
    let shifted = xc * 1.442_695_04 + magic
    let kf = shifted - magic
    let ki = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- Int32(bitPattern: magic.bitPattern)
    // r = x - k ln2, with ln2 split in a short and a long part (Cephes C1, C2) so k*C1 is exact.
    let r = xc - kf * 0.693_359_375 + kf * 2.121_944_40e-4
    var p = SIMD8<Float>(repeating: 1.987_569_150_0e-4)
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    let er = p * (r * r) + r + 1
    let scale = unsafeBitCast((ki &+ 127) &<< 23, to: SIMD8<Float>.self)
    return er * scale
}
