// Did a layer compress? Peak and final I(X;T) per layer, from an MI table.
//
// The verdict uses a stated threshold: a layer compressed when its final
// I(X;T) lies at least `max(absolute, relative × peak)` bits below its peak
// (0.25 bit and 5 % by default). The numbers are reported either way, so a
// reader can apply another threshold.

import ActivationStore

/// The compression of one layer over a run.
public struct LayerCompression: Sendable, Equatable {
    public var layer: Int
    /// The largest I(X;T) over the epochs, and the first epoch it was reached.
    public var peak: Double
    public var peakEpoch: Int
    /// I(X;T) at the last epoch of the table.
    public var final: Double
    public var finalEpoch: Int
    /// peak − final (bits).
    public var compression: Double { peak - final }
    /// Whether `compression` reaches the threshold.
    public var compressed: Bool
}

/// The threshold for calling a layer compressed.
public struct CompressionThreshold: Sendable, Equatable, CustomStringConvertible {
    public var absolute: Double
    public var relative: Double
    public init(absolute: Double = 0.25, relative: Double = 0.05) {
        self.absolute = absolute
        self.relative = relative
    }
    public func bits(forPeak peak: Double) -> Double { max(absolute, relative * peak) }
    public var description: String {
        "final I(X;T) is at least max(\(absolute) bit, \(Int((relative * 100).rounded())) % of the peak) below the peak"
    }
}

extension InformationTable {
    /// Per layer, the peak and final I(X;T) (the `I_XT` column, or
    /// `I_XT_upper` for KDE bounds) and the verdict.
    public func compression(threshold: CompressionThreshold = CompressionThreshold()) -> [LayerCompression] {
        guard let ixt = column("I_XT") ?? column("I_XT_upper") else { return [] }
        var byLayer = [Int: [(epoch: Int, value: Double)]]()
        for (row, value) in zip(rows, ixt) where value.isFinite {
            byLayer[row.layer, default: []].append((row.epoch, value))
        }
        return byLayer.keys.sorted().map { layer in
            let series = byLayer[layer]!.sorted { $0.epoch < $1.epoch }
            var best = series[0]
            for point in series where point.value > best.value { best = point }
            let last = series.last!
            return LayerCompression(layer: layer, peak: best.value, peakEpoch: best.epoch, final: last.value,
                                    finalEpoch: last.epoch,
                                    compressed: best.value - last.value >= threshold.bits(forPeak: best.value))
        }
    }
}
