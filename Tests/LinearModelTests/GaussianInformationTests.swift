// Exact Gaussian mutual information: Cholesky against naive determinants,
// the scalar closed forms, Monte Carlo averages of log-density ratios with
// independently evaluated densities, and invariances.

import Foundation
import InfoTheory
import Tensors
import Testing

@Suite struct CholeskyTests {
    @Test(arguments: [1, 2, 3, 5, 8, 13])
    func log_determinant_matches_naive_elimination(order n: Int) throws {
        let a = randomSPD(order: n, seed: UInt64(n))
        let expected = log(naiveDeterminant(a, order: n))
        let actual = try Cholesky.logDeterminant(a, order: n)
        #expect(abs(actual - expected) <= 1e-10 * max(1, abs(expected)), "order \(n): \(actual) vs \(expected)")
    }

    @Test func factor_reconstructs_the_matrix_and_is_lower_triangular() throws {
        let n = 6
        let a = randomSPD(order: n, seed: 42)
        let l = try Cholesky.factor(a, order: n)
        for i in 0..<n { for j in (i + 1)..<n { #expect(l[i * n + j] == 0) } }
        let product = naiveProduct(l, naiveTranspose(l, m: n, n: n), m: n, k: n, n: n)
        for (x, y) in zip(product, a) { #expect(abs(x - y) <= 1e-12 * max(1, abs(y))) }
    }

    @Test func known_matrices() throws {
        // det [[4, 2], [2, 3]] = 8; L = [[2, 0], [1, √2]].
        let l = try Cholesky.factor([4, 2, 2, 3], order: 2)
        #expect(l == [2, 0, 1, 2.0.squareRoot()])
        #expect(abs(try Cholesky.logDeterminant([4, 2, 2, 3], order: 2) - log(8)) < 1e-15)
        // A diagonal matrix: the sum of the logs of the diagonal.
        let d = try Cholesky.logDeterminant([2, 0, 0, 0, 3, 0, 0, 0, 0.25], order: 3)
        #expect(abs(d - log(1.5)) < 1e-15)
    }

    @Test func indefinite_and_non_finite_matrices_throw_clear_errors() {
        // [[1, 2], [2, 1]] has eigenvalues 3 and -1: the second pivot is 1 - 4 = -3.
        #expect(throws: MatrixError.notPositiveDefinite(pivot: 1, value: -3)) {
            try Cholesky.factor([1, 2, 2, 1], order: 2)
        }
        #expect(throws: MatrixError.notPositiveDefinite(pivot: 0, value: 0)) {
            try Cholesky.logDeterminant([0, 0, 0, 1], order: 2)
        }
        #expect(throws: MatrixError.notFinite(row: 1, column: 0)) {
            try Cholesky.factor([1, 0, .nan, 1], order: 2)
        }
        let message = MatrixError.notPositiveDefinite(pivot: 1, value: -3).description
        #expect(message.contains("not positive definite") && message.contains("pivot 1"))
    }
}

@Suite struct GaussianInformationTests {
    /// X ~ N(0, 1), T = wX + N(0, σ²): I(X;T) = ½ log₂(1 + w²/σ²); with
    /// Y = aX + N(0, s²): I(T;Y) = -½ log₂(1 - ρ²),
    /// ρ² = (w a)² / ((w² + σ²)(a² + s²)).
    @Test(arguments: [(0.0, 1.0), (1.0, 1.0), (3.0, 1.0), (-2.0, 0.25), (0.5, 4.0)])
    func scalar_closed_forms(w: Double, noise: Double) throws {
        let (a, s2) = (1.5, 0.5)
        let info = GaussianInformation(isotropicInputVariance: 1, inputCount: 1, teacherWeights: [a], outputCount: 1,
                                       teacherNoiseVariance: s2, analysisNoiseVariance: noise)
        let r = try info.information(layerMap: [w], rows: 1)
        let expectedXT = 0.5 * log2(1 + w * w / noise)
        let rho2 = (w * a) * (w * a) / ((w * w + noise) * (a * a + s2))
        let expectedTY = -0.5 * log2(1 - rho2)
        #expect(abs(r.inputInformation - expectedXT) < 1e-12, "I(X;T) \(r.inputInformation) vs \(expectedXT)")
        #expect(abs(r.outputInformation - expectedTY) < 1e-12, "I(T;Y) \(r.outputInformation) vs \(expectedTY)")
        #expect(r.relevantInformation == nil && r.irrelevantInformation == nil)
    }

