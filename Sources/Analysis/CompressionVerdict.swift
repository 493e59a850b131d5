// The compression verdict: did a layer's I(X;T) fall after its peak, by more
// than a stated threshold and more than the curve's own noise? One rule for
// the demo, every `reproduce` summary and the audit, so the same run gets the
// same verdict wherever it is read. Also the rules that go with a cross-seed
// claim: which runs count (`RunInclusion`) and the bootstrap interval over
// seeds (`SeedVerdict`).
//
// The rule, for one layer's curve v_0 … v_{n−1} over its recorded epochs:
//
// - smoothed curve: s_i = median of v_j for |j − i| ≤ h, j in 0…n−1, with
//   h = (k − 1) / 2 and k the window (odd, in recorded epochs; the window is
//   cut at both ends, so s_{n−1} is the median of the last h + 1 values);
// - peak = max_i s_i (first epoch on ties), final = s_{n−1}, drop = peak − final;
// - threshold = max(absolute, relative × peak): 0.25 bit and 5 % by default;
// - noise σ = 1.4826 · median_i |Δ_i − median(Δ)| / √2 with Δ_i = v_{i+1} − v_i:
//   the median absolute deviation of the first differences, scaled to the
//   standard deviation of one value if the epoch-to-epoch fluctuations were
//   independent Gaussian (robust to a trend and to isolated spikes);
// - compressed ⇔ drop > max(threshold, m · σ), m = 3 by default.
//
// A single-epoch spike cannot be a peak (the running median drops it), and a
// curve that ends in a noisy tail is judged by the tail's median level. What
// this file deliberately is not: an estimator. It reads curves, whatever
// estimated them.

import ActivationStore
import Foundation
import Tensors

/// The threshold part of the rule: `max(absolute, relative × peak)` bits.
public struct CompressionThreshold: Sendable, Equatable, CustomStringConvertible {
    public var absolute: Double
    public var relative: Double
    public init(absolute: Double = 0.25, relative: Double = 0.05) {
        self.absolute = absolute
        self.relative = relative
    }
    public func bits(forPeak peak: Double) -> Double { max(absolute, relative * peak) }
    public var description: String {
        "max(\(absolute) bit, \(Int((relative * 100).rounded())) % of the peak)"
    }
}

/// The compression rule: smoothing window, threshold and noise multiple.
public struct CompressionRule: Sendable, Equatable, CustomStringConvertible {
    /// Recorded epochs in the running median (odd; 1 = no smoothing).
    public var window: Int
    public var threshold: CompressionThreshold
    /// The drop must also exceed this many noise standard deviations.
    public var noiseMultiple: Double

    public static let defaultWindow = 5
    public static let defaultNoiseMultiple = 3.0

    /// - Precondition: `window` is odd and positive, `noiseMultiple` ≥ 0.
    public init(window: Int = CompressionRule.defaultWindow, threshold: CompressionThreshold = CompressionThreshold(),
                noiseMultiple: Double = CompressionRule.defaultNoiseMultiple) {
        precondition(window >= 1 && window % 2 == 1, "CompressionRule: the window must be odd and positive (got \(window))")
        precondition(noiseMultiple >= 0, "CompressionRule: negative noise multiple \(noiseMultiple)")
        self.window = window
        self.threshold = threshold
        self.noiseMultiple = noiseMultiple
    }

    /// The rule in one sentence, with its parameters.
    public var description: String {
        "peak and final I(X;T) are read from the curve smoothed by a running median of \(window) recorded epochs "
            + "(cut at the ends: the final value is the median of the last \((window + 1) / 2)); a layer compresses when its "
            + "smoothed final lies below its smoothed peak by more than \(threshold) and by more than "
            + "\(fmt(noiseMultiple)) × its noise, the noise being 1.4826 × the median absolute deviation of the raw curve's "
            + "epoch-to-epoch differences, / √2"
    }

    /// The running median of `values` over `window` neighbours, cut at the ends.
    ///
    /// - Complexity: O(n · k log k) for n values and window k.
    public func smooth(_ values: [Double]) -> [Double] {
        let h = window / 2
        return values.indices.map { i in
            median(Array(values[max(0, i - h)...min(values.count - 1, i + h)]))
        }
    }

    /// The epoch-to-epoch noise of a curve: 1.4826 · MAD(Δ) / √2 over its first
    /// differences Δ (0 for fewer than three values).
    public static func noise(_ values: [Double]) -> Double {
        guard values.count >= 3 else { return 0 }
        let d = (1..<values.count).map { values[$0] - values[$0 - 1] }
        let m = median(d)
        return 1.4826 * median(d.map { abs($0 - m) }) / 2.0.squareRoot()
    }

