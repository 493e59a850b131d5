// Saxe et al., "On the Information Bottleneck Theory of Deep Learning" (ICLR
// 2018), on the 12-bit task of Shwartz-Ziv & Tishby (2017): tanh against ReLU
// with binning over seeds (Fig. 1, App. E), KDE bounds for four activations
// (Fig. 8), the gradient signal-to-noise ratio (Fig. 20), single-sample SGD
// against full-batch gradient descent (Fig. 5), and the dependence of the
// compression verdict on the binning (App. C, Fig. 13-15).
//
// [Saxe]: https://openreview.net/forum?id=ry_WPG-A-
// [ibsgd]: https://github.com/artemyk/ibsgd

import ActivationStore
import Analysis
import ArrayIO
import Datasets
import Foundation
import InfoTheory
import Plotting
import RunFigures
import Tensors
import Training

extension Experiments {
    /// The saxe2018 experiments on the 12-bit task.
    public static let saxe2018TwelveBit: [Experiment] = [
        Experiment(suite: "saxe2018", name: "fig1",
                   abstract: "tanh vs ReLU, binning (30 edges buckets; global range, 100 bins), averaged over seeds (Fig. 1, App. E)",
                   run: Saxe2018.fig1),
        Experiment(suite: "saxe2018", name: "kde",
                   abstract: "tanh, ReLU, softsign, softplus with KDE bounds, noise variance 0.1, averaged over seeds (Fig. 8)",
                   run: Saxe2018.kde),
        Experiment(suite: "saxe2018", name: "snr",
                   abstract: "gradient mean, std and signal-to-noise per layer, tanh and ReLU (Fig. 20)",
                   run: Saxe2018.snr),
        Experiment(suite: "saxe2018", name: "sgd-vs-bgd",
                   abstract: "single-sample SGD against full-batch gradient descent, tanh and ReLU (Fig. 5)",
                   run: Saxe2018.sgdVsBgd),
        Experiment(suite: "saxe2018", name: "binning",
                   abstract: "one tanh and one ReLU run under other discretizations and bin counts (App. C, Fig. 13-15)",
                   run: Saxe2018.binning),
        Experiment(suite: "saxe2018", name: "estimators",
                   abstract: "one tanh and one ReLU run under binning, KDE bounds and kNN: does the verdict depend on the estimator? (§4)",
                   run: Saxe2018.estimators),
    ]
}

/// The saxe2018 experiments on the 12-bit task.
public enum Saxe2018 {
    /// Seeds fig1 averages over at each scale (the paper: 50).
    public static func fig1Seeds(_ scale: ExperimentScale) -> Int {
        switch scale { case .quick: 2; case .standard: 5; case .full: 50 }
    }

    /// Epochs of the Adam runs at each scale (the paper: 8000).
    public static func epochs(_ scale: ExperimentScale) -> Int {
        scale == .quick ? 200 : TwelveBit.epochs
    }

    /// The label of an activation in figures.
    static func label(_ activation: String) -> String {
        ["tanh": "tanh", "relu": "ReLU", "softsign": "softsign", "softplus": "softplus"][activation] ?? activation
    }

    /// The binning Saxe et al. use for an activation: 30 `edges` buckets for the
    /// bounded ones, 100 bins over each layer's range over all epochs otherwise.
    static func paperBinning(_ activation: String) -> BinningScheme {
        activation == "tanh" || activation == "softsign" ? .edges(bins: 30) : .global(bins: 100)
    }

    static func shortName(_ scheme: BinningScheme) -> String {
        switch scheme {
        case let .edges(bins, _): return "edges, \(bins) buckets"
        case let .uniform(bins, lower, upper): return "uniform [\(fixed(Double(lower), 0)), \(fixed(Double(upper), 0))], \(bins) bins"
        case let .width(w): return "width \(w)"
        case let .global(bins, pooled): return "global\(pooled ? ", pooled" : ""), \(bins) bins"
        }
    }

    static func describe(_ scheme: BinningScheme) -> String {
        switch scheme {
        case let .edges(bins, _): return "edges, \(bins) buckets on [-1, 1]"
        case let .uniform(bins, lower, upper): return "uniform, \(bins) bins on [\(lower), \(upper)]"
        case let .width(w): return "width \(w)"
        case let .global(bins, pooled): return "global range\(pooled ? " (all layers)" : " (per layer)"), \(bins) bins"
        }
    }

    static func dataLine(_ context: ExperimentContext) -> String {
        context.data.map { "the original data set (`\($0)`, task tishby-original)" } ?? "the generated 12-bit task (task tishby)"
    }

    /// The directory of an experiment's runs: the context's, or its `original/` for the
    /// original data set (whose runs have other settings).
    static func runRoot(_ context: ExperimentContext) throws -> String {
        try context.runDirectory(context.data == nil ? "" : "original/")
    }

    /// `saxe2018-NAME[-original]SUFFIX`: outputs of runs on the original data set are
    /// marked, so they sit beside those of the generated task.
    static func output(_ context: ExperimentContext, _ name: String, _ suffix: String) -> String {
        "saxe2018-\(name)\(context.data == nil ? "" : "-original")\(suffix)"
    }

    /// Trains the runs, reporting progress.
    static func train(_ runs: [PlannedRun], _ context: ExperimentContext, _ message: String) throws {
        try trainRuns(runs, workers: context.workers, progress: context.progress, message: message)
    }

    /// Estimates a run by binning and writes the table beside it.
    static func estimate(_ path: String, _ scheme: BinningScheme, file: String) throws -> InformationTable {
        let table = try ActivationSource.run(path).estimate(EstimationRequest(configuration: .binning(scheme)))
        try table.write(to: path + "/" + file)
        return table
    }

    /// "Final training accuracy: tanh 0.998, ReLU 0.996." and a blank line.
    static func finalAccuracyLine(_ planned: [PlannedRun], _ activations: [String]) throws -> String {
        let acc = try planned.map { try finalAccuracy($0.path).train }
        return "Final training accuracy: " + zip(activations, acc).map { "\(label($0)) \(fixed($1, 3))" }.joined(separator: ", ") + ".\n\n"
    }

    static func finalAccuracy(_ path: String) throws -> (train: Double, test: Double) {
        let last = try RunReader(path: path).metrics().last!
        return (last.trainAccuracy, last.testAccuracy)
    }

    /// Layers of the 12-bit network that are hidden (1...5); 6 is the softmax output.
    static let hiddenLayers = 1...5

    /// The final training accuracy below which a run counts as not fitted.
    static let fittedAccuracy = 0.9

    static func layerName(_ layer: Int) -> String { layer == TwelveBit.widths.count - 1 ? "\(layer) (output)" : "\(layer)" }

    static func yesNo(_ b: Bool) -> String { b ? "yes" : "no" }

    static func layerList(_ layers: [Int]) -> String {
        layers.isEmpty ? "none" : (layers.count == 1 ? "layer " : "layers ") + layers.map(String.init).joined(separator: ", ")
    }

    // MARK: - fig1

    /// The per-seed tables and their average, for one activation.
    public struct ActivationAverage: Sendable {
        public var activation: String
        public var scheme: BinningScheme
        public var runs: [String]
        public var tables: [InformationTable]
        /// The final training accuracy of each run, and which runs count.
        public var trainingAccuracies: [Double]
        public var counted: CountedRuns
        /// The average over the counted runs (over every run when none counts).
        public var average: SeedAverage
    }

