// Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019;
// "Fixing Weight Decay Regularization in Adam"), at CPU scale on an MLP over a
// Fashion-MNIST subset: learning rate x weight decay heatmaps of the final
// test error for SGD with L2, SGDW, Adam with L2 and AdamW (their Fig. 2),
// the epoch-budget experiment behind normalized weight decay (their Sec. 4),
// and a warm-restart (SGDR) curve against one cosine cycle.
//
// Every run is a recorded run (activations of the last epoch only in the
// sweep), so `infoplane estimate`, `plot` and `audit` read them as any other.

import ActivationStore
import Analysis
import ArrayIO
import Datasets
import Foundation
import NeuralNets
import Plotting
import Tensors
import Training

extension Experiments {
    /// The `adamw` suite: heatmaps, budget, restarts.
    static let adamw: [Experiment] = [
        Experiment(suite: "adamw", name: "heatmaps",
                   abstract: "Fig. 2: learning rate x weight decay heatmaps of final test error, SGD-L2, SGDW, Adam-L2, AdamW",
                   run: AdamWSuite.heatmaps),
        Experiment(suite: "adamw", name: "budget",
                   abstract: "Sec. 4: best raw weight decay shrinks with the epoch budget, best normalized decay stays (AdamW)",
                   run: AdamWSuite.budget),
        Experiment(suite: "adamw", name: "restarts",
                   abstract: "Warm restarts (SGDR, T0 and Tmult 2) against one cosine cycle: test error per epoch",
                   run: AdamWSuite.restarts),
    ]
}

/// The settings and analysis of the `adamw` suite.
public enum AdamWSuite {
    /// The network and data of every run at one scale.
    public struct Setup: Sendable {
        public var trainingSubset: Int
        public var testSubset: Int
        public var hidden: [Int]
        public var batchSize: Int
        /// Epochs of a sweep run (one cosine cycle).
        public var epochs: Int
        public var seeds: Int
        /// Grid points kept per axis (the standard grids have 6).
        public var gridPoints: Int
        /// Epoch budgets of the budget experiment.
        public var budgets: [Int]
        /// T_0 of the warm restarts; the run lasts T_0 (1 + 2 + 4) epochs.
        public var restartPeriod: Int

        public static func at(_ scale: ExperimentScale) -> Setup {
            switch scale {
            case .quick:
                Setup(trainingSubset: 100, testSubset: 100, hidden: [16], batchSize: 25, epochs: 2, seeds: 1,
                      gridPoints: 2, budgets: [2, 4], restartPeriod: 1)
            case .standard:
                Setup(trainingSubset: 1000, testSubset: 2000, hidden: [256], batchSize: 25, epochs: 40, seeds: 2,
                      gridPoints: 6, budgets: [10, 20, 40, 80], restartPeriod: 10)
            case .full:
                Setup(trainingSubset: 5000, testSubset: 5000, hidden: [512], batchSize: 25, epochs: 60, seeds: 3,
                      gridPoints: 6, budgets: [15, 30, 60, 120], restartPeriod: 15)
            }
        }
    }

    /// One optimizer of the heatmaps: a name, its learning rates and decays.
    public struct Method: Sendable {
        /// "sgd-l2", "sgdw", "adam-l2", "adamw".
        public var name: String
        /// The panel title.
        public var title: String
        /// "sgd" or "adam".
        public var optimizer: String
        /// The weight-decay form of `RunSettings.weightDecay`: "l2" or "decoupled".
        public var form: String
        public var learningRates: [Double]
        public var decays: [Double]
        /// The y-axis label.
        public var decayLabel: String
    }

    /// The four grids: factor-2 steps in the learning rate; factor-2 steps in
    /// the decay (factor 4 for Adam's L2 factor, whose effect is weak).
    public static func methods(points: Int) -> [Method] {
        func grid(_ first: Double, _ factor: Double) -> [Double] {
            (0..<6).map { first * pow(factor, Double($0)) }
        }
        // Quick scale keeps the middle of each grid.
        func keep(_ values: [Double]) -> [Double] {
            let skip = (values.count - points) / 2
            return Array(values[skip..<(skip + points)])
        }
        let sgdRates = grid(0.00625, 2), adamRates = grid(5e-4, 2)
        return [
            Method(name: "sgd-l2", title: "SGD with L2", optimizer: "sgd", form: "l2",
                   learningRates: keep(sgdRates), decays: keep(grid(0.001, 2)), decayLabel: "L2 factor"),
            Method(name: "sgdw", title: "SGDW (decoupled)", optimizer: "sgd", form: "decoupled",
                   learningRates: keep(sgdRates), decays: keep(grid(1e-4, 2)), decayLabel: "weight decay \u{03BB}"),
            Method(name: "adam-l2", title: "Adam with L2", optimizer: "adam", form: "l2",
                   learningRates: keep(adamRates), decays: keep(grid(2.5e-5, 4)), decayLabel: "L2 factor"),
            Method(name: "adamw", title: "AdamW (decoupled)", optimizer: "adam", form: "decoupled",
                   learningRates: keep(adamRates), decays: keep(grid(1e-4, 2)), decayLabel: "weight decay \u{03BB}"),
        ]
    }

