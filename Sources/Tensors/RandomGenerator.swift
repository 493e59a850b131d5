// A seedable, deterministic random number generator, passed explicitly.
//
// xoshiro256** (Blackman & Vigna 2018) seeded through SplitMix64. Every draw
// is defined bit for bit here (no platform `random()`, no `Float.random`), so
// the same seed gives the same bytes on every run; the state is four words
// that a checkpoint can save and restore.

import RealModule

/// xoshiro256**: a fast 64-bit generator with a 2^256 - 1 period.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The generator's whole state, for checkpoints.
    public var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator seeded by expanding `seed` with SplitMix64.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitmix(), splitmix(), splitmix(), splitmix())
    }

    /// A generator restored from a saved state.
    public init(state: [UInt64]) {
        precondition(state.count == 4, "RandomGenerator: state has \(state.count) words, not 4")
        self.state = (state[0], state[1], state[2], state[3])
    }

    /// The state as four words, for saving.
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.stateWords == rhs.stateWords }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = Self.rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = Self.rotl(state.3, 45)
        return result
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    @inline(__always)
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform Float in [0, 1) with 24 random bits.
    @inline(__always)
    public mutating func nextFloat() -> Float {
        Float(next() >> 40) * 0x1.0p-24
    }

    /// A uniform Float in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float {
        low + (high - low) * nextFloat()
    }

    /// A uniform integer in 0..<bound, without modulo bias (Lemire's method).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:): bound \(bound) is not positive")
        let b = UInt64(bound)
        var m = next().multipliedFullWidth(by: b)
        if m.low < b {
            let threshold = (0 &- b) % b
            while m.low < threshold { m = next().multipliedFullWidth(by: b) }
        }
        return Int(m.high)
    }

    /// A standard normal draw (Box–Muller in Double; one draw per call, the
    /// sine branch discarded, so that the sequence does not depend on call parity).
    public mutating func normal() -> Double {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - nextDouble()
        let u2 = nextDouble()
        return (-2.0 * Double.log(u1)).squareRoot() * Double.cos(2.0 * Double.pi * u2)
    }

    /// A normal draw with the given mean and standard deviation.
    public mutating func normal(mean: Double, std: Double) -> Double {
        mean + std * normal()
    }

    /// A normal draw truncated to [mean - 2 std, mean + 2 std] by resampling,
    /// as TensorFlow's `truncated_normal` initializer (used by the original
    /// 12-bit network) does.
    public mutating func truncatedNormal(mean: Double = 0, std: Double) -> Double {
        while true {
            let z = normal()
            if abs(z) <= 2 { return mean + std * z }
        }
    }

    /// A uniformly random permutation of 0..<count (Fisher–Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var p = Array(0..<count)
        shuffle(&p)
        return p
    }

    /// Shuffles `array` in place (Fisher–Yates, deterministic for a given state).
    public mutating func shuffle<T>(_ array: inout [T]) {
        var i = array.count - 1
        while i > 0 {
            let j = nextInt(below: i + 1)
            array.swapAt(i, j)
            i -= 1
        }
    }
}
