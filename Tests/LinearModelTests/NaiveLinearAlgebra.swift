// Independent reference code for the linear-model tests: determinants and
// solves by Gaussian elimination with partial pivoting, Gaussian log-densities,
// and small random matrices. Deliberately naive and separate from the library.

import Foundation
import Tensors

/// det A by Gaussian elimination with partial pivoting, A [n, n] row-major.
func naiveDeterminant(_ a: [Double], order n: Int) -> Double {
    var m = a
    var det = 1.0
    for c in 0..<n {
        var p = c
        for r in (c + 1)..<max(c + 1, n) where abs(m[r * n + c]) > abs(m[p * n + c]) { p = r }
        if m[p * n + c] == 0 { return 0 }
        if p != c {
            for j in 0..<n { m.swapAt(p * n + j, c * n + j) }
            det = -det
        }
        det *= m[c * n + c]
        for r in (c + 1)..<max(c + 1, n) {
            let f = m[r * n + c] / m[c * n + c]
            for j in c..<n { m[r * n + j] -= f * m[c * n + j] }
        }
    }
    return det
}

/// x with A x = b, by Gauss-Jordan elimination with partial pivoting.
func naiveSolve(_ a: [Double], _ b: [Double], order n: Int) -> [Double] {
    var m = a, x = b
    for c in 0..<n {
        var p = c
        for r in c..<n where abs(m[r * n + c]) > abs(m[p * n + c]) { p = r }
        if p != c {
            for j in 0..<n { m.swapAt(p * n + j, c * n + j) }
            x.swapAt(p, c)
        }
        for r in 0..<n where r != c {
            let f = m[r * n + c] / m[c * n + c]
            for j in 0..<n { m[r * n + j] -= f * m[c * n + j] }
            x[r] -= f * x[c]
        }
    }
    return (0..<n).map { x[$0] / m[$0 * n + $0] }
}

/// log N(z; 0, Σ) in nats, with the naive determinant and solve.
func naiveLogDensity(_ z: [Double], covariance: [Double]) -> Double {
    let k = z.count
    let s = naiveSolve(covariance, z, order: k)
    var q = 0.0
    for i in 0..<k { q += z[i] * s[i] }
    return -0.5 * (Double(k) * log(2 * Double.pi) + log(naiveDeterminant(covariance, order: k)) + q)
}

/// A B for A [m, k], B [k, n].
func naiveProduct(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { for t in 0..<k { c[i * n + j] += a[i * k + t] * b[t * n + j] } } }
    return c
}

/// Aᵀ for A [m, n].
func naiveTranspose(_ a: [Double], m: Int, n: Int) -> [Double] {
    var t = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n { t[j * m + i] = a[i * n + j] } }
    return t
}

/// Standard normal entries.
func gaussianMatrix(_ count: Int, rng: inout RandomGenerator, std: Double = 1) -> [Double] {
    (0..<count).map { _ in std * rng.normal() }
}

/// A random symmetric positive-definite matrix B Bᵀ + ridge·I.
func randomSPD(order n: Int, seed: UInt64, ridge: Double = 0.5) -> [Double] {
    var rng = RandomGenerator(seed: seed)
    let b = gaussianMatrix(n * n, rng: &rng)
    var a = naiveProduct(b, naiveTranspose(b, m: n, n: n), m: n, k: n, n: n)
    for i in 0..<n { a[i * n + i] += ridge }
    return a
}

/// Mean and standard error of the mean.
func meanAndStandardError(_ values: [Double]) -> (mean: Double, standardError: Double) {
    let n = Double(values.count)
    let mean = values.reduce(0, +) / n
    var ss = 0.0
    for v in values { ss += (v - mean) * (v - mean) }
    return (mean, (ss / (n - 1) / n).squareRoot())
}

func temporaryDirectory() -> String {
    NSTemporaryDirectory() + "linear-model-test-" + UUID().uuidString
}