    /// The settings of one run: the MLP (ReLU, He initialization) over the
    /// 14 x 14 Fashion-MNIST subset, one cosine cycle unless `schedule` says
    /// otherwise, SGD with momentum 0.9 or Adam, recording `record`.
    public static func settings(_ setup: Setup, data: String, optimizer: String, learningRate: Double,
                                decay: String?, seed: UInt64, epochs: Int, schedule: String? = nil,
                                record: String? = nil) -> RunSettings {
        var o = ["name": optimizer, "learning_rate": "\(Float(learningRate))"]
        if optimizer == "sgd" { o["momentum"] = "0.9" }
        return RunSettings(task: "fashion-mnist", dataSource: data + "@14", widths: [196] + setup.hidden + [10],
                           activation: "relu", initializer: "heNormal", optimizer: o, batchSize: setup.batchSize,
                           epochs: epochs, seed: seed, trainingFraction: 1, splitMethod: "random",
                           trainingSubset: setup.trainingSubset, testSubset: setup.testSubset,
                           schedule: record ?? "\(epochs)", activations: "post", dtype: "float16",
                           checkpointInterval: epochs, weightDecay: decay,
                           learningRateSchedule: schedule ?? "cosine:\(epochs)")
    }

    /// A number for directory names and CSV cells: shortest round-trip text of the Float.
    static func text(_ x: Double) -> String { "\(Float(x))" }

    /// The final test and train error of a complete run (NaN if it is not complete).
    public static func finalErrors(_ path: String) -> (test: Double, train: Double) {
        guard let reader = try? RunReader(path: path), reader.manifest.complete,
              let last = try? reader.metrics().last else { return (.nan, .nan) }
        return (1 - last.testAccuracy, 1 - last.trainAccuracy)
    }

    /// Trains the plan; a run that fails (a diverging learning rate) is left
    /// out and reported, unless every run failed.
    static func train(_ plan: [PlannedRun], context: ExperimentContext, message: String) throws -> [String] {
        do {
            try trainRuns(plan, workers: context.workers, progress: context.progress, message: message)
            return []
        } catch {
            let failed = plan.filter { !((try? RunReader(path: $0.path))?.manifest.complete ?? false) }.map(\.path)
            if failed.count == plan.count { throw error }
            context.log("\(failed.count) run(s) failed and are left out: \(error)")
            return failed
        }
    }

    // MARK: Heatmaps

    /// One cell of a sweep, averaged over seeds.
    public struct Cell: Sendable, Equatable {
        public var learningRate: Double
        public var decay: Double
        /// Final test errors, one per seed (NaN for a failed run).
        public var errors: [Double]
        public var mean: Double { errors.reduce(0, +) / Double(errors.count) }
        /// Sample standard deviation over seeds (NaN for one seed).
        public var spread: Double {
            guard errors.count > 1 else { return .nan }
            let m = mean
            return (errors.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(errors.count - 1)).squareRoot()
        }
    }

    /// The cells of one method from a per-run CSV (`lr,weight_decay,seed,test_error,…`):
    /// rows grouped by (lr, weight_decay) in grid order (decay outer, rate inner).
    public static func cells(csv path: String) throws -> [Cell] {
        let lines = try AtomicFile.readText(path).split(separator: "\n").map(String.init)
        guard let header = lines.first?.split(separator: ",").map(String.init),
              let lr = header.firstIndex(of: "lr"), let wd = header.firstIndex(of: "weight_decay"),
              let err = header.firstIndex(of: "test_error") else {
            throw FileError(path: path, reason: "expected columns lr, weight_decay, test_error")
        }
        var cells = [Cell]()
        for line in lines.dropFirst() where !line.isEmpty {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == header.count, let a = Double(f[lr]), let b = Double(f[wd]) else {
                throw FileError(path: path, reason: "malformed row \"\(line)\"")
            }
            let e = Double(f[err]) ?? .nan
            if let k = cells.firstIndex(where: { $0.learningRate == a && $0.decay == b }) {
                cells[k].errors.append(e)
            } else {
                cells.append(Cell(learningRate: a, decay: b, errors: [e]))
            }
        }
        return cells.sorted { ($0.decay, $0.learningRate) < ($1.decay, $1.learningRate) }
    }