    /// The inclusion rule of the 12-bit experiments: a run that ends below 0.9 training
    /// accuracy did not fit (chance is 0.52, the share of the larger class).
    public static let inclusion = RunInclusion(minimumTrainingAccuracy: fittedAccuracy)

    /// The rules of a 12-bit summary.
    static func rules(_ context: ExperimentContext) -> SummaryRules {
        SummaryRules(rule: context.rule, inclusion: inclusion, bootstrap: context.bootstrap)
    }

    /// The average over some of the tables, written with the names of the runs it averages.
    static func writeAverage(_ tables: [InformationTable], runs: [String], indices: [Int], to path: String) throws -> SeedAverage {
        let average = try averageOverSeeds(indices.map { tables[$0] })
        var combined = average.combined
        combined.parameters["runs"] = indices.map { (runs[$0] as NSString).lastPathComponent }.joined(separator: ",")
        combined.parameters["inclusion"] = inclusion.description
        try combined.write(to: path)
        return average
    }

    /// One 12-bit run per activation and seed (seed, seed + 1, ...), at `root` + "ACTIVATION-seedS".
    static func seedRuns(_ activations: [String], seeds: Int, epochs: Int, root: String,
                         _ context: ExperimentContext) -> [PlannedRun] {
        activations.flatMap { activation in
            (0..<seeds).map { k in
                let seed = context.seed + UInt64(k)
                return PlannedRun(path: root + "\(activation)-seed\(seed)",
                                  settings: TwelveBit.settings(activation: activation, epochs: epochs, seed: seed, data: context.data))
            }
        }
    }

    /// One 12-bit run per activation at the context's seed, at `root` + "ACTIVATION", trained
    /// (or reused) before returning: the runs of snr and binning.
    static func trainPair(_ activations: [String], _ context: ExperimentContext) throws -> [PlannedRun] {
        let epochs = context.epochs ?? epochs(context.scale)
        let root = try runRoot(context)
        let planned = activations.map {
            PlannedRun(path: root + $0, settings: TwelveBit.settings(activation: $0, epochs: epochs, seed: context.seed, data: context.data))
        }
        try train(planned, context, "training tanh and ReLU")
        return planned
    }

