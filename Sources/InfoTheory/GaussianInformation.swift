// Exact mutual information for linear maps of Gaussian inputs, and the
// Cholesky log-determinant it rests on.
//
// For the deep linear networks of Saxe et al. (ICLR 2018, §5 and App. G) the
// representation T = W X + Z, Z ~ N(0, σ_MI² I), is jointly Gaussian with X and
// with the teacher's Y = W_o X + ε, so I(X;T) and I(T;Y) have closed forms in
// log-determinants of covariance matrices. This file computes them in Double,
// in bits. It deliberately knows nothing about networks or training: it takes
// the layer's total map W as a matrix. It is not an estimator (no samples).
//
// Which formula: the paper's printed Eq. 6 and Eq. 21 read
// I(T;X) = log|W Σx Wᵀ + σ² I| - log|σ² I|, without the factor ½. The
// differential entropy of a k-dimensional Gaussian is
// h = ½ log((2πe)^k det Σ), so every log-determinant carries ½; App. G's
// entropies (Eq. 22-25) are written with it. We follow the ½ throughout. The
// printed Eq. 6/21 values are exactly twice ours.
//
// [saxe2018]: https://openreview.net/forum?id=ry_WPG-A-

import RealModule

/// The log-determinant of a symmetric positive-definite matrix by Cholesky
/// factorization, in Double.
public enum Cholesky {
    /// The lower-triangular L with A = L Lᵀ (row-major, upper triangle zero).
    ///
    /// The Cholesky–Banachiewicz order: row i of L from the rows above it,
    /// L_ij = (A_ij - Σ_{k<j} L_ik L_jk) / L_jj, L_ii = √(A_ii - Σ_{k<i} L_ik²).
    /// Only the lower triangle of A is read.
    ///
    /// - Parameters:
    ///   - matrix: A, [n, n] row-major.
    ///   - n: the order.
    /// - Throws: `MatrixError.notPositiveDefinite` naming the first pivot that
    ///   is not positive (or not finite); `MatrixError.notFinite` for NaN or ±∞ entries.
    /// - Complexity: n³/3 multiply-adds.
    public static func factor(_ matrix: [Double], order n: Int) throws(MatrixError) -> [Double] {
        precondition(n >= 0 && matrix.count == n * n, "Cholesky: \(matrix.count) entries for order \(n)")
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i where !matrix[i * n + j].isFinite {
                throw .notFinite(row: i, column: j)
            }
        }
        try l.withUnsafeMutableBufferPointer { (lp: inout UnsafeMutableBufferPointer<Double>) throws(MatrixError) in
            let base = lp.baseAddress!
            for i in 0..<n {
                let ri = base + i * n
                for j in 0...i {
                    let rj = base + j * n
                    var s = matrix[i * n + j]
                    for k in 0..<j { s -= ri[k] * rj[k] }
                    if i == j {
                        guard s > 0 && s.isFinite else { throw .notPositiveDefinite(pivot: i, value: s) }
                        ri[i] = s.squareRoot()
                    } else {
                        ri[j] = s / rj[j]
                    }
                }
            }
        }
        return l
    }

    /// log det A in nats, as 2 Σ_i log L_ii.
    ///
    /// - Throws: as `factor(_:order:)`.
    public static func logDeterminant(_ matrix: [Double], order n: Int) throws(MatrixError) -> Double {
        let l = try factor(matrix, order: n)
        var sum = 0.0
        for i in 0..<n { sum += Double.log(l[i * n + i]) }
        return 2 * sum
    }
}

/// A matrix that the exact-information code cannot use.
public enum MatrixError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The Cholesky pivot `pivot` (0-based) was `value` ≤ 0: the matrix is
    /// not (numerically) positive definite.
    case notPositiveDefinite(pivot: Int, value: Double)
    /// Entry (row, column) is NaN or infinite.
    case notFinite(row: Int, column: Int)

    public var description: String {
        switch self {
        case .notPositiveDefinite(let pivot, let value):
            "matrix is not positive definite: Cholesky pivot \(pivot) is \(value) (a covariance with a zero or negative variance direction; is the analysis noise variance positive?)"
        case .notFinite(let row, let column):
            "matrix entry (\(row), \(column)) is NaN or infinite (did training diverge?)"
        }
    }
}

/// I(X;T), I(T;Y) and, when the inputs are split, the information about the
/// relevant and irrelevant input blocks, for one layer, in bits.
public struct GaussianLayerInformation: Sendable, Equatable {
    /// I(X;T), bits.
    public var inputInformation: Double
    /// I(T;Y), bits.
    public var outputInformation: Double
    /// I(X_rel;T), bits (nil without a split).
    public var relevantInformation: Double?
    /// I(X_irr;T), bits (nil without a split).
    public var irrelevantInformation: Double?

