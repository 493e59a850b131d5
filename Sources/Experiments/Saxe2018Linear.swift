// Saxe et al. (ICLR 2018), the linear student-teacher experiments, where the
// mutual information is exact (§5, §6, App. F-I): `linear` (Fig. 3),
// `overtraining` (Fig. 4, with the tanh 12-bit network on 30 % of the data),
// `deep-linear` (Fig. 18 and 19) and `relevant` (Fig. 6).
//
// Each linear run is a directory (see `LinearRunDirectory`) with its
// settings, exact information per layer and recorded epoch, errors and
// weights. Parameters the paper states are the defaults (N_i = 100, hidden
// 100, N_o = 1, P = 100, SNR 1, σ_MI² = 1, batch 5 for SGD, 30 relevant of
// 100 inputs, five hidden layers of 50); the learning rates, epoch counts and
// initial weight scales are not given in the paper's text and are chosen here
// (and written into every run's settings.json and the summary).

import ActivationStore
import Analysis
import ArrayIO
import Dispatch
import Foundation
import InfoTheory
import Plotting
import RunFigures
import Training

extension Experiments {
    /// The linear student-teacher experiments of Saxe et al. 2018.
    static let saxe2018Linear: [Experiment] = [
        Experiment(suite: "saxe2018", name: "linear",
                   abstract: "Fig. 3: deep linear student (100-100-1, P = 100, SNR 1, batch GD), exact MI: no compression, yet it generalizes",
                   run: LinearExperiments.linear),
        Experiment(suite: "saxe2018", name: "overtraining",
                   abstract: "Fig. 4: overtraining without compression (linear, SGD batch 5) and the tanh 12-bit network on 30 % of the data",
                   run: LinearExperiments.overtraining),
        Experiment(suite: "saxe2018", name: "deep-linear",
                   abstract: "Fig. 18-19: five hidden layers of 50, exact MI per layer, SGD vs batch GD",
                   run: LinearExperiments.deepLinear),
        Experiment(suite: "saxe2018", name: "relevant",
                   abstract: "Fig. 6: 30 relevant + 70 irrelevant inputs, SGD batch 5: irrelevant information rises then falls",
                   run: LinearExperiments.relevant),
    ]
}

/// The linear experiments' code and defaults.
public enum LinearExperiments {
    /// Defaults per scale: epochs, seeds, test samples.
    struct Size {
        var epochs: Int
        var seeds: Int
        var testCount: Int
    }

    static func size(_ context: ExperimentContext, standardEpochs: Int, standardSeeds: Int = 3) -> Size {
        var s: Size
        switch context.scale {
        case .quick: s = Size(epochs: min(standardEpochs, 300), seeds: 1, testCount: 1000)
        case .standard: s = Size(epochs: standardEpochs, seeds: standardSeeds, testCount: 10_000)
        case .full: s = Size(epochs: standardEpochs * 3, seeds: max(standardSeeds, 5), testCount: 10_000)
        }
        if let e = context.epochs { s.epochs = e }
        if let n = context.seeds { s.seeds = n }
        return s
    }

    /// Batch-GD learning rate for the one-hidden-layer student (inputs of
    /// variance 1/N_i make ‖x‖² ≈ 1; at 0.1 the test error reaches its
    /// minimum after a few hundred epochs, so the log-epoch plots show the
    /// fitting and the late overtraining apart).
    static let gradientDescentRate = 0.1
    /// SGD (batch 5) learning rate: 20 steps per epoch at a tenth of the GD
    /// rate, about twice the GD progress per epoch.
    static let sgdRate = 0.01
    /// Initial weight scale of the one-hidden-layer student (entries ~ N(0, s²/fan-in)).
    static let smallInitialScale = 0.01
    /// Initial scale of the five-hidden-layer student: the product of six
    /// layers' scales sets the escape time from the saddle at zero.
    static let deepInitialScale = 0.6
    static let deepRate = 0.1
    /// `relevant` uses P = 200 samples at SNR 100 (σ_o² = 0.01): with P = N_i
    /// and SNR 1 the student ends up fitting the output noise through the
    /// irrelevant inputs (the least-squares solution at P = N_i), and the
    /// irrelevant information only rises; with more samples than inputs and
    /// little noise, the spurious irrelevant weights picked up early from the
    /// sample cross-covariance are later unlearned, as in the paper's Fig. 6.
    static let relevantTrainCount = 200
    static let relevantSNR = 100.0
    static let deepSGDRate = 0.01

