// The compression rule on synthetic curves (a single-epoch spike, a smooth
// rise and fall, noisy tails), its pieces by hand (running median, noise), the
// run-inclusion rule, and the seed bootstrap (seeded, and a case whose
// interval follows from counting).

import ActivationStore
import Analysis
import Testing

@Suite struct CompressionVerdictTests {
    /// A fixed zero-mean pattern standing in for estimator noise.
    static let pattern = [0.5, -0.3, 0.1, -0.6, 0.4, -0.2, 0.6, -0.5, 0.2, -0.1]
    static let raw = CompressionRule(window: 1, noiseMultiple: 0)

    /// `count` values from `start` by `step`.
    static func ramp(_ count: Int, from start: Double, step: Double) -> [Double] {
        (0..<count).map { (k: Int) -> Double in start + step * Double(k) }
    }

    /// `count` values of `level` plus the noise pattern times `scale`.
    static func noisy(_ count: Int, level: Double, scale: Double = 1) -> [Double] {
        (0..<count).map { (k: Int) -> Double in level + scale * pattern[k % 10] }
    }

    static func verdict(_ values: [Double], _ rule: CompressionRule = CompressionRule()) -> CompressionVerdict {
        rule.verdict(epochs: Array(values.indices), values: values)
    }

    @Test func singleEpochSpikeDoesNotCompress() {
        // Flat at 5 bits (± 0.02) with one recorded epoch at 8.
        var values = Self.noisy(40, level: 5, scale: 0.04)
        values[20] = 8
        // Read epoch against epoch, the spike is a 3-bit compression ...
        #expect(Self.verdict(values, Self.raw).compressed)
        // ... the running median removes it.
        let v = Self.verdict(values)
        #expect(!v.compressed)
        #expect(v.peak < 5.05 && v.drop < 0.1)
        #expect(v.rawPeak == 8 && v.rawPeakEpoch == 20)
    }

    @Test func smoothRiseAndFallCompresses() {
        // Up from 2 to 8 bits by epoch 20, then down to 4 by epoch 60 and flat.
        let values: [Double] = Self.ramp(21, from: 2, step: 0.3) + Self.ramp(40, from: 7.9, step: -0.1) + Self.ramp(19, from: 4, step: 0)
        let v = Self.verdict(values)
        #expect(v.compressed)
        // The median of 7.4, 7.7, 8, 7.9, 7.8 around epoch 20 is 7.8 (the raw peak is 8).
        #expect(abs(v.peak - 7.8) < 1e-12 && v.peakEpoch == 20 && abs(v.final - 4) < 1e-12 && v.rawPeak == 8)
        // Differences: 40 of −0.1, 19 of 0, 20 of 0.3; median −0.1, and the median absolute
        // deviation is 0 (up to the rounding of the ramps).
        #expect(abs(v.threshold - 0.39) < 1e-12 && v.noise < 1e-12 && v.required == v.threshold)
    }

    @Test func noisyTailIsJudgedByItsSmoothedLevel() {
        // Up to 6 bits, then ± 0.6 bit of noise around 6, the last epoch 2.5 bits low.
        var values: [Double] = Self.ramp(21, from: 2, step: 0.2) + Self.noisy(30, level: 6)
        values[values.count - 1] = 3.5
        #expect(Self.verdict(values, Self.raw).compressed)
        let v = Self.verdict(values)
        #expect(!v.compressed)
        #expect(abs(v.final - 6) <= 0.6, "the smoothed final stays at the tail's level, not at the last epoch")
        // The noise is measured: a bar of 3 noise standard deviations above the 5 % threshold.
        #expect(v.required > v.threshold && v.required == 3 * v.noise)

        // A real fall to 4 bits under the same noise, whose last epoch jumps back up to 7.5:
        // epoch against epoch no compression, by the smoothed level 3 bits of it.
        var falling: [Double] = Self.ramp(21, from: 2, step: 0.25) + Self.noisy(10, level: 7)
        falling += Self.ramp(10, from: 6.7, step: -0.3) + Self.noisy(20, level: 4)
        falling[falling.count - 1] = 7.5
        #expect(!Self.verdict(falling, Self.raw).compressed)
        let f = Self.verdict(falling)
        #expect(f.compressed && abs(f.final - 4) <= 0.6)
    }

    @Test func runningMedianByHand() {
        let rule = CompressionRule(window: 3)
        // Windows cut at the ends: (1, 9), (1, 9, 2), (9, 2, 8), (2, 8, 3), (8, 3).
        #expect(rule.smooth([1, 9, 2, 8, 3]) == [5, 2, 8, 3, 5.5])
        #expect(CompressionRule(window: 1).smooth([1, 9, 2]) == [1, 9, 2])
        #expect(CompressionRule(window: 5).smooth([4]) == [4])
    }

    @Test func noiseByHand() {
        // Differences ±1 about a median of 0: MAD 1, σ = 1.4826 / √2.
        #expect(abs(CompressionRule.noise([0, 1, 0, 1, 0]) - 1.4826 / 2.0.squareRoot()) < 1e-15)
        // A straight line has constant differences: no noise, however steep.
        #expect(CompressionRule.noise((0..<10).map { 3 * Double($0) }) == 0)
        #expect(CompressionRule.noise([1, 5]) == 0)
    }

