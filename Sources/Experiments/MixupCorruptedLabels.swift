// mixup corrupted-labels: memorization of corrupted labels under ERM and
// mixup (Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR
// 2018, Table 2; the corruption protocol of Zhang et al. 2017) at CPU scale.
//
// A seeded Fashion-MNIST subset (14 x 14) with 0 %, 40 % and 80 % of its
// training labels replaced by a different random class; a wide ReLU MLP
// trained with ERM and with mixup (α = 1, 8, 32). Per epoch, label-noise.csv
// of each run holds the fraction of corrupted samples predicted as their
// corrupted label (memorized), as their true label, and the clean test
// accuracy. The training samples' activations are recorded, and per layer
// I(T; Y_noisy) and I(T; Y_clean) are estimated on them with the two label sets.

import ActivationStore
import Analysis
import ArrayIO
import Datasets
import Foundation
import InfoTheory
import Plotting
import Training

extension Experiments {
    /// The mixup suite.
    static let mixupCorruptedLabels: [Experiment] = [
        Experiment(suite: "mixup", name: "corrupted-labels",
                   abstract: "memorization of 0/40/80 % corrupted Fashion-MNIST labels, ERM vs mixup α = 1, 8, 32 (Table 2), with I(T;Y_noisy) and I(T;Y_clean)",
                   run: MixupCorruptedLabels.run),
    ]
}

/// The sizes of the corrupted-labels experiment at each scale.
struct MixupPlan: Sendable, Equatable {
    var trainingSubset: Int
    var testSubset: Int?
    var hidden: [Int]
    var downsample: Bool
    var epochs: Int
    var schedule: String

    static func plan(_ scale: ExperimentScale) -> MixupPlan {
        switch scale {
        case .quick: MixupPlan(trainingSubset: 200, testSubset: 100, hidden: [64, 64], downsample: true, epochs: 3, schedule: "every")
        case .standard: MixupPlan(trainingSubset: 3000, testSubset: 500, hidden: [512, 512], downsample: true, epochs: 100, schedule: "log:12")
        case .full: MixupPlan(trainingSubset: 10000, testSubset: nil, hidden: [1024, 1024], downsample: false, epochs: 300, schedule: "log:16")
        }
    }
}

enum MixupCorruptedLabels {
    static let noiseLevels = [0.0, 0.4, 0.8]
    /// nil: ERM.
    static let alphas: [Double?] = [nil, 1, 8, 32]
    /// Bins per unit over each layer's range across epochs, for I(T;Y). Few
    /// bins: with 30, a 10-unit softmax already gives every training sample
    /// a code of its own, and I(T;Y) = H(Y) whatever the network predicts.
    static let informationBins = 4

    static func methodName(_ alpha: Double?) -> String { alpha.map { "mixup α=\(Int($0))" } ?? "ERM" }
    static func directoryName(noise: Double, alpha: Double?) -> String {
        "noise-\(Int((noise * 100).rounded()))-" + (alpha.map { "mixup-\(Int($0))" } ?? "erm")
    }

    static func settings(plan: MixupPlan, epochs: Int, noise: Double, alpha: Double?, seed: UInt64, data: String) -> RunSettings {
        let inputs = plan.downsample ? 196 : 784
        return RunSettings(task: "fashion-mnist", dataSource: plan.downsample ? data + "@14" : data,
                           widths: [inputs] + plan.hidden + [10], activation: "relu", initializer: "heNormal",
                           optimizer: ["name": "adam", "learning_rate": "\(Float(1e-3))"], batchSize: 128, epochs: epochs,
                           seed: seed, trainingFraction: 1, splitMethod: "random",
                           trainingSubset: plan.trainingSubset, testSubset: plan.testSubset, schedule: plan.schedule,
                           activations: "post", dtype: "float16", checkpointInterval: max(1, epochs / 4),
                           mixupAlpha: alpha, recordedSamples: "train", labelNoise: noise)
    }

    struct Result {
        var noise: Double
        var alpha: Double?
        var path: String
        var metrics: [EpochMetrics]
        var noiseRows: [LabelNoiseMetrics]
        /// Per layer: (epoch, I(T;Y_noisy), I(T;Y_clean)) on the training samples.
        var labelInformation: [Int: [(epoch: Int, noisy: Double, clean: Double)]]
    }