    // MARK: Running

    /// Trains (or reuses) every run, `workers` at a time.
    static func train(_ planned: [(path: String, settings: LinearRunSettings)], context: ExperimentContext,
                      message: String) throws {
        let lock = NSLock()
        nonisolated(unsafe) var next = 0, done = 0
        nonisolated(unsafe) var failure: (any Error)?
        let total = planned.count
        context.progress.update(0, total, message)
        DispatchQueue.concurrentPerform(iterations: max(1, min(context.workers, planned.count))) { _ in
            while true {
                lock.lock()
                let i = next
                next += 1
                lock.unlock()
                guard i < total else { return }
                do {
                    try LinearRunDirectory(planned[i].path).train(planned[i].settings)
                } catch {
                    lock.lock()
                    if failure == nil { failure = error }
                    lock.unlock()
                }
                lock.lock()
                done += 1
                let d = done
                lock.unlock()
                context.progress.update(d, total, message)
            }
        }
        context.progress.finish()
        if let failure { throw failure }
    }

    /// One recorded linear run, read back.
    struct LoadedRun {
        var path: String
        var settings: LinearRunSettings
        var metrics: [[Double]]       // epoch, train, test, E_g, weight error, eq5
        var information: InformationTable

        init(path: String) throws {
            self.path = path
            let dir = LinearRunDirectory(path)
            settings = try LinearRunSettings.read(dir.settingsPath)
            let text = try String(contentsOfFile: dir.metricsPath, encoding: .utf8)
            metrics = try RunCSV.parse(text, header: LinearRunCSV.metricsHeader, path: dir.metricsPath)
            information = try InformationTable.read(path: dir.informationPath)
        }

        var epochs: [Double] { metrics.map { $0[0] } }
        var trainError: [Double] { metrics.map { $0[1] } }
        var testError: [Double] { metrics.map { $0[2] } }
        var generalizationError: [Double] { metrics.map { $0[3] } }

        /// Information points of every layer (I_XT, I_TY).
        var points: [InformationPlanePoint] { informationPoints(information) }

        func series(layer: Int, column: String) -> (x: [Double], y: [Double]) {
            let values = information.column(column)!
            let rows = information.rows.indices.filter { information.rows[$0].layer == layer }
            return (rows.map { Double(information.rows[$0].epoch) }, rows.map { values[$0] })
        }

        var layerCount: Int { settings.hiddenWidths.count + 1 }
    }

    static func plan(_ context: ExperimentContext, name: String, size: Size,
                     _ make: (_ seed: UInt64) -> LinearRunSettings) throws -> [(path: String, settings: LinearRunSettings)] {
        try (0..<size.seeds).map { k in
            let seed = context.seed + UInt64(k)
            return (try context.runDirectory("\(name)-seed-\(seed)"), make(seed))
        }
    }

    static func layerName(_ layer: Int, of count: Int) -> String {
        layer == count ? "output" : (count == 2 ? "hidden" : "hidden \(layer)")
    }

    // MARK: Figures

    static func informationPlane(_ runs: [(title: String, run: LoadedRun)], title: String) -> InformationPlaneFigure {
        var figure = InformationPlaneFigure(panels: runs.map { InformationPlanePanel(title: $0.title, points: $0.run.points) })
        figure.title = title
        figure.logEpochs = true
        return figure
    }

    /// Errors (left, log epochs) and I(X;T), I(T;Y) per layer against epoch.
    static func errorAndInformationCurves(_ run: LoadedRun, title: String) -> CurvesFigure {
        let e = run.epochs
        var errors = CurvesPanel(series: [
            CurveSeries(name: "train", x: e, y: run.trainError, color: Colormap.tab10Color(0)),
            CurveSeries(name: "test", x: e, y: run.testError, color: Colormap.tab10Color(3)),
            CurveSeries(name: "expected E_g", x: e, y: run.generalizationError, color: Color(hex: 0x595959), dashed: true),
        ], title: "Squared error", xLabel: "Epoch", yLabel: "Mean squared error", xScale: .log)
        errors.grid = true
        func panel(_ column: String, _ label: String) -> CurvesPanel {
            var p = CurvesPanel(series: (1...run.layerCount).map { l in
                let s = run.series(layer: l, column: column)
                return CurveSeries(name: layerName(l, of: run.layerCount), x: s.x, y: s.y, color: Colormap.tab10Color(l - 1))
            }, title: label, xLabel: "Epoch", yLabel: label + " (bits)", xScale: .log)
            p.grid = true
            return p
        }
        var figure = CurvesFigure(panels: [errors, panel("I_XT", "I(X;T)"), panel("I_TY", "I(T;Y)")])
        figure.title = title
        return figure
    }