    /// fig1: tanh and ReLU over seeds, binned as the paper bins them.
    @Sendable public static func fig1(_ context: ExperimentContext) throws -> ExperimentReport {
        let seeds = context.seeds ?? fig1Seeds(context.scale)
        let epochs = context.epochs ?? epochs(context.scale)
        let root = try runRoot(context)
        let activations = ["tanh", "relu"]
        let planned = seedRuns(activations, seeds: seeds, epochs: epochs, root: root, context)
        let start = Date()
        try train(planned, context, "training tanh and ReLU, \(seeds) seeds")
        let trained = Date()

        var results = [ActivationAverage]()
        for activation in activations {
            let paths = planned.filter { $0.settings.activation == activation }.map(\.path)
            let scheme = paperBinning(activation)
            let tables = try paths.map { try estimate($0, scheme, file: "mi-binning.csv") }
            let accuracies = try paths.map { try finalAccuracy($0).train }
            let counted = CountedRuns(trainingAccuracies: accuracies, inclusion: inclusion)
            let average = try writeAverage(tables, runs: paths, indices: counted.averaged, to: root + "average-\(activation).csv")
            results.append(ActivationAverage(activation: activation, scheme: scheme, runs: paths, tables: tables,
                                             trainingAccuracies: accuracies, counted: counted, average: average))
        }
        // ReLU under the two other readings of "the paper's binning": the range pooled over
        // all layers, and the fixed-width bins (0.07) of the ibsgd notebook for this task.
        let reluPaths = results[1].runs
        var reluChecks = [(name: String, scheme: BinningScheme, tables: [InformationTable])]()
        for (name, scheme, file) in [("global range over all layers, 100 bins", BinningScheme.global(bins: 100, pooledOverLayers: true), "mi-binning-pooled.csv"),
                                     ("width 0.07 (ibsgd's IBnet notebook)", BinningScheme.width(0.07), "mi-binning-width0.07.csv")] {
            let tables = try reluPaths.map { try estimate($0, scheme, file: file) }
            reluChecks.append((name, scheme, tables))
        }
        let estimated = Date()

        // Figures.
        var outputs = [String]()
        var plane = InformationPlaneFigure(panels: results.map {
            InformationPlanePanel(title: "\(label($0.activation)) (\(describe($0.scheme)))", points: informationPoints($0.average))
        })
        plane.logEpochs = true
        let countedText = results.map { "\(label($0.activation)) \($0.counted.averaged.count)" }.joined(separator: ", ")
        plane.title = "12-bit task, mean over the counted seeds (\(countedText); bars: ± 1 s.d. at 12 epochs)"
        outputs.append(try context.writeFigure(plane.render(width: 1100, height: 480), output(context, "fig1", ".png")))

        // The bands stop at what information can be: 0 below, H(X) and H(Y) above (the
        // seeds' spread is skewed near both ends, so mean ± s.d. would cross them).
        let ceilings = try informationCeilings(run: results[0].runs[0])
        var panels = [CurvesPanel]()
        for (column, name) in [("I_XT", "I(X;T)"), ("I_TY", "I(T;Y)")] {
            let ceiling = column == "I_XT" ? ceilings.inputs : ceilings.labels
            for r in results {
                let mean = r.average.mean, sd = r.average.standardDeviation
                let values = mean.column(column)!, spread = sd.column(column)!
                let series = Set(mean.rows.map(\.layer)).sorted().map { layer -> CurveSeries in
                    let idx = mean.rows.indices.filter { mean.rows[$0].layer == layer && mean.rows[$0].epoch > 0 }
                    var s = CurveSeries(name: "Layer \(layer)", x: idx.map { Double(mean.rows[$0].epoch) }, y: idx.map { values[$0] },
                                        color: Colormap.tab10Color(layer - 1))
                    s.bandLower = idx.map { max(0, values[$0] - spread[$0]) }
                    s.bandUpper = idx.map { min(ceiling, values[$0] + spread[$0]) }
                    return s
                }
                var panel = CurvesPanel(series: series, title: "\(label(r.activation)): \(name)", xLabel: "Epoch",
                                        yLabel: "\(name) (bits)", xScale: .log)
                panel.legend = column == "I_TY" && r.activation == "tanh"
                panels.append(panel)
            }
        }
        var curves = CurvesFigure(panels: panels, columns: 2)
        curves.sharedX = true
        curves.title = "Mean over the counted seeds (\(countedText)) per layer (band: ± 1 s.d., within [0, H(X)] and [0, H(Y)])"
        outputs.append(try context.writeFigure(curves.render(width: 1000, height: 760), output(context, "fig1", "-mi.png")))

        // Summary.
        let rules = rules(context)
        var md = "# saxe2018 fig1: tanh against ReLU, binning, \(seeds) seed\(seeds == 1 ? "" : "s")\n\n"
        md += "Saxe et al. (ICLR 2018), Fig. 1 and App. E: the 12-10-7-5-4-3-2 network of Shwartz-Ziv & Tishby on \(dataLine(context)), "
        md += "trained as both papers' code did (Adam, learning rate \(TwelveBit.learningRate), batch \(TwelveBit.batchSize), "
        md += "\(Int(TwelveBit.trainingFraction * 100)) % training split, \(epochs) epochs, recorded on the `\(TwelveBit.schedule)` schedule), "
        md += "seeds \(context.seed)…\(context.seed + UInt64(seeds) - 1). I(X;T) and I(T;Y) are estimated on all 4096 samples by binning: "
        md += "tanh with 30 `edges` buckets on [-1, 1] (Shwartz-Ziv & Tishby's), ReLU with 100 equal bins between the smallest and largest "
        md += "activation of each layer over all recorded epochs (`global`). The figures show the curves averaged over the counted seeds "
        md += "per epoch and layer.\n\n"
        md += rules.markdown(seedAveraged: true)
        md += "Per layer: each counted seed's smoothed peak and final I(X;T) (mean ± s.d. over seeds), the epoch of the smoothed peak "
        md += "(median and range), the drop with its interval, the bar, how many seeds compress on their own, and the cross-seed verdict. "
        md += "Layer 6 is the softmax output; layers 1-5 are hidden.\n\n"
        var verdicts = [String: [SeedVerdict]]()
        for r in results {
            let acc = try r.runs.map(finalAccuracy)
            let names = r.runs.map { ($0 as NSString).lastPathComponent }
            md += "## \(label(r.activation)) (\(describe(r.scheme)))\n\n"
            md += "Final training accuracy per seed: " + zip(names, acc).map { "`\($0)` \(fixed($1.train, 3))" }.joined(separator: ", ")
            md += "; test accuracy \(MeanSpread(acc.map(\.test)).text(3)) over all seeds. "
            md += r.counted.markdown(names: names, trainingAccuracies: r.trainingAccuracies) + "\n\n"
            let counted = seedVerdicts(r.counted.averaged.map { r.tables[$0] }, rule: rules.rule, bootstrap: rules.bootstrap)
            if !r.counted.included.isEmpty { verdicts[r.activation] = counted }
            if !r.counted.included.isEmpty && !r.counted.excluded.isEmpty {
                md += "Counted seeds (\(r.counted.included.count)):\n\n"
            } else if r.counted.included.isEmpty {
                md += "All seeds (none meets the rule; no verdict):\n\n"
            }
            md += seedVerdictTable(counted, bootstrap: rules.bootstrap, layerName: layerName).text + "\n"
            if !r.counted.included.isEmpty && !r.counted.excluded.isEmpty {
                md += "All \(r.runs.count) seeds, the excluded ones included (for comparison only, not a verdict):\n\n"
                md += seedVerdictTable(seedVerdicts(r.tables, rule: rules.rule, bootstrap: rules.bootstrap), bootstrap: rules.bootstrap,
                                       layerName: layerName).text + "\n"
            }
        }
        md += "## ReLU under the other readings of the paper's binning\n\n"
        md += "Saxe et al.'s text bins ReLU layers with 100 bins up to the largest activation over all epochs; their public notebook for this task "
        md += "(ibsgd, `IBnet_ComputeMI.ipynb`) bins every activation with fixed-width bins of 0.07 (`binsize = 0.07`) instead. "
        md += "The same counted ReLU runs under the range pooled over all layers and under width 0.07, hidden layers:\n\n"
        var check = MarkdownTable(header: [], rightAligned: [])
        for c in reluChecks {
            let tables = results[1].counted.averaged.map { c.tables[$0] }
            let t = seedVerdictTable(seedVerdicts(tables, rule: rules.rule, bootstrap: rules.bootstrap).filter { hiddenLayers.contains($0.layer) },
                                     bootstrap: rules.bootstrap, prefix: ["estimator"], prefixCells: { _ in [c.name] })
            if check.header.isEmpty { check = MarkdownTable(header: t.header, rightAligned: t.rightAligned) }
            check.rows += t.rows
        }
        md += check.text + "\n"
        md += "## Verdict\n\n"
        func verdictLine(_ activation: String) -> String {
            guard let v = verdicts[activation]?.filter({ hiddenLayers.contains($0.layer) }) else { return "no verdict (no run meets the rule)" }
            let undecided = v.filter { !$0.compressed && $0.verdictText.hasPrefix("undecided") }.map(\.layer)
            return "\(layerList(v.filter(\.compressed).map(\.layer)))" + (undecided.isEmpty ? "" : "; undecided: \(layerList(undecided))")
        }
        md += "Hidden layers compressed across the counted seeds: tanh (30 `edges` buckets): \(verdictLine("tanh")); "
        md += "ReLU (global range, 100 bins): \(verdictLine("relu")). "
        md += "Saxe et al. report compression for tanh and none for ReLU (Fig. 1A-B).\n\n"
        md += String(format: "Wall time of this invocation (under load; complete runs are reused): training %.0f s, estimates %.0f s.\n", trained.timeIntervalSince(start), estimated.timeIntervalSince(trained))
        md += "\nTables: `RUNS/average-tanh.csv`, `RUNS/average-relu.csv` (mean and `_sd` columns over the counted runs, named in the `.json` beside each), each run's `mi-binning.csv`.\n"
        context.log(String(format: "fig1: training %.1f s, estimates %.1f s", trained.timeIntervalSince(start), estimated.timeIntervalSince(trained)))
        return try writeSummary(md, title: "saxe2018 fig1", context: context, name: output(context, "fig1", ".md"), outputs: outputs)
    }

    // MARK: - kde

    /// KDE bounds of a complete run on some epochs, written to `file` (or read back, see
    /// `cachedEstimate`).
    static func estimateKDE(_ source: ActivationSource, noiseVariance: Double, bound: KDEBound, epochs: [Int],
                            file: String, context: ExperimentContext) throws -> InformationTable {
        try cachedEstimate(source, .kde(noiseVariance: noiseVariance, bound: bound), epochs: epochs, file: file, context: context,
                           message: "KDE \(bound.rawValue), noise variance \(noiseVariance), \(source.path)")
    }

    /// An estimate of a complete run on some epochs (all samples), written to `file`; a table
    /// already in `file` with the same estimator parameters, epochs and layers is read back
    /// instead (a complete run's activations never change, and the CSV holds every double exactly).
    static func cachedEstimate(_ source: ActivationSource, _ configuration: EstimatorConfiguration, epochs: [Int],
                               file: String, context: ExperimentContext, message: String) throws -> InformationTable {
        let layers = Set(source.available.map(\.layer))
        if AtomicFile.exists(file), AtomicFile.exists(InformationTable.parametersPath(for: file)),
           let old = try? InformationTable.read(path: file),
           configuration.parameters.allSatisfy({ old.parameters[$0.name] == $0.value }),
           old.parameters["samples"] == SampleSelection.all.rawValue, old.columns == configuration.columns,
           old.rows.map({ LayerEpoch(epoch: $0.epoch, layer: $0.layer) }) == epochs.flatMap({ e in layers.sorted().map { LayerEpoch(epoch: e, layer: $0) } }) {
            return old
        }
        let table = try source.estimate(EstimationRequest(configuration: configuration, epochs: epochs)) {
            context.progress.update($0, $1, message)
        }
        context.progress.finish()
        try table.write(to: file)
        return table
    }

