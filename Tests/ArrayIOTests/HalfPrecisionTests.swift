// Float16 conversion: hand-computed bit patterns, exhaustive round trips, and
// a cross-check against Swift's own Float16 (an independent implementation).

import Testing
@testable import ArrayIO

@Suite struct HalfPrecisionTests {
    @Test(arguments: [
        (Float(1.0), UInt16(0x3C00)),
        (-2.0, 0xC000),
        (0.0, 0x0000),
        (-0.0, 0x8000),
        (65504.0, 0x7BFF),            // largest finite half
        (65519.0, 0x7BFF),            // just below the rounding boundary
        (65520.0, 0x7C00),            // halfway to 2^16: ties to even -> infinity
        (.infinity, 0x7C00),
        (-.infinity, 0xFC00),
        (0x1p-14, 0x0400),            // smallest normal
        (0x1p-24, 0x0001),            // smallest subnormal
        (0x1p-25, 0x0000),            // halfway between 0 and 2^-24: ties to even -> 0
        (0x1.8p-25, 0x0001),          // above halfway
        (0x1.8p-24, 0x0002),          // 1.5 * 2^-24: tie, odd 1 -> even 2
        (0x1.4p-23, 0x0002),          // 2.5 * 2^-24: tie, stays at even 2
        (1.0 + 0x1p-11, 0x3C00),      // halfway between 1 and 1+2^-10: to even (1)
        (1.0 + 0x1.8p-10, 0x3C02),    // 1.5 ulp: tie -> even mantissa 2
        (0.1, 0x2E66),
        (0x1.ffcp-15, 0x0400),        // largest subnormal neighbourhood rounds up into normal
    ] as [(Float, UInt16)])
    func floatToHalf(value: Float, expected: UInt16) {
        #expect(HalfPrecision.bits(from: value) == expected)
    }

    @Test func nanStaysNaN() {
        let bits = HalfPrecision.bits(from: .nan)
        #expect(bits & 0x7C00 == 0x7C00 && bits & 0x3FF != 0)
        // A signalling NaN whose payload lies only in the low bits must not become infinity.
        let low = HalfPrecision.bits(from: Float(bitPattern: 0x7F80_0001))
        #expect(low == 0x7C01)
        #expect(HalfPrecision.float(fromBits: 0x7E00).isNaN)
    }

    @Test func everyHalfRoundTripsThroughFloat() {
        var failures = [UInt16]()
        for bits in 0...UInt16.max {
            let value = HalfPrecision.float(fromBits: bits)
            let isNaNPattern = bits & 0x7C00 == 0x7C00 && bits & 0x3FF != 0
            if value.isNaN != isNaNPattern || HalfPrecision.bits(from: value) != bits { failures.append(bits) }
        }
        #expect(failures.isEmpty, "half patterns not round-tripping: \(failures.prefix(10))")
    }

    #if !(os(macOS) && arch(x86_64))
    @Test func agreesWithSwiftFloat16() {
        // Every half pattern decodes like Swift's Float16.
        var decodeFailures = [UInt16]()
        for bits in 0...UInt16.max {
            let ours = HalfPrecision.float(fromBits: bits)
            let swift = Float(Float16(bitPattern: bits))
            if !(ours.isNaN ? swift.isNaN : ours.bitPattern == swift.bitPattern) { decodeFailures.append(bits) }
        }
        #expect(decodeFailures.isEmpty, "decoding differs for \(decodeFailures.prefix(10))")
        var encodeFailures = [Float]()
        // Floats spread over every exponent (including the subnormal and overflow
        // ranges), and the exact midpoints between neighbouring halves.
        var state: UInt64 = 0x1234_5678_9ABC_DEF0
        for i in 0..<200_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var pattern = UInt32(truncatingIfNeeded: state >> 32)
            if i % 2 == 0 {
                // Exponents 95...143 cover 2^-32...2^16, where the interesting cases are.
                pattern = (pattern & 0x807F_FFFF) | (UInt32(95 + Int(state % 49)) << 23)
            }
            if i % 5 == 0 { pattern &= 0xFFFF_F000 | 0x1000 }  // many exact ties
            let value = Float(bitPattern: pattern)
            if value.isNaN { continue }
            if HalfPrecision.bits(from: value) != Float16(value).bitPattern { encodeFailures.append(value) }
        }
        #expect(encodeFailures.isEmpty, "encoding differs for \(encodeFailures.prefix(10))")
    }
    #endif
}
