// Sample-quality metrics from a classifier of the real images
// (FeatureClassifier.swift), beside the sliced Wasserstein distance:
//
// - the Fréchet distance between Gaussians fitted to two sets of features
//   (Heusel et al. 2017's FID, with this project's classifier in place of
//   Inception): |μ₁ - μ₂|² + tr(Σ₁ + Σ₂ - 2 (Σ₁^½ Σ₂ Σ₁^½)^½), in Double,
//   Σ the covariance with N - 1 in the denominator (NumPy's np.cov, as
//   pytorch-fid), the matrix square roots by symmetric eigendecomposition
//   (LAPACK's dsyevd) with eigenvalues below 0 (rounding) taken as 0.
//   (Σ₁^½ Σ₂ Σ₁^½ is similar to Σ₁Σ₂, so the trace is that of (Σ₁Σ₂)^½ in
//   the usual formula, computed on a symmetric matrix.)
// - class coverage: the classifier's predicted class of every sample; a
//   class is covered when it gets at least half the share a uniform spread
//   would give it (1/(2K) of the samples, 1/20 for K = 10 classes); reported
//   with the normalized entropy of the predicted histogram, H(p) / log K
//   (1: every class equally often; 0: one class only).

import Foundation
import Tensors

/// The Fréchet distance between Gaussians, and the statistics it compares.
public enum FrechetDistance {
    /// The mean [d] and covariance [d x d] (row-major, N - 1 in the
    /// denominator) of N rows of d features, in Double.
    /// - Precondition: N ≥ 2, every value finite.
    public static func statistics(_ features: [Float], rows n: Int, columns d: Int) -> (mean: [Double], covariance: [Double]) {
        precondition(n >= 2 && features.count == n * d, "FrechetDistance: \(features.count) values for \(n) rows of \(d)")
        precondition(features.allSatisfy(\.isFinite), "FrechetDistance: features not finite")
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mean[j] += Double(features[i * d + j]) } }
        for j in 0..<d { mean[j] /= Double(n) }
        var covariance = [Double](repeating: 0, count: d * d), centred = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for j in 0..<d { centred[j] = Double(features[i * d + j]) - mean[j] }
            for a in 0..<d where centred[a] != 0 {
                let x = centred[a]
                for b in a..<d { covariance[a * d + b] += x * centred[b] }
            }
        }
        for a in 0..<d {
            for b in a..<d {
                covariance[a * d + b] /= Double(n - 1)
                covariance[b * d + a] = covariance[a * d + b]
            }
        }
        return (mean, covariance)
    }

    /// |μ₁ - μ₂|² + tr Σ₁ + tr Σ₂ - 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½ for d-dimensional
    /// Gaussians (covariances row-major, symmetric positive semidefinite).
    public static func distance(mean1: [Double], covariance1: [Double], mean2: [Double], covariance2: [Double]) -> Double {
        let d = mean1.count
        precondition(d >= 1 && mean2.count == d && covariance1.count == d * d && covariance2.count == d * d,
                     "FrechetDistance: means of \(mean1.count) and \(mean2.count), covariances of \(covariance1.count) and \(covariance2.count)")
        let root1 = SymmetricEigendecomposition(covariance1, size: d).squareRoot
        // M = Σ₁^½ Σ₂ Σ₁^½, symmetrized against rounding.
        var t = [Double](repeating: 0, count: d * d), m = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for k in 0..<d where root1[i * d + k] != 0 { let a = root1[i * d + k]; for j in 0..<d { t[i * d + j] += a * covariance2[k * d + j] } } }
        for i in 0..<d { for k in 0..<d where t[i * d + k] != 0 { let a = t[i * d + k]; for j in 0..<d { m[i * d + j] += a * root1[k * d + j] } } }
        for i in 0..<d { for j in 0..<i { let s = (m[i * d + j] + m[j * d + i]) / 2; m[i * d + j] = s; m[j * d + i] = s } }
        let cross = SymmetricEigendecomposition(m, size: d).traceOfSquareRoot
        var squared = 0.0, traces = 0.0
        for j in 0..<d {
            squared += (mean1[j] - mean2[j]) * (mean1[j] - mean2[j])
            traces += covariance1[j * d + j] + covariance2[j * d + j]
        }
        return squared + traces - 2 * cross
    }

    /// The distance between the Gaussians fitted to two feature sets [N, d] and [M, d].
    public static func distance(_ a: Tensor, _ b: Tensor) -> Double {
        precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[1], "FrechetDistance: features \(a.shape) and \(b.shape)")
        let s1 = statistics(a.scalars, rows: a.shape[0], columns: a.shape[1])
        let s2 = statistics(b.scalars, rows: b.shape[0], columns: b.shape[1])
        return distance(mean1: s1.mean, covariance1: s1.covariance, mean2: s2.mean, covariance2: s2.covariance)
    }
}

/// How evenly a set of samples spreads over the classes.
public struct ClassCoverage: Sendable, Equatable {
    /// Samples predicted in each class.
    public let counts: [Int]
    /// The classes with at least 1/(2K) of the samples.
    public let covered: Int
    /// H(p) / log K of the predicted histogram p, in [0, 1].
    public let normalizedEntropy: Double

    /// - Precondition: at least one prediction, each in 0..<classes, classes ≥ 2.
    public init(predictions: [Int], classes k: Int) {
        precondition(k >= 2 && !predictions.isEmpty && predictions.allSatisfy { $0 >= 0 && $0 < k },
                     "ClassCoverage: \(predictions.count) predictions of \(k) classes")
        var counts = [Int](repeating: 0, count: k)
        for p in predictions { counts[p] += 1 }
        self.counts = counts
        let n = Double(predictions.count)
        // count / n ≥ 1 / (2K), in integers.
        covered = counts.filter { 2 * k * $0 >= predictions.count }.count
        normalizedEntropy = counts.reduce(0.0) { h, c in c == 0 ? h : h - Double(c) / n * log(Double(c) / n) } / log(Double(k))
    }

    /// The share of the classes covered.
    public var share: Double { Double(covered) / Double(counts.count) }
}