    public init(inputInformation: Double, outputInformation: Double,
                relevantInformation: Double? = nil, irrelevantInformation: Double? = nil) {
        self.inputInformation = inputInformation
        self.outputInformation = outputInformation
        self.relevantInformation = relevantInformation
        self.irrelevantInformation = irrelevantInformation
    }
}

/// Exact mutual information of a noisy linear representation of Gaussian
/// inputs, after [Saxe et al. 2018][saxe2018], §5 and App. G (Eq. 22-25).
///
/// Model, all Gaussian and zero-mean:
/// - X ∈ ℝ^{N_i}, X ~ N(0, Σx);
/// - Y = W_o X + ε ∈ ℝ^{N_o}, ε ~ N(0, σ_o² I);
/// - T = W X + Z ∈ ℝ^{n}, Z ~ N(0, σ_MI² I), W [n, N_i] the product
///   W_l ⋯ W_1 of a deep linear network's first l layers. Z is added for the
///   analysis only (σ_MI² = 1 by default, as in the paper), since a
///   deterministic T = W X would have infinite I(X;T).
///
/// With Σ_T = W Σx Wᵀ + σ_MI² I, Σ_Y = W_o Σx W_oᵀ + σ_o² I and
/// Σ_TY = W Σx W_oᵀ:
///
///     I(X;T) = ½ log det Σ_T - ½ log det(σ_MI² I) = ½ log det Σ_T - (n/2) log σ_MI²
///     I(T;Y) = H(T) + H(Y) - H(T,Y)
///            = ½ [log det Σ_T + log det Σ_Y - log det [[Σ_T, Σ_TY], [Σ_TYᵀ, Σ_Y]]]
///
/// using h(N(0, Σ)) = ½ Double.log((2πe)^k det Σ); the (2πe) terms cancel. All
/// results are converted to bits (÷ ln 2). The ½ is kept (see the file
/// comment: the paper's printed Eq. 6/21 drop it and are twice these values).
///
/// Relevant/irrelevant split (the paper gives no formula; this is ours). If
/// the inputs split into independent blocks X = (X_rel, X_irr) (Σx block
/// diagonal) and W = [W_rel, W_irr] correspondingly, then T = W_rel X_rel +
/// W_irr X_irr + Z and each block's marginal information is exact:
///
///     I(X_irr;T) = h(T) - h(T | X_irr)
///                = ½ log det Σ_T - ½ log det(W_rel Σ_rel W_relᵀ + σ_MI² I)
///     I(X_rel;T) = ½ log det Σ_T - ½ log det(W_irr Σ_irr W_irrᵀ + σ_MI² I)
///
/// (given X_irr, T is Gaussian with the covariance of the other block plus
/// the analysis noise). The other block acts as noise in each. Since the
/// blocks are independent, I(X_rel;T) + I(X_irr;T) ≤ I(X;T), with equality
/// when W_rel and W_irr map into orthogonal subspaces of T.
///
/// [saxe2018]: https://openreview.net/forum?id=ry_WPG-A-
public struct GaussianInformation: Sendable, Equatable {
    /// N_i.
    public let inputCount: Int
    /// N_o.
    public let outputCount: Int
    /// Σx, [N_i, N_i] row-major.
    public let inputCovariance: [Double]
    /// W_o, [N_o, N_i] row-major.
    public let teacherWeights: [Double]
    /// σ_o².
    public let teacherNoiseVariance: Double
    /// σ_MI², the analysis noise variance (1 in the paper).
    public let analysisNoiseVariance: Double
    /// Indices of the relevant inputs (the rest are irrelevant), or nil for no split.
    public let relevantInputs: [Int]?

