// The Gamma and Beta samplers against their distributions' means and
// variances, and mixup: one permutation for inputs and labels, the mixed loss
// as λ CE(y) + (1 - λ) CE(y_π), and ERM as α → 0.

import Foundation
import NeuralNets
import Tensors
import Testing
import TestSupport

/// Sample mean, variance, and the standard errors of both (the variance's from
/// the sample fourth central moment: SE(s²) ≈ √((m₄ - s⁴)/N)).
private func moments(_ x: [Double]) -> (mean: Double, variance: Double, meanError: Double, varianceError: Double) {
    let n = Double(x.count)
    let mean = x.reduce(0, +) / n
    var m2 = 0.0, m4 = 0.0
    for v in x {
        let d = (v - mean) * (v - mean)
        m2 += d
        m4 += d * d
    }
    m2 /= n
    m4 /= n
    return (mean, m2, (m2 / n).squareRoot(), ((m4 - m2 * m2) / n).squareRoot())
}

private let draws = 20_000

@Test(arguments: [0.2, 1, 8, 32])
func symmetric_beta_mean_and_variance(alpha: Double) {
    var rng = RandomGenerator(seed: 11)
    let x = (0..<draws).map { _ in rng.beta(alpha, alpha) }
    #expect(x.allSatisfy { $0 >= 0 && $0 <= 1 })
    let m = moments(x)
    // Beta(α, α): mean 1/2, variance 1/(4(2α + 1)); within 4 standard errors.
    let variance = 1 / (4 * (2 * alpha + 1))
    #expect(abs(m.mean - 0.5) < 4 * (variance / Double(draws)).squareRoot(), "mean \(m.mean)")
    #expect(abs(m.variance - variance) < 4 * m.varianceError, "variance \(m.variance) vs \(variance) ± \(m.varianceError)")
}

@Test(arguments: [(0.5, 2.0), (3.0, 0.7), (2.0, 5.0), (0.1, 0.3)])
func asymmetric_beta_mean_and_variance(a: Double, b: Double) {
    var rng = RandomGenerator(seed: 12)
    let x = (0..<draws).map { _ in rng.beta(a, b) }
    #expect(x.allSatisfy { $0 >= 0 && $0 <= 1 })
    let m = moments(x)
    let mean = a / (a + b)
    let variance = a * b / ((a + b) * (a + b) * (a + b + 1))
    #expect(abs(m.mean - mean) < 4 * (variance / Double(draws)).squareRoot(), "mean \(m.mean) vs \(mean)")
    #expect(abs(m.variance - variance) < 4 * m.varianceError, "variance \(m.variance) vs \(variance) ± \(m.varianceError)")
}

@Test(arguments: [0.3, 1, 4.5])
func gamma_mean_and_variance(shape k: Double) {
    var rng = RandomGenerator(seed: 13)
    let x = (0..<draws).map { _ in rng.gamma(shape: k) }
    #expect(x.allSatisfy { $0 > 0 && $0.isFinite })
    let m = moments(x)
    // Gamma(k, 1): mean k, variance k, fourth central moment 3k² + 6k.
    let n = Double(draws)
    #expect(abs(m.mean - k) < 4 * (k / n).squareRoot(), "mean \(m.mean)")
    #expect(abs(m.variance - k) < 4 * ((2 * k * k + 6 * k) / n).squareRoot(), "variance \(m.variance)")
}

@Test func beta_with_tiny_alpha_is_a_fair_coin_on_0_and_1() {
    // Where U^(1/α) would underflow, the log-space draw still gives λ ∈ [0, 1]
    // with mass at the ends (and the variance 1/(4(2α + 1)) ≈ 1/4).
    // Near 0, P(λ < δ) ≈ δ^α / (α B(α, α)) ≈ δ^α / 2, so a fraction 1 - δ^α
    // (1.4 % for α = 10⁻³, δ = 10⁻⁶) lies inside (δ, 1 - δ).
    var rng = RandomGenerator(seed: 14)
    let n = draws
    let x = (0..<n).map { _ in rng.beta(1e-3, 1e-3) }
    #expect(x.allSatisfy { $0 >= 0 && $0 <= 1 && $0.isFinite })
    let inside = Double(x.filter { $0 > 1e-6 && $0 < 1 - 1e-6 }.count)
    let p = 1 - pow(1e-6, 1e-3)
    #expect(abs(inside - Double(n) * p) < 4 * (Double(n) * p).squareRoot(), "\(inside) of \(n) draws inside, expected \(Double(n) * p)")
    let m = moments(x)
    #expect(abs(m.mean - 0.5) < 4 * (0.25 / Double(n)).squareRoot())
}

@Test func samplers_are_deterministic() {
    var a = RandomGenerator(seed: 15), b = RandomGenerator(seed: 15), c = RandomGenerator(seed: 16)
    let first = (0..<100).map { _ in a.beta(0.4, 3) }
    #expect(first == (0..<100).map { _ in b.beta(0.4, 3) })
    #expect(first != (0..<100).map { _ in c.beta(0.4, 3) })
    #expect(a == b)
}

/// Inputs whose row i is the indicator of i ([n, n]), and one-hot targets of
/// class i mod classes, so a mixed row shows which rows it came from.
private func indicatorBatch(_ n: Int, classes: Int) -> (Tensor, Tensor, [Int]) {
    var x = Tensor.zeros([n, n])
    for i in 0..<n { x.scalars[i * n + i] = 1 }
    let labels = (0..<n).map { $0 % classes }
    return (x, oneHot(labels, classes: classes), labels)
}