    static func save(_ canvas: Canvas, _ name: String, _ context: ExperimentContext, _ outputs: inout [String]) throws {
        outputs.append(try context.writeFigure(canvas, name))
    }

    // MARK: Summaries

    /// Per run: min test error and its epoch, final errors, and per layer
    /// the peak and final I(X;T) and final I(T;Y).
    static func runTable(_ runs: [LoadedRun]) -> MarkdownTable {
        var t = MarkdownTable(header: ["run", "layer", "I(X;T) start", "peak", "final", "peak − final", "I(T;Y) at min test", "I(T;Y) final",
                                       "min test error (epoch)", "final train / test error"],
                              rightAligned: [false, false] + [Bool](repeating: true, count: 8))
        for run in runs {
            let best = run.testError.indices.min { run.testError[$0] < run.testError[$1] }!
            for layer in 1...run.layerCount {
                let ixt = run.series(layer: layer, column: "I_XT").y, ity = run.series(layer: layer, column: "I_TY").y
                t.append([URL(fileURLWithPath: run.path).lastPathComponent, layerName(layer, of: run.layerCount),
                          fixed(ixt.first!, 3), fixed(ixt.max()!, 3), fixed(ixt.last!, 3), fixed(ixt.max()! - ixt.last!, 4),
                          fixed(ity[best], 4), fixed(ity.last!, 4),
                          "\(fixed(run.testError[best], 3)) (\(Int(run.epochs[best])))",
                          "\(fixed(run.trainError.last!, 3)) / \(fixed(run.testError.last!, 3))"])
            }
        }
        return t
    }

    static func settingsText(_ s: LinearRunSettings, size: Size) -> String {
        "N_i = \(s.inputCount)\(s.split ? " (\(s.relevantCount) relevant)" : ""), hidden \(s.hiddenWidths.map(String.init).joined(separator: "-")), N_o = \(s.outputCount), P = \(s.trainCount), SNR \(s.signalToNoiseRatio), \(s.optimizerName), learning rate \(s.learningRate), initial scale \(s.initialScale), \(s.epochs) epochs, schedule \(s.schedule), σ_MI² = \(s.analysisNoiseVariance), \(size.seeds) seed(s) from \(s.seed), test set \(s.testCount)"
    }

    static let halfNote = "Exact information in bits with the ½ of App. G (Eq. 22-25): I(X;T) = ½ log₂ det(W Σx Wᵀ + σ_MI² I) − ½ log₂ det(σ_MI² I). The printed Eq. 6 and 21 drop the ½ (their values are twice these); a Gaussian's entropy carries it."

    /// Largest decrease of a series from any earlier maximum (bits).
    static func largestDrop(_ y: [Double]) -> Double {
        var peak = -Double.infinity, drop = 0.0
        for v in y { peak = max(peak, v); drop = max(drop, peak - v) }
        return drop
    }

    // MARK: linear (Fig. 3)

