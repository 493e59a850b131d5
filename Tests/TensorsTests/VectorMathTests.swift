// Tests of VectorMath against Double-precision libm (Foundation), in ulps of the
// correctly rounded Float result, plus special values, tails and aliasing.

import Foundation
import Testing
import Tensors

/// One function under test: the vector kernel and its Double reference.
struct VectorFunction: Sendable, CustomStringConvertible {
    let description: String
    let kernel: @Sendable (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    let reference: @Sendable (Double) -> Double
    /// Accepted maximum error in ulps (measured maximum plus a margin).
    let maxULP: Double

    /// Applies the kernel to an array (out of place).
    func apply(_ x: [Float]) -> [Float] {
        var y = [Float](repeating: .nan, count: x.count)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                guard let xp = xb.baseAddress, let yp = yb.baseAddress else { return }
                kernel(xp, yp, x.count)
            }
        }
        return y
    }

    static let exp = VectorFunction(
        description: "exp", kernel: { VectorMath.exp($0, $1, count: $2) },
        reference: { Foundation.exp($0) }, maxULP: 1.5)
    static let log = VectorFunction(
        description: "log", kernel: { VectorMath.log($0, $1, count: $2) },
        reference: { Foundation.log($0) }, maxULP: 1.5)
    static let tanh = VectorFunction(
        description: "tanh", kernel: { VectorMath.tanh($0, $1, count: $2) },
        reference: { Foundation.tanh($0) }, maxULP: 2)
    static let sigmoid = VectorFunction(
        description: "sigmoid", kernel: { VectorMath.sigmoid($0, $1, count: $2) },
        reference: { $0 >= 0 ? 1 / (1 + Foundation.exp(-$0)) : Foundation.exp($0) / (1 + Foundation.exp($0)) },
        maxULP: 3)
    static let softplus = VectorFunction(
        description: "softplus", kernel: { VectorMath.softplus($0, $1, count: $2) },
        reference: { max($0, 0) + Foundation.log1p(Foundation.exp(-Swift.abs($0))) },
        maxULP: 3)

    static let all: [VectorFunction] = [.exp, .log, .tanh, .sigmoid, .softplus]
}

/// |y - ref| in units of the last place of Float(ref) (subnormal spacing below
/// the normal range). Infinite when one is NaN/inf and the other is not.
func ulpError(_ y: Float, _ ref: Double) -> Double {
    if ref.isNaN || y.isNaN { return ref.isNaN && y.isNaN ? 0 : .infinity }
    let rounded = Float(ref)
    if rounded.isInfinite || y.isInfinite { return y == rounded ? 0 : .infinity }
    let spacing = Double(max(rounded.magnitude, Float.leastNormalMagnitude).ulp)
    return Swift.abs(Double(y) - ref) / spacing
}

/// The largest ulp error of `f` over `x`, and where it occurs.
func maxULPError(_ f: VectorFunction, _ x: [Float]) -> (error: Double, at: Float) {
    let y = f.apply(x)
    var worst = (error: 0.0, at: Float(0))
    for i in x.indices {
        let e = ulpError(y[i], f.reference(Double(x[i])))
        if e > worst.error || e.isNaN { worst = (e, x[i]) }
    }
    return worst
}

@Suite struct VectorMathTests {
    /// Every 40,009th bit pattern: ~107,000 values spread over the whole
    /// Float line (both signs, subnormals, huge magnitudes, inf, NaNs).
    @Test(arguments: VectorFunction.all)
    func fullRangeSweep(_ f: VectorFunction) {
        let x = stride(from: UInt64(0), to: 1 << 32, by: 40_009).map { Float(bitPattern: UInt32($0)) }
        let worst = maxULPError(f, x)
        #expect(worst.error <= f.maxULP, "\(f) max error \(worst.error) ulp at \(worst.at)")
    }

    /// A dense uniform grid over the range where the functions change.
    @Test(arguments: VectorFunction.all)
    func denseSweep(_ f: VectorFunction) {
        let (low, high): (Float, Float) = f.description == "log" ? (0, 8) : (-20, 20)
        let count = 40_000
        let x = (0..<count).map { low + (high - low) * Float($0) / Float(count - 1) }
        let worst = maxULPError(f, x)
        #expect(worst.error <= f.maxULP, "\(f) max error \(worst.error) ulp at \(worst.at)")
    }

    /// Seeded random values: normal pre-activations and log-uniform magnitudes.
    @Test(arguments: VectorFunction.all)
    func randomValues(_ f: VectorFunction) {
        var rng = RandomGenerator(seed: 20_171_231)
        var x: [Float] = []
        for _ in 0..<10_000 {
            x.append(Float(rng.normal(mean: 0, std: 3)))
            let magnitude = Float(Foundation.exp(rng.nextDouble() * 20 - 10))
            x.append(rng.nextInt(below: 2) == 0 ? magnitude : -magnitude)
        }
        if f.description == "log" { x = x.map { Swift.abs($0) } }
        let worst = maxULPError(f, x)
        #expect(worst.error <= f.maxULP, "\(f) max error \(worst.error) ulp at \(worst.at)")
    }

