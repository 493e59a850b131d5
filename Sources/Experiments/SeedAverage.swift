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

/// The rules every summary states: the compression verdict, which runs count,
/// and the bootstrap over seeds.
public struct SummaryRules: Sendable {
    public var rule: CompressionRule
    public var inclusion: RunInclusion
    public var bootstrap: SeedBootstrap

    public init(rule: CompressionRule, inclusion: RunInclusion, bootstrap: SeedBootstrap = SeedBootstrap()) {
        self.rule = rule
        self.inclusion = inclusion
        self.bootstrap = bootstrap
    }

    /// The paragraph that opens a summary's results: the three rules with their parameters.
    public func markdown(seedAveraged: Bool) -> String {
        var md = "**Compression rule.** " + capitalized(rule.description) + ".\n\n"
        md += "**Which runs count.** " + capitalized(inclusion.description) + ".\n\n"
        if seedAveraged {
            md += "**Across seeds.** Per layer, the mean over the counted seeds of each seed's smoothed drop (peak − final), with a "
            md += "\(bootstrap), and the seeds that compress on their own. A layer compresses across seeds when the interval's lower end "
            md += "lies above the bar: the threshold at the mean smoothed peak, and \(number(rule.noiseMultiple)) × the mean noise. "
            md += "An interval that straddles the bar is undecided.\n\n"
        }
        return md
    }
}

extension SummaryRules {
    /// The opening paragraph of a summary of single runs (one seed per setting).
    public var singleRunMarkdown: String {
        var md = "**Compression rule.** " + capitalized(rule.description) + ".\n\n"
        md += "**Which runs count.** One run per setting, so nothing is averaged; "
        md += inclusion.minimumTrainingAccuracy > 0
            ? "a run whose final training accuracy is below \(inclusion.minimumTrainingAccuracy) is marked as not fitted and gets no verdict.\n\n"
            : "every run gets a verdict.\n\n"
        md += "**Across seeds.** One seed per setting: these are single-run verdicts, with no interval over seeds.\n\n"
        return md
    }
}

func capitalized(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }

func number(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : "\(x)" }

/// Runs split by an inclusion rule, with their names.
public struct CountedRuns: Sendable {
    /// Indices into the experiment's list of runs, in order.
    public var included: [Int]
    public var excluded: [Int]

    public init(trainingAccuracies: [Double], inclusion: RunInclusion) {
        included = trainingAccuracies.indices.filter { inclusion.includes(trainingAccuracy: trainingAccuracies[$0]) }
        excluded = trainingAccuracies.indices.filter { !inclusion.includes(trainingAccuracy: trainingAccuracies[$0]) }
    }

    /// The indices an average uses: the included runs, or every run when none is included.
    public var averaged: [Int] { included.isEmpty ? included + excluded : included }

    /// "Counted: `a`, `b`. Excluded: `c` (training accuracy 0.52)." for a summary.
    public func markdown(names: [String], trainingAccuracies: [Double]) -> String {
        func list(_ indices: [Int], accuracy: Bool) -> String {
            indices.isEmpty ? "none" : indices.map { "`\(names[$0])`" + (accuracy ? " (training accuracy \(fixed(trainingAccuracies[$0], 3)))" : "") }
                .joined(separator: ", ")
        }
        var md = "Counted: \(list(included, accuracy: false)). Excluded: \(list(excluded, accuracy: true))."
        if included.isEmpty { md += " No run meets the rule, so there is no verdict; the tables below use every run, labelled as such." }
        return md
    }
}

/// "median (min–max)" of some epochs.
public func epochRangeText(_ epochs: [Int]) -> String {
    let e = epochs.sorted()
    guard !e.isEmpty else { return "-" }
    let median = e.count % 2 == 1 ? Double(e[e.count / 2]) : Double(e[e.count / 2 - 1] + e[e.count / 2]) / 2
    let m = median == median.rounded() ? String(Int(median)) : fixed(median, 1)
    return e.count == 1 || e.first == e.last ? m : "\(m) (\(e.first!)–\(e.last!))"
}

/// "1.23 [0.98, 1.40]" (the interval dropped when it is a point).
public func intervalText(_ i: Interval, _ digits: Int) -> String {
    i.lower == i.upper ? fixed(i.mean, digits) : "\(fixed(i.mean, digits)) [\(fixed(i.lower, digits)), \(fixed(i.upper, digits))]"
}

/// The per-layer table of a cross-seed summary: smoothed peak and final (mean ± s.d.),
/// epoch of the peak, the drop with its interval, the bar, the seeds that compress, the verdict.
public func seedVerdictTable(_ verdicts: [SeedVerdict], bootstrap: SeedBootstrap, layerName: (Int) -> String = { "\($0)" },
                             prefix: [String] = [], prefixCells: (SeedVerdict) -> [String] = { _ in [] },
                             extra: [String] = [], extraCells: (SeedVerdict) -> [String] = { _ in [] }) -> MarkdownTable {
    let pct = Int((bootstrap.confidence * 100).rounded())
    var table = MarkdownTable(header: prefix + ["layer", "peak I(X;T)", "epoch of peak", "final I(X;T)", "drop [\(pct) % interval]",
                                                "bar", "seeds compressing", "across seeds"] + extra,
                              rightAligned: prefix.map { _ in false } + [false, true, true, true, true, true, true, false] + extra.map { _ in true })
    for v in verdicts {
        table.append(prefixCells(v) + [layerName(v.layer), MeanSpread(v.perSeed.map(\.peak)).text(2), epochRangeText(v.perSeed.map(\.peakEpoch)),
                      MeanSpread(v.perSeed.map(\.final)).text(2), intervalText(v.drop, 2), fixed(v.required, 2),
                      "\(v.compressedSeeds)/\(v.seeds)", v.verdictText] + extraCells(v))
    }
    return table
}

/// The per-layer table of one run: smoothed peak and final, the drop, the bar (noise), the verdict, and the raw curve's peak and final.
public func runVerdictTable(_ rows: [LayerCompression], prefix: [String] = [], prefixCells: [String] = [],
                            layerName: (Int) -> String = { "\($0)" }) -> MarkdownTable {
    var table = MarkdownTable(header: prefix + ["layer", "peak I(X;T)", "epoch of peak", "final I(X;T)", "drop", "bar (noise)", "compressed",
                                                "raw peak (epoch) → final"],
                              rightAligned: prefix.map { _ in false } + [false, true, true, true, true, true, false, true])
    for r in rows {
        table.append(prefixCells + [layerName(r.layer), fixed(r.peak, 2), "\(r.peakEpoch)", fixed(r.final, 2), fixed(r.compression, 2),
                                    "\(fixed(r.required, 2)) (\(fixed(r.noise, 2)))", r.compressed ? "yes" : "no",
                                    "\(fixed(r.rawPeak, 2)) (\(r.rawPeakEpoch)) → \(fixed(r.rawFinal, 2))"])
    }
    return table
}
