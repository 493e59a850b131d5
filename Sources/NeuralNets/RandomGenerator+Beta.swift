// Gamma and Beta variates drawn from `RandomGenerator`, for mixup's
// λ ~ Beta(α, α).
//
// Marsaglia & Tsang's squeeze-and-reject method for Gamma(k ≥ 1), the boost
// Gamma(k) = Gamma(k + 1) U^(1/k) for k < 1, and Beta(a, b) = X / (X + Y).
// Everything is done with log-variates so that tiny shapes (α → 0, where
// U^(1/α) underflows) still give a proper draw in [0, 1]. Every draw comes
// from the generator passed in, so results are deterministic for a seed.
// Deliberately not here: other distributions, vectorized sampling.

import RealModule
import Tensors

extension RandomGenerator {
    /// The logarithm of a Gamma(shape, 1) draw.
    ///
    /// For k ≥ 1, Marsaglia & Tsang (2000): d = k - 1/3, c = 1/√(9d); draw
    /// x ~ N(0, 1) until v = (1 + cx)³ > 0, then u ~ U(0, 1]; accept d·v if
    /// u < 1 - 0.0331 x⁴ (squeeze) or log u < x²/2 + d(1 - v + log v).
    /// For k < 1, log Gamma(k + 1) + (log u) / k with u ~ U(0, 1] drawn after
    /// it (their Section 6), which stays finite however small k is.
    ///
    /// - Precondition: shape > 0 and finite.
    ///
    /// [Marsaglia & Tsang]: https://doi.org/10.1145/358407.358414
    public mutating func logGamma(shape k: Double) -> Double {
        precondition(k > 0 && k.isFinite, "logGamma: shape \(k)")
        if k < 1 {
            let boosted = logGamma(shape: k + 1)
            return boosted + Double.log(1 - nextDouble()) / k
        }
        let d = k - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x = 0.0, v = 0.0
            repeat {
                x = normal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = 1 - nextDouble()
            let x2 = x * x
            if u < 1 - 0.0331 * x2 * x2 { return Double.log(d * v) }
            if Double.log(u) < 0.5 * x2 + d * (1 - v + Double.log(v)) { return Double.log(d * v) }
        }
    }

    /// A Gamma(shape, 1) draw: mean k, variance k (exp of `logGamma`; may
    /// underflow to 0 for shapes far below 1).
    public mutating func gamma(shape k: Double) -> Double {
        Double.exp(logGamma(shape: k))
    }

    /// A Beta(a, b) draw in [0, 1]: X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b),
    /// X drawn first.
    ///
    /// Mean a/(a+b), variance ab / ((a+b)²(a+b+1)); for a = b = α, mean 1/2
    /// and variance 1/(4(2α+1)). Computed as 1/(1 + e^{log Y - log X}), so it
    /// stays in [0, 1] (and mostly at 0 or 1) when a and b approach 0.
    ///
    /// - Precondition: a > 0 and b > 0, both finite.
    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let logX = logGamma(shape: a)
        let logY = logGamma(shape: b)
        return 1 / (1 + Double.exp(logY - logX))
    }
}
