// Did a layer compress? Per layer, the verdict of `CompressionRule` on an MI
// table's I(X;T) curve, flattened into one record for tables and CSVs. The
// numbers (smoothed peak and final, threshold, noise) are reported either
// way, so a reader can apply another bar.

import ActivationStore

/// The compression of one layer over a run, by `CompressionRule`.
public struct LayerCompression: Sendable, Equatable {
    public var layer: Int
    /// The smoothed curve's largest I(X;T), and the first epoch it is reached.
    public var peak: Double
    public var peakEpoch: Int
    /// The smoothed curve at the last epoch of the table.
    public var final: Double
    public var finalEpoch: Int
    /// peak − final (bits, smoothed).
    public var compression: Double { peak - final }
    /// max(threshold, noise multiple × noise): the drop needed.
    public var required: Double
    public var threshold: Double
    public var noise: Double
    /// Whether `compression` exceeds `required`.
    public var compressed: Bool
    /// The unsmoothed curve's peak, its epoch, and its final value.
    public var rawPeak: Double
    public var rawPeakEpoch: Int
    public var rawFinal: Double

    public init(layer: Int, verdict v: CompressionVerdict) {
        self.layer = layer
        peak = v.peak
        peakEpoch = v.peakEpoch
        final = v.final
        finalEpoch = v.finalEpoch
        required = v.required
        threshold = v.threshold
        noise = v.noise
        compressed = v.compressed
        rawPeak = v.rawPeak
        rawPeakEpoch = v.rawPeakEpoch
        rawFinal = v.rawFinal
    }
}

extension InformationTable {
    /// Per layer, the smoothed peak and final I(X;T) (the `I_XT` column, or
    /// `I_XT_upper` for KDE bounds) and the verdict of `rule`.
    public func compression(rule: CompressionRule = CompressionRule()) -> [LayerCompression] {
        verdicts(rule: rule).map { LayerCompression(layer: $0.layer, verdict: $0.verdict) }
    }

    /// The same with the default window and noise multiple and another threshold.
    public func compression(threshold: CompressionThreshold) -> [LayerCompression] {
        compression(rule: CompressionRule(threshold: threshold))
    }
}