    /// The verdict on one curve.
    ///
    /// - Parameters:
    ///   - epochs: the recorded epochs, increasing.
    ///   - values: I(X;T) at those epochs (bits), finite.
    /// - Precondition: one value per epoch, at least one.
    public func verdict(epochs: [Int], values: [Double]) -> CompressionVerdict {
        precondition(epochs.count == values.count && !values.isEmpty,
                     "CompressionRule.verdict: \(epochs.count) epochs and \(values.count) values")
        let s = smooth(values)
        var best = 0
        for i in s.indices where s[i] > s[best] { best = i }
        var rawBest = 0
        for i in values.indices where values[i] > values[rawBest] { rawBest = i }
        let peak = s[best], final = s[s.count - 1]
        let noise = CompressionRule.noise(values)
        let threshold = threshold.bits(forPeak: peak)
        let required = max(threshold, noiseMultiple * noise)
        return CompressionVerdict(peak: peak, peakEpoch: epochs[best], final: final, finalEpoch: epochs[epochs.count - 1],
                                  threshold: threshold, noise: noise, required: required, compressed: peak - final > required,
                                  rawPeak: values[rawBest], rawPeakEpoch: epochs[rawBest], rawFinal: values[values.count - 1],
                                  smoothed: s)
    }
}

/// The verdict on one layer's curve (bits).
public struct CompressionVerdict: Sendable, Equatable {
    /// The smoothed curve's largest value and the first recorded epoch it is reached.
    public var peak: Double
    public var peakEpoch: Int
    /// The smoothed curve at the last recorded epoch.
    public var final: Double
    public var finalEpoch: Int
    /// max(absolute, relative × peak).
    public var threshold: Double
    /// The noise standard deviation of one recorded value.
    public var noise: Double
    /// The drop needed: max(threshold, noise multiple × noise).
    public var required: Double
    public var compressed: Bool
    /// The unsmoothed curve's peak (first epoch on ties) and final value.
    public var rawPeak: Double
    public var rawPeakEpoch: Int
    public var rawFinal: Double
    /// The smoothed curve, one value per recorded epoch.
    public var smoothed: [Double]

    /// peak − final of the smoothed curve.
    public var drop: Double { peak - final }
}

/// The median (mean of the two middle values for an even count; NaN when empty).
public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    let s = values.sorted()
    let n = s.count
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

private func fmt(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : "\(x)" }

// MARK: - Which runs count

/// Which runs enter an average: those whose final training accuracy reaches a
/// threshold (a run that never fitted says nothing about compression after
/// fitting). Runs without an accuracy (linear regression runs) always count.
public struct RunInclusion: Sendable, Equatable, CustomStringConvertible {
    /// Runs with a final training accuracy below this are excluded; 0 keeps every run.
    public var minimumTrainingAccuracy: Double

    public init(minimumTrainingAccuracy: Double) {
        self.minimumTrainingAccuracy = minimumTrainingAccuracy
    }

    /// Keeps every run.
    public static let all = RunInclusion(minimumTrainingAccuracy: 0)

    public func includes(trainingAccuracy: Double?) -> Bool {
        guard let a = trainingAccuracy else { return true }
        return a >= minimumTrainingAccuracy
    }

    public var description: String {
        minimumTrainingAccuracy <= 0 ? "every run counts"
            : "a run counts when its final training accuracy is at least \(minimumTrainingAccuracy); runs below are excluded before any average"
    }

    /// Splits named runs into those that count and those that do not, keeping order.
    public func split<Run>(_ runs: [Run], trainingAccuracy: (Run) -> Double?) -> (included: [Run], excluded: [Run]) {
        var included = [Run](), excluded = [Run]()
        for r in runs {
            if includes(trainingAccuracy: trainingAccuracy(r)) { included.append(r) } else { excluded.append(r) }
        }
        return (included, excluded)
    }
}

// MARK: - Across seeds

/// The bootstrap of a cross-seed claim: resamples of the seeds with replacement.
public struct SeedBootstrap: Sendable, Equatable, CustomStringConvertible {
    public var resamples: Int
    /// Coverage of the percentile interval, e.g. 0.95.
    public var confidence: Double
    /// The resampling generator's seed; every interval starts from it afresh,
    /// so a layer's interval does not depend on which layers came before.
    public var seed: UInt64

    public init(resamples: Int = 2000, confidence: Double = 0.95, seed: UInt64 = 1) {
        precondition(resamples >= 1 && confidence > 0 && confidence < 1, "SeedBootstrap: \(resamples) resamples, confidence \(confidence)")
        self.resamples = resamples
        self.confidence = confidence
        self.seed = seed
    }

    public var description: String {
        "\(Int((confidence * 100).rounded())) % percentile bootstrap interval over seeds (\(resamples) resamples with replacement, seed \(seed))"
    }