    /// How the basin of a heatmap is oriented.
    public struct BasinShape: Sendable {
        /// Least-squares slope of log(best decay in each learning-rate column)
        /// against log(learning rate): -1 along the diagonal λ α = const, 0
        /// along the axes.
        public var slope: Double
        /// The share of the variance of the mean errors (in the cells within
        /// `window` of the best) that row and column effects do not explain:
        /// 0 for a separable (axis-aligned) table.
        public var interaction: Double
    }

    /// The slope of the column-wise best decay and the interaction share of
    /// the table of means (`cells` in grid order, decay outer).
    public static func basinShape(_ cells: [Cell], rates: [Double], decays: [Double]) -> BasinShape {
        let nx = rates.count, ny = decays.count
        let m = cells.map(\.mean)
        var xs = [Double](), ys = [Double]()
        for j in 0..<nx {
            let column = (0..<ny).map { m[$0 * nx + j] }
            guard let best = column.indices.filter({ column[$0].isFinite }).min(by: { column[$0] < column[$1] }) else { continue }
            xs.append(log(rates[j]))
            ys.append(log(decays[best]))
        }
        let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
        let sxy = zip(xs, ys).map { ($0 - mx) * ($1 - my) }.reduce(0, +)
        let sxx = xs.map { ($0 - mx) * ($0 - mx) }.reduce(0, +)
        let slope = sxx > 0 ? sxy / sxx : .nan
        // Two-way additive fit of the full table: m_ij ≈ μ + r_i + c_j.
        let finite = m.filter(\.isFinite)
        let mu = finite.reduce(0, +) / Double(finite.count)
        let rowMeans = (0..<ny).map { i in mean((0..<nx).map { m[i * nx + $0] }) }
        let colMeans = (0..<nx).map { j in mean((0..<ny).map { m[$0 * nx + j] }) }
        var total = 0.0, residual = 0.0
        for i in 0..<ny {
            for j in 0..<nx where m[i * nx + j].isFinite {
                total += pow(m[i * nx + j] - mu, 2)
                residual += pow(m[i * nx + j] - rowMeans[i] - colMeans[j] + mu, 2)
            }
        }
        return BasinShape(slope: slope, interaction: total > 0 ? residual / total : .nan)
    }

    /// Percentile bootstrap intervals of the slope and the interaction share: each
    /// resample draws the seeds with replacement, jointly for every cell (a seed
    /// fixes the data subset of all its runs), and recomputes the table of means.
    /// With two seeds the resampled tables are seed 1's, seed 2's and their mean.
    public static func basinShapeIntervals(_ cells: [Cell], rates: [Double], decays: [Double],
                                           bootstrap: SeedBootstrap) -> (slope: Interval, interaction: Interval) {
        let shape = basinShape(cells, rates: rates, decays: decays)
        let n = cells.map(\.errors.count).min() ?? 0
        guard n > 1 else {
            return (Interval(mean: shape.slope, lower: shape.slope, upper: shape.slope),
                    Interval(mean: shape.interaction, lower: shape.interaction, upper: shape.interaction))
        }
        var rng = RandomGenerator(seed: bootstrap.seed)
        var slopes = [Double](), shares = [Double]()
        for _ in 0..<bootstrap.resamples {
            let pick = (0..<n).map { _ in rng.nextInt(below: n) }
            let resampled = cells.map { c in Cell(learningRate: c.learningRate, decay: c.decay, errors: pick.map { c.errors[$0] }) }
            let s = basinShape(resampled, rates: rates, decays: decays)
            if s.slope.isFinite { slopes.append(s.slope) }
            if s.interaction.isFinite { shares.append(s.interaction) }
        }
        slopes.sort()
        shares.sort()
        let alpha = (1 - bootstrap.confidence) / 2
        return (Interval(mean: shape.slope, lower: SeedBootstrap.quantile(slopes, alpha), upper: SeedBootstrap.quantile(slopes, 1 - alpha)),
                Interval(mean: shape.interaction, lower: SeedBootstrap.quantile(shares, alpha), upper: SeedBootstrap.quantile(shares, 1 - alpha)))
    }