    /// Seeds kde averages over at each scale.
    public static func kdeSeeds(_ scale: ExperimentScale) -> Int {
        switch scale { case .quick: 1; case .standard: 3; case .full: 10 }
    }

    /// kde: four activations, KDE upper and lower bounds (noise variance 0.1), averaged over seeds.
    @Sendable public static func kde(_ context: ExperimentContext) throws -> ExperimentReport {
        let epochs = context.epochs ?? epochs(context.scale)
        let seeds = context.seeds ?? kdeSeeds(context.scale)
        let root = try runRoot(context)
        let activations = ["tanh", "relu", "softsign", "softplus"]
        let planned = seedRuns(activations, seeds: seeds, epochs: epochs, root: root, context)
        let start = Date()
        try train(planned, context, "training tanh, ReLU, softsign, softplus, \(seeds) seed\(seeds == 1 ? "" : "s")")
        let trained = Date()
        let noiseVariance = 0.1
        // Every 4th recorded epoch at the standard scale (all with --full; about 8 at quick).
        let thin = context.scale == .full ? 1 : 4
        var estimatedEpochs = (0, 0)
        var perActivation = [(tables: [InformationTable], average: SeedAverage, small: [InformationTable], runs: [String],
                              accuracies: [Double], counted: CountedRuns)]()
        for activation in activations {
            var tables = [InformationTable](), small = [InformationTable]()
            for plan in planned where plan.settings.activation == activation {
                let source = try ActivationSource.run(plan.path)
                let step = context.scale == .quick ? max(1, source.epochs.count / 8) : thin
                let chosen = source.epochs.enumerated().filter { $0.offset % step == 0 || $0.element == source.epochs.last }.map(\.element)
                estimatedEpochs = (chosen.count, source.epochs.count)
                let table = try estimateKDE(source, noiseVariance: noiseVariance, bound: .both, epochs: chosen,
                                            file: plan.path + "/mi-kde.csv", context: context)
                tables.append(table)
                // The noise variance of ibsgd's notebook for this task (IBnet_ComputeMI: 1e-3), upper bound only.
                small.append(try estimateKDE(source, noiseVariance: smallNoiseVariance, bound: .upper, epochs: chosen,
                                             file: plan.path + "/mi-kde-0.001.csv", context: context))
            }
            let runs = planned.filter { $0.settings.activation == activation }.map(\.path)
            let accuracies = try runs.map { try finalAccuracy($0).train }
            let counted = CountedRuns(trainingAccuracies: accuracies, inclusion: inclusion)
            let average = try writeAverage(tables, runs: runs, indices: counted.averaged, to: root + "average-\(activation).csv")
            perActivation.append((tables, average, small, runs, accuracies, counted))
        }
        let estimated = Date()
        let meanTitle = seeds == 1 ? "" : "; mean of the seeds counted: " + zip(activations, perActivation).map { "\(label($0)) \($1.counted.averaged.count)" }.joined(separator: ", ")
        var plane = InformationPlaneFigure(panels: zip(activations, perActivation).map {
            InformationPlanePanel(title: label($0), points: informationPoints($1.average.mean))
        })
        plane.columns = 2
        plane.logEpochs = true
        plane.title = "KDE upper bound, noise variance \(noiseVariance)\(meanTitle)"
        var outputs = [try context.writeFigure(plane.render(width: 1000, height: 820), output(context, "kde", ".png"))]
        var curves = [CurvesPanel]()
        for (activation, item) in zip(activations, perActivation) {
            let table = item.average.mean
            let up = table.column("I_XT_upper")!, lo = table.column("I_XT_lower")!
            let series = Set(table.rows.map(\.layer)).sorted().map { layer -> CurveSeries in
                let idx = table.rows.indices.filter { table.rows[$0].layer == layer && table.rows[$0].epoch > 0 }
                var s = CurveSeries(name: "Layer \(layer)", x: idx.map { Double(table.rows[$0].epoch) }, y: idx.map { up[$0] },
                                    color: Colormap.tab10Color(layer - 1))
                s.bandLower = idx.map { lo[$0] }
                s.bandUpper = idx.map { up[$0] }
                return s
            }
            var panel = CurvesPanel(series: series, title: label(activation), xLabel: "Epoch", yLabel: "I(X;T) (bits)", xScale: .log)
            panel.legend = activation == "softplus"
            curves.append(panel)
        }
        var mi = CurvesFigure(panels: curves, columns: 2)
        mi.sharedX = true
        mi.sharedY = true
        mi.title = "I(X;T), KDE upper bound (band: down to the lower bound)\(meanTitle)"
        outputs.append(try context.writeFigure(mi.render(width: 1000, height: 760), output(context, "kde", "-mi.png")))

        let rules = rules(context)
        var md = "# saxe2018 kde: KDE bounds for tanh, ReLU, softsign and softplus\n\n"
        md += "Saxe et al. (ICLR 2018), Fig. 8: the 12-bit network (\(dataLine(context)); Adam \(TwelveBit.learningRate), batch \(TwelveBit.batchSize), "
        md += "\(epochs) epochs, seeds \(context.seed)…\(context.seed + UInt64(seeds) - 1)) with four hidden activations; I(X;T) and I(T;Y) from Kolchinsky & Tracey's pairwise-distance "
        md += "bounds on the entropy of the layer plus Gaussian noise of variance \(noiseVariance) (upper: KL, lower: Bhattacharyya), on all 4096 samples, "
        md += estimatedEpochs.0 == estimatedEpochs.1 ? "every recorded epoch" : "\(estimatedEpochs.0) of the \(estimatedEpochs.1) recorded epochs (evenly spaced in the list, and the last; `--full` for all)"
        md += "; the figures show the tables averaged over the counted seeds per epoch and layer. The smoothing window counts estimated epochs.\n\n"
        md += rules.markdown(seedAveraged: true)
        md += "Per activation, the runs that count:\n\n"
        for (activation, item) in zip(activations, perActivation) {
            let names = item.runs.map { ($0 as NSString).lastPathComponent }
            md += "- \(label(activation)): final training accuracy " + zip(names, item.accuracies).map { "`\($0)` \(fixed($1, 3))" }.joined(separator: ", ")
            md += ". " + item.counted.markdown(names: names, trainingAccuracies: item.accuracies) + "\n"
        }
        md += "\nPer layer, from the upper bound, over the counted seeds, with the final I(T;Y) (upper bound) of their average:\n\n"
        var table = MarkdownTable(header: [], rightAligned: [])
        var verdicts = [String: [SeedVerdict]]()
        for (activation, item) in zip(activations, perActivation) {
            let ity = item.average.mean.column("I_TY_upper")!
            let v = seedVerdicts(item.counted.averaged.map { item.tables[$0] }, rule: rules.rule, bootstrap: rules.bootstrap)
            if !item.counted.included.isEmpty { verdicts[activation] = v }
            let t = seedVerdictTable(v, bootstrap: rules.bootstrap, layerName: layerName, prefix: ["activation"], prefixCells: { _ in [label(activation)] },
                                     extra: ["final I(T;Y)"], extraCells: { row in
                                         [fixed(ity[item.average.mean.rows.lastIndex { $0.layer == row.layer }!], 3)] })
            if table.header.isEmpty { table = MarkdownTable(header: t.header, rightAligned: t.rightAligned) }
            table.rows += t.rows
        }
        md += table.text + "\n"
        for (activation, item) in zip(activations, perActivation) where !item.counted.excluded.isEmpty && !item.counted.included.isEmpty {
            md += "\(label(activation)), all \(item.runs.count) seeds, the excluded ones included (for comparison only, not a verdict):\n\n"
            md += seedVerdictTable(seedVerdicts(item.tables, rule: rules.rule, bootstrap: rules.bootstrap).filter { hiddenLayers.contains($0.layer) },
                                   bootstrap: rules.bootstrap).text + "\n"
        }
        func verdictLine(_ v: [SeedVerdict]?) -> String {
            guard let v = v?.filter({ hiddenLayers.contains($0.layer) }) else { return "no verdict (no run meets the rule)" }
            let undecided = v.filter { !$0.compressed && $0.verdictText.hasPrefix("undecided") }.map(\.layer)
            return layerList(v.filter(\.compressed).map(\.layer)) + (undecided.isEmpty ? "" : "; undecided: \(layerList(undecided))")
        }
        md += "## Verdict\n\n"
        for activation in activations {
            md += "- \(label(activation)): hidden layers compressed across the counted seeds: \(verdictLine(verdicts[activation])).\n"
        }
        md += "\nSaxe et al. report compression for the double-saturating tanh and softsign and none for ReLU and softplus.\n\n"
        md += "## Noise variance \(smallNoiseVariance)\n\n"
        md += "Saxe et al.'s public notebook for this task (ibsgd `IBnet_ComputeMI.ipynb`) sets `noise_variance = 1e-3`; 0.1 is the value of "
        md += "their MNIST notebooks. The upper bound at \(smallNoiseVariance) on the same runs and epochs (`mi-kde-0.001.csv`), counted seeds, "
        md += "hidden layers, by the same rules:\n\n"
        var smallTable = MarkdownTable(header: [], rightAligned: [])
        var smallVerdicts = [String: [SeedVerdict]]()
        for (activation, item) in zip(activations, perActivation) {
            let v = seedVerdicts(item.counted.averaged.map { item.small[$0] }, rule: rules.rule, bootstrap: rules.bootstrap)
                .filter { hiddenLayers.contains($0.layer) }
            if !item.counted.included.isEmpty { smallVerdicts[activation] = v }
            let t = seedVerdictTable(v, bootstrap: rules.bootstrap, prefix: ["activation"], prefixCells: { _ in [label(activation)] })
            if smallTable.header.isEmpty { smallTable = MarkdownTable(header: t.header, rightAligned: t.rightAligned) }
            smallTable.rows += t.rows
        }
        md += smallTable.text + "\n"
        for activation in activations {
            md += "- \(label(activation)), noise variance \(smallNoiseVariance): hidden layers compressed across the counted seeds: \(verdictLine(smallVerdicts[activation])).\n"
        }
        md += "\n"
        md += String(format: "Wall time of this invocation (under load; complete runs and matching KDE tables are reused): training %.0f s, KDE %.0f s.\n", trained.timeIntervalSince(start), estimated.timeIntervalSince(trained))
        md += "\nTables: each run's `mi-kde.csv` and `mi-kde-0.001.csv`, `RUNS/average-<activation>.csv` (mean and `_sd` columns over the counted runs, named in the `.json` beside each).\n"
        return try writeSummary(md, title: "saxe2018 kde", context: context, name: output(context, "kde", ".md"), outputs: outputs)
    }