@Test(arguments: [false, true])
func inputs_and_labels_use_the_same_permutation(perExample: Bool) {
    let n = 12, classes = 12
    let (x, y, labels) = indicatorBatch(n, classes: classes)
    var rng = RandomGenerator(seed: 21)
    let mixed = Mixup(alpha: 1, perExample: perExample).mix(inputs: x, targets: y, rng: &rng)
    #expect(mixed.lambdas.count == (perExample ? n : 1))
    #expect(mixed.permutation.sorted() == Array(0..<n))
    for i in 0..<n {
        let lambda = mixed.lambdas.count == 1 ? mixed.lambdas[0] : mixed.lambdas[i]
        let row = Array(mixed.inputs.scalars[(i * n)..<((i + 1) * n)])
        // Read the partner off the input row (the other non-zero entry) …
        let partner = row.indices.filter { $0 != i && row[$0] != 0 }.first ?? i
        #expect(partner == mixed.permutation[i])
        if partner != i {
            #expect(abs(row[i] - lambda) < 1e-6 && abs(row[partner] - (1 - lambda)) < 1e-6)
        }
        // … and check that the target row mixes the same two labels with the same weights.
        var expected = [Float](repeating: 0, count: classes)
        expected[labels[i]] += lambda
        expected[labels[partner]] += 1 - lambda
        let target = Array(mixed.targets.scalars[(i * classes)..<((i + 1) * classes)])
        for c in 0..<classes { #expect(abs(target[c] - expected[c]) < 1e-6) }
        #expect(abs(target.reduce(0, +) - 1) < 1e-6)
    }
    if perExample { #expect(Set(mixed.lambdas).count > 1) }
}

@Test func mixing_draws_lambda_then_permutation() {
    var rng = RandomGenerator(seed: 22), replay = rng
    let (x, y, _) = indicatorBatch(8, classes: 3)
    let mixed = Mixup(alpha: 0.4).mix(inputs: x, targets: y, rng: &rng)
    let lambda = Float(replay.beta(0.4, 0.4))
    #expect(mixed.lambdas == [lambda])
    #expect(mixed.permutation == replay.permutation(8))
    #expect(rng == replay)
    #expect(mixed.inputs == Mixup.mixRows(x, lambdas: [lambda], permutation: mixed.permutation))
}

private func smallNetwork(seed: UInt64) -> MLP {
    var rng = RandomGenerator(seed: seed)
    return MLP(widths: [5, 6, 3], hiddenActivation: .tanh, initializer: .truncatedNormal, rng: &rng)
}

@Test func mixed_loss_is_the_lambda_weighted_sum_of_two_cross_entropies() {
    // CE against ỹ = λy + (1 - λ)y_π equals λ CE(f(x̃), y) + (1 - λ) CE(f(x̃), y_π),
    // for the loss and for every parameter's gradient.
    let model = smallNetwork(seed: 1)
    let x = randomTensor([8, 5], seed: 2)
    let labels = [0, 1, 2, 2, 1, 0, 1, 2]
    let y = oneHot(labels, classes: 3)
    var rng = RandomGenerator(seed: 3)
    let mixed = Mixup(alpha: 0.7).mix(inputs: x, targets: y, rng: &rng)
    let lambda = mixed.lambdas[0]
    let yPartner = oneHot(mixed.permutation.map { labels[$0] }, classes: 3)
    let (loss, grads) = model.crossEntropyGradients(x: mixed.inputs, targets: mixed.targets)
    let (lossOwn, gradsOwn) = model.crossEntropyGradients(x: mixed.inputs, targets: y)
    let (lossPartner, gradsPartner) = model.crossEntropyGradients(x: mixed.inputs, targets: yPartner)
    #expect(abs(loss - (lambda * lossOwn + (1 - lambda) * lossPartner)) < 1e-5)
    for p in grads.indices {
        let combined = gradsOwn[p] * lambda + gradsPartner[p] * (1 - lambda)
        #expect(approximatelyEqual(grads[p], combined, tolerance: 1e-4, floor: 1e-3))
    }
}

@Test func mixup_with_alpha_to_zero_gives_erm_gradients() {
    // λ ∈ {0, 1}: the batch itself or a permutation of it, whose mean loss and
    // gradient are ERM's (up to the order of summation).
    let model = smallNetwork(seed: 4)
    var rng = RandomGenerator(seed: 5)
    let mixup = Mixup(alpha: 1e-4)
    var sawBothEnds = Set<Float>()
    for batch in 0..<10 {
        let x = randomTensor([16, 5], seed: 100 + UInt64(batch))
        let y = oneHot((0..<16).map { ($0 * 7 + batch) % 3 }, classes: 3)
        let mixed = mixup.mix(inputs: x, targets: y, rng: &rng)
        sawBothEnds.insert(mixed.lambdas[0])
        let (loss, grads) = model.crossEntropyGradients(x: mixed.inputs, targets: mixed.targets)
        let (ermLoss, ermGrads) = model.crossEntropyGradients(x: x, targets: y)
        #expect(abs(loss - ermLoss) < 1e-5 * max(1, abs(ermLoss)))
        for p in grads.indices {
            #expect(approximatelyEqual(grads[p], ermGrads[p], tolerance: 1e-4, floor: 1e-3))
        }
    }
    // Both ends occur, so both the identity and the permutation were exercised.
    #expect(sawBothEnds == [0, 1])
}

@Test func large_alpha_mixes_near_one_half() {
    var rng = RandomGenerator(seed: 6)
    let (x, y, _) = indicatorBatch(4, classes: 2)
    let lambdas = (0..<200).map { _ in Mixup(alpha: 32).mix(inputs: x, targets: y, rng: &rng).lambdas[0] }
    // Standard deviation 1/(2√65) ≈ 0.062: every draw within 5 of them of 1/2.
    #expect(lambdas.allSatisfy { abs($0 - 0.5) < 0.31 })
}