    @Test func gaussian_entropy_and_pairwise_information() throws {
        // h(N(0, σ²)) = ½ log₂(2πe σ²).
        let h = try GaussianInformation.entropy(covariance: [3], order: 1)
        #expect(abs(h - 0.5 * log2(2 * Double.pi * exp(1) * 3)) < 1e-12)
        // A correlated pair with correlation ρ: I = -½ log₂(1 - ρ²).
        let rho = 0.8
        let i = try GaussianInformation.mutualInformation(jointCovariance: [2, rho * 2, rho * 2, 2], order: 2, firstCount: 1)
        #expect(abs(i - (-0.5 * log2(1 - rho * rho))) < 1e-12)
    }

    /// A small model with a split: X = A u, u ~ N(0, I₃), inputs 0, 1
    /// relevant (correlated with each other), input 2 irrelevant.
    struct SmallModel {
        let a: [Double] = [1, 0, 0, 0.3, 0.6, 0, 0, 0, 1.4]  // block lower-triangular
        var sigmaX: [Double] { naiveProduct(a, naiveTranspose(a, m: 3, n: 3), m: 3, k: 3, n: 3) }
        let w: [Double] = [0.8, -0.5, 0.7, 0.2, 1.1, -0.4]   // T = W X, 2×3
        let wo: [Double] = [1.2, -0.7, 0]                     // Y = W_o X + ε, 1×3
        let s2 = 0.3, noise = 0.5
        var info: GaussianInformation {
            GaussianInformation(inputCovariance: sigmaX, inputCount: 3, teacherWeights: wo, outputCount: 1,
                                teacherNoiseVariance: s2, analysisNoiseVariance: noise, relevantInputs: [0, 1])
        }
        /// W_B Σ_B W_Bᵀ + σ²I for the inputs in `block`.
        func covarianceOfT(block: Set<Int>) -> [Double] {
            var s = sigmaX
            for i in 0..<3 { for j in 0..<3 where !block.contains(i) || !block.contains(j) { s[i * 3 + j] = 0 } }
            var c = naiveProduct(naiveProduct(w, s, m: 2, k: 3, n: 3), naiveTranspose(w, m: 2, n: 3), m: 2, k: 3, n: 2)
            c[0] += noise; c[3] += noise
            return c
        }
    }