    /// The noise variance of ibsgd's IBnet notebook for the 12-bit task.
    public static let smallNoiseVariance = 0.001

    // MARK: - snr

    /// The epoch of the largest signal-to-noise ratio ‖mean‖ / ‖std‖ of one layer's
    /// weight gradients (the first, on ties).
    public static func snrPeakEpoch(_ rows: [LayerGradientStatistics]) -> Int? {
        let sorted = rows.sorted { $0.epoch < $1.epoch }
        guard var best = sorted.first else { return nil }
        for r in sorted where r.signalToNoise > best.signalToNoise { best = r }
        return best.epoch
    }

    /// The epoch of the drop in signal-to-noise: the first recorded epoch after the
    /// ratio's peak at which it is below 1 (nil if it never falls below 1 after its peak).
    public static func snrDropEpoch(_ rows: [LayerGradientStatistics]) -> Int? {
        guard let peak = snrPeakEpoch(rows) else { return nil }
        return rows.sorted { $0.epoch < $1.epoch }.first { $0.epoch > peak && $0.signalToNoise < 1 }?.epoch
    }

    /// snr: gradient statistics and the SNR drop against the epoch of peak I(X;T).
    @Sendable public static func snr(_ context: ExperimentContext) throws -> ExperimentReport {
        let activations = ["tanh", "relu"]
        let planned = try trainPair(activations, context)
        let epochs = planned[0].settings.epochs
        var panels = [CurvesPanel]()
        var md = "# saxe2018 snr: gradient signal-to-noise ratio, tanh and ReLU\n\n"
        md += "Saxe et al. (ICLR 2018), Fig. 20 (after Shwartz-Ziv & Tishby's drift and diffusion phases): per layer, the norm of the mean "
        md += "of the weight gradients over one epoch's minibatches, the norm of their standard deviation, and the ratio (signal-to-noise), "
        md += "on the 12-bit network (\(dataLine(context)); Adam \(TwelveBit.learningRate), batch \(TwelveBit.batchSize), \(epochs) epochs, seed \(context.seed)).\n\n"
        md += "The SNR drop is defined as the first recorded epoch after the ratio's peak at which it falls below 1 (the gradient's "
        md += "spread over minibatches exceeds its mean: Shwartz-Ziv & Tishby's change from drift to diffusion; taken after the peak because "
        md += "the ratio hovers around 1 in the first epochs). It is listed beside the epoch of each "
        md += "layer's peak I(X;T) (binning as in fig1: tanh 30 `edges` buckets, ReLU global range, 100 bins). Epochs are the recorded ones "
        md += "(`\(TwelveBit.schedule)`); the epoch of the peak is that of the smoothed curve of the compression rule: "
        md += rules(context).rule.description + ".\n\n"
        var table = MarkdownTable(header: ["activation", "layer", "peak SNR", "epoch of peak SNR", "SNR drop (first < 1 after the peak)",
                                           "epoch of peak I(X;T) (smoothed)", "final SNR"],
                                  rightAligned: [false, false, true, true, true, true, true])
        for (activation, plan) in zip(activations, planned) {
            let reader = try RunReader(path: plan.path)
            let figure = try gradientCurves(reader)
            for var p in figure.panels {
                p.title = "\(label(activation)): " + (p.title.hasPrefix("Signal") ? "signal-to-noise ratio" : "gradient mean (solid), std (dashed)")
                p.legend = activation == "relu" && p.title.contains("signal")
                panels.append(p)
            }
            let mi = try estimate(plan.path, paperBinning(activation), file: "mi-binning.csv")
            let peaks = mi.compression(rule: context.rule)
            let grads = try reader.gradientStatistics()
            for layer in Set(grads.map(\.layer)).sorted() {
                let rows = grads.filter { $0.layer == layer }.sorted { $0.epoch < $1.epoch }
                let drop = snrDropEpoch(rows)
                let peak = snrPeakEpoch(rows)!
                table.append([label(activation), layerName(layer), fixed(rows.first { $0.epoch == peak }!.signalToNoise, 2), "\(peak)",
                              drop.map(String.init) ?? "never",
                              peaks.first { $0.layer == layer }.map { "\($0.peakEpoch)" } ?? "-", fixed(rows.last!.signalToNoise, 3)])
            }
        }
        var figure = CurvesFigure(panels: panels, columns: 2)
        figure.sharedX = true
        figure.title = "12-bit task, weight-gradient statistics per layer over each epoch's minibatches"
        let outputs = [try context.writeFigure(figure.render(width: 1000, height: 760), output(context, "snr", ".png"))]
        md += table.text + "\n"
        md += "Saxe et al. observe the drop in SNR in both tanh and ReLU networks, so it cannot be what makes tanh layers compress and ReLU layers not.\n"
        return try writeSummary(md, title: "saxe2018 snr", context: context, name: output(context, "snr", ".md"), outputs: outputs)
    }