    @Sendable static func linear(_ context: ExperimentContext) throws -> ExperimentReport {
        let size = size(context, standardEpochs: 5000)
        let planned = try plan(context, name: "gd", size: size) { seed in
            LinearRunSettings(testCount: size.testCount, epochs: size.epochs, learningRate: gradientDescentRate,
                              initialScale: smallInitialScale, dataSeed: seed, seed: seed)
        }
        try train(planned, context: context, message: "linear students (batch GD)")
        let runs = try planned.map { try LoadedRun(path: $0.path) }
        var outputs = [String]()
        let first = runs[0]
        try save(informationPlane([("batch GD, 100-100-1", first)],
                                  title: "Linear student, exact information (seed \(first.settings.seed))").render(width: 640, height: 480),
                 "saxe2018-linear.png", context, &outputs)
        try save(errorAndInformationCurves(first, title: "Linear student 100-100-1, P = 100, SNR 1, batch GD")
                    .render(width: 1200, height: 400), "saxe2018-linear-curves.png", context, &outputs)
        var md = "# saxe2018 linear: Fig. 3, no compression in a deep linear network that generalizes\n\n"
        md += settingsText(first.settings, size: size) + ".\n\n" + halfNote + "\n\n"
        md += runTable(runs).text + "\n"
        let drops = runs.flatMap { r in (1...r.layerCount).map { largestDrop(r.series(layer: $0, column: "I_XT").y) } }
        let gains = runs.map { r in (r.testError.first! - r.testError.min()!) / r.testError.first! }
        md += "Largest fall of I(X;T) in any layer of any run: \(fixed(drops.max()!, 5)) bits (no compression). "
        md += "Test error falls by \(fixed(100 * gains.min()!, 1))–\(fixed(100 * gains.max()!, 1)) % from its start to its minimum (the network generalizes).\n\n"
        md += "![information plane](saxe2018-linear.png)\n\n![errors and information](saxe2018-linear-curves.png)\n"
        return try writeSummary(md, title: "saxe2018 linear", context: context, name: "saxe2018-linear.md", outputs: outputs)
    }

    // MARK: overtraining (Fig. 4)

    /// The 12-bit tanh network on 30 % of the data, as the 12-bit experiments train it.
    public static func tanhThirtyPercent(seed: UInt64, epochs: Int) -> RunSettings {
        RunSettings(task: "tishby", dataSource: "generated", widths: [12, 10, 7, 5, 4, 3, 2], activation: "tanh",
                    initializer: "truncatedNormal", optimizer: ["name": "adam", "learning_rate": "\(Float(4e-4))"],
                    batchSize: 256, epochs: epochs, seed: seed, trainingFraction: 0.3, splitMethod: "random",
                    schedule: "log:400", activations: "post", dtype: "float32", checkpointInterval: 500)
    }

