// The adamw suite: the basin measures on tables of known shape, and the
// quick-scale experiments end to end: every file written, the sweep's table
// recomputed from the runs' own metrics, the budget's raw decays from the
// normalized-decay formula.

import ActivationStore
import ArrayIO
import Datasets
@testable import Experiments
import Foundation
import NeuralNets
import Testing

@Suite struct AdamWSuiteTests {
    static let rates = (0..<6).map { 0.01 * pow(2, Double($0)) }
    static let decays = (0..<6).map { 1e-4 * pow(2, Double($0)) }

    static func table(_ f: (Double, Double) -> Double) -> [AdamWSuite.Cell] {
        decays.flatMap { wd in rates.map { lr in AdamWSuite.Cell(learningRate: lr, decay: wd, errors: [f(lr, wd)]) } }
    }

    @Test func diagonalBasinHasSlopeMinusOne() {
        // Error depends on α·λ only, best at α·λ = 0.04 · 4e-4 (on the grid's diagonal).
        let cells = Self.table { lr, wd in pow(log2(lr * wd / (0.04 * 4e-4)), 2) }
        let shape = AdamWSuite.basinShape(cells, rates: Self.rates, decays: Self.decays)
        // Columns whose diagonal leaves the grid pick the nearest edge, so the slope is
        // -1 over the columns that reach it; over all six it is still clearly negative.
        #expect(shape.slope < -0.5)
        #expect(shape.interaction > 0.1)
    }

    @Test func separableBasinHasSlopeZeroAndNoInteraction() {
        let cells = Self.table { lr, wd in pow(log2(lr / 0.04), 2) + 2 * pow(log2(wd / 4e-4), 2) }
        let shape = AdamWSuite.basinShape(cells, rates: Self.rates, decays: Self.decays)
        #expect(abs(shape.slope) < 1e-12)
        #expect(shape.interaction < 1e-12)
    }

    @Test func cellStatisticsByHand() {
        let cell = AdamWSuite.Cell(learningRate: 0.1, decay: 0.01, errors: [0.2, 0.3, 0.4])
        #expect(abs(cell.mean - 0.3) < 1e-15)
        #expect(abs(cell.spread - 0.1) < 1e-15)
        #expect(AdamWSuite.Cell(learningRate: 0.1, decay: 0.01, errors: [0.2]).spread.isNaN)
    }

    @Test func quickScaleWritesEveryFileAndTablesMatchTheRuns() throws {
        guard AtomicFile.exists(FashionMNIST.defaultDirectory + "/train-labels-idx1-ubyte.gz")
            || AtomicFile.exists(FashionMNIST.defaultDirectory + "/train-labels-idx1-ubyte") else { return }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("adamw-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var outputs = [String]()
        for experiment in Experiments.suite("adamw") {
            let context = ExperimentContext(runs: root + "/runs/adamw/" + experiment.name, figures: root + "/figures",
                                            scale: .quick, seeds: 2, workers: 2)
            let report = try experiment.run(context)
            outputs += report.outputs + [report.summaryPath]
        }
        let names = Set(outputs.map { ($0 as NSString).lastPathComponent })
        for name in ["adamw-heatmaps.png", "adamw-heatmaps.md", "adamw-budget.png", "adamw-budget.csv", "adamw-budget.md",
                     "adamw-restarts.png", "adamw-restarts.csv", "adamw-restarts.md"]
            + ["sgd-l2", "sgdw", "adam-l2", "adamw"].map({ "adamw-heatmaps-\($0).csv" }) {
            #expect(names.contains(name), "\(name)")
            #expect(AtomicFile.exists(root + "/figures/" + name), "\(name)")
        }

        // The sweep: every row's test error is 1 - the final test accuracy in
        // its run's metrics.csv, and a cell's mean is the mean over its seeds.
        let csv = root + "/figures/adamw-heatmaps-adamw.csv"
        let lines = try AtomicFile.readText(csv).split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(lines.count == 2 * 2 * 2)
        var bySeed = [String: [Double]]()
        for f in lines {
            let metrics = try RunReader(path: f[5]).metrics()
            let error = 1 - metrics.last!.testAccuracy
            #expect(Double(f[3]) == error)
            #expect(metrics.count == 3)
            bySeed["\(f[0]) \(f[1])", default: []].append(error)
        }
        let cells = try AdamWSuite.cells(csv: csv)
        #expect(cells.count == 4)
        for cell in cells {
            let errors = bySeed["\(Float(cell.learningRate)) \(Float(cell.decay))"]!
            #expect(errors.count == 2)
            #expect(abs(cell.mean - (errors[0] + errors[1]) / 2) < 1e-12)
            #expect(abs(cell.spread - abs(errors[0] - errors[1]) / 2.0.squareRoot()) < 1e-12)
        }
        // The runs carry the decay of their cell.
        let manifest = try RunReader(path: lines[0][5]).manifest
        #expect(manifest.settings.weightDecay == "decoupled:\(lines[0][1])")
        #expect(manifest.settings.learningRateSchedule == "cosine:2")

        // The budget: raw λ = λ_norm √(b / (B T)), b = 25, B = 100 at quick scale.
        let budget = try AtomicFile.readText(root + "/figures/adamw-budget.csv").split(separator: "\n").dropFirst()
        #expect(budget.count == 2 * 2 * 2)
        for line in budget {
            let f = line.split(separator: ",").map(String.init)
            let (epochs, norm, raw) = (Double(f[0])!, Double(f[1])!, Double(f[2])!)
            #expect(abs(raw - norm * (25 / (100 * epochs)).squareRoot()) <= 1e-6 * raw)
            let settings = try RunReader(path: f[6]).manifest.settings
            #expect(settings.weightDecay == "decoupled:\(f[2])" && settings.epochs == Int(epochs))
        }
    }
}