    // MARK: - sgd-vs-bgd

    /// Learning rate of single-sample SGD.
    public static let sgdLearningRate: Float = 0.001
    /// Learning rate of full-batch gradient descent.
    public static let bgdLearningRate: Float = 0.2

    /// Epochs of the SGD and BGD runs at a scale.
    public static func sgdEpochs(_ scale: ExperimentScale) -> (sgd: Int, bgd: Int) {
        switch scale { case .quick: (3, 100); case .standard: (300, 8000); case .full: (1000, 30000) }
    }

    /// sgd-vs-bgd: the four information planes.
    @Sendable public static func sgdVsBgd(_ context: ExperimentContext) throws -> ExperimentReport {
        let (sgdE, bgdE) = sgdEpochs(context.scale)
        let sgdEpochs = context.epochs ?? sgdE, bgdEpochs = context.epochs ?? bgdE
        let root = try runRoot(context)
        let trainCount = Split.trainingCount(count: TishbyTask.sampleCount, trainingFraction: TwelveBit.trainingFraction)
        var planned = [PlannedRun]()
        var labels = [String]()
        for activation in ["tanh", "relu"] {
            planned.append(PlannedRun(path: root + "\(activation)-sgd", settings: TwelveBit.settings(
                activation: activation, epochs: sgdEpochs, seed: context.seed, data: context.data,
                optimizer: ["name": "sgd", "learning_rate": "\(sgdLearningRate)"], batchSize: 1)))
            labels.append("\(label(activation)), SGD (batch 1, \(sgdEpochs) epochs)")
            planned.append(PlannedRun(path: root + "\(activation)-bgd", settings: TwelveBit.settings(
                activation: activation, epochs: bgdEpochs, seed: context.seed, data: context.data,
                optimizer: ["name": "sgd", "learning_rate": "\(bgdLearningRate)"], batchSize: trainCount)))
            labels.append("\(label(activation)), BGD (full batch, \(bgdEpochs) epochs)")
        }
        let start = Date()
        try train(planned, context, "training SGD and BGD")
        let trained = Date()
        var tables = [InformationTable]()
        for plan in planned {
            tables.append(try estimate(plan.path, paperBinning(plan.settings.activation), file: "mi-binning.csv"))
        }
        var plane = InformationPlaneFigure(panels: zip(labels, tables).map { InformationPlanePanel(title: $0, points: informationPoints($1)) })
        plane.columns = 2
        plane.logEpochs = true
        plane.title = "12-bit task: stochastic (batch 1) against full-batch gradient descent"
        let outputs = [try context.writeFigure(plane.render(width: 1000, height: 820), output(context, "sgd-vs-bgd", ".png"))]

        var md = "# saxe2018 sgd-vs-bgd: single-sample SGD against full-batch gradient descent\n\n"
        md += "Saxe et al. (ICLR 2018), Fig. 5: the compression of tanh layers does not need the noise of stochastic gradients; "
        md += "full-batch gradient descent (BGD) gives the same information plane as SGD. Here the 12-bit network (\(dataLine(context)), "
        md += "seed \(context.seed)) is trained with plain gradient descent (no momentum) two ways:\n\n"
        md += "- SGD: one sample per update (\(trainCount) updates per epoch), learning rate \(sgdLearningRate), \(sgdEpochs) epochs;\n"
        md += "- BGD: all \(trainCount) training samples per update (one update per epoch), learning rate \(bgdLearningRate), \(bgdEpochs) epochs.\n\n"
        md += "Why these lengths: a single-sample epoch is \(trainCount) optimizer steps, so \(sgdEpochs) SGD epochs are about "
        let minibatchUpdates = TwelveBit.epochs * ((trainCount + TwelveBit.batchSize - 1) / TwelveBit.batchSize)
        md += "\(sgdEpochs * trainCount / 1000)k updates (the minibatch runs of fig1 make \(minibatchUpdates / 1000)k in \(TwelveBit.epochs) epochs) "
        md += "and fit a few minutes of one core; BGD makes one update per epoch, so it needs many more epochs (\(bgdEpochs)) at a larger "
        md += "learning rate to reach a similar training accuracy, each epoch costing one pass. Both record on the log-spaced schedule "
        md += "(`\(TwelveBit.schedule)`); binning as in fig1 (tanh: 30 `edges` buckets; ReLU: global range, 100 bins).\n\n"
        let rules = rules(context)
        md += rules.singleRunMarkdown
        var table = MarkdownTable(header: [], rightAligned: [])
        var summary = [String]()
        for (name, (plan, t)) in zip(labels, zip(planned, tables)) {
            let acc = try finalAccuracy(plan.path)
            let rows = t.compression(rule: rules.rule).filter { hiddenLayers.contains($0.layer) }
            let part = runVerdictTable(rows, prefix: ["run", "train acc.", "test acc."], prefixCells: [name, fixed(acc.train, 3), fixed(acc.test, 3)])
            if table.header.isEmpty { table = MarkdownTable(header: part.header, rightAligned: part.rightAligned) }
            table.rows += part.rows
            if !rules.inclusion.includes(trainingAccuracy: acc.train) {
                summary.append("- \(name): did not fit (training accuracy \(fixed(acc.train, 3))): no verdict.")
                continue
            }
            let c = rows.filter(\.compressed).map(\.layer)
            var line = "- \(name): hidden layers compressed: \(c.isEmpty ? "none" : c.map(String.init).joined(separator: ", "))."
            let spikes = rows.filter { !$0.compressed && $0.rawPeak - $0.rawFinal > $0.required }.map(\.layer)
            for r in rows where spikes.contains(r.layer) {
                line += " Layer \(r.layer)'s raw curve ends \(fixed(r.rawPeak - r.rawFinal, 2)) bits below its raw peak (\(fixed(r.rawPeak, 2)) at epoch "
                line += "\(r.rawPeakEpoch)), more than the bar, but its smoothed drop is \(fixed(r.compression, 2)) bits: "
                line += r.compression > r.threshold
                    ? "above the threshold (\(fixed(r.threshold, 2))) but within \(number(rules.rule.noiseMultiple)) × the curve's noise (bar \(fixed(r.required, 2)))."
                    : "the running median of \(rules.rule.window) recorded epochs peaks at \(fixed(r.peak, 2)) (epoch \(r.peakEpoch)) and ends at \(fixed(r.final, 2))."
            }
            summary.append(line)
        }
        md += table.text + "\n## Verdict\n\n" + summary.joined(separator: "\n") + "\n\n"
        md += String(format: "Wall time of this invocation (under load; complete runs are reused): training %.0f s.\n", trained.timeIntervalSince(start))
        return try writeSummary(md, title: "saxe2018 sgd-vs-bgd", context: context, name: output(context, "sgd-vs-bgd", ".md"), outputs: outputs)
    }