    @Sendable static func overtraining(_ context: ExperimentContext) throws -> ExperimentReport {
        let size = size(context, standardEpochs: 5000)
        let planned = try plan(context, name: "sgd", size: size) { seed in
            LinearRunSettings(testCount: size.testCount, epochs: size.epochs, learningRate: sgdRate, batchSize: 5,
                              initialScale: smallInitialScale, dataSeed: seed, seed: seed)
        }
        try train(planned, context: context, message: "linear students (SGD, batch 5)")
        let runs = try planned.map { try LoadedRun(path: $0.path) }

        // The tanh network on 30 % of the data (Fig. 4C-D).
        let tanhEpochs: Int
        switch context.scale {
        case .quick: tanhEpochs = min(context.epochs ?? 60, 60)
        case .standard, .full: tanhEpochs = context.epochs ?? 8000
        }
        let tanhSeeds = context.scale == .quick ? 1 : (context.seeds ?? 3)
        let tanhPlanned = try (0..<tanhSeeds).map { k in
            let seed = context.seed + UInt64(k)
            return PlannedRun(path: try context.runDirectory("tanh-seed-\(seed)"), settings: tanhThirtyPercent(seed: seed, epochs: tanhEpochs))
        }
        try trainRuns(tanhPlanned, workers: context.workers, progress: context.progress, message: "tanh 12-bit, 30 % of the data")
        var tanhTables = [InformationTable]()
        for run in tanhPlanned {
            let path = run.path + "/mi-binning.csv"
            if let table = try? InformationTable.read(path: path) {
                tanhTables.append(table)
            } else {
                let table = try ActivationSource.run(run.path).estimate(EstimationRequest(configuration: .binning(.edges(bins: 30))))
                try table.write(to: path)
                tanhTables.append(table)
            }
        }
        let tanhMetrics = try tanhPlanned.map { try RunReader(path: $0.path).metrics() }

        var outputs = [String]()
        let first = runs[0]
        try save(informationPlane([("SGD, batch 5", first)], title: "Linear student, exact information (seed \(first.settings.seed))")
                    .render(width: 640, height: 480), "saxe2018-overtraining.png", context, &outputs)
        try save(errorAndInformationCurves(first, title: "Linear student 100-100-1, P = 100, SNR 1, SGD batch 5: overtraining")
                    .render(width: 1200, height: 400), "saxe2018-overtraining-curves.png", context, &outputs)
        var plane = InformationPlaneFigure(panels: [InformationPlanePanel(title: "tanh, 30 % training data (30 bins)",
                                                                          points: informationPoints(tanhTables[0]))])
        plane.title = "12-bit task, tanh 12-10-7-5-4-3-2"
        plane.logEpochs = true
        try save(plane.render(width: 640, height: 480), "saxe2018-overtraining-tanh.png", context, &outputs)
        var loss = metricCurves([("tanh", tanhMetrics[0])], accuracy: false)
        loss.panels[0].title = "Training and test loss, 30 % training data"
        loss.panels[0].grid = true
        try save(loss.render(width: 640, height: 420), "saxe2018-overtraining-tanh-loss.png", context, &outputs)

        var md = "# saxe2018 overtraining: Fig. 4, test error rises late while I(T;Y) falls, without compression\n\n"
        md += "## Linear student, SGD batch 5 (Fig. 4A-B)\n\n" + settingsText(first.settings, size: size) + ".\n\n" + halfNote + "\n\n"
        md += runTable(runs).text + "\n"
        for run in runs {
            let best = run.testError.indices.min { run.testError[$0] < run.testError[$1] }!
            let out = run.series(layer: run.layerCount, column: "I_TY").y
            let drop = (1...run.layerCount).map { largestDrop(run.series(layer: $0, column: "I_XT").y) }.max()!
            let peak = out.indices.max { out[$0] < out[$1] }!
            md += "- seed \(run.settings.seed): test error \(fixed(run.testError[best], 3)) at its minimum (epoch \(Int(run.epochs[best]))), \(fixed(run.testError[peak], 3)) where the output I(T;Y) peaks (\(fixed(out[peak], 4)) bits, epoch \(Int(run.epochs[peak]))), \(fixed(run.testError.last!, 3)) at epoch \(Int(run.epochs.last!)) where I(T;Y) has fallen to \(fixed(out.last!, 4)) bits; largest fall of I(X;T) in any layer: \(fixed(drop, 5)) bits.\n"
        }
        md += "\n## tanh 12-bit network on 30 % of the data (Fig. 4C-D)\n\n"
        md += "12-10-7-5-4-3-2, tanh, Adam 4e-4, batch 256, \(tanhEpochs) epochs, \(tanhSeeds) seed(s), binning with 30 equal-width bins over each layer's range (`mi-binning.csv` in each run). "
        md += "Peak and final I(X;T) are the smoothed ones of the compression rule: \(context.rule.description). "
        md += "One row per seed and layer, no average.\n\n"
        var tt = MarkdownTable(header: ["seed", "layer", "peak I(X;T)", "final I(X;T)", "peak − final", "compressed", "I(T;Y) at min test loss", "I(T;Y) final",
                                        "min test loss (epoch)", "final train / test loss", "final train / test accuracy"],
                               rightAligned: [false, false, true, true, true, false] + [Bool](repeating: true, count: 5))
        for (k, (table, metrics)) in zip(tanhTables, tanhMetrics).enumerated() {
            let best = metrics.min { $0.testLoss < $1.testLoss }!, last = metrics.last!
            let ity = table.column("I_TY")!
            for c in table.compression(rule: context.rule) {
                let rows = table.rows.indices.filter { table.rows[$0].layer == c.layer }
                let atBest = rows.min { abs(table.rows[$0].epoch - best.epoch) < abs(table.rows[$1].epoch - best.epoch) }!
                tt.append(["\(tanhPlanned[k].settings.seed)", "\(c.layer)", fixed(c.peak, 3), fixed(c.final, 3), fixed(c.compression, 3), c.compressed ? "yes" : "no",
                           fixed(ity[atBest], 3), fixed(ity[rows.last!], 3), "\(fixed(best.testLoss, 3)) (\(best.epoch))",
                           "\(fixed(last.trainLoss, 3)) / \(fixed(last.testLoss, 3))", "\(fixed(last.trainAccuracy, 3)) / \(fixed(last.testAccuracy, 3))"])
            }
        }
        md += tt.text + "\n"
        md += "![linear information plane](saxe2018-overtraining.png)\n\n![linear errors and information](saxe2018-overtraining-curves.png)\n\n"
        md += "![tanh information plane](saxe2018-overtraining-tanh.png)\n\n![tanh loss](saxe2018-overtraining-tanh-loss.png)\n"
        return try writeSummary(md, title: "saxe2018 overtraining", context: context, name: "saxe2018-overtraining.md", outputs: outputs)
    }

