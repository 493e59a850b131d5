// The linear teacher of Saxe et al. (ICLR 2018, §3 and §5, Fig. 3A) and the
// regression data it generates.
//
// X ~ N(0, I/N_i), Y = W_o X + ε with ε ~ N(0, σ_o² I) and the teacher's
// entries W_o ~ N(0, σ_w²); optionally only the first `relevantCount` inputs
// carry weight (the task-relevant / task-irrelevant split of §6, Fig. 6).
// Samples are Double, row-major. This file deliberately holds no student, no
// training loop and no information measure: those live in Training and
// InfoTheory.
//
// [saxe2018]: https://openreview.net/forum?id=ry_WPG-A-

import Tensors

/// A linear map with Gaussian weights plus Gaussian output noise, the teacher
/// of the linear student-teacher experiments.
///
/// The teacher computes y = W_o x + ε for x ∈ ℝ^{N_i}, y ∈ ℝ^{N_o}, where
/// - x ~ N(0, v I), with input variance v = 1/N_i by default, so that each
///   input has variance 1/N_i and ‖x‖² ≈ 1 ([Saxe et al. 2018][saxe2018], §5);
/// - W_o is [N_o, N_i], row-major, entries ~ N(0, σ_w²) on the relevant inputs
///   and exactly 0 on the irrelevant ones;
/// - ε ~ N(0, σ_o² I_{N_o}).
///
/// The signal-to-noise ratio is SNR = σ_w²/σ_o² (the paper's definition). With
/// x ~ N(0, I/N_i) the per-output signal variance is E[(W_o x)_k²] =
/// σ_w² · N_rel/N_i, so with all inputs relevant the signal variance equals σ_w²
/// and SNR is also the ratio of signal to noise variance at the output.
public struct LinearTeacher: Sendable, Equatable {
    /// N_i, the number of inputs.
    public let inputCount: Int
    /// N_o, the number of outputs.
    public let outputCount: Int
    /// W_o, [outputCount, inputCount] row-major.
    public let weights: [Double]
    /// σ_w², the variance the relevant weights were drawn with.
    public let weightVariance: Double
    /// σ_o², the variance of the output noise ε.
    public let noiseVariance: Double
    /// v, the variance of every input (1/N_i unless given).
    public let inputVariance: Double
    /// N_rel: inputs 0..<relevantCount carry the teacher's weight; the rest
    /// (relevantCount..<inputCount) are task-irrelevant (zero weight).
    public let relevantCount: Int

    /// A teacher with weights drawn from `rng`.
    ///
    /// Draw order (fixed, so that a seed determines the teacher): W_o row by
    /// row, relevant entries only.
    ///
    /// - Parameters:
    ///   - inputCount: N_i.
    ///   - outputCount: N_o.
    ///   - weightVariance: σ_w².
    ///   - noiseVariance: σ_o² (may be 0).
    ///   - relevantCount: N_rel ≤ N_i; nil means every input is relevant.
    ///   - inputVariance: v; nil means 1/N_i.
    /// - Precondition: positive counts, σ_w² ≥ 0, σ_o² ≥ 0, v > 0, 0 ≤ N_rel ≤ N_i.
    public init(inputCount: Int, outputCount: Int = 1, weightVariance: Double, noiseVariance: Double,
                relevantCount: Int? = nil, inputVariance: Double? = nil, rng: inout RandomGenerator) {
        let relevant = relevantCount ?? inputCount
        precondition(relevant >= 0 && relevant <= inputCount,
                     "LinearTeacher: \(relevant) relevant of \(inputCount) inputs")
        precondition(weightVariance >= 0, "LinearTeacher: weight variance \(weightVariance)")
        let std = weightVariance.squareRoot()
        var w = [Double](repeating: 0, count: outputCount * inputCount)
        for k in 0..<outputCount {
            for i in 0..<relevant { w[k * inputCount + i] = std * rng.normal() }
        }
        self.init(weights: w, inputCount: inputCount, outputCount: outputCount, weightVariance: weightVariance,
                  noiseVariance: noiseVariance, relevantCount: relevant, inputVariance: inputVariance)
    }

    /// A teacher with the given weights.
    ///
    /// - Precondition: `weights.count == outputCount · inputCount`, the
    ///   weights of inputs relevantCount..<inputCount are zero, σ_o² ≥ 0, v > 0.
    public init(weights: [Double], inputCount: Int, outputCount: Int, weightVariance: Double, noiseVariance: Double,
                relevantCount: Int? = nil, inputVariance: Double? = nil) {
        precondition(inputCount > 0 && outputCount > 0, "LinearTeacher: \(outputCount)×\(inputCount) teacher")
        precondition(weights.count == outputCount * inputCount,
                     "LinearTeacher: \(weights.count) weights for \(outputCount)×\(inputCount)")
        let relevant = relevantCount ?? inputCount
        precondition(relevant >= 0 && relevant <= inputCount, "LinearTeacher: \(relevant) relevant of \(inputCount) inputs")
        for k in 0..<outputCount {
            for i in relevant..<inputCount {
                precondition(weights[k * inputCount + i] == 0, "LinearTeacher: irrelevant input \(i) has weight")
            }
        }
        precondition(noiseVariance >= 0 && noiseVariance.isFinite, "LinearTeacher: noise variance \(noiseVariance)")
        let v = inputVariance ?? 1 / Double(inputCount)
        precondition(v > 0 && v.isFinite, "LinearTeacher: input variance \(v)")
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.weights = weights
        self.weightVariance = weightVariance
        self.noiseVariance = noiseVariance
        self.inputVariance = v
        self.relevantCount = relevant
    }