    @Test func ruleTextStatesItsParameters() {
        let text = CompressionRule(window: 7, noiseMultiple: 2).description
        #expect(text.contains("running median of 7 recorded epochs") && text.contains("last 4"))
        #expect(text.contains("max(0.25 bit, 5 % of the peak)") && text.contains("2 × its noise"))
    }

    @Test func tableVerdictsPerLayer() {
        // Two layers over five epochs; layer 2's single high epoch is no peak.
        let rows = (0..<5).flatMap { e in
            [InformationTable.Row(epoch: 10 * e, layer: 1, values: [[1, 4, 6, 3, 3][e], 0]),
             InformationTable.Row(epoch: 10 * e, layer: 2, values: [[2, 2, 9, 2, 2][e], 0])]
        }
        let c = InformationTable(columns: ["I_XT", "I_TY"], rows: rows).compression(rule: CompressionRule(window: 3))
        #expect(c.map(\.layer) == [1, 2])
        // Layer 1 smoothed: 2.5, 4, 4, 3, 3; layer 2: 2, 2, 2, 2, 2.
        #expect(c[0].peak == 4 && c[0].peakEpoch == 10 && c[0].final == 3 && c[0].finalEpoch == 40)
        #expect(c[1].peak == 2 && c[1].compression == 0 && !c[1].compressed && c[1].rawPeak == 9)
    }

    @Test func inclusionRuleListsWhatItExcludes() {
        let runs: [(name: String, accuracy: Double?)] = [("a", 1.0), ("b", 0.52), ("c", 0.9), ("linear", nil)]
        let rule = RunInclusion(minimumTrainingAccuracy: 0.9)
        let (included, excluded) = rule.split(runs) { $0.accuracy }
        #expect(included.map(\.name) == ["a", "c", "linear"] && excluded.map(\.name) == ["b"])
        #expect(RunInclusion.all.split(runs) { $0.accuracy }.excluded.isEmpty)
        #expect(rule.description.contains("at least 0.9"))
    }

    @Test func bootstrapIsSeededAndCountable() {
        let values = [0.3, 1.2, -0.4, 2.2, 0.9, 0.1, 1.7, -0.8]
        let b = SeedBootstrap(resamples: 1000, confidence: 0.9, seed: 11)
        #expect(b.interval(values) == b.interval(values))
        #expect(b.interval(values) != SeedBootstrap(resamples: 1000, confidence: 0.9, seed: 12).interval(values))
        let i = b.interval(values)
        #expect(abs(i.mean - values.reduce(0, +) / 8) < 1e-15 && i.lower < i.mean && i.mean < i.upper)
        // Two values 0 and 1: a resample's mean is 0, ½ or 1 with probabilities ¼, ½, ¼, so
        // the 2.5 % and 97.5 % quantiles of 2000 resamples are 0 and 1 (each is read at
        // the 50th resample from its end, and about 500 resamples are 0 and 500 are 1).
        let two = SeedBootstrap().interval([0, 1])
        #expect(two == Interval(mean: 0.5, lower: 0, upper: 1))
        // With a 40 % interval the 30 % and 70 % quantiles fall inside the block of about 1000 halves.
        #expect(SeedBootstrap(confidence: 0.4).interval([0, 1]) == Interval(mean: 0.5, lower: 0.5, upper: 0.5))
        #expect(SeedBootstrap().interval([2.5]) == Interval(mean: 2.5, lower: 2.5, upper: 2.5))
    }

    @Test func crossSeedVerdictNeedsTheIntervalAboveTheBar() {
        let rule = CompressionRule()
        let falling: [Double] = Self.ramp(21, from: 2, step: 0.3) + Self.ramp(40, from: 7.9, step: -0.1) + Self.ramp(19, from: 4, step: 0)
        func layer(_ values: [Double]) -> LayerCompression {
            LayerCompression(layer: 5, verdict: rule.verdict(epochs: Array(values.indices), values: values))
        }
        let compressing = (0..<4).map { k in layer(falling.map { $0 + 0.1 * Double(k) }) }
        let all = SeedVerdict(layer: 5, perSeed: compressing, rule: rule, bootstrap: SeedBootstrap())
        #expect(all.compressed && all.compressedSeeds == 4 && all.verdictText == "compresses")
        #expect(abs(all.drop.mean - 3.8) < 1e-12 && abs(all.drop.upper - all.drop.lower) < 1e-12)
        // One compressing seed among flat ones: the interval reaches down to 0.
        let flat = layer([Double](repeating: 8, count: 80))
        let mixed = SeedVerdict(layer: 5, perSeed: [compressing[0], flat, flat, flat], rule: rule, bootstrap: SeedBootstrap())
        #expect(!mixed.compressed && mixed.compressedSeeds == 1 && mixed.drop.lower == 0)
        #expect(mixed.verdictText.hasPrefix("undecided"))
        let none = SeedVerdict(layer: 5, perSeed: [flat, flat], rule: rule, bootstrap: SeedBootstrap())
        #expect(!none.compressed && none.verdictText == "does not compress")
        let one = SeedVerdict(layer: 5, perSeed: [compressing[0]], rule: rule, bootstrap: SeedBootstrap())
        #expect(!one.compressed && one.verdictText == "one seed: no interval")
    }
}