    // MARK: deep-linear (Fig. 18-19)

    @Sendable static func deepLinear(_ context: ExperimentContext) throws -> ExperimentReport {
        let size = size(context, standardEpochs: 5000, standardSeeds: 1)
        let gd = try plan(context, name: "gd", size: size) { seed in
            LinearRunSettings(testCount: size.testCount, hiddenWidths: [50, 50, 50, 50, 50], epochs: size.epochs,
                              learningRate: deepRate, initialScale: deepInitialScale, dataSeed: seed, seed: seed)
        }
        let sgd = try plan(context, name: "sgd", size: size) { seed in
            LinearRunSettings(testCount: size.testCount, hiddenWidths: [50, 50, 50, 50, 50], epochs: size.epochs,
                              learningRate: deepSGDRate, batchSize: 5, initialScale: deepInitialScale, dataSeed: seed, seed: seed)
        }
        try train(gd + sgd, context: context, message: "deep linear students (GD and SGD)")
        let gdRuns = try gd.map { try LoadedRun(path: $0.path) }, sgdRuns = try sgd.map { try LoadedRun(path: $0.path) }
        var outputs = [String]()
        var plane = informationPlane([("batch GD", gdRuns[0]), ("SGD, batch 5", sgdRuns[0])],
                                     title: "Deep linear student 100-50-50-50-50-50-1, exact information")
        plane.coloring = .epoch
        try save(plane.render(width: 1100, height: 480), "saxe2018-deep-linear.png", context, &outputs)
        try save(errorAndInformationCurves(gdRuns[0], title: "Deep linear student, batch GD (Fig. 18)").render(width: 1200, height: 400),
                 "saxe2018-deep-linear-gd-curves.png", context, &outputs)
        try save(errorAndInformationCurves(sgdRuns[0], title: "Deep linear student, SGD batch 5 (Fig. 19)").render(width: 1200, height: 400),
                 "saxe2018-deep-linear-sgd-curves.png", context, &outputs)
        var md = "# saxe2018 deep-linear: Fig. 18-19, five hidden layers of 50, SGD vs batch GD\n\n"
        md += "- batch GD: " + settingsText(gdRuns[0].settings, size: size) + "\n- SGD: " + settingsText(sgdRuns[0].settings, size: size) + "\n\n" + halfNote + "\n\n"
        md += "## batch GD\n\n" + runTable(gdRuns).text + "\n## SGD, batch 5\n\n" + runTable(sgdRuns).text + "\n"
        for (name, runs) in [("batch GD", gdRuns), ("SGD", sgdRuns)] {
            let drops = runs.flatMap { r in (1...r.layerCount).map { largestDrop(r.series(layer: $0, column: "I_XT").y) } }
            md += "- \(name): largest fall of I(X;T) in any layer: \(fixed(drops.max()!, 4)) bits.\n"
        }
        md += "\n![information planes](saxe2018-deep-linear.png)\n\n![GD curves](saxe2018-deep-linear-gd-curves.png)\n\n![SGD curves](saxe2018-deep-linear-sgd-curves.png)\n"
        return try writeSummary(md, title: "saxe2018 deep-linear", context: context, name: "saxe2018-deep-linear.md", outputs: outputs)
    }

    // MARK: relevant (Fig. 6)