    /// - Parameters:
    ///   - inputCovariance: Σx, [inputCount, inputCount], symmetric positive semi-definite.
    ///   - teacherWeights: W_o, [outputCount, inputCount].
    ///   - teacherNoiseVariance: σ_o² ≥ 0 (0 allowed only if W_o Σx W_oᵀ is positive definite).
    ///   - analysisNoiseVariance: σ_MI² > 0.
    ///   - relevantInputs: the relevant input indices for the split, or nil.
    /// - Precondition: shapes agree; σ_MI² > 0; with a split, Σx has no
    ///   covariance between relevant and irrelevant inputs.
    public init(inputCovariance: [Double], inputCount: Int, teacherWeights: [Double], outputCount: Int,
                teacherNoiseVariance: Double, analysisNoiseVariance: Double = 1, relevantInputs: [Int]? = nil) {
        precondition(inputCount > 0 && outputCount > 0, "GaussianInformation: \(inputCount) inputs, \(outputCount) outputs")
        precondition(inputCovariance.count == inputCount * inputCount,
                     "GaussianInformation: Σx has \(inputCovariance.count) entries for \(inputCount) inputs")
        precondition(teacherWeights.count == outputCount * inputCount,
                     "GaussianInformation: W_o has \(teacherWeights.count) entries for \(outputCount)×\(inputCount)")
        precondition(analysisNoiseVariance > 0, "GaussianInformation: σ_MI² = \(analysisNoiseVariance) must be positive")
        precondition(teacherNoiseVariance >= 0, "GaussianInformation: σ_o² = \(teacherNoiseVariance)")
        if let relevantInputs {
            precondition(relevantInputs.allSatisfy { $0 >= 0 && $0 < inputCount } && Set(relevantInputs).count == relevantInputs.count,
                         "GaussianInformation: relevant inputs out of range or repeated")
            let isRelevant = Self.mask(relevantInputs, count: inputCount)
            for i in 0..<inputCount {
                for j in 0..<inputCount where isRelevant[i] != isRelevant[j] {
                    precondition(inputCovariance[i * inputCount + j] == 0,
                                 "GaussianInformation: relevant and irrelevant inputs \(i), \(j) are correlated")
                }
            }
        }
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.inputCovariance = inputCovariance
        self.teacherWeights = teacherWeights
        self.teacherNoiseVariance = teacherNoiseVariance
        self.analysisNoiseVariance = analysisNoiseVariance
        self.relevantInputs = relevantInputs
    }

    /// The same with Σx = v I (v = 1/N_i for the paper's inputs).
    public init(isotropicInputVariance v: Double, inputCount: Int, teacherWeights: [Double], outputCount: Int,
                teacherNoiseVariance: Double, analysisNoiseVariance: Double = 1, relevantInputs: [Int]? = nil) {
        var s = [Double](repeating: 0, count: inputCount * inputCount)
        for i in 0..<inputCount { s[i * inputCount + i] = v }
        self.init(inputCovariance: s, inputCount: inputCount, teacherWeights: teacherWeights, outputCount: outputCount,
                  teacherNoiseVariance: teacherNoiseVariance, analysisNoiseVariance: analysisNoiseVariance,
                  relevantInputs: relevantInputs)
    }

    /// The information of T = W X + Z, for W [rows, inputCount] row-major.
    ///
    /// - Returns: I(X;T), I(T;Y) and (with a split) I(X_rel;T), I(X_irr;T), in bits.
    /// - Throws: `MatrixError` if W has NaN/∞ entries or a covariance is not
    ///   positive definite (Σ_Y needs σ_o² > 0 or a full-rank W_o Σx W_oᵀ).
    /// - Complexity: O((rows + N_o)³ + rows·N_i²).
    public func information(layerMap w: [Double], rows n: Int) throws(MatrixError) -> GaussianLayerInformation {
        precondition(n > 0 && w.count == n * inputCount, "GaussianInformation: W has \(w.count) entries for \(n)×\(inputCount)")
        let ni = inputCount, no = outputCount
        // Stack A = [W; W_o], [n + N_o, N_i]; then A Σx Aᵀ holds Σ_T - σ_MI² I,
        // Σ_TY and Σ_Y - σ_o² I in its blocks.
        let a = w + teacherWeights
        var joint = Self.congruence(a, rows: n + no, covariance: inputCovariance, order: ni)
        let m = n + no
        for i in 0..<n { joint[i * m + i] += analysisNoiseVariance }
        for k in 0..<no { joint[(n + k) * m + n + k] += teacherNoiseVariance }
        let sigmaT = Self.block(joint, order: m, rows: 0..<n)
        let sigmaY = Self.block(joint, order: m, rows: n..<m)
        let logT = try Cholesky.logDeterminant(sigmaT, order: n)
        let logY = try Cholesky.logDeterminant(sigmaY, order: no)
        let logJoint = try Cholesky.logDeterminant(joint, order: m)
        let logNoise = Double(n) * Double.log(analysisNoiseVariance)
        let bits = 1 / Double.log(2.0)
        var result = GaussianLayerInformation(inputInformation: 0.5 * (logT - logNoise) * bits,
                                              outputInformation: 0.5 * (logT + logY - logJoint) * bits)
        if let relevantInputs {
            let isRelevant = Self.mask(relevantInputs, count: ni)
            // Σ_T with only one block's contribution: W_B Σ_B W_Bᵀ + σ_MI² I,
            // computed as W (Σx restricted to block B) Wᵀ.
            func conditional(keeping keep: Bool) throws(MatrixError) -> Double {
                var s = inputCovariance
                for i in 0..<ni {
                    for j in 0..<ni where isRelevant[i] != keep || isRelevant[j] != keep { s[i * ni + j] = 0 }
                }
                var c = Self.congruence(w, rows: n, covariance: s, order: ni)
                for i in 0..<n { c[i * n + i] += analysisNoiseVariance }
                return try Cholesky.logDeterminant(c, order: n)
            }
            let givenIrrelevant = try conditional(keeping: true)   // h(T | X_irr): only X_rel varies
            let givenRelevant = try conditional(keeping: false)    // h(T | X_rel): only X_irr varies
            result.relevantInformation = 0.5 * (logT - givenRelevant) * bits
            result.irrelevantInformation = 0.5 * (logT - givenIrrelevant) * bits
        }
        return result
    }