    /// The mean and the percentile interval of the resampled means; the
    /// quantiles interpolate linearly (NumPy's default). One value: the interval is the value.
    public func interval(_ values: [Double]) -> Interval {
        var rng = RandomGenerator(seed: seed)
        return SeedBootstrap.interval(values, resamples: resamples, confidence: confidence, rng: &rng)
    }

    /// The same, drawing from a given generator (n draws per resample, in order).
    public static func interval(_ values: [Double], resamples: Int, confidence: Double, rng: inout RandomGenerator) -> Interval {
        let n = values.count
        guard n > 0 else { return Interval(mean: .nan, lower: .nan, upper: .nan) }
        let mean = values.reduce(0, +) / Double(n)
        guard n > 1 else { return Interval(mean: mean, lower: mean, upper: mean) }
        var means = [Double]()
        means.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var s = 0.0
            for _ in 0..<n { s += values[rng.nextInt(below: n)] }
            means.append(s / Double(n))
        }
        means.sort()
        let alpha = (1 - confidence) / 2
        return Interval(mean: mean, lower: quantile(means, alpha), upper: quantile(means, 1 - alpha))
    }

    /// The empirical quantile with linear interpolation (NumPy's default, "linear").
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let h = q * Double(sorted.count - 1)
        let lo = Int(h.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        return sorted[lo] + (h - Double(lo)) * (sorted[hi] - sorted[lo])
    }
}

/// A mean with its bootstrap percentile interval.
public struct Interval: Sendable, Equatable {
    public var mean: Double
    public var lower: Double
    public var upper: Double
    public init(mean: Double, lower: Double, upper: Double) {
        self.mean = mean
        self.lower = lower
        self.upper = upper
    }
}

/// One layer's compression across seeds: the per-seed verdicts, the mean drop
/// with its bootstrap interval, and the cross-seed verdict, which needs the
/// interval's lower end to clear the rule's bar (the threshold at the mean
/// smoothed peak, and the noise multiple times the mean noise).
public struct SeedVerdict: Sendable, Equatable {
    public var layer: Int
    public var perSeed: [LayerCompression]
    /// The smoothed drop (peak − final), mean over seeds and interval.
    public var drop: Interval
    /// The bar the interval's lower end must clear.
    public var required: Double
    public var threshold: Double
    public var noise: Double
    public var seeds: Int { perSeed.count }
    public var compressedSeeds: Int { perSeed.count { $0.compressed } }
    /// Whether the claim "this layer compresses across seeds" holds: at least
    /// two seeds, and the interval's lower end above `required`.
    public var compressed: Bool { seeds >= 2 && drop.lower > required }

    /// Combines the verdicts of one layer over seeds.
    public init(layer: Int, perSeed: [LayerCompression], rule: CompressionRule, bootstrap: SeedBootstrap) {
        self.layer = layer
        self.perSeed = perSeed
        let n = Double(max(1, perSeed.count))
        drop = bootstrap.interval(perSeed.map(\.compression))
        threshold = rule.threshold.bits(forPeak: perSeed.map(\.peak).reduce(0, +) / n)
        noise = perSeed.map(\.noise).reduce(0, +) / n
        required = max(threshold, rule.noiseMultiple * noise)
    }

    /// The cross-seed claim in a few words.
    public var verdictText: String {
        if seeds < 2 { return "one seed: no interval" }
        if compressed { return "compresses" }
        return drop.upper <= required ? "does not compress" : "undecided (interval straddles the bar)"
    }
}

extension InformationTable {
    /// Per layer, the verdict on its I(X;T) curve (the `I_XT` column, or
    /// `I_XT_upper` for KDE bounds; rows with a non-finite value are skipped).
    public func verdicts(rule: CompressionRule = CompressionRule()) -> [(layer: Int, verdict: CompressionVerdict)] {
        guard let ixt = column("I_XT") ?? column("I_XT_upper") else { return [] }
        var byLayer = [Int: [(epoch: Int, value: Double)]]()
        for (row, value) in zip(rows, ixt) where value.isFinite {
            byLayer[row.layer, default: []].append((row.epoch, value))
        }
        return byLayer.keys.sorted().map { layer in
            let series = byLayer[layer]!.sorted { $0.epoch < $1.epoch }
            return (layer, rule.verdict(epochs: series.map(\.epoch), values: series.map(\.value)))
        }
    }
}

/// Per layer, the cross-seed verdict over tables of the same layers (one table per seed).
public func seedVerdicts(_ tables: [InformationTable], rule: CompressionRule = CompressionRule(),
                         bootstrap: SeedBootstrap = SeedBootstrap()) -> [SeedVerdict] {
    let perTable = tables.map { $0.compression(rule: rule) }
    let layers = Set(perTable.flatMap { $0.map(\.layer) }).sorted()
    return layers.map { layer in
        SeedVerdict(layer: layer, perSeed: perTable.compactMap { $0.first { $0.layer == layer } }, rule: rule, bootstrap: bootstrap)
    }
}