    @Sendable static func relevant(_ context: ExperimentContext) throws -> ExperimentReport {
        let size = size(context, standardEpochs: 5000)
        let planned = try plan(context, name: "sgd", size: size) { seed in
            LinearRunSettings(relevantCount: 30, signalToNoiseRatio: relevantSNR, trainCount: relevantTrainCount, testCount: size.testCount, epochs: size.epochs, learningRate: sgdRate,
                              batchSize: 5, initialScale: smallInitialScale, dataSeed: seed, seed: seed)
        }
        try train(planned, context: context, message: "linear students, 30 relevant + 70 irrelevant inputs")
        let runs = try planned.map { try LoadedRun(path: $0.path) }
        var outputs = [String]()
        let first = runs[0]
        func panel(_ column: String, _ title: String) -> CurvesPanel {
            var p = CurvesPanel(series: (1...first.layerCount).map { l in
                let s = first.series(layer: l, column: column)
                return CurveSeries(name: layerName(l, of: first.layerCount), x: s.x, y: s.y, color: Colormap.tab10Color(l - 1))
            }, title: title, xLabel: "Epoch", yLabel: "Information (bits)", xScale: .log)
            p.grid = true
            return p
        }
        var errors = CurvesPanel(series: [
            CurveSeries(name: "train", x: first.epochs, y: first.trainError, color: Colormap.tab10Color(0)),
            CurveSeries(name: "test", x: first.epochs, y: first.testError, color: Colormap.tab10Color(3)),
        ], title: "Squared error", xLabel: "Epoch", yLabel: "Mean squared error", xScale: .log)
        errors.grid = true
        var figure = CurvesFigure(panels: [panel("I_XT_relevant", "Relevant: I(X_rel;T)"), panel("I_XT_irrelevant", "Irrelevant: I(X_irr;T)"), errors])
        figure.title = "30 relevant + 70 irrelevant inputs, SGD batch 5 (seed \(first.settings.seed))"
        try save(figure.render(width: 1200, height: 400), "saxe2018-relevant.png", context, &outputs)

        var md = "# saxe2018 relevant: Fig. 6, compression of task-irrelevant information\n\n"
        md += settingsText(first.settings, size: size) + ".\n\n" + halfNote + "\n\n"
        md += "P = \(relevantTrainCount) and SNR \(relevantSNR) here, not the P = 100, SNR 1 of `linear`: with P = N_i and SNR 1 the student ends up fitting the output noise through the irrelevant inputs and the irrelevant information only rises; with more samples than inputs and little noise, the spurious irrelevant weights picked up early from the sample cross-covariance are later unlearned.\n\n"
        md += "The split (the paper gives no formula): with independent input blocks X = (X_rel, X_irr) and W = [W_rel, W_irr], "
        md += "I(X_rel;T) = ½ log₂ det Σ_T − ½ log₂ det(W_irr Σ_irr W_irrᵀ + σ_MI² I) and I(X_irr;T) = ½ log₂ det Σ_T − ½ log₂ det(W_rel Σ_rel W_relᵀ + σ_MI² I), "
        md += "with Σ_T = W Σx Wᵀ + σ_MI² I: each block's information with the other block acting as noise.\n\n"
        var t = MarkdownTable(header: ["seed", "layer", "relevant start", "relevant final", "irrelevant start", "irrelevant peak (epoch)", "irrelevant final",
                                       "total I(X;T) final", "min test error (epoch)", "final train / test error"],
                              rightAligned: [false, false] + [Bool](repeating: true, count: 8))
        for run in runs {
            let best = run.testError.indices.min { run.testError[$0] < run.testError[$1] }!
            for layer in 1...run.layerCount {
                let rel = run.series(layer: layer, column: "I_XT_relevant").y, irr = run.series(layer: layer, column: "I_XT_irrelevant")
                let all = run.series(layer: layer, column: "I_XT").y
                let peak = irr.y.indices.max { irr.y[$0] < irr.y[$1] }!
                t.append(["\(run.settings.seed)", layerName(layer, of: run.layerCount), fixed(rel.first!, 4), fixed(rel.last!, 4),
                          fixed(irr.y.first!, 4), "\(fixed(irr.y[peak], 4)) (\(Int(irr.x[peak])))", fixed(irr.y.last!, 4), fixed(all.last!, 4),
                          "\(fixed(run.testError[best], 3)) (\(Int(run.epochs[best])))", "\(fixed(run.trainError.last!, 3)) / \(fixed(run.testError.last!, 3))"])
            }
        }
        md += t.text + "\n![relevant and irrelevant information](saxe2018-relevant.png)\n"
        return try writeSummary(md, title: "saxe2018 relevant", context: context, name: "saxe2018-relevant.md", outputs: outputs)
    }
}