    static func run(_ context: ExperimentContext) throws -> ExperimentReport {
        let plan = MixupPlan.plan(context.scale)
        let epochs = context.epochs ?? plan.epochs
        var data = context.data ?? FashionMNIST.defaultDirectory
        if data.hasSuffix("@14") { data = String(data.dropLast(3)) }
        let started = Date()
        var planned = [PlannedRun]()
        var keys = [(noise: Double, alpha: Double?)]()
        for noise in noiseLevels {
            for alpha in alphas {
                planned.append(PlannedRun(path: try context.runDirectory(directoryName(noise: noise, alpha: alpha)),
                                          settings: settings(plan: plan, epochs: epochs, noise: noise, alpha: alpha,
                                                             seed: context.seed, data: data)))
                keys.append((noise, alpha))
            }
        }
        try trainRuns(planned, workers: context.workers, progress: context.progress,
                      message: "training ERM and mixup on 0/40/80 % corrupted labels")
        let trained = Date()

        // I(T;Y_noisy) and I(T;Y_clean) per layer on the training samples: the
        // same activations and discretization, the two label sets.
        let configuration = EstimatorConfiguration.binning(.global(bins: informationBins))
        var results = [Result]()
        for (run, key) in zip(planned, keys) {
            let reader = try RunReader(path: run.path)
            let noisySource = try ActivationSource.run(run.path)
            let cleanSource = noisySource.relabeled(try reader.trueLabels())
            let request = EstimationRequest(configuration: configuration, samples: .train)
            let noisy = try noisySource.estimate(request), clean = try cleanSource.estimate(request)
            try noisy.write(to: run.path + "/mi-noisy-labels.csv")
            try clean.write(to: run.path + "/mi-true-labels.csv")
            var information = [Int: [(epoch: Int, noisy: Double, clean: Double)]]()
            let a = noisy.column("I_TY")!, b = clean.column("I_TY")!
            for (i, row) in noisy.rows.enumerated() {
                precondition(clean.rows[i].epoch == row.epoch && clean.rows[i].layer == row.layer)
                information[row.layer, default: []].append((row.epoch, a[i], b[i]))
            }
            results.append(Result(noise: key.noise, alpha: key.alpha, path: run.path, metrics: try reader.metrics(),
                                  noiseRows: try reader.labelNoise(), labelInformation: information))
        }
        let estimated = Date()

        // Figures.
        var outputs = [String]()
        func save(_ canvas: Canvas, _ file: String) throws {
            outputs.append(try context.writeFigure(canvas, file))
        }
        func color(_ alpha: Double?) -> Color { Colormap.tab10Color(alphas.firstIndex { $0 == alpha } ?? 0) }
        func percent(_ noise: Double) -> String { "\(Int((noise * 100).rounded())) %" }
        let noisyLevels = noiseLevels.filter { $0 > 0 }

        var memorization = CurvesFigure(panels: noisyLevels.map { noise in
            var series = [CurveSeries]()
            for r in results where r.noise == noise {
                let rows = r.noiseRows.filter { $0.epoch > 0 }
                let x = rows.map { Double($0.epoch) }
                series.append(CurveSeries(name: methodName(r.alpha) + ", noisy label", x: x, y: rows.map(\.memorized), color: color(r.alpha)))
                series.append(CurveSeries(name: methodName(r.alpha) + ", true label", x: x, y: rows.map(\.corruptedTrueAccuracy),
                                          color: color(r.alpha), dashed: true))
            }
            var panel = CurvesPanel(series: series, title: "\(percent(noise)) of training labels corrupted", xLabel: "Epoch",
                                    yLabel: "Fraction of corrupted samples", xScale: .log)
            panel.yLimits = (0, 1)
            panel.legend = noise == noisyLevels.last
            return panel
        })
        memorization.title = "Corrupted training samples predicted as their noisy label (solid: memorized) or their true label (dashed)"
        try save(memorization.render(width: 1200, height: 480), "mixup-memorization.png")

        var testAccuracy = CurvesFigure(panels: noiseLevels.map { noise in
            let series = results.filter { $0.noise == noise }.map { r in
                let rows = r.metrics.filter { $0.epoch > 0 }
                return CurveSeries(name: methodName(r.alpha), x: rows.map { Double($0.epoch) }, y: rows.map(\.testAccuracy), color: color(r.alpha))
            }
            var panel = CurvesPanel(series: series, title: "\(percent(noise)) corrupted", xLabel: "Epoch", yLabel: "Clean test accuracy", xScale: .log)
            panel.legend = noise == noiseLevels.first
            return panel
        })
        testAccuracy.title = "Clean test accuracy, ERM vs mixup"
        testAccuracy.sharedY = true
        try save(testAccuracy.render(width: 1200, height: 440), "mixup-test-accuracy.png")

        // The information-plane view: I(T;Y_noisy) against I(T;Y_clean) of the output layer, and per layer over epochs.
        let outputLayer = results.first.map { r in r.labelInformation.keys.max() ?? 1 } ?? 1
        var informationPanels = [CurvesPanel]()
        for noise in noisyLevels {
            var series = [CurveSeries]()
            for r in results where r.noise == noise {
                let rows = (r.labelInformation[outputLayer] ?? []).filter { $0.epoch > 0 }
                let x = rows.map { Double($0.epoch) }
                series.append(CurveSeries(name: methodName(r.alpha) + ", Y noisy", x: x, y: rows.map(\.noisy), color: color(r.alpha)))
                series.append(CurveSeries(name: methodName(r.alpha) + ", Y clean", x: x, y: rows.map(\.clean), color: color(r.alpha), dashed: true))
            }
            var panel = CurvesPanel(series: series, title: "Output layer, \(percent(noise)) corrupted", xLabel: "Epoch",
                                    yLabel: "I(T;Y) (bits)", xScale: .log)
            panel.legend = noise == noisyLevels.last
            informationPanels.append(panel)
        }
        var information = CurvesFigure(panels: informationPanels)
        information.title = "I(T;Y_noisy) (solid) and I(T;Y_clean) (dashed) on the training samples, binning (\(informationBins) bins, global range)"
        try save(information.render(width: 1200, height: 480), "mixup-information.png")

        for noise in noisyLevels {
            var planePanels = [InformationPlanePanel]()
            for r in results where r.noise == noise && (r.alpha == nil || r.alpha == alphas.last!) {
                let points = r.labelInformation.flatMap { layer, rows in
                    rows.map { InformationPlanePoint(epoch: $0.epoch, layer: layer, ixt: $0.clean, ity: $0.noisy) }
                }
                planePanels.append(InformationPlanePanel(title: methodName(r.alpha), points: points))
            }
            var plane = InformationPlaneFigure(panels: planePanels)
            plane.title = "\(percent(noise)) corrupted: I(T;Y_clean) against I(T;Y_noisy) per layer (lines join the layers of one epoch)"
            plane.xLabel = "I(T;Y_clean) (bits)"
            plane.yLabel = "I(T;Y_noisy) (bits)"
            plane.logEpochs = true
            try save(plane.render(width: 1100, height: 500), "mixup-information-plane-\(Int((noise * 100).rounded())).png")
        }

        // Summary.
        let reader = try RunReader(path: planned[0].path)
        let s = reader.manifest.settings
        var md = "# mixup: memorization of corrupted labels (Zhang et al. 2018, Table 2, at CPU scale)\n\n"
        md += "Zhang et al. trained a PreAct ResNet-34 on CIFAR-10 with 20 %, 50 % and 80 % of the training labels replaced by random "
        md += "ones, for 200 epochs: ERM memorizes the corrupted labels (its last-epoch test error is far above its best), "
        md += "while mixup with a large α (8, 32) fits far fewer of them and keeps a much lower test error.\n\n"
        md += "Here: Fashion-MNIST\(plan.downsample ? " at 14 x 14" : ""), a seeded subset of \(s.trainingSubset.map(String.init) ?? "all") training and "
        md += "\(reader.manifest.settings.testSubset.map(String.init) ?? "10000") (clean) test samples, "
        md += "\(s.widths.map(String.init).joined(separator: "-")) ReLU MLP, Adam learning rate 0.001, batch 128, \(epochs) epochs "
        md += "(scale \(context.scale.rawValue)), seed \(context.seed). A corrupted label is always a different class, drawn uniformly "
        md += "among the other nine; 0 %, 40 % and 80 % of the training labels are corrupted. *Memorized* is the fraction of corrupted "
        md += "training samples the network predicts as their corrupted label.\n\n"
        var table = MarkdownTable(header: ["corrupted", "method", "best test acc.", "at epoch", "last test acc.", "memorized (last)",
                                           "corrupted → true label (last)", "clean train acc. (last)"],
                                  rightAligned: [true, false, true, true, true, true, true, true])
        for r in results {
            let best = r.metrics.max { $0.testAccuracy < $1.testAccuracy }!
            let last = r.noiseRows.last!
            table.append([percent(r.noise), methodName(r.alpha), fixed(best.testAccuracy, 3), "\(best.epoch)",
                          fixed(r.metrics.last!.testAccuracy, 3), r.noise > 0 ? fixed(last.memorized, 3) : "-",
                          r.noise > 0 ? fixed(last.corruptedTrueAccuracy, 3) : "-", fixed(last.cleanTrainAccuracy, 3)])
        }
        md += table.text + "\n"
        // The headline comparison in words.
        for noise in noisyLevels {
            let group = results.filter { $0.noise == noise }
            guard let erm = group.first(where: { $0.alpha == nil }), let strong = group.first(where: { $0.alpha == alphas.last! }) else { continue }
            let ermLast = erm.noiseRows.last!, strongLast = strong.noiseRows.last!
            md += "- \(percent(noise)) corrupted: ERM memorized \(fixed(100 * ermLast.memorized, 1)) % of the corrupted labels and ends at "
            md += "\(fixed(erm.metrics.last!.testAccuracy, 3)) clean test accuracy; mixup α=32 memorized \(fixed(100 * strongLast.memorized, 1)) % "
            md += "and ends at \(fixed(strong.metrics.last!.testAccuracy, 3)).\n"
        }
        md += "\nmixup both delays and reduces memorization. Mid-training, when ERM has memorized 90 % of the corrupted labels, "
        md += "the mixup runs stand at\n\n"
        var delay = MarkdownTable(header: ["corrupted", "epoch (ERM memorized ≥ 90 %)"] + alphas.map(methodName).map { "\($0): memorized / test acc." },
                                  rightAligned: [true, true] + alphas.map { _ in true })
        for noise in noisyLevels {
            let group = results.filter { $0.noise == noise }
            guard let erm = group.first(where: { $0.alpha == nil }),
                  let epoch = erm.noiseRows.first(where: { $0.memorized >= 0.9 })?.epoch else { continue }
            delay.append([percent(noise), "\(epoch)"] + alphas.map { alpha in
                guard let r = group.first(where: { $0.alpha == alpha }), let row = r.noiseRows.first(where: { $0.epoch == epoch }) else { return "-" }
                return "\(fixed(row.memorized, 3)) / \(fixed(row.testAccuracy, 3))"
            })
        }
        md += delay.text
        md += "\n## I(T;Y_noisy) and I(T;Y_clean)\n\n"
        md += "Plug-in binning (\(informationBins) bins over each layer's range across epochs) on the \(reader.manifest.sampleCount) training samples, "
        md += "with the labels trained on (Y_noisy) and the true labels (Y_clean), at the last recorded epoch (H(Y) is about "
        md += "log2(10) = 3.32 bits). Memorization shows in the output layer: as the corrupted labels are fitted, I(T;Y_noisy) rises to "
        md += "H(Y_noisy) and I(T;Y_clean) falls, and mixup slows both. In the hidden layers the two estimates stay within a few tenths "
        md += "of a bit of each other: the hidden codes carry about as much information about either label set, and the memorization "
        md += "is read out in the last layer.\n\n"
        let layers = results.first.map { $0.labelInformation.keys.sorted() } ?? []
        var itable = MarkdownTable(header: ["corrupted", "method"] + layers.flatMap { ["layer \($0) noisy", "layer \($0) clean"] },
                                   rightAligned: [true, false] + layers.flatMap { _ in [true, true] })
        for r in results where r.noise > 0 {
            itable.append([percent(r.noise), methodName(r.alpha)] + layers.flatMap { l -> [String] in
                let last = r.labelInformation[l]?.last
                return [fixed(last?.noisy ?? .nan, 2), fixed(last?.clean ?? .nan, 2)]
            })
        }
        md += itable.text
        md += String(format: "\nTimes of this invocation (under load; complete runs are reused, not retrained): training %.0f s, estimates %.0f s.\n",
                     trained.timeIntervalSince(started), estimated.timeIntervalSince(trained))
        md += "\nFigures: " + outputs.map { "`\(($0 as NSString).lastPathComponent)`" }.joined(separator: ", ") + ".\n"
        context.log(md)
        return try writeSummary(md, title: "mixup corrupted-labels", context: context, name: "mixup-corrupted-labels.md", outputs: outputs)
    }
}