    private static func mean(_ values: [Double]) -> Double {
        let f = values.filter(\.isFinite)
        return f.isEmpty ? .nan : f.reduce(0, +) / Double(f.count)
    }

    static func percent(_ x: Double, _ digits: Int = 1) -> String { fixed(100 * x, digits) }

    public static func heatmaps(_ context: ExperimentContext) throws -> ExperimentReport {
        let setup = Setup.at(context.scale)
        let epochs = context.epochs ?? setup.epochs
        let seeds = (0..<(context.seeds ?? setup.seeds)).map { context.seed + UInt64($0) }
        let data = context.data ?? FashionMNIST.defaultDirectory
        let methods = methods(points: setup.gridPoints)
        var plan = [PlannedRun](), rows = [String: [(lr: Double, wd: Double, seed: UInt64, path: String)]]()
        // Seeds outermost, so that an interrupted sweep has whole grids first.
        for seed in seeds {
            for method in methods {
                for wd in method.decays {
                    for lr in method.learningRates {
                        let path = try context.runDirectory(method.name) + "/lr\(text(lr))-wd\(text(wd))-seed\(seed)"
                        plan.append(PlannedRun(path: path, settings: settings(
                            setup, data: data, optimizer: method.optimizer, learningRate: lr,
                            decay: "\(method.form):\(text(wd))", seed: seed, epochs: epochs)))
                        rows[method.name, default: []].append((lr, wd, seed, path))
                    }
                }
            }
        }
        let failed = try train(plan, context: context, message: "adamw heatmaps: \(plan.count) runs")
        var outputs = [String](), panels = [HeatmapFigure](), allCells = [[Cell]]()
        for method in methods {
            var csv = "lr,weight_decay,seed,test_error,train_error,run\n"
            for r in rows[method.name]! {
                let e = finalErrors(r.path)
                csv += "\(text(r.lr)),\(text(r.wd)),\(r.seed),\(e.test),\(e.train),\(r.path)\n"
            }
            let path = try context.figurePath("adamw-heatmaps-\(method.name).csv")
            try AtomicFile.write(csv, to: path)
            outputs.append(path)
            let cells = try cells(csv: path)
            allCells.append(cells)
            var panel = HeatmapFigure(values: cells.map { 100 * $0.mean }, xValues: method.learningRates, yValues: method.decays)
            panel.title = method.title
            panel.xLabel = "learning rate \u{03B1}"
            panel.yLabel = method.decayLabel
            panel.best = .minimum
            panels.append(panel)
        }
        let everything = allCells.flatMap { $0.map(\.mean) }.filter(\.isFinite)
        let lowest = 100 * (everything.min() ?? 0), highest = 100 * (everything.max() ?? 1)
        var figure = HeatmapGridFigure(panels: panels, columns: 2)
        figure.title = "Final test error (%), mean of \(seeds.count) seed\(seeds.count == 1 ? "" : "s"), \(epochs) epochs, one cosine cycle"
        figure.colorbarLabel = "test error (%)"
        figure.colormap = .viridis
        // Colours saturate 12 points above the best cell so the basins stay readable.
        figure.colorLimits = (lowest, min(highest, lowest + 12))
        let png = try context.writeFigure(figure.render(width: 1300, height: 950), "adamw-heatmaps.png")
        outputs.insert(png, at: 0)

        // The summary.
        var md = "# adamw heatmaps: learning rate x weight decay (Loshchilov & Hutter, Fig. 2)\n\n"
        md += "MLP 196-\(setup.hidden.map(String.init).joined(separator: "-"))-10 (ReLU, He init) on Fashion-MNIST 14 x 14, "
        md += "\(setup.trainingSubset) training and \(setup.testSubset) test images (seeded subsets, a different subset per seed), "
        md += "batch \(setup.batchSize), \(epochs) epochs, one cosine cycle (multiplier updated every batch); SGD with momentum 0.9, Adam with "
        md += "β = (0.9, 0.999). Decoupled decay in the paper's form (θ ← θ − η_t λ θ, not scaled by α). "
        md += "Seeds \(seeds.map(String.init).joined(separator: ", ")); final test error = 1 − test accuracy after the last epoch. "
        md += "![heatmaps](adamw-heatmaps.png)\n\n"
        if !failed.isEmpty { md += "Failed runs (left empty): \(failed.count).\n\n" }
        let pct = Int((context.bootstrap.confidence * 100).rounded())
        var table = MarkdownTable(header: ["optimizer", "best cell (α, decay)", "test error % (mean ± sd)", "median seed sd %",
                                           "slope of best decay vs α [\(pct) % interval]", "interaction share [\(pct) % interval]"],
                                  rightAligned: [false, false, true, true, true, true])
        var bests = [(name: String, cell: Cell)]()
        for (method, cells) in zip(methods, allCells) {
            let best = cells.filter { $0.mean.isFinite }.min { $0.mean < $1.mean }!
            bests.append((method.name, best))
            let sds = cells.map(\.spread).filter(\.isFinite).sorted()
            let shape = basinShapeIntervals(cells, rates: method.learningRates, decays: method.decays, bootstrap: context.bootstrap)
            table.append([method.title, "(\(text(best.learningRate)), \(text(best.decay)))",
                          "\(percent(best.mean, 2)) ± \(percent(best.spread, 2))",
                          sds.isEmpty ? "-" : percent(sds[sds.count / 2], 2), intervalText(shape.slope, 2), intervalText(shape.interaction, 2)])
        }
        md += table.text + "\n"
        md += "The slope is the least-squares slope of log(best decay per learning-rate column) against log α: −1 would mean the basin "
        md += "runs along the diagonal α·λ = const, 0 along the axes, +1 along λ/α = const. The interaction share is the fraction of the "
        md += "variance of the mean errors that an additive row + column model leaves unexplained (0: separable). Intervals: "
        md += "\(context.bootstrap), the seeds drawn jointly for every cell (a seed fixes the data subset of all its runs)"
        md += seeds.count == 2 ? "; with two seeds the resampled tables are seed \(seeds[0])'s, seed \(seeds[1])'s and their mean, so the interval "
            + "spans the slopes of the seeds taken alone.\n\n" : ".\n\n"
        md += "## Findings\n\n"
        let shapes = zip(methods, allCells).map { basinShapeIntervals($1, rates: $0.learningRates, decays: $0.decays, bootstrap: context.bootstrap) }
        // An orientation is claimed only when the interval contains its slope and excludes the other two (−1, 0, +1).
        func orientation(_ s: (slope: Interval, interaction: Interval)) -> String {
            let i = s.slope
            let quoted = "slope \(intervalText(i, 2)), interaction share \(intervalText(s.interaction, 2))"
            func contains(_ x: Double) -> Bool { i.lower <= x && x <= i.upper }
            let candidates = [(-1.0, "along a diagonal α·λ = const"), (0.0, "along the axes"), (1.0, "along λ/α = const, the best decay growing with α")]
            let inside = candidates.filter { contains($0.0) }
            if inside.count == 1 { return "\(inside[0].1) (\(quoted); the slope's interval contains \(number(inside[0].0)) and neither of the other two)" }
            if inside.isEmpty { return "none of the three orientations: \(quoted), which contains none of −1, 0, +1" }
            return "undecided between " + inside.map(\.1).joined(separator: " and ") + " (\(quoted))"
        }
        md += "- SGD with L2: the basin lies \(orientation(shapes[0])); the paper reports a diagonal.\n"
        md += "- SGDW: the basin lies \(orientation(shapes[1])); the paper reports the axes.\n"
        md += "- Adam with L2: \(orientation(shapes[2])).\n"
        md += "- AdamW: \(orientation(shapes[3])).\n"
        let adamL2 = bests[2].cell, adamW = bests[3].cell
        let pairs = zip(adamW.errors, adamL2.errors).map { $0 - $1 }
        let diff = pairs.reduce(0, +) / Double(pairs.count)
        let noise = (adamW.spread * adamW.spread + adamL2.spread * adamL2.spread).squareRoot()
        let within = !noise.isNaN && abs(diff) <= 2 * noise
        md += "- AdamW's best cell \(within ? "and Adam-L2's are level" : adamW.mean < adamL2.mean ? "beats Adam-L2's" : "does not beat Adam-L2's"): \(percent(adamW.mean, 2)) % against "
        md += "\(percent(adamL2.mean, 2)) % (difference \(percent(diff, 2)) points; per-seed differences \(pairs.map { percent($0, 2) }.joined(separator: ", ")); "
        md += "combined seed sd \(percent(noise, 2)) points): " + (noise.isNaN ? "one seed, no spread to compare with.\n"
            : abs(diff) > 2 * noise ? "larger than twice the seed-to-seed noise.\n" : "within twice the seed-to-seed noise, so two seeds cannot separate them.\n")
        let sgd = bests[0].cell, sgdw = bests[1].cell
        md += "- Best SGD-L2 \(percent(sgd.mean, 2)) % against best SGDW \(percent(sgdw.mean, 2)) %.\n\n"
        md += "Sweep tables (one row per run; `infoplane plot heatmap FILE --x lr --y weight_decay --value test_error --best min` "
        md += "averages the seeds): " + outputs.dropFirst().map { "`\(($0 as NSString).lastPathComponent)`" }.joined(separator: ", ") + ".\n"
        for (name, message) in [("runs", context.runs)] { md += "\nRuns (\(name)): `\(message)`.\n" }
        return try writeSummary(md, title: "adamw heatmaps", context: context, name: "adamw-heatmaps.md", outputs: outputs)
    }

