// The compression verdict: did a layer's I(X;T) fall after its peak, by more
// than a stated threshold and more than the curve's own noise? One rule for
// the demo, every `reproduce` summary, the audit and the cross-estimator
// figure, so the same run gets the same verdict wherever it is read. It lives
// here, beside the MI table it reads, so that the drawing executable (which
// links no BLAS) can print it; the cross-seed rules are in Analysis.
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
