// `infoplane demo`: the information plane of the 12-bit network with tanh and
// with ReLU (Shwartz-Ziv & Tishby 2017; Saxe et al. 2018, Fig. 1), from
// training to figures, in about a minute.

import ActivationStore
import Analysis
import ArgumentParser
import ArrayIO
import Experiments
import Foundation
import InfoTheory
import Plotting
import RunFigures
import Tensors
import Training

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Train the 12-bit network with tanh and ReLU, estimate, and draw the information planes.",
        discussion: """
        Trains 12-10-7-5-4-3-2 with tanh and with ReLU as both papers' code did (Adam, learning rate
        4e-4, batch 256, 80 % training split, 8000 epochs), recording the log-spaced schedule (274
        epochs); estimates I(X;T) and I(T;Y) by binning (tanh: 30 edges buckets; ReLU: global range,
        100 bins) and by KDE (noise variance 0.1, on every 4th recorded epoch; --full for all);
        writes the figures into figures/ and prints, per layer, the peak and final I(X;T) of the
        curve smoothed by a running median of --window recorded epochs, the drop needed (max(0.25 bit,
        5 % of the peak) and 3 × the curve's epoch-to-epoch noise) and the verdict, with the rule.
        Runs already complete in --runs are reused.
        """
    )

    @Option(help: "Epochs per run.")
    var epochs: Int = 8000

    @Option(help: "Seed.")
    var seed: UInt64 = 1

    @Option(help: "Directory for the two runs.")
    var runs: String = "runs/demo"

    @Option(help: "Directory for the figures.")
    var figures: String = "figures"

    @Option(help: "Original data directory (x.csv, y.csv) instead of the generated task.")
    var data: String?

    @Flag(help: "KDE on every recorded epoch, not every 4th.")
    var full = false

    @Option(help: "Recorded epochs in the running median of the compression rule (odd).")
    var window: Int = CompressionRule.defaultWindow

    func validate() throws {
        if epochs < 2 { throw ValidationError("--epochs must be at least 2") }
        if window < 1 || window % 2 == 0 { throw ValidationError("--window must be an odd number of recorded epochs (got \(window))") }
    }

    func settings(activation: String) -> RunSettings {
        TwelveBit.settings(activation: activation, epochs: epochs, seed: seed, data: data)
    }

    func run() throws {
        BLASCore.restartWithRecognizedCoreIfNeeded()
        try BLAS.withThreads(1) { try demo() }
    }

    /// Trains, estimates, draws and summarises, each BLAS call on one thread.
    private func demo() throws {
        let start = Date()
        try AtomicFile.createDirectory(runs)
        try AtomicFile.createDirectory(figures)
        let activations = ["tanh", "relu"]
        let paths = activations.map { runs + "/" + $0 }

        // 1. Train both networks side by side, one per core.
        let progress = TerminalProgress()
        let status = ProgressBox(progress)
        let reporter = ProgressReporter(update: { status.update($0, $1, message: $2) }, finish: { status.finish() })
        try trainRuns(zip(paths, activations).map { PlannedRun(path: $0, settings: settings(activation: $1)) },
                      workers: 2, progress: reporter, message: "training tanh and ReLU")
        let trained = Date()

        // 2. Estimates: binning for both, KDE on a thinned schedule.
        let tanh = try ActivationSource.run(paths[0]), relu = try ActivationSource.run(paths[1])
        let tanhBinning = try tanh.estimate(EstimationRequest(configuration: .binning(.edges(bins: 30))))
        let reluBinning = try relu.estimate(EstimationRequest(configuration: .binning(.global(bins: 100))))
        try tanhBinning.write(to: paths[0] + "/mi-binning.csv")
        try reluBinning.write(to: paths[1] + "/mi-binning.csv")
        var kde = [InformationTable]()
        for (source, path) in zip([tanh, relu], paths) {
            let epochs = full ? source.epochs : source.epochs.enumerated().filter { $0.offset % 4 == 0 || $0.element == source.epochs.last }.map(\.element)
            let table = try source.estimate(EstimationRequest(configuration: .kde(noiseVariance: 0.1, bound: .both), epochs: epochs)) {
                status.update($0, $1, message: "KDE bounds, \(source.manifest!.settings.activation)")
            }
            progress.finish()
            try table.write(to: path + "/mi-kde.csv")
            kde.append(table)
        }
        let estimated = Date()

        // 3. Figures.
        var written = [String]()
        func save(_ canvas: Canvas, _ name: String) throws {
            let path = figures + "/" + name
            try canvas.writePNG(to: path)
            written.append(path)
        }
        var binningPlane = InformationPlaneFigure(panels: [
            InformationPlanePanel(title: "tanh (30 bins)", points: informationPoints(tanhBinning)),
            InformationPlanePanel(title: "ReLU (global range, 100 bins)", points: informationPoints(reluBinning)),
        ])
        binningPlane.title = "12-bit task, binning estimates"
        try save(binningPlane.render(width: 1000, height: 450), "demo-infoplane-binning.png")
        var kdePlane = InformationPlaneFigure(panels: [
            InformationPlanePanel(title: "tanh", points: informationPoints(kde[0])),
            InformationPlanePanel(title: "ReLU", points: informationPoints(kde[1])),
        ])
        kdePlane.title = "12-bit task, KDE upper bound (band: lower to upper)"
        try save(kdePlane.render(width: 1000, height: 450), "demo-infoplane-kde.png")
        for (name, table) in [("tanh", tanhBinning), ("relu", reluBinning)] {
            var curves = CurvesFigure.mutualInformation(informationPoints(table))
            curves.title = "\(name == "relu" ? "ReLU" : "tanh"): mutual information per layer (binning)"
            try save(curves.render(width: 1000, height: 420), "demo-mi-\(name).png")
        }
        for (name, path) in zip(["tanh", "relu"], paths) {
            let figure = try gradientCurves(RunReader(path: path), title: "\(name == "relu" ? "ReLU" : "tanh"): gradient signal-to-noise")
            try save(figure.render(width: 1000, height: 420), "demo-snr-\(name).png")
        }
        let metrics = try zip(["tanh", "ReLU"], paths).map { (name: $0, metrics: try RunReader(path: $1).metrics()) }
        try save(metricCurves(metrics, accuracy: true).render(width: 640, height: 420), "demo-accuracy.png")

        // 4. Summary.
        let rule = CompressionRule(window: window)
        print("12-bit task, 12-10-7-5-4-3-2, \(epochs) epochs, seed \(seed)\(data.map { ", data " + $0 } ?? "")")
        for (name, table, path) in [("tanh, binning (30 bins)", tanhBinning, paths[0]), ("ReLU, binning (global, 100 bins)", reluBinning, paths[1]),
                                    ("tanh, KDE upper bound", kde[0], paths[0]), ("ReLU, KDE upper bound", kde[1], paths[1])] {
            let last = try RunReader(path: path).metrics().last!
            print("\n\(name): final training accuracy \(format(last.trainAccuracy, 3)), test accuracy \(format(last.testAccuracy, 3))")
            print("  layer  peak I(X;T)  at epoch  final I(X;T)  compression  needed (noise)  compressed   raw peak → final")
            for row in table.compression(rule: rule) {
                print("  \(pad(String(row.layer), 5))  \(pad(format(row.peak, 2), 11))  \(pad(String(row.peakEpoch), 8))  \(pad(format(row.final, 2), 12))  \(pad(format(row.compression, 2), 11))  \(pad(format(row.required, 2) + " (" + format(row.noise, 2) + ")", 14))  \(pad(row.compressed ? "yes" : "no", 10))   \(format(row.rawPeak, 2)) → \(format(row.rawFinal, 2))")
            }
        }
        print("\nCompression rule (window \(rule.window) recorded epochs): \(rule).")
        print("One seed: these are single-run verdicts, not claims about the network; `infoplane reproduce saxe2018 --experiment fig1` gives them over seeds.")
        print(String(format: "\nTimes: training %.1f s, estimates %.1f s, figures %.1f s.",
                     trained.timeIntervalSince(start), estimated.timeIntervalSince(trained), Date().timeIntervalSince(estimated)))
        print("Figures: " + written.joined(separator: ", "))
    }

    func format(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }
    func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
}
