// The Fréchet distance against the closed form for Gaussians, class coverage
// by hand, the classifier's cache, and both metrics on Fashion-MNIST: reals
// against held-out reals near, noise and one repeated image far.

import ArrayIO
import Foundation
@testable import ProgressiveGAN
import Tensors
import Testing

@Test func the_frechet_distance_of_two_gaussians_is_the_closed_form() {
    // Σ₁ = [[2, 1], [1, 2]] and Σ₂ = diag(1, 3) do not commute. For 2 x 2
    // positive definite M, tr M^½ = √(tr M + 2 √det M); with M = Σ₁^½ Σ₂ Σ₁^½,
    // tr M = tr Σ₁Σ₂ = 2 + 6 = 8 and det M = det Σ₁ det Σ₂ = 3 · 3 = 9.
    let s1: [Double] = [2, 1, 1, 2], s2: [Double] = [1, 0, 0, 3]
    let m1: [Double] = [1, -1], m2: [Double] = [0, 1]
    let expected = (1 + 4) + (4 + 4) - 2 * (8 + 2 * 3.0).squareRoot()
    let d = FrechetDistance.distance(mean1: m1, covariance1: s1, mean2: m2, covariance2: s2)
    #expect(abs(d - expected) < 1e-12)
    // Symmetric, zero against itself, and a shift adds its squared length.
    #expect(abs(FrechetDistance.distance(mean1: m2, covariance1: s2, mean2: m1, covariance2: s1) - expected) < 1e-12)
    #expect(abs(FrechetDistance.distance(mean1: m1, covariance1: s1, mean2: m1, covariance2: s1)) < 1e-12)
    // Commuting (diagonal) covariances: |Δμ|² + Σ (σ₁ - σ₂)².
    let diagonal = FrechetDistance.distance(mean1: [0, 0, 0], covariance1: [4, 0, 0, 0, 9, 0, 0, 0, 1],
                                            mean2: [3, 0, 0], covariance2: [1, 0, 0, 0, 1, 0, 0, 0, 0])
    #expect(abs(diagonal - (9 + 1 + 4 + 1)) < 1e-12)
}

@Test func the_frechet_distance_of_samples_approaches_the_gaussians() {
    // 20,000 samples each of N(m1, Σ₁) and N(m2, Σ₂) above, drawn as L z with L L^T = Σ.
    var rng = RandomGenerator(seed: 8)
    func draw(_ mean: [Double], _ l: [Double]) -> [Float] {
        (0..<20_000).flatMap { _ -> [Float] in
            let z = [rng.normal(), rng.normal()]
            return [Float(mean[0] + l[0] * z[0]), Float(mean[1] + l[2] * z[0] + l[3] * z[1])]
        }
    }
    // Cholesky factor of [[2, 1], [1, 2]]: [[√2, 0], [1 / √2, √(3 / 2)]].
    let a = draw([1, -1], [Double(2.0).squareRoot(), 0, Double(0.5).squareRoot(), Double(1.5).squareRoot()])
    let b = draw([0, 1], [1, 0, 0, Double(3.0).squareRoot()])
    let statistics = FrechetDistance.statistics(a, rows: 20_000, columns: 2)
    #expect(abs(statistics.covariance[1] - 1) < 0.05 && statistics.covariance[1] == statistics.covariance[2])
    let d = FrechetDistance.distance(Tensor(shape: [20_000, 2], scalars: a), Tensor(shape: [20_000, 2], scalars: b))
    let expected = 13 - 2 * Double(14.0).squareRoot()
    #expect(abs(d - expected) < 0.1, "\(d) against \(expected)")
}

@Test func class_coverage_by_hand() {
    // 40 predictions of 10 classes: class 0 20 times, 1 10, 2 8, 3 2 (1/20 of 40), 4 none.
    let p = [Int](repeating: 0, count: 20) + [Int](repeating: 1, count: 10) + [Int](repeating: 2, count: 8) + [3, 3]
    let c = ClassCoverage(predictions: p, classes: 10)
    #expect(c.counts == [20, 10, 8, 2, 0, 0, 0, 0, 0, 0] && c.covered == 4 && c.share == 0.4)
    let h = -(0.5 * log(0.5) + 0.25 * log(0.25) + 0.2 * log(0.2) + 0.05 * log(0.05)) / log(10)
    #expect(abs(c.normalizedEntropy - h) < 1e-12)
    // One class only; every class equally often.
    #expect(ClassCoverage(predictions: [7, 7, 7], classes: 10).covered == 1)
    #expect(ClassCoverage(predictions: [7, 7, 7], classes: 10).normalizedEntropy == 0)
    let uniform = ClassCoverage(predictions: Array(0..<10) + Array(0..<10), classes: 10)
    #expect(uniform.covered == 10 && abs(uniform.normalizedEntropy - 1) < 1e-12)
    // 1 of 41 is below 1/20 of the samples.
    #expect(ClassCoverage(predictions: [Int](repeating: 0, count: 40) + [1], classes: 10).covered == 1)
}