    /// Each MI is E[log p(·|·) - log p(·)]; averaging the log-density ratio
    /// over samples (densities evaluated with naive solves and determinants)
    /// must agree with the log-determinant formulas within 4 standard errors.
    @Test func monte_carlo_log_density_ratios_agree_with_the_exact_values() throws {
        let model = SmallModel()
        let exact = try model.info.information(layerMap: model.w, rows: 2)
        let sigmaT = model.covarianceOfT(block: [0, 1, 2])
        let sigmaRel = model.covarianceOfT(block: [0, 1])   // T's covariance given X_irr
        let sigmaIrr = model.covarianceOfT(block: [2])      // T's covariance given X_rel
        let sigmaX = model.sigmaX
        // Joint covariance of (T, Y).
        let wx = naiveProduct(model.w, sigmaX, m: 2, k: 3, n: 3)
        let cTY = naiveProduct(wx, model.wo, m: 2, k: 3, n: 1)
        let vY = naiveProduct(naiveProduct(model.wo, sigmaX, m: 1, k: 3, n: 3), model.wo, m: 1, k: 3, n: 1)[0] + model.s2
        let joint = [sigmaT[0], sigmaT[1], cTY[0], sigmaT[2], sigmaT[3], cTY[1], cTY[0], cTY[1], vY]
        var rng = RandomGenerator(seed: 7)
        var xt = [Double](), ty = [Double](), rel = [Double](), irr = [Double]()
        let sn = model.noise.squareRoot(), se = model.s2.squareRoot()
        for _ in 0..<20_000 {
            let u = gaussianMatrix(3, rng: &rng)
            let x = naiveProduct(model.a, u, m: 3, k: 3, n: 1)
            let mean = naiveProduct(model.w, x, m: 2, k: 3, n: 1)
            let t = [mean[0] + sn * rng.normal(), mean[1] + sn * rng.normal()]
            let y = naiveProduct(model.wo, x, m: 1, k: 3, n: 1)[0] + se * rng.normal()
            let logT = naiveLogDensity(t, covariance: sigmaT)
            let residual = [t[0] - mean[0], t[1] - mean[1]]
            xt.append(naiveLogDensity(residual, covariance: [model.noise, 0, 0, model.noise]) - logT)
            ty.append(naiveLogDensity(t + [y], covariance: joint) - logT - naiveLogDensity([y], covariance: [vY]))
            // Given X_irr = x₂, T has mean W[:, 2] x₂ and covariance sigmaRel.
            let mIrr = [model.w[2] * x[2], model.w[5] * x[2]]
            irr.append(naiveLogDensity([t[0] - mIrr[0], t[1] - mIrr[1]], covariance: sigmaRel) - logT)
            let mRel = [model.w[0] * x[0] + model.w[1] * x[1], model.w[3] * x[0] + model.w[4] * x[1]]
            rel.append(naiveLogDensity([t[0] - mRel[0], t[1] - mRel[1]], covariance: sigmaIrr) - logT)
        }
        let checks: [(String, [Double], Double)] = [
            ("I(X;T)", xt, exact.inputInformation), ("I(T;Y)", ty, exact.outputInformation),
            ("I(X_rel;T)", rel, try #require(exact.relevantInformation)),
            ("I(X_irr;T)", irr, try #require(exact.irrelevantInformation)),
        ]
        for (name, samples, value) in checks {
            let (mean, error) = meanAndStandardError(samples.map { $0 / log(2) })
            #expect(abs(mean - value) <= 4 * error, "\(name): Monte Carlo \(mean) ± \(error), exact \(value)")
            #expect(value > 0.05, "\(name) = \(value) should be clearly positive in this model")
        }
    }

    /// A plug-in check of I(T;Y): the Gaussian MI of the sample covariance of
    /// (T, Y), computed with naive determinants, is within a few standard
    /// errors (spread over independent repetitions) of the exact value.
    @Test func plug_in_covariance_estimate_agrees() throws {
        let model = SmallModel()
        let exact = try model.info.information(layerMap: model.w, rows: 2).outputInformation
        var rng = RandomGenerator(seed: 11)
        var estimates = [Double]()
        for _ in 0..<20 {
            var sums = [Double](repeating: 0, count: 9)
            let count = 2000
            for _ in 0..<count {
                let x = naiveProduct(model.a, gaussianMatrix(3, rng: &rng), m: 3, k: 3, n: 1)
                let m = naiveProduct(model.w, x, m: 2, k: 3, n: 1)
                let z = [m[0] + model.noise.squareRoot() * rng.normal(), m[1] + model.noise.squareRoot() * rng.normal(),
                         naiveProduct(model.wo, x, m: 1, k: 3, n: 1)[0] + model.s2.squareRoot() * rng.normal()]
                for i in 0..<3 { for j in 0..<3 { sums[i * 3 + j] += z[i] * z[j] } }
            }
            let c = sums.map { $0 / Double(count) }   // zero-mean model: no centring needed
            let tBlock = [c[0], c[1], c[3], c[4]]
            estimates.append(0.5 * log2(naiveDeterminant(tBlock, order: 2) * c[8] / naiveDeterminant(c, order: 3)))
        }
        let (mean, error) = meanAndStandardError(estimates)
        // The plug-in estimate is biased upward by O(1/count) ≈ 1e-3 bits, well below 4 SE here.
        #expect(abs(mean - exact) <= 4 * error + 2e-3, "plug-in \(mean) ± \(error), exact \(exact)")
    }

    @Test func data_processing_split_bounds_and_invariances() throws {
        var rng = RandomGenerator(seed: 3)
        let (ni, n) = (6, 4)
        let wo = gaussianMatrix(ni, rng: &rng)
        let info = GaussianInformation(isotropicInputVariance: 1.0 / Double(ni), inputCount: ni, teacherWeights: wo,
                                       outputCount: 1, teacherNoiseVariance: 0.2, relevantInputs: [0, 1, 2])
        let w = gaussianMatrix(n * ni, rng: &rng, std: 2)
        let r = try info.information(layerMap: w, rows: n)
        // I(T;Y) ≤ I(X;Y), the information of T = X itself without analysis noise limit:
        // use W = large multiple of the identity (noise negligible) as the bound.
        var identity = [Double](repeating: 0, count: ni * ni)
        for i in 0..<ni { identity[i * ni + i] = 1e4 }
        let bound = try info.information(layerMap: identity, rows: ni).outputInformation
        #expect(r.outputInformation <= bound + 1e-9)
        let rel = try #require(r.relevantInformation), irr = try #require(r.irrelevantInformation)
        #expect(rel > 0 && irr > 0 && rel + irr <= r.inputInformation + 1e-12)
        // An orthogonal change of T's coordinates (a rotation of rows 0 and 1) changes nothing.
        let (c, s) = (cos(0.7), sin(0.7))
        var rotated = w
        for j in 0..<ni {
            rotated[j] = c * w[j] - s * w[ni + j]
            rotated[ni + j] = s * w[j] + c * w[ni + j]
        }
        let q = try info.information(layerMap: rotated, rows: n)
        #expect(abs(q.inputInformation - r.inputInformation) < 1e-10)
        #expect(abs(q.outputInformation - r.outputInformation) < 1e-10)
        #expect(abs(q.irrelevantInformation! - irr) < 1e-10)
        // Zero weight on the irrelevant inputs: no irrelevant information, and
        // all of I(X;T) is about the relevant block.
        var relevantOnly = w
        for i in 0..<n { for j in 3..<ni { relevantOnly[i * ni + j] = 0 } }
        let z = try info.information(layerMap: relevantOnly, rows: n)
        #expect(abs(z.irrelevantInformation!) < 1e-12)
        #expect(abs(z.relevantInformation! - z.inputInformation) < 1e-12)
        // Block-diagonal W (rows 0-1 see only relevant inputs, rows 2-3 only
        // irrelevant ones): the two parts add up to I(X;T).
        var blocks = w
        for i in 0..<n { for j in 0..<ni where (i < 2) != (j < 3) { blocks[i * ni + j] = 0 } }
        let b = try info.information(layerMap: blocks, rows: n)
        #expect(abs(b.relevantInformation! + b.irrelevantInformation! - b.inputInformation) < 1e-10)
    }

    @Test func zero_map_carries_no_information_and_nan_map_throws() throws {
        let info = GaussianInformation(isotropicInputVariance: 0.5, inputCount: 2, teacherWeights: [1, 1], outputCount: 1,
                                       teacherNoiseVariance: 1)
        let r = try info.information(layerMap: [0, 0, 0, 0, 0, 0], rows: 3)
        #expect(r.inputInformation == 0 && abs(r.outputInformation) < 1e-12)
        #expect(throws: MatrixError.self) { try info.information(layerMap: [.nan, 0], rows: 1) }
    }
}