    /// Differential entropy of N(μ, Σ) in bits: ½ log₂((2πe)^k det Σ).
    ///
    /// - Throws: `MatrixError` if Σ is not positive definite.
    public static func entropy(covariance: [Double], order k: Int) throws(MatrixError) -> Double {
        let logDet = try Cholesky.logDeterminant(covariance, order: k)
        return 0.5 * (Double(k) * Double.log(2 * Double.pi * Double.exp(1.0)) + logDet) / Double.log(2.0)
    }

    /// I(U;V) in bits for a jointly Gaussian (U, V) with covariance [[Σ_U, Σ_UV], [Σ_VU, Σ_V]]:
    /// ½ log₂(det Σ_U det Σ_V / det Σ).
    ///
    /// - Parameters:
    ///   - covariance: the joint covariance, [k, k] row-major.
    ///   - firstCount: the dimension of U (the first block); V is the rest.
    /// - Throws: `MatrixError` if a covariance is not positive definite.
    public static func mutualInformation(jointCovariance covariance: [Double], order k: Int,
                                         firstCount: Int) throws(MatrixError) -> Double {
        precondition(firstCount > 0 && firstCount < k, "mutualInformation: first block \(firstCount) of \(k)")
        let u = try Cholesky.logDeterminant(block(covariance, order: k, rows: 0..<firstCount), order: firstCount)
        let v = try Cholesky.logDeterminant(block(covariance, order: k, rows: firstCount..<k), order: k - firstCount)
        let joint = try Cholesky.logDeterminant(covariance, order: k)
        return 0.5 * (u + v - joint) / Double.log(2.0)
    }

    // MARK: Helpers

    /// A Σ Aᵀ for A [rows, order] and Σ [order, order], in two plain loops
    /// (skipping zero entries of A, and computing one triangle of the
    /// symmetric result): these matrices are at most a few hundred wide and
    /// this runs a few times per layer and recorded epoch.
    static func congruence(_ a: [Double], rows: Int, covariance s: [Double], order: Int) -> [Double] {
        // B = A Σ, [rows, order].
        var b = [Double](repeating: 0, count: rows * order)
        a.withUnsafeBufferPointer { ap in
            s.withUnsafeBufferPointer { sp in
                b.withUnsafeMutableBufferPointer { bp in
                    for r in 0..<rows {
                        let ar = ap.baseAddress! + r * order, br = bp.baseAddress! + r * order
                        for k in 0..<order where ar[k] != 0 {
                            let x = ar[k], sk = sp.baseAddress! + k * order
                            for j in 0..<order { br[j] += x * sk[j] }
                        }
                    }
                }
            }
        }
        // C = B Aᵀ, [rows, rows], symmetric: fill both triangles from one.
        var c = [Double](repeating: 0, count: rows * rows)
        b.withUnsafeBufferPointer { bp in
            a.withUnsafeBufferPointer { ap in
                for i in 0..<rows {
                    let bi = bp.baseAddress! + i * order
                    for j in 0...i {
                        let aj = ap.baseAddress! + j * order
                        var sum = 0.0
                        for k in 0..<order { sum += bi[k] * aj[k] }
                        c[i * rows + j] = sum
                        c[j * rows + i] = sum
                    }
                }
            }
        }
        return c
    }

    /// The square diagonal block rows × rows of a [order, order] matrix.
    static func block(_ m: [Double], order: Int, rows: Range<Int>) -> [Double] {
        var out = [Double]()
        out.reserveCapacity(rows.count * rows.count)
        for i in rows { out.append(contentsOf: m[(i * order + rows.lowerBound)..<(i * order + rows.upperBound)]) }
        return out
    }

    static func mask(_ indices: [Int], count: Int) -> [Bool] {
        var m = [Bool](repeating: false, count: count)
        for i in indices { m[i] = true }
        return m
    }
}
