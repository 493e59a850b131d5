// The rules that go with a cross-seed compression claim: which runs count
// (`RunInclusion`) and the bootstrap interval over seeds (`SeedVerdict`). The
// single-curve rule they apply (`CompressionRule`) is in ActivationStore.

import ActivationStore
import Foundation
import Tensors

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


/// Per layer, the cross-seed verdict over tables of the same layers (one table per seed).
public func seedVerdicts(_ tables: [InformationTable], rule: CompressionRule = CompressionRule(),
                         bootstrap: SeedBootstrap = SeedBootstrap()) -> [SeedVerdict] {
    let perTable = tables.map { $0.compression(rule: rule) }
    let layers = Set(perTable.flatMap { $0.map(\.layer) }).sorted()
    return layers.map { layer in
        SeedVerdict(layer: layer, perSeed: perTable.compactMap { $0.first { $0.layer == layer } }, rule: rule, bootstrap: bootstrap)
    }
}