    // MARK: - binning

    /// The estimators the binning experiment compares, with file-name tags.
    public static let binningEstimators: [(tag: String, scheme: BinningScheme)] = [
        ("edges30", .edges(bins: 30)),
        ("edges100", .edges(bins: 100)),
        ("uniform30", .uniform(bins: 30, lower: -1, upper: 1)),
        ("uniform100", .uniform(bins: 100, lower: -1, upper: 1)),
        ("global30", .global(bins: 30)),
        ("global100", .global(bins: 100)),
        ("global100-pooled", .global(bins: 100, pooledOverLayers: true)),
        ("width0.07", .width(0.07)),
    ]

    /// One row of the verdict table.
    public struct BinningVerdict: Sendable, Equatable {
        public var activation: String
        public var tag: String
        /// Hidden layers whose I(X;T) compressed.
        public var compressedLayers: [Int]
    }

    /// The verdicts of tables, one per estimator.
    public static func binningVerdicts(activation: String, tables: [(tag: String, table: InformationTable)],
                                       rule: CompressionRule = CompressionRule()) -> [BinningVerdict] {
        tables.map { item in
            BinningVerdict(activation: activation, tag: item.tag,
                           compressedLayers: item.table.compression(rule: rule)
                               .filter { hiddenLayers.contains($0.layer) && $0.compressed }.map(\.layer))
        }
    }

    /// binning: one tanh and one ReLU run (fig1's first seed) under eight estimators.
    @Sendable public static func binning(_ context: ExperimentContext) throws -> ExperimentReport {
        let activations = ["tanh", "relu"]
        let planned = try trainPair(activations, context)
        let epochs = planned[0].settings.epochs
        let rules = rules(context)
        var outputs = [String]()
        var verdicts = [BinningVerdict]()
        var details = MarkdownTable(header: [], rightAligned: [])
        for (activation, plan) in zip(activations, planned) {
            let tables = try binningEstimators.map { (tag: $0.tag, table: try estimate(plan.path, $0.scheme, file: "mi-\($0.tag).csv")) }
            verdicts += binningVerdicts(activation: activation, tables: tables, rule: rules.rule)
            var plane = InformationPlaneFigure(panels: zip(binningEstimators, tables).map {
                InformationPlanePanel(title: shortName($0.scheme), points: informationPoints($1.table))
            })
            plane.columns = 4
            plane.logEpochs = true
            plane.title = "\(label(activation)), one run (seed \(context.seed)), under eight binnings"
            outputs.append(try context.writeFigure(plane.render(width: 1500, height: 800), output(context, "binning", "-\(activation).png")))
            for (estimator, item) in zip(binningEstimators, tables) {
                let part = runVerdictTable(item.table.compression(rule: rules.rule).filter { hiddenLayers.contains($0.layer) },
                                           prefix: ["activation", "estimator"], prefixCells: [label(activation), describe(estimator.scheme)])
                if details.header.isEmpty { details = MarkdownTable(header: part.header, rightAligned: part.rightAligned) }
                details.rows += part.rows
            }
        }
        var md = "# saxe2018 binning: the compression verdict depends on the estimator\n\n"
        md += "Saxe et al. (ICLR 2018), App. C (Fig. 13-15): the same networks measured with other bin counts and binning schemes. "
        md += "One tanh and one ReLU run of the 12-bit network (\(dataLine(context)); the settings of fig1's first seed: Adam "
        md += "\(TwelveBit.learningRate), batch \(TwelveBit.batchSize), \(epochs) epochs, seed \(context.seed)), each under eight discretizations "
        md += "of every recorded epoch, all 4096 samples:\n\n"
        md += "- `edges`: Shwartz-Ziv & Tishby's buckets between float32 `linspace(-1, 1, n)` edges (30 is the paper's tanh setting);\n"
        md += "- `uniform`: n equal bins on [-1, 1], values outside clipped into the end bins (ReLU activations above 1 all share the last bin);\n"
        md += "- `global`: n equal bins between the smallest and largest activation of the layer over all recorded epochs (100 is the paper's ReLU setting), "
        md += "or over all layers together (pooled);\n"
        md += "- `width 0.07`: bins of width 0.07 anchored at 0, unbounded in number (the ibsgd notebook for this task).\n\n"
        md += rules.singleRunMarkdown
        md += try finalAccuracyLine(planned, activations)
        md += "## Verdict table\n\nHidden layers (1-5) that compressed by the rule above:\n\n"
        var vt = MarkdownTable(header: ["estimator"] + activations.map(label), rightAligned: [false] + activations.map { _ in false })
        for estimator in binningEstimators {
            vt.append([describe(estimator.scheme)] + activations.map { a in
                let c = verdicts.first { $0.activation == a && $0.tag == estimator.tag }!.compressedLayers
                return c.isEmpty ? "none" : c.map(String.init).joined(separator: ", ")
            })
        }
        md += vt.text + "\n## Per layer\n\n" + details.text
        md += "\nTables: `RUNS/tanh/mi-<estimator>.csv`, `RUNS/relu/mi-<estimator>.csv` (estimator tags: "
        md += binningEstimators.map { "`\($0.tag)`" }.joined(separator: ", ") + ").\n"
        return try writeSummary(md, title: "saxe2018 binning", context: context, name: output(context, "binning", ".md"), outputs: outputs)
    }
}

/// H(X) and H(Y) in bits for a run's samples: the largest values I(X;T) and I(T;Y)
/// can take on them (a deterministic T cannot carry more than its input, nor
/// more about Y than Y holds).
func informationCeilings(run: String) throws -> (inputs: Double, labels: Double) {
    let reader = try RunReader(path: run)
    let (values, rows, columns) = try reader.inputs()
    var counts = [ArraySlice<Float>: Int]()
    for i in 0..<rows { counts[values[(i * columns)..<((i + 1) * columns)], default: 0] += 1 }
    var labelCounts = [Int: Int]()
    for y in try reader.labels() { labelCounts[y, default: 0] += 1 }
    func entropy(_ counts: some Collection<Int>) -> Double {
        let n = Double(counts.reduce(0, +))
        return counts.reduce(0.0) { h, c in h - Double(c) / n * log2(Double(c) / n) }
    }
    return (entropy(counts.values), entropy(labelCounts.values))
}

// MARK: - estimators

extension Saxe2018 {
    /// The noise variance of the KDE bounds and of the noisy kNN form (Saxe et al.'s 0.1).
    public static let estimatorNoiseVariance = 0.1

    /// The estimators the estimators experiment compares, per activation, with their file names
    /// (those `infoplane plot infoplane RUN --compare-estimators` reads).
    public static func comparedEstimators(_ activation: String, seed: UInt64) -> [(name: String, configuration: EstimatorConfiguration)] {
        [("binning", .binning(paperBinning(activation))),
         ("kde", .kde(noiseVariance: estimatorNoiseVariance, bound: .both)),
         ("knn", .knn(k: 3, algorithm: .one, noiseVariance: estimatorNoiseVariance, seed: seed, inputs: .discrete(replicates: 8)))]
    }