    /// SNR = σ_w²/σ_o² (infinite without noise).
    public var signalToNoiseRatio: Double { weightVariance / noiseVariance }

    /// Σx = v I, [N_i, N_i] row-major.
    public var inputCovariance: [Double] {
        var s = [Double](repeating: 0, count: inputCount * inputCount)
        for i in 0..<inputCount { s[i * inputCount + i] = inputVariance }
        return s
    }

    /// Draws `count` samples: inputs first (all of them, row by row), then the
    /// noise (row by row), so that a seed determines the sample.
    ///
    /// - Returns: inputs [count, N_i] and targets [count, N_o], row-major.
    public func sample(count: Int, rng: inout RandomGenerator) -> RegressionSamples {
        precondition(count >= 0, "LinearTeacher.sample: count \(count)")
        let (ni, no) = (inputCount, outputCount)
        let xStd = inputVariance.squareRoot(), eStd = noiseVariance.squareRoot()
        var x = [Double](repeating: 0, count: count * ni)
        for j in x.indices { x[j] = xStd * rng.normal() }
        var y = [Double](repeating: 0, count: count * no)
        for j in y.indices { y[j] = eStd * rng.normal() }
        // Y += X · W_oᵀ: [count, N_i] × [N_i, N_o].
        if count > 0 {
            x.withUnsafeBufferPointer { xp in
                weights.withUnsafeBufferPointer { wp in
                    y.withUnsafeMutableBufferPointer { yp in
                        BLAS.dgemm(transposeA: false, transposeB: true, m: count, n: no, k: ni,
                                   a: xp.baseAddress!, lda: ni, b: wp.baseAddress!, ldb: ni,
                                   beta: 1, c: yp.baseAddress!, ldc: no)
                    }
                }
            }
        }
        return RegressionSamples(inputs: x, targets: y, count: count, inputCount: ni, outputCount: no)
    }
}

/// Real-valued regression samples: inputs [count, inputCount] and targets
/// [count, outputCount], both Double, row-major.
public struct RegressionSamples: Sendable, Equatable {
    public var inputs: [Double]
    public var targets: [Double]
    public let count: Int
    public let inputCount: Int
    public let outputCount: Int

    /// - Precondition: the arrays have count·inputCount and count·outputCount entries.
    public init(inputs: [Double], targets: [Double], count: Int, inputCount: Int, outputCount: Int) {
        precondition(inputs.count == count * inputCount && targets.count == count * outputCount,
                     "RegressionSamples: \(inputs.count) inputs, \(targets.count) targets for \(count) samples of \(inputCount)→\(outputCount)")
        self.inputs = inputs
        self.targets = targets
        self.count = count
        self.inputCount = inputCount
        self.outputCount = outputCount
    }

    /// The inputs as a Float tensor [count, inputCount] (for activation recording).
    public var inputTensor: Tensor { Tensor(shape: [count, inputCount], scalars: inputs.map(Float.init)) }
}

/// A teacher with its training set (P samples) and a large test set.
///
/// Draw order from one generator seeded with `seed`: the teacher's weights,
/// then the training set, then the test set. The same seed gives the same
/// teacher and data bit for bit.
public struct LinearTeacherTask: Sendable, Equatable {
    public let teacher: LinearTeacher
    public let train: RegressionSamples
    public let test: RegressionSamples

    /// - Parameters:
    ///   - inputCount: N_i (100 in the paper's Fig. 3).
    ///   - outputCount: N_o (1 in Fig. 3).
    ///   - signalToNoiseRatio: σ_w²/σ_o² (1 in Fig. 3); σ_o² = σ_w²/SNR.
    ///   - weightVariance: σ_w² (default 1).
    ///   - relevantCount: N_rel, nil for all inputs (30 of 100 in Fig. 6).
    ///   - trainCount: P (100 in Fig. 3).
    ///   - testCount: test samples (default 10 000).
    ///   - seed: seeds a `RandomGenerator`.
    /// - Precondition: SNR > 0.
    public init(inputCount: Int, outputCount: Int = 1, signalToNoiseRatio: Double, weightVariance: Double = 1,
                relevantCount: Int? = nil, trainCount: Int, testCount: Int = 10_000, seed: UInt64) {
        precondition(signalToNoiseRatio > 0, "LinearTeacherTask: SNR \(signalToNoiseRatio)")
        var rng = RandomGenerator(seed: seed)
        teacher = LinearTeacher(inputCount: inputCount, outputCount: outputCount, weightVariance: weightVariance,
                                noiseVariance: weightVariance / signalToNoiseRatio, relevantCount: relevantCount, rng: &rng)
        train = teacher.sample(count: trainCount, rng: &rng)
        test = teacher.sample(count: testCount, rng: &rng)
    }

    /// A task from an existing teacher, with data drawn from `rng`.
    public init(teacher: LinearTeacher, trainCount: Int, testCount: Int, rng: inout RandomGenerator) {
        self.teacher = teacher
        train = teacher.sample(count: trainCount, rng: &rng)
        test = teacher.sample(count: testCount, rng: &rng)
    }
}
