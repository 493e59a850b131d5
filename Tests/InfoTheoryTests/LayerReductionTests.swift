// Tests of the structured-layer reductions (hand-computed feature maps and sequences, the
// automatic choice, the projection's seeding and distance keeping) and of the whole-run driver
// with layers in parts and with the kNN estimator.

import Foundation
import Testing
import Tensors
@testable import InfoTheory

@Suite struct LayerReductionTests {
    /// Two samples of a C = 2, H = 1, W = 3 feature map (NCHW: channel-major).
    let maps = ActivationMatrix(rows: [[1, 2, 3, 4, 5, 9], [0, -1, 7, 2, 2, 2]])
    /// Two samples of an L = 3, D = 2 sequence (positions first).
    let sequences = ActivationMatrix(rows: [[1, 2, 3, 4, 5, 0], [6, 1, 0, 0, 3, 8]])

    @Test func featureMapsPoolAndSplitOverChannels() throws {
        let mean = try LayerReduction.meanPool.apply(maps, sampleShape: [2, 1, 3], layer: 1)
        #expect(mean == [ActivationMatrix(rows: [[2, 6], [2, 2]])])
        let max = try LayerReduction.maxPool.apply(maps, sampleShape: [2, 1, 3], layer: 1)
        #expect(max == [ActivationMatrix(rows: [[3, 9], [7, 2]])])
        let positions = try LayerReduction.perPosition.apply(maps, sampleShape: [2, 1, 3], layer: 1)
        #expect(positions == [ActivationMatrix(rows: [[1, 4], [0, 2]]), ActivationMatrix(rows: [[2, 5], [-1, 2]]),
                              ActivationMatrix(rows: [[3, 9], [7, 2]])])
        #expect(try LayerReduction.flatten.apply(maps, sampleShape: [2, 1, 3], layer: 1) == [maps])
    }

    @Test func sequencesPoolAndSplitOverTokens() throws {
        let mean = try LayerReduction.meanPool.apply(sequences, sampleShape: [3, 2], layer: 1)
        #expect(mean == [ActivationMatrix(rows: [[3, 2], [3, 3]])])
        let max = try LayerReduction.maxPool.apply(sequences, sampleShape: [3, 2], layer: 1)
        #expect(max == [ActivationMatrix(rows: [[5, 4], [6, 8]])])
        let positions = try LayerReduction.perPosition.apply(sequences, sampleShape: [3, 2], layer: 1)
        #expect(positions.count == 3)
        #expect(positions[2] == ActivationMatrix(rows: [[5, 0], [3, 8]]))
    }

    @Test func automaticFlattensSmallLayersAndVectors() {
        #expect(LayerReduction.automatic.resolved(for: [8, 4, 4]) == .flatten)       // 128 values
        #expect(LayerReduction.automatic.resolved(for: [64, 4, 4]) == .meanPool)     // 1024 values
        #expect(LayerReduction.automatic.resolved(for: [12, 64]) == .meanPool)       // 768 values
        #expect(LayerReduction.automatic.resolved(for: [4096]) == .flatten)          // a vector
        #expect(LayerReduction.maxPool.resolved(for: [4096]) == .maxPool)
        // Pooling a vector (one position) leaves it as it is.
        let v = ActivationMatrix(rows: [[1, 2, 3]])
        #expect((try? LayerReduction.meanPool.apply(v, sampleShape: [3], layer: 1)) == [v])
    }

    @Test func aShapeThatDoesNotMatchTheRowsIsAnError() {
        #expect(throws: InfoTheoryError.self) { try LayerReduction.meanPool.apply(maps, sampleShape: [2, 2, 2], layer: 1) }
        #expect(throws: InfoTheoryError.self) {
            try LayerReduction.projection(dimension: 0, seed: 1).apply(maps, sampleShape: [2, 1, 3], layer: 1)
        }
    }

    @Test func projectionIsSeededPerLayerAndKeepsDistances() throws {
        var rng = RandomGenerator(seed: 5)
        let n = 20, width = 400, dimension = 300
        let m = ActivationMatrix(rows: n, columns: width, scalars: (0..<(n * width)).map { _ in Float(rng.normal()) })
        let a = try LayerReduction.projection(dimension: dimension, seed: 3).apply(m, sampleShape: [16, 25], layer: 2)[0]
        let b = try LayerReduction.projection(dimension: dimension, seed: 3).apply(m, sampleShape: [16, 25], layer: 2)[0]
        let c = try LayerReduction.projection(dimension: dimension, seed: 3).apply(m, sampleShape: [16, 25], layer: 3)[0]
        #expect(a == b)
        #expect(a != c)
        #expect(a.rows == n && a.columns == dimension)
        func distance(_ x: ActivationMatrix, _ i: Int, _ j: Int) -> Double {
            (0..<x.columns).reduce(0.0) { s, k in
                let d = Double(x.scalars[i * x.columns + k] - x.scalars[j * x.columns + k]); return s + d * d
            }.squareRoot()
        }
        // Johnson-Lindenstrauss: with 300 dimensions, every ratio within 1 ± 0.3 (a ratio's
        // standard deviation is about 1/√600 = 0.04).
        for i in 0..<n { for j in (i + 1)..<n {
            let ratio = distance(a, i, j) / distance(m, i, j)
            #expect(abs(ratio - 1) < 0.3, "pair \(i), \(j): ratio \(ratio)")
        } }
    }

    @Test func aLayerInPartsIsTheAverageOfItsParts() throws {
        var rng = RandomGenerator(seed: 8)
        let n = 200
        let labels = (0..<n).map { $0 % 3 }
        let parts = (0..<3).map { p in
            ActivationMatrix(rows: n, columns: 2, scalars: (0..<(2 * n)).map { i in Float(rng.nextInt(below: 3 + p) + (i / 2) % 3) })
        }
        let driver = try InformationPlaneEstimation(configuration: .binning(.width(1)), labels: labels)
        let rows = try driver.run([LayerEpoch(epoch: 0, layer: 1)], parts: { _ in parts })
        let single = try parts.map { m in try driver.run([LayerEpoch(epoch: 0, layer: 1)], activations: { _ in m })[0].values }
        #expect(rows[0].parts == single)
        for c in 0..<3 {
            #expect(abs(rows[0].values[c] - single.map { $0[c] }.reduce(0, +) / 3) < 1e-12)
        }
        // One part: no parts recorded.
        #expect(try driver.run([LayerEpoch(epoch: 0, layer: 1)], activations: { _ in parts[0] })[0].parts == nil)
    }

    @Test func theKNNDriverNeedsInputsAndReportsBits() throws {
        var rng = RandomGenerator(seed: 2)
        let n = 500
        let x = (0..<n).map { _ in Float(rng.normal()) }
        let t = x.map { $0 + Float(rng.normal()) }
        let labels = x.map { $0 > 0 ? 1 : 0 }
        let configuration = EstimatorConfiguration.knn(k: 3, algorithm: .one, noiseVariance: nil, seed: 0)
        #expect(throws: InfoTheoryError.self) { try InformationPlaneEstimation(configuration: configuration, labels: labels) }
        let inputs = ActivationMatrix(rows: n, columns: 1, scalars: x)
        let layer = ActivationMatrix(rows: n, columns: 1, scalars: t)
        let driver = try InformationPlaneEstimation(configuration: configuration, labels: labels, inputs: inputs)
        let row = try driver.run([LayerEpoch(epoch: 0, layer: 1)], activations: { _ in layer })[0]
        let ksg = try KSGEstimator(k: 3)
        #expect(configuration.columns == ["I_XT", "I_TY"])
        #expect(row.values[0] == (try ksg.mutualInformation(inputs, layer)) / log(2))
        #expect(row.values[1] == (try ksg.labelInformation(layer, labels: labels)) / log(2))
        // SNR 1: I = ½ log2 2 = 0.5 bit.
        #expect(abs(row.values[0] - 0.5) < 0.15)
        // Selected samples select the inputs too.
        let half = try InformationPlaneEstimation(configuration: configuration, labels: labels, sampleIndices: Array(0..<250),
                                                  inputs: inputs)
        let halfRow = try half.run([LayerEpoch(epoch: 0, layer: 1)], activations: { _ in layer })[0]
        let first = ActivationMatrix(rows: 250, columns: 1, scalars: Array(x[0..<250]))
        let firstT = ActivationMatrix(rows: 250, columns: 1, scalars: Array(t[0..<250]))
        #expect(halfRow.values[0] == (try ksg.mutualInformation(first, firstT)) / log(2))
    }
}

