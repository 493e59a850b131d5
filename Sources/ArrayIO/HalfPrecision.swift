// IEEE 754 binary16 ("half", NumPy's float16) <-> binary32 conversion on bit patterns.
//
// Written out with integer operations rather than Swift's `Float16` type, which
// is missing on some platforms (macOS on Intel), so that `.npy` float16 files
// read and write the same bytes everywhere. The rounding and NaN rules follow
// NumPy's `npy_floatbits_to_halfbits` / `npy_halfbits_to_floatbits`
// (numpy/_core/src/npymath/halffloat.cpp). This is not an arithmetic type.

/// Conversions between `Float` and the bit pattern of an IEEE 754 half-precision number.
public enum HalfPrecision {
    /// The binary16 bit pattern nearest to `value`.
    ///
    /// Rounds to nearest, ties to even, in one step (no double rounding):
    /// values at or above 65520 become ±infinity, values below 2⁻²⁵ become
    /// ±0, values in [2⁻²⁵, 2⁻¹⁴) become subnormals (multiples of 2⁻²⁴).
    /// Infinities keep their sign; a NaN stays a NaN (top 10 payload bits
    /// kept, forced non-zero, as NumPy does).
    @inlinable
    public static func bits(from value: Float) -> UInt16 {
        let x = value.bitPattern
        let sign = UInt32((x >> 16) & 0x8000)
        let exponent = Int((x >> 23) & 0xFF)
        let mantissa = x & 0x7F_FFFF
        if exponent == 0xFF {
            if mantissa == 0 { return UInt16(sign | 0x7C00) }
            let payload = mantissa >> 13
            return UInt16(sign | 0x7C00 | (payload == 0 ? 1 : payload))
        }
        // Biased half exponent if the value were a normal half.
        let e = exponent - 127 + 15
        if e >= 0x1F { return UInt16(sign | 0x7C00) }
        if e <= 0 {
            // Subnormal half (or zero): h = M / 2^(14 - e) with the implicit bit in M.
            let shift = 14 - e
            if shift > 24 { return UInt16(sign) }
            let m = mantissa | 0x80_0000
            var h = m >> UInt32(shift)
            let remainder = m & ((1 << UInt32(shift)) - 1)
            let halfway: UInt32 = 1 << UInt32(shift - 1)
            if remainder > halfway || (remainder == halfway && (h & 1) == 1) { h += 1 }
            return UInt16(sign | h)
        }
        var h = (UInt32(e) << 10) | (mantissa >> 13)
        let remainder = mantissa & 0x1FFF
        // A carry out of the mantissa correctly bumps the exponent (up to infinity).
        if remainder > 0x1000 || (remainder == 0x1000 && (h & 1) == 1) { h += 1 }
        return UInt16(sign | h)
    }

    /// The `Float` equal to the binary16 number with bit pattern `bits` (exact).
    @inlinable
    public static func float(fromBits bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa · 2⁻²⁴, exact in Float.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
    }
}
