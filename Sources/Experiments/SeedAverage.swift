// Averages of information tables over seeds, and per-layer statistics of the
// per-seed compression, for experiments that train the same network from
// several initializations (Saxe et al. 2018 average 50 trials).

import ActivationStore
import Analysis
import Foundation
import Plotting
import RunFigures

/// The mean and standard deviation over seeds of information tables with the
/// same columns and the same (epoch, layer) rows.
public struct SeedAverage: Sendable, Equatable {
    /// Per (epoch, layer), the mean of each column over the seeds.
    public var mean: InformationTable
    /// Per (epoch, layer), the sample standard deviation (n − 1) of each
    /// column over the seeds; 0 for a single seed.
    public var standardDeviation: InformationTable
    /// The number of tables averaged.
    public var seeds: Int

    /// One table with the mean columns and `<column>_sd` beside them.
    public var combined: InformationTable {
        let columns = mean.columns + mean.columns.map { $0 + "_sd" }
        let rows = zip(mean.rows, standardDeviation.rows).map {
            InformationTable.Row(epoch: $0.epoch, layer: $0.layer, values: $0.values + $1.values)
        }
        var parameters = mean.parameters
        parameters["seeds"] = "\(seeds)"
        parameters["average"] = "mean and sample standard deviation (n - 1) over seeds, per epoch and layer"
        return InformationTable(columns: columns, rows: rows, parameters: parameters)
    }
}

/// Averages tables over seeds, row by row.
///
/// - Throws: `ExperimentError` when there is no table, or the tables differ in
///   columns or in their (epoch, layer) rows.
public func averageOverSeeds(_ tables: [InformationTable]) throws -> SeedAverage {
    guard let first = tables.first else { throw ExperimentError("no tables to average") }
    for (k, t) in tables.enumerated().dropFirst() {
        guard t.columns == first.columns else {
            throw ExperimentError("table \(k + 1) has columns \(t.columns), table 1 has \(first.columns)")
        }
        guard t.rows.count == first.rows.count,
              zip(t.rows, first.rows).allSatisfy({ $0.epoch == $1.epoch && $0.layer == $1.layer }) else {
            throw ExperimentError("table \(k + 1) has other (epoch, layer) rows than table 1")
        }
    }
    let n = Double(tables.count)
    var meanRows = [InformationTable.Row](), sdRows = [InformationTable.Row]()
    for (i, row) in first.rows.enumerated() {
        var means = [Double](), sds = [Double]()
        for c in first.columns.indices {
            let values = tables.map { $0.rows[i].values[c] }
            let m = values.reduce(0, +) / n
            means.append(m)
            sds.append(tables.count > 1 ? (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / (n - 1)).squareRoot() : 0)
        }
        meanRows.append(InformationTable.Row(epoch: row.epoch, layer: row.layer, values: means))
        sdRows.append(InformationTable.Row(epoch: row.epoch, layer: row.layer, values: sds))
    }
    return SeedAverage(mean: InformationTable(columns: first.columns, rows: meanRows, parameters: first.parameters),
                       standardDeviation: InformationTable(columns: first.columns, rows: sdRows, parameters: first.parameters),
                       seeds: tables.count)
}

/// Information-plane points of a seed average, with the standard deviations as error
/// bars on about `errorBars` of the recorded epochs (evenly spread over the list; all
/// of them when nil).
public func informationPoints(_ average: SeedAverage, errorBars: Int? = 12) -> [InformationPlanePoint] {
    let points = informationPoints(average.mean)
    let sx = average.standardDeviation.column("I_XT") ?? average.standardDeviation.column("I_XT_upper")
    let sy = average.standardDeviation.column("I_TY") ?? average.standardDeviation.column("I_TY_upper")
    guard let sx, let sy, sx.count == points.count else { return points }
    let epochs = Array(Set(points.map(\.epoch))).sorted()
    var marked = Set(epochs)
    if let errorBars, errorBars < epochs.count {
        marked = Set((0..<max(1, errorBars)).map { epochs[$0 * (epochs.count - 1) / max(1, errorBars - 1)] })
    }
    return points.indices.map {
        var p = points[$0]
        if marked.contains(p.epoch) {
            p.ixtError = sx[$0]
            p.ityError = sy[$0]
        }
        return p
    }
}

/// Mean and sample standard deviation of numbers.
public struct MeanSpread: Sendable, Equatable {
    public var mean: Double
    public var standardDeviation: Double
    public init(_ values: [Double]) {
        let n = Double(values.count)
        mean = values.reduce(0, +) / n
        let m = mean
        standardDeviation = values.count > 1 ? (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / (n - 1)).squareRoot() : 0
    }
    /// "1.23 ± 0.04".
    public func text(_ digits: Int) -> String { fixed(mean, digits) + " ± " + fixed(standardDeviation, digits) }
}

/// One layer's compression over seeds.
public struct LayerSeedCompression: Sendable {
    public var layer: Int
    /// The per-seed peak, final and peak − final I(X;T).
    public var peak: MeanSpread
    public var final: MeanSpread
    public var compression: MeanSpread
    /// The per-seed epochs of the peak.
    public var peakEpochs: [Int]
    /// Seeds whose own curve passes the threshold.
    public var compressedSeeds: Int
    public var seeds: Int
    /// The seed-averaged curve's peak, final and verdict.
    public var averaged: LayerCompression

    /// "median (min–max)" of the peak epochs.
    public var peakEpochText: String {
        let e = peakEpochs.sorted()
        guard !e.isEmpty else { return "-" }
        let median = e.count % 2 == 1 ? Double(e[e.count / 2]) : Double(e[e.count / 2 - 1] + e[e.count / 2]) / 2
        let m = median == median.rounded() ? String(Int(median)) : fixed(median, 1)
        return e.count == 1 ? m : "\(m) (\(e.first!)–\(e.last!))"
    }
}

/// Per layer, the compression of each seed's table and of their average.
public func seedCompression(_ tables: [InformationTable], average: SeedAverage,
                            threshold: CompressionThreshold = CompressionThreshold()) -> [LayerSeedCompression] {
    let perSeed = tables.map { $0.compression(threshold: threshold) }
    return average.mean.compression(threshold: threshold).map { avg in
        let rows = perSeed.compactMap { $0.first { $0.layer == avg.layer } }
        return LayerSeedCompression(layer: avg.layer, peak: MeanSpread(rows.map(\.peak)), final: MeanSpread(rows.map(\.final)),
                                    compression: MeanSpread(rows.map(\.compression)), peakEpochs: rows.map(\.peakEpoch),
                                    compressedSeeds: rows.count { $0.compressed }, seeds: rows.count, averaged: avg)
    }
}