@Suite struct DiscreteInputKNNTests {
    /// I(B; S + Z) in bits for B a fair bit, S = ±1, Z ~ N(0, s2): h(mixture) − h(Z) by the
    /// trapezoid rule on [−12, 12].
    static func twoPointMixtureInformation(variance s2: Double) -> Double {
        let sd = s2.squareRoot()
        func normal(_ t: Double, _ mu: Double) -> Double { exp(-(t - mu) * (t - mu) / (2 * s2)) / (sd * (2 * Double.pi).squareRoot()) }
        let steps = 48_000, a = -12.0, h = 24.0 / Double(steps)
        var hMixture = 0.0
        for i in 0...steps {
            let t = a + Double(i) * h
            let p = 0.5 * normal(t, 1) + 0.5 * normal(t, -1)
            if p > 0 { hMixture -= (i == 0 || i == steps ? 0.5 : 1) * h * p * log(p) }
        }
        let hNoise = 0.5 * log(2 * Double.pi * exp(1) * s2)
        return (hMixture - hNoise) / log(2)
    }

    @Test func theNoisyDiscreteFormMatchesAGaussianMixture() throws {
        // 1200 distinct inputs whose layer is +1 or −1: I(X; T + Z) = I(B; T + Z) exactly.
        // Measured: 0.922 and 0.540 bits against 0.913 and 0.486 (s2 = 0.25, 1). Ross's form
        // with classes of 8 draws is biased upwards by up to about 0.05 bit here; the bias falls
        // slowly with more draws (0.504 with 32) and does not vanish with more inputs alone.
        let n = 1200, draws = 8
        do {
        let layer = ActivationMatrix(rows: n, columns: 1, scalars: (0..<n).map { $0 % 2 == 0 ? 1 : -1 })
        let labels = (0..<n).map { $0 % 2 }
        for s2 in [0.25, 1.0] {
            let exact = Self.twoPointMixtureInformation(variance: s2)
            let configuration = EstimatorConfiguration.knn(k: 3, algorithm: .one, noiseVariance: s2, seed: 4,
                                                           inputs: .discrete(replicates: draws))
            let driver = try InformationPlaneEstimation(configuration: configuration, labels: labels)
            let row = try driver.run([LayerEpoch(epoch: 0, layer: 1)], activations: { _ in layer })[0]
            #expect(abs(row.values[0] - exact) < 0.07, "s2 = \(s2): \(row.values[0]) bits, exact \(exact)")
            // The label here is B itself: I(T + Z; Y) is the same mixture information.
            #expect(abs(row.values[1] - exact) < 0.05, "s2 = \(s2): I(T;Y) \(row.values[1]) bits, exact \(exact)")
            let again = try driver.run([LayerEpoch(epoch: 0, layer: 1)], activations: { _ in layer })[0]
            #expect(again == row)
        }
        }
    }

    @Test func theDiscreteFormNeedsNoiseAndTwoDraws() {
        let labels = [0, 1, 0, 1]
        #expect(throws: InfoTheoryError.self) {
            try InformationPlaneEstimation(configuration: .knn(k: 1, algorithm: .one, noiseVariance: nil, seed: 0,
                                                               inputs: .discrete(replicates: 8)), labels: labels)
        }
        #expect(throws: InfoTheoryError.self) {
            try InformationPlaneEstimation(configuration: .knn(k: 1, algorithm: .one, noiseVariance: 0.1, seed: 0,
                                                               inputs: .discrete(replicates: 1)), labels: labels)
        }
    }
}