    // MARK: Budget

    /// Normalized weight decays of the budget experiment: factor-2 steps.
    public static func normalizedDecays(points: Int) -> [Double] {
        let all = (0..<6).map { 0.0025 * pow(2, Double($0)) }
        let skip = (all.count - points) / 2
        return Array(all[skip..<(skip + points)])
    }

    /// The learning rate of the budget and restart runs.
    static let adamRate = 0.004, sgdRate = 0.05

    public static func budget(_ context: ExperimentContext) throws -> ExperimentReport {
        let setup = Setup.at(context.scale)
        let budgets = context.epochs.map { e in setup.budgets.map { max(1, $0 * e / setup.budgets.last!) } } ?? setup.budgets
        let seeds = (0..<(context.seeds ?? setup.seeds)).map { context.seed + UInt64($0) }
        let data = context.data ?? FashionMNIST.defaultDirectory
        let norms = normalizedDecays(points: setup.gridPoints)
        var plan = [PlannedRun](), entries = [(budget: Int, norm: Double, raw: Double, seed: UInt64, path: String)]()
        for seed in seeds {
            for budget in budgets {
                for norm in norms {
                    let raw = Double(WeightDecay.normalized(Float(norm), batchSize: setup.batchSize,
                                                            trainingSetSize: setup.trainingSubset, epochs: budget))
                    let path = try context.runDirectory("epochs\(budget)") + "/norm\(text(norm))-seed\(seed)"
                    plan.append(PlannedRun(path: path, settings: settings(
                        setup, data: data, optimizer: "adam", learningRate: adamRate, decay: "decoupled:\(text(raw))",
                        seed: seed, epochs: budget)))
                    entries.append((budget, norm, raw, seed, path))
                }
            }
        }
        let failed = try train(plan, context: context, message: "adamw budget: \(plan.count) runs")
        var csv = "epochs,normalized_weight_decay,weight_decay,seed,test_error,train_error,run\n"
        var errors = [String: [Double]]()
        for e in entries {
            let r = finalErrors(e.path)
            csv += "\(e.budget),\(text(e.norm)),\(text(e.raw)),\(e.seed),\(r.test),\(r.train),\(e.path)\n"
            errors["\(e.budget) \(e.norm)", default: []].append(r.test)
        }
        let csvPath = try context.figurePath("adamw-budget.csv")
        try AtomicFile.write(csv, to: csvPath)
        func meanError(_ b: Int, _ n: Double) -> Double { mean(errors["\(b) \(n)"] ?? []) }
        var rawPanel = [CurveSeries](), normPanel = [CurveSeries]()
        var table = MarkdownTable(header: ["epochs", "best raw λ", "best λ_norm", "test error % at best", "worst %"],
                                  rightAligned: [true, true, true, true, true])
        for (k, b) in budgets.enumerated() {
            let ys = norms.map { 100 * meanError(b, $0) }
            let raws = norms.map { Double(WeightDecay.normalized(Float($0), batchSize: setup.batchSize,
                                                                 trainingSetSize: setup.trainingSubset, epochs: b)) }
            let color = Colormap.tab10Color(k)
            rawPanel.append(CurveSeries(name: "\(b) epochs", x: raws, y: ys, color: color, marker: .circle))
            normPanel.append(CurveSeries(name: "\(b) epochs", x: norms, y: ys, color: color, marker: .circle))
            let best = ys.indices.filter { ys[$0].isFinite }.min { ys[$0] < ys[$1] } ?? 0
            table.append(["\(b)", String(format: "%.3g", raws[best]), text(norms[best]), fixed(ys[best], 2), fixed(ys.filter(\.isFinite).max() ?? .nan, 2)])
        }
        var figure = CurvesFigure(panels: [
            CurvesPanel(series: rawPanel, title: "against the raw decay \u{03BB}", xLabel: "weight decay \u{03BB} (raw)",
                        yLabel: "final test error (%)", xScale: .log),
            CurvesPanel(series: normPanel, title: "against the normalized decay", xLabel: "\u{03BB}_norm = \u{03BB} \u{221A}(BT/b)",
                        yLabel: "final test error (%)", xScale: .log),
        ], columns: 2)
        figure.title = "AdamW (α = \(text(adamRate))) over epoch budgets, mean of \(seeds.count) seed\(seeds.count == 1 ? "" : "s")"
        figure.sharedY = true
        let png = try context.writeFigure(figure.render(width: 1100, height: 480), "adamw-budget.png")
        var md = "# adamw budget: normalized weight decay (Loshchilov & Hutter, Sec. 4)\n\n"
        md += "AdamW (paper form, α = \(text(adamRate)), one cosine cycle per budget) on the heatmaps' MLP and data; for each budget T "
        md += "the raw decay is λ = λ_norm √(b / (B T)) with b = \(setup.batchSize), B = \(setup.trainingSubset). Mean of seeds "
        md += "\(seeds.map(String.init).joined(separator: ", ")). ![budget](adamw-budget.png)\n\n"
        if !failed.isEmpty { md += "Failed runs: \(failed.count).\n\n" }
        md += table.text + "\n"
        let bestRaw = table.rows.map { Double($0[1]) ?? .nan }, bestNorm = table.rows.map { Double($0[2]) ?? .nan }
        let rawShrinks = zip(bestRaw, bestRaw.dropFirst()).allSatisfy { $1 <= $0 } && bestRaw.first! > bestRaw.last!
        let normStays = Set(bestNorm).count == 1
        md += "Best raw λ \(rawShrinks ? "shrinks" : "does not shrink monotonically") as the budget grows "
        md += "(\(bestRaw.map { String(format: "%.3g", $0) }.joined(separator: " → "))); the best λ_norm \(normStays ? "stays at \(text(bestNorm[0]))" : "moves (\(bestNorm.map { text($0) }.joined(separator: " → ")))"). "
        md += "Neighbouring decays often differ by less than the seed-to-seed spread, so the best cell can move by one grid step by chance.\n\n"
        md += "Table: `adamw-budget.csv`.\n"
        return try writeSummary(md, title: "adamw budget", context: context, name: "adamw-budget.md", outputs: [png, csvPath])
    }