@Test func the_classifier_is_cached_and_a_cache_trained_otherwise_is_refused() throws {
    let dir = try temporaryDirectory()
    let unlabelled = squares(count: 16, resolution: 16, seed: 2)
    let images = TrainingImages(floats: unlabelled.batch(Array(0..<16)).scalars, count: 16, channels: 1, resolution: 16,
                                labels: (0..<16).map { $0 % 3 })
    let settings = FeatureClassifierSettings(seed: 4, steps: 5, batchSize: 8)
    let path = dir + "/classifier.npz"
    let first = try FeatureClassifier.cached(at: path, images: images, settings: settings, source: "squares")
    let bytes = try AtomicFile.read(path)
    // Trained again from the seed: the same bytes; read back: the same features.
    #expect(try FeatureClassifier.train(images, settings: settings, source: "squares").encoded() == bytes)
    let again = try FeatureClassifier.cached(at: path, images: images, settings: settings, source: "squares")
    let x = images.batch(Array(0..<16))
    #expect(first.evaluate(x).features.scalars == again.evaluate(x).features.scalars)
    #expect(first.classes == 3 && first.evaluate(x).features.shape == [16, 64])
    do {
        _ = try FeatureClassifier.cached(at: path, images: images, settings: FeatureClassifierSettings(seed: 5, steps: 5, batchSize: 8),
                                         source: "squares")
        Issue.record("a cache of seed 4 was taken for seed 5")
    } catch let error as FileError {
        #expect(error.path == path && error.reason.contains("seed 4") && error.reason.contains("seed 5"))
    }
    #expect(throws: FileError.self) {
        _ = try FeatureClassifier.train(unlabelled, settings: settings, source: "squares")
    }
}

/// A classifier of 300 steps on 3000 Fashion-MNIST training images; 200
/// test images against 200 others, uniform noise and one image repeated.
@Test(.enabled(if: fashionMNISTPresent))
func on_fashion_mnist_reals_are_near_held_out_reals_and_far_from_noise_or_one_image() throws {
    let train = try TrainingImages.fashionMNIST(count: 3000)
    let test = try TrainingImages.fashionMNIST(test: true, count: 400)
    let classifier = try FeatureClassifier.train(train, settings: FeatureClassifierSettings(seed: 1, steps: 300), source: "fashion-mnist")
    let a = test.batch(Array(0..<200)), b = test.batch(Array(200..<400))
    var rng = RandomGenerator(seed: 9)
    let noise = Tensor(shape: a.shape, scalars: (0..<a.count).map { _ in rng.uniform(-1, 1) })
    let one = Tensor(shape: a.shape, scalars: [[Float]](repeating: Array(a.scalars[0..<1024]), count: 200).flatMap { $0 })
    let fa = classifier.evaluate(a).features
    let near = FrechetDistance.distance(fa, classifier.evaluate(b).features)
    let far = FrechetDistance.distance(fa, classifier.evaluate(noise).features)
    let repeated = FrechetDistance.distance(fa, classifier.evaluate(one).features)
    print("Fréchet distance: held-out reals \(near), noise \(far), one image \(repeated)")
    #expect(near > 0 && far > 10 * near && repeated > 3 * near)

    let predicted = classifier.predictions(a)
    let accuracy = Double(zip(predicted, test.labels[0..<200]).filter { $0 == $1 }.count) / 200
    let reals = ClassCoverage(predictions: predicted, classes: 10)
    let single = ClassCoverage(predictions: classifier.predictions(one), classes: 10)
    print("accuracy \(accuracy), coverage of reals \(reals.counts), of one image \(single.counts)")
    #expect(accuracy > 0.6)
    #expect(reals.covered >= 9 && reals.normalizedEntropy > 0.9)
    #expect(single.covered == 1 && single.normalizedEntropy == 0)
}