    static let specialCases: [(String, Float, Float)] = [
        ("exp", 0, 1), ("exp", -0.0, 1), ("exp", .infinity, .infinity), ("exp", -.infinity, 0),
        ("exp", 88.8, .infinity), ("exp", 1e30, .infinity), ("exp", -104, 0), ("exp", -1e30, 0),
        ("exp", -100, Float(Foundation.exp(-100.0))),  // subnormal result
        ("log", 1, 0), ("log", 0, -.infinity), ("log", -0.0, -.infinity), ("log", -1, .nan),
        ("log", -.infinity, .nan), ("log", .infinity, .infinity),
        ("tanh", 0, 0), ("tanh", 1e-30, 1e-30), ("tanh", Float.leastNonzeroMagnitude, Float.leastNonzeroMagnitude),
        ("tanh", 9.02, 1), ("tanh", -9.02, -1), ("tanh", 20, 1), ("tanh", 1e30, 1),
        ("tanh", .infinity, 1), ("tanh", -.infinity, -1),
        ("sigmoid", 0, 0.5), ("sigmoid", -0.0, 0.5), ("sigmoid", .infinity, 1), ("sigmoid", -.infinity, 0),
        ("sigmoid", 1e30, 1), ("sigmoid", -1e30, 0), ("sigmoid", 17.4, 1),
        ("softplus", 0, Float(Foundation.log(2.0))), ("softplus", .infinity, .infinity),
        ("softplus", -.infinity, 0), ("softplus", 1e30, 1e30), ("softplus", 100, 100),
        ("softplus", -100, Float(Foundation.exp(-100.0))),
    ]

    @Test(arguments: specialCases)
    func specialValue(_ c: (String, Float, Float)) throws {
        let f = try #require(VectorFunction.all.first { $0.description == c.0 })
        let y = f.apply([c.1])[0]
        if c.2.isNaN {
            #expect(y.isNaN, "\(c.0)(\(c.1)) = \(y)")
        } else {
            #expect(y == c.2, "\(c.0)(\(c.1)) = \(y), expected \(c.2)")
            #expect(y.sign == c.2.sign, "\(c.0)(\(c.1)) has the wrong sign of zero")
        }
    }

    @Test func tanhKeepsTheSignOfZero() {
        #expect(VectorFunction.tanh.apply([-0.0])[0].sign == .minus)
        #expect(VectorFunction.tanh.apply([0.0])[0].sign == .plus)
    }

    @Test(arguments: VectorFunction.all)
    func nanPropagates(_ f: VectorFunction) {
        let y = f.apply([.nan, -.nan, Float(bitPattern: 0x7FA0_0001), 1, .nan, 2, 3, 4, .nan])
        #expect(y[0].isNaN && y[1].isNaN && y[2].isNaN && y[4].isNaN && y[8].isNaN)
        #expect(!y[3].isNaN && !y[5].isNaN)
    }

    /// tanh is odd and saturates to exactly ±1 beyond 9.011 (where Float(tanh) = 1).
    @Test func tanhSaturationIsExact() {
        let x = stride(from: Float(9.02), through: 100, by: 0.37).map { $0 }
        for (value, t) in zip(x, VectorFunction.tanh.apply(x)) { #expect(t == 1, "tanh(\(value)) = \(t)") }
        for (value, t) in zip(x, VectorFunction.tanh.apply(x.map { -$0 })) { #expect(t == -1, "tanh(-\(value)) = \(t)") }
        let grid = (0..<2_000).map { Float($0) * 0.01 - 10 }
        let plus = VectorFunction.tanh.apply(grid), minus = VectorFunction.tanh.apply(grid.map { -$0 })
        #expect(plus == minus.map { -$0 })
        #expect(plus.allSatisfy { $0 >= -1 && $0 <= 1 })
    }

    @Test func sigmoidStaysInTheUnitInterval() {
        let x = stride(from: Float(-120), through: 120, by: 0.05).map { $0 }
        let y = VectorFunction.sigmoid.apply(x)
        #expect(y.allSatisfy { $0 >= 0 && $0 <= 1 })
        // σ(x) + σ(-x) = 1 up to rounding.
        let mirrored = VectorFunction.sigmoid.apply(x.map { -$0 })
        for i in x.indices { #expect(Swift.abs(y[i] + mirrored[i] - 1) <= 1.2e-7) }
    }

    /// Counts that are not a multiple of 8, in place and out of place, with
    /// guard elements that must stay untouched.
    @Test(arguments: VectorFunction.all)
    func tailsAndInPlace(_ f: VectorFunction) {
        for count in 0...19 {
            let x = (0..<count).map { Float($0) * 0.37 + 0.05 }
            let expected = f.apply(x)
            for i in 0..<count { #expect(ulpError(expected[i], f.reference(Double(x[i]))) <= f.maxULP) }
            var buffer = x + [12345, 6789]
            buffer.withUnsafeMutableBufferPointer { b in
                let p = b.baseAddress!
                f.kernel(p, p, count)
            }
            #expect(Array(buffer[0..<count]) == expected, "\(f) in place, count \(count)")
            #expect(buffer[count] == 12345 && buffer[count + 1] == 6789, "\(f) wrote past count \(count)")
        }
    }
}