    /// The estimators experiment estimates every this-many-th recorded epoch (and the last).
    public static let estimatorEpochStride = 4

    static func estimatedEpochs(_ recorded: [Int]) -> [Int] {
        var epochs = stride(from: 0, to: recorded.count, by: estimatorEpochStride).map { recorded[$0] }
        if let last = recorded.last, epochs.last != last { epochs.append(last) }
        return epochs
    }

    /// estimators: a tanh and a ReLU run under the three estimator families.
    @Sendable public static func estimators(_ context: ExperimentContext) throws -> ExperimentReport {
        let activations = ["tanh", "relu"]
        let planned = try trainPair(activations, context)
        let rules = rules(context)
        var panels = [InformationPlanePanel]()
        var compressed = [String: [Int: Bool]]()   // "activation/estimator" → layer → verdict
        var details = MarkdownTable(header: [], rightAligned: [])
        var recorded = 0
        var bracket = [String]()   // per run: kNN against the KDE bounds
        for (activation, plan) in zip(activations, planned) {
            let source = try ActivationSource.run(plan.path)
            let epochs = estimatedEpochs(source.epochs)
            recorded = epochs.count
            var tables = [String: InformationTable]()
            for (name, configuration) in comparedEstimators(activation, seed: context.seed) {
                let table = try cachedEstimate(source, configuration, epochs: epochs, file: plan.path + "/mi-\(name).csv", context: context,
                                               message: "\(name), \(label(activation))")
                tables[name] = table
                panels.append(InformationPlanePanel(title: "\(label(activation)): \(estimatorTitle(name, activation))",
                                                    points: informationPoints(table)))
                let verdicts = table.compression(rule: rules.rule).filter { hiddenLayers.contains($0.layer) }
                for v in verdicts { compressed["\(activation)/\(name)", default: [:]][v.layer] = v.compressed }
                let part = runVerdictTable(verdicts, prefix: ["activation", "estimator"],
                                           prefixCells: [label(activation), estimatorTitle(name, activation)])
                if details.header.isEmpty { details = MarkdownTable(header: part.header, rightAligned: part.rightAligned) }
                details.rows += part.rows
            }
            bracket.append(label(activation) + ": " + knnAgainstKDE(tables["knn"]!, tables["kde"]!))
        }
        var plane = InformationPlaneFigure(panels: panels)
        plane.columns = 3
        plane.logEpochs = true
        plane.title = "One tanh and one ReLU run (seed \(context.seed)) under three estimators"
        let figure = try context.writeFigure(plane.render(width: 1350, height: 800), output(context, "estimators", ".png"))

        let names = comparedEstimators("tanh", seed: context.seed).map(\.name)
        var md = "# saxe2018 estimators: does the compression verdict depend on the estimator?\n\n"
        md += "Saxe et al. (ICLR 2018), §4: compression in the information plane depends on how mutual information is "
        md += "estimated. One tanh and one ReLU run of the 12-bit network (\(dataLine(context)); fig1's settings: Adam "
        md += "\(TwelveBit.learningRate), batch \(TwelveBit.batchSize), \(planned[0].settings.epochs) epochs, seed \(context.seed)), "
        md += "each layer's I(X;T) at \(recorded) epochs (every \(estimatorEpochStride)th recorded one and the last: the kNN estimates cost "
        md += "about a second each), all 4096 samples, under three estimators:\n\n"
        md += "- binning as the paper bins: 30 `edges` buckets for tanh, 100 bins over each layer's range for ReLU;\n"
        md += "- KDE bounds (Kolchinsky & Tracey) of the noisy layer T + Z, noise variance \(estimatorNoiseVariance); the verdict reads the upper bound;\n"
        md += "- kNN: I(X; T + Z) at the same noise variance by Ross's form with X discrete (the 12-bit inputs are binary, and all "
        md += "distinct binary inputs are at one max-norm distance, so KSG cannot read them), k = 3, 8 noise draws a sample.\n\n"
        md += "KDE and kNN estimate the same quantity, I(X; T + Z); binning estimates H of the binned T. "
        md += "The kNN estimate against the KDE bounds, by layer (layer-epochs below the lower bound, inside, above the upper): "
        md += bracket.joined(separator: "; ") + ". kNN estimates are biased low where the information is high "
        md += "(Kraskov et al.), which is where they fall below the lower bound.\n\n"
        md += rules.singleRunMarkdown
        md += try finalAccuracyLine(planned, activations)
        md += "## Verdict table\n\nWhether each hidden layer compressed, by estimator:\n\n"
        var header = ["layer"]
        for a in activations { header += names.map { "\(label(a)), \($0)" } }
        var vt = MarkdownTable(header: header + ["agree"], rightAligned: header.map { _ in false } + [false])
        var disagreements = [String]()
        for layer in hiddenLayers {
            var cells = ["\(layer)"]
            var agree = true
            for a in activations {
                let v = names.map { compressed["\(a)/\($0)"]?[layer] }
                cells += v.map { $0.map(yesNo) ?? "-" }
                if Set(v.compactMap { $0 }).count > 1 { agree = false; disagreements.append("\(label(a)) layer \(layer)") }
            }
            vt.append(cells + [agree ? "yes" : "**no**"])
        }
        md += vt.text + "\n"
        md += disagreements.isEmpty ? "The three estimators agree on every hidden layer.\n\n"
            : "The estimators disagree on \(disagreements.count) of \(2 * hiddenLayers.count) hidden layers: "
                + disagreements.joined(separator: ", ") + ".\n\n"
        md += "## Per layer\n\n" + details.text
        md += "\nTables: `RUNS/tanh/mi-{binning,kde,knn}.csv`, `RUNS/relu/mi-{binning,kde,knn}.csv`; the figure again with "
        md += "`infoplane plot infoplane RUNS/tanh RUNS/relu --compare-estimators -o estimators.png`.\n"
        return try writeSummary(md, title: "saxe2018 estimators", context: context, name: output(context, "estimators", ".md"),
                                outputs: [figure])
    }

    /// "layer 1: 70/0/0, layer 2: …": kNN's I(X;T) below, inside and above KDE's bounds.
    static func knnAgainstKDE(_ knn: InformationTable, _ kde: InformationTable) -> String {
        guard let x = knn.column("I_XT"), let lo = kde.column("I_XT_lower"), let up = kde.column("I_XT_upper") else { return "-" }
        var counts = [Int: (Int, Int, Int)]()
        for (i, row) in knn.rows.enumerated() where i < kde.rows.count {
            var c = counts[row.layer] ?? (0, 0, 0)
            if x[i] < lo[i] { c.0 += 1 } else if x[i] > up[i] { c.2 += 1 } else { c.1 += 1 }
            counts[row.layer] = c
        }
        return counts.keys.sorted().map { "layer \($0) \(counts[$0]!.0)/\(counts[$0]!.1)/\(counts[$0]!.2)" }.joined(separator: ", ")
    }

    static func estimatorTitle(_ name: String, _ activation: String) -> String {
        switch name {
        case "binning": "binning (\(shortName(paperBinning(activation))))"
        case "kde": "KDE bounds, σ² = \(estimatorNoiseVariance)"
        default: "kNN, σ² = \(estimatorNoiseVariance), k = 3"
        }
    }
}