    // MARK: Restarts

    public static func restarts(_ context: ExperimentContext) throws -> ExperimentReport {
        let setup = Setup.at(context.scale)
        let t0 = context.epochs.map { max(1, $0 / 7) } ?? setup.restartPeriod
        let epochs = 7 * t0
        let seeds = (0..<(context.seeds ?? setup.seeds)).map { context.seed + UInt64($0) }
        let data = context.data ?? FashionMNIST.defaultDirectory
        let lambdaNorm = 0.02
        let configurations: [(name: String, optimizer: String, rate: Double)] = [("adamw", "adam", adamRate), ("sgdw", "sgd", sgdRate)]
        let schedules = [("cosine", "cosine:\(epochs)"), ("sgdr", "sgdr:\(t0):2")]
        var plan = [PlannedRun](), paths = [String: [String]]()
        for seed in seeds {
            for c in configurations {
                // The paper normalizes by the length of the current cycle; one λ for the
                // whole run here, normalized by the total budget, keeps the two runs comparable.
                let raw = WeightDecay.normalized(Float(lambdaNorm), batchSize: setup.batchSize,
                                                 trainingSetSize: setup.trainingSubset, epochs: epochs)
                for (name, schedule) in schedules {
                    let path = try context.runDirectory("\(c.name)-\(name)") + "/seed\(seed)"
                    plan.append(PlannedRun(path: path, settings: settings(
                        setup, data: data, optimizer: c.optimizer, learningRate: c.rate, decay: "decoupled:\(raw)",
                        seed: seed, epochs: epochs, schedule: schedule, record: "every:\(max(1, t0))")))
                    paths["\(c.name)-\(name)", default: []].append(path)
                }
            }
        }
        _ = try train(plan, context: context, message: "adamw restarts: \(plan.count) runs")
        var panels = [CurvesPanel]()
        let after = 5
        var table = MarkdownTable(header: ["optimizer", "schedule", "test error % at restarts (epochs \(LearningRateSchedule.warmRestarts(firstPeriod: t0, periodMultiplier: 2).restarts(through: epochs).map(String.init).joined(separator: ", ")))",
                                           "highest test error % in the \(after) epochs after each restart (seeds rising)", "best over the run %", "final %"],
                                  rightAligned: [false, false, true, true, true, true])
        var rises = [String]()
        var csv = "optimizer,schedule,epoch,test_error_mean,train_error_mean\n"
        let ends = LearningRateSchedule.warmRestarts(firstPeriod: t0, periodMultiplier: 2).restarts(through: epochs)
        for c in configurations {
            var series = [CurveSeries]()
            for (k, (name, _)) in schedules.enumerated() {
                let runs = try paths["\(c.name)-\(name)"]!.map { try RunReader(path: $0).metrics() }
                let n = runs.map(\.count).min() ?? 0
                let test = (0..<n).map { e in mean(runs.map { 1 - $0[e].testAccuracy }) }
                let train = (0..<n).map { e in mean(runs.map { 1 - $0[e].trainAccuracy }) }
                for e in 0..<n { csv += "\(c.name),\(name),\(e),\(test[e]),\(train[e])\n" }
                let color = Colormap.tab10Color(k)
                let label = name == "sgdr" ? "SGDR (T0 = \(t0), Tmult = 2)" : "one cosine cycle"
                series.append(CurveSeries(name: label + ", test", x: (0..<n).map(Double.init), y: test.map { 100 * $0 }, color: color))
                series.append(CurveSeries(name: label + ", train", x: (0..<n).map(Double.init), y: train.map { 100 * $0 },
                                          color: color, dashed: true))
                // After each restart that is not the end of the run: the highest mean test error of the
                // next `after` epochs, and in how many seeds the seed's own highest exceeds its value at the restart.
                let inner = name == "sgdr" ? ends.filter { $0 + 1 < n } : []
                let afterText = inner.isEmpty ? "-" : inner.map { r -> String in
                    let window = (r + 1)...min(n - 1, r + after)
                    let rising = runs.count { run in window.map { 1 - run[$0].testAccuracy }.max()! > 1 - run[r].testAccuracy }
                    let high = window.map { test[$0] }.max()!
                    rises.append("\(c.name) at epoch \(r): \(percent(test[r], 2)) % → up to \(percent(high, 2)) % (\(rising)/\(runs.count) seeds rise)")
                    return "\(r): \(percent(high, 2)) (\(rising)/\(runs.count))"
                }.joined(separator: ", ")
                table.append([c.name, name, ends.filter { $0 < n }.map { percent(test[$0], 2) }.joined(separator: ", "), afterText,
                              percent(test.dropFirst().min() ?? .nan, 2), percent(test.last ?? .nan, 2)])
            }
            var panel = CurvesPanel(series: series, title: c.name == "adamw" ? "AdamW (α = \(text(adamRate)))" : "SGDW (α = \(text(sgdRate)))",
                                    xLabel: "epoch", yLabel: "error (%)")
            panel.yLimits = (0, 40)
            panels.append(panel)
        }
        var figure = CurvesFigure(panels: panels, columns: 2)
        figure.title = "Warm restarts against one cosine cycle (\(epochs) epochs, λ_norm = \(lambdaNorm), mean of \(seeds.count) seed\(seeds.count == 1 ? "" : "s"))"
        figure.sharedY = true
        let png = try context.writeFigure(figure.render(width: 1100, height: 480), "adamw-restarts.png")
        let csvPath = try context.figurePath("adamw-restarts.csv")
        try AtomicFile.write(csv, to: csvPath)
        var md = "# adamw restarts: SGDR against one cosine cycle\n\n"
        md += "The heatmaps' MLP and data, \(epochs) epochs; SGDR restarts at epochs \(ends.map(String.init).joined(separator: ", ")) "
        md += "(T_0 = \(t0), T_mult = 2, multiplier updated every batch) against one cosine cycle over the same budget. "
        md += "Decoupled decay λ = λ_norm √(b/(BT)) with λ_norm = \(lambdaNorm) and T the whole budget. ![restarts](adamw-restarts.png)\n\n"
        md += table.text + "\n"
        md += "Test errors are means over seeds \(seeds.map(String.init).joined(separator: ", ")); a seed rises after a restart when its own highest "
        md += "test error in the \(after) epochs after the restart exceeds its test error at the restart. After the restarts inside the run "
        md += "(the last cycle ends with the run): " + (rises.isEmpty ? "none." : rises.joined(separator: "; ") + ".") + " "
        md += "Per-epoch means: `adamw-restarts.csv`.\n"
        return try writeSummary(md, title: "adamw restarts", context: context, name: "adamw-restarts.md", outputs: [png, csvPath])
    }
}
