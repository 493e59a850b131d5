// airnet: the AirNet submission's forecasting comparison (ICLR 2018
// submission "AirNet: a machine learning dataset for air quality
// forecasting", Table 4 and its maps) on a simulated field, since the
// paper's data were never published (AirQuality/Simulator.swift).
//
//   table4        POD, FAR, CSI and PMSE of persistence, LSTM, GRU, LSTM*,
//                 ReducedLSTM and WipeNet on the validation month and the test
//                 winter, mean and spread over seeds; PMSE downwind of sources
//   maps          true and forecast fields of one test window at 3, 24, 48 and
//                 72 h, on one colour scale
//   lead-time     CSI and PMSE against lead time on the test winter
//   information   the information plane of the ReducedLSTM's cell and hidden
//                 state (the run of `infoplane train --task air`)
//
// The field and the trained models are shared by the experiments: they live in
// RUNS/airnet/shared (the field as field-*.npz, each model in its own
// directory with its parameters, its forecasts and observations at the station
// cells as .npy, [windows, stations, 24] float32, µg/m³, and settings.json
// written last), and complete ones are reused.

import ActivationStore
import AirQuality
import Analysis
import ArrayIO
import Foundation
import InfoTheory
import NeuralNets
import Plotting
import RunFigures
import Tensors
import Training

extension Experiments {
    /// The airnet suite.
    static let airnet: [Experiment] = [
        Experiment(suite: "airnet", name: "table4",
                   abstract: "POD, FAR, CSI, PMSE of persistence, LSTM, GRU, LSTM*, ReducedLSTM, WipeNet on validation and test (Table 4)",
                   run: AirNetExperiment.table4),
        Experiment(suite: "airnet", name: "maps", abstract: "true and forecast PM fields of a test window at 3, 24, 48 and 72 h",
                   run: AirNetExperiment.maps),
        Experiment(suite: "airnet", name: "lead-time", abstract: "CSI and PMSE against lead time on the test winter",
                   run: AirNetExperiment.leadTime),
        Experiment(suite: "airnet", name: "information", abstract: "the information plane of the ReducedLSTM's cell and hidden state",
                   run: AirNetExperiment.information),
    ]
}

/// The sizes of the airnet experiments at each scale.
struct AirNetPlan: Sendable, Equatable {
    var grid: Int, years: Double, stations: Int
    var seeds: Int, epochs: Int, hidden: Int
    var informationEpochs: Int

    static func plan(_ context: ExperimentContext) -> AirNetPlan {
        var p: AirNetPlan
        switch context.scale {
        case .quick: p = AirNetPlan(grid: 10, years: 1.2, stations: 6, seeds: 1, epochs: 2, hidden: 8, informationEpochs: 3)
        case .standard: p = AirNetPlan(grid: 32, years: 2, stations: 40, seeds: 3, epochs: 16, hidden: 16, informationEpochs: 20)
        case .full: p = AirNetPlan(grid: 32, years: 2, stations: 40, seeds: 5, epochs: 40, hidden: 16, informationEpochs: 40)
        }
        if let seeds = context.seeds { p.seeds = seeds }
        if let epochs = context.epochs { p.epochs = epochs; p.informationEpochs = epochs }
        return p
    }
}

/// What fixes one trained model's directory.
struct AirNetModelKey: Codable, Equatable {
    var field: AirSimulationSettings
    var kind: AirModelKind
    var training: AirTrainingSettings
}

/// One model's forecasts at the station cells.
struct AirNetResult {
    var kind: AirModelKind
    var seed: UInt64
    var directory: String
    var validation: StationForecasts
    var test: StationForecasts
}

private final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private(set) var error: (any Error)?
    private var done = 0
    let count: Int
    init(count: Int) { self.count = count }
    func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < count else { return nil }
        next += 1
        return next - 1
    }
    /// Adds `k` units of work done; returns the total.
    func advance(_ k: Int) -> Int { lock.lock(); defer { lock.unlock() }; done += k; return done }
    func fail(_ e: any Error) { lock.lock(); defer { lock.unlock() }; if error == nil { error = e } }
}

enum AirNetExperiment {
    static let kinds = AirModelKind.allCases
    static let leadHours = [3, 24, 48, 72]

    static func shared(_ context: ExperimentContext) throws -> String {
        let path = (context.runs as NSString).deletingLastPathComponent + "/shared"
        try AtomicFile.createDirectory(path)
        return path
    }

    static func fieldSettings(_ plan: AirNetPlan, seed: UInt64) -> AirSimulationSettings {
        AirSimulationSettings(gridSize: plan.grid, years: plan.years, stationCount: plan.stations, seed: seed)
    }

    /// The field of the plan, simulated once and reused.
    static func field(_ context: ExperimentContext, _ plan: AirNetPlan) throws -> (field: AirField, path: String) {
        let settings = fieldSettings(plan, seed: context.seed)
        let path = try shared(context) + "/field-\(plan.grid)x\(plan.grid)-\(plan.years)y-\(plan.stations)st-seed\(context.seed).npz"
        if AtomicFile.exists(path) {
            let field = try AirField.read(path)
            if field.settings == settings { return (field, path) }
        }
        context.log("simulating the \(plan.grid) x \(plan.grid) field (\(plan.years) years, \(plan.stations) stations, seed \(context.seed))")
        let field = AirSimulator(settings).run { done, total in
            if done % 64 == 0 || done == total { context.progress.update(done, total, "simulating") }
        }
        context.progress.finish()
        try field.write(to: path)
        return (field, path)
    }

    static func modelDirectory(_ context: ExperimentContext, _ key: AirNetModelKey) throws -> String {
        let f = key.field, t = key.training
        return try shared(context) + "/\(f.gridSize)x\(f.gridSize)-\(f.years)y-seed\(f.seed)/\(key.kind.rawValue)-seed\(t.seed)-e\(t.epochs)-h\(t.hidden)"
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }

    static func forecastsArray(_ f: StationForecasts, _ values: [Float]) -> NPYArray {
        NPYArray(floats: values, shape: [f.windows, f.stations, f.leads])
    }

    static func readForecasts(_ directory: String, _ split: String) throws -> StationForecasts {
        let forecast = try NPY.read(path: directory + "/forecasts_\(split).npy")
        let observed = try NPY.read(path: directory + "/observations_\(split).npy")
        guard forecast.shape.count == 3, forecast.shape == observed.shape else {
            throw FileError(path: directory, reason: "forecasts and observations of \(split) of shapes \(forecast.shape), \(observed.shape)")
        }
        return StationForecasts(windows: forecast.shape[0], stations: forecast.shape[1], leads: forecast.shape[2],
                                forecast: forecast.floats(), observed: observed.floats())
    }

    /// Every model of every seed, trained (or reused) `workers` at a time.
    static func models(_ context: ExperimentContext, _ plan: AirNetPlan, _ data: AirData) throws -> [AirNetResult] {
        var keys = [AirNetModelKey]()
        for kind in kinds {
            for k in 0..<(kind.isTrained ? plan.seeds : 1) {
                let lr: Float = kind == .reducedLSTM || kind == .wipeNet ? 0.02 : 0.005
                keys.append(AirNetModelKey(field: data.field.settings, kind: kind,
                                           training: AirTrainingSettings(epochs: kind.isTrained ? plan.epochs : 0, learningRate: lr,
                                                                         batchWindows: 2, hidden: plan.hidden,
                                                                         seed: context.seed + UInt64(k))))
            }
        }
        let planned = keys
        let queue = WorkQueue(count: planned.count)
        let epochsTotal = keys.reduce(0) { $0 + max(1, $1.training.epochs) }
        BLAS.concurrentPerform(iterations: max(1, min(context.workers, keys.count)), threads: 1) { _ in
            while let i = queue.take() {
                let key = planned[i]
                do {
                    let directory = try modelDirectory(context, key)
                    let settingsPath = directory + "/settings.json"
                    if AtomicFile.exists(settingsPath), (try? AtomicFile.readText(settingsPath)) == (try json(key)) {
                        _ = queue.advance(max(1, key.training.epochs))
                        continue
                    }
                    try AtomicFile.createDirectory(directory)
                    var trainer = AirTrainer(kind: key.kind, settings: key.training)
                    var rows = ["epoch,train_loss,validation_loss"]
                    for epoch in 1...max(1, key.training.epochs) where key.kind.isTrained {
                        let loss = trainer.trainEpoch(data: data, windows: data.train)
                        let validation = trainer.loss(data: data, windows: data.validation)
                        rows.append("\(epoch),\(loss),\(validation)")
                        context.progress.update(queue.advance(1), epochsTotal, "training \(key.kind.displayName) seed \(key.training.seed)")
                    }
                    if !key.kind.isTrained { _ = queue.advance(1) }
                    for (name, windows) in [("validation", data.validation), ("test", data.test)] {
                        let f = trainer.model.stationForecasts(data: data, windows: windows)
                        try NPY.write(forecastsArray(f, f.forecast), to: directory + "/forecasts_\(name).npy")
                        try NPY.write(forecastsArray(f, f.observed), to: directory + "/observations_\(name).npy")
                    }
                    try trainer.model.store.save(to: directory + "/parameters.npz")
                    try AtomicFile.write(rows.joined(separator: "\n") + "\n", to: directory + "/train_loss.csv")
                    try AtomicFile.write(try json(key), to: settingsPath)
                } catch {
                    queue.fail(error)
                }
            }
        }
        context.progress.finish()
        if let error = queue.error { throw error }
        return try keys.map { key in
            let directory = try modelDirectory(context, key)
            return AirNetResult(kind: key.kind, seed: key.training.seed, directory: directory,
                                validation: try readForecasts(directory, "validation"), test: try readForecasts(directory, "test"))
        }
    }

    /// The trained model of a result.
    static func forecaster(_ result: AirNetResult, hidden: Int) throws -> AirForecaster {
        var model = AirForecaster(kind: result.kind, hidden: hidden, seed: result.seed)
        if result.kind.isTrained { try model.store.load(from: result.directory + "/parameters.npz") }
        return model
    }

    static func setUp(_ context: ExperimentContext) throws -> (plan: AirNetPlan, data: AirData, results: [AirNetResult], fieldPath: String) {
        let plan = AirNetPlan.plan(context)
        let (field, path) = try field(context, plan)
        let data = try AirData(field: field)
        return (plan, data, try models(context, plan, data), path)
    }

    // MARK: Statistics

    struct Spread {
        var mean: Double, sd: Double, count: Int
        init(_ xs: [Double]) {
            let v = xs.filter { !$0.isNaN }
            count = v.count
            let m = v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count)
            mean = m
            sd = v.count < 2 ? .nan : (v.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
        }
        func text(_ digits: Int) -> String { sd.isNaN ? fixed(mean, digits) : fixed(mean, digits) + " ± " + fixed(sd, digits) }
    }

    /// Whether each (window, station) of `windows` lies downwind of a source:
    /// the cell 2 to 4 cells upwind (along the station's mean wind over the
    /// forecast horizon) with an emission of at least a quarter of the largest.
    static func downwindMask(_ data: AirData, windows: [Int]) -> [Bool] {
        let field = data.field, n = field.n
        let peak = field.emission.max() ?? 1
        var mask = [Bool]()
        for start in windows {
            for s in field.stations {
                var u: Float = 0, v: Float = 0
                for t in (start + data.scheme.history)..<(start + data.scheme.window) {
                    u += field.value(lat: s.lat, lon: s.lon, time: t, .u); v += field.value(lat: s.lat, lon: s.lon, time: t, .v)
                }
                let speed = (u * u + v * v).squareRoot()
                var downwind = false
                if speed > 0 {
                    for distance in 2...4 {
                        let i = Int((Float(s.lat) + 0.5 - Float(distance) * v / speed).rounded(.down))
                        let j = Int((Float(s.lon) + 0.5 - Float(distance) * u / speed).rounded(.down))
                        if i >= 0 && i < n && j >= 0 && j < n && field.emission[i * n + j] >= 0.25 * peak { downwind = true }
                    }
                }
                mask.append(downwind)
            }
        }
        return mask
    }

    /// PMSE over the (window, station) pairs selected by `mask`.
    static func pmse(_ f: StationForecasts, mask: [Bool], selected: Bool) -> Double {
        var a = [Float](), b = [Float]()
        for pair in 0..<(f.windows * f.stations) where mask[pair] == selected {
            a += f.forecast[(pair * f.leads)..<((pair + 1) * f.leads)]
            b += f.observed[(pair * f.leads)..<((pair + 1) * f.leads)]
        }
        return a.isEmpty ? .nan : meanSquaredError(a, b)
    }

    static func fieldDescription(_ data: AirData, _ path: String) -> String {
        let f = data.field
        return "Field: `\(path)`, \(f.n) x \(f.n) cells of 25 km, \(f.timeCount) 3-hourly frames, \(f.stations.count) stations, seed \(f.settings.seed). "
            + "Windows: \(data.train.count) train (1 Jan-28 Feb, year 1), \(data.validation.count) validation (March), \(data.test.count) test (1 Dec year 1-28 Feb year 2); "
            + "16 observed frames, 24 forecast (3-72 h). Event threshold: \(fixed(Double(data.threshold), 1)) µg/m³, the 75th percentile of the training winter's station values (the role of the paper's 80 µg/m³)."
    }

    // MARK: table4

    static func table4(_ context: ExperimentContext) throws -> ExperimentReport {
        let start = Date()
        let (plan, data, results, path) = try setUp(context)
        let threshold = data.threshold
        var table = MarkdownTable(header: ["model", "seeds", "val POD", "val FAR", "val CSI", "val PMSE", "test POD", "test FAR", "test CSI", "test PMSE"],
                                  rightAligned: [false] + Array(repeating: true, count: 9))
        var csv = ["model,seed,split,pod,far,csi,pmse,hits,misses,false_alarms,correct_negatives"]
        var testPMSE = [AirModelKind: Spread]()
        for kind in kinds {
            let runs = results.filter { $0.kind == kind }
            var cells = [kind.displayName, "\(runs.count)"]
            for split in ["validation", "test"] {
                let tables = runs.map { (split == "test" ? $0.test : $0.validation).table(threshold: threshold) }
                let pmse = runs.map { (split == "test" ? $0.test : $0.validation).pmse }
                for (r, t) in zip(runs, tables) {
                    let f = split == "test" ? r.test : r.validation
                    csv.append("\(kind.rawValue),\(r.seed),\(split),\(t.pod),\(t.far),\(t.csi),\(f.pmse),\(t.hits),\(t.misses),\(t.falseAlarms),\(t.correctNegatives)")
                }
                cells += [Spread(tables.map(\.pod)).text(3), Spread(tables.map(\.far)).text(3), Spread(tables.map(\.csi)).text(3),
                          Spread(pmse).text(0)]
                if split == "test" { testPMSE[kind] = Spread(pmse) }
            }
            table.append(cells)
        }
        let csvPath = try context.figurePath("airnet-table4.csv")
        try AtomicFile.write(csv.joined(separator: "\n") + "\n", to: csvPath)

        // Downwind of sources: ReducedLSTM against WipeNet, and every model.
        let mask = downwindMask(data, windows: data.test)
        let downwindCount = mask.filter { $0 }.count
        var downwind = MarkdownTable(header: ["model", "test PMSE downwind of a source", "elsewhere"], rightAligned: [false, true, true])
        var downwindMeans = [AirModelKind: (Double, Double)]()
        for kind in kinds {
            let runs = results.filter { $0.kind == kind }
            let a = Spread(runs.map { pmse($0.test, mask: mask, selected: true) }), b = Spread(runs.map { pmse($0.test, mask: mask, selected: false) })
            downwindMeans[kind] = (a.mean, b.mean)
            downwind.append([kind.displayName, a.text(0), b.text(0)])
        }

        func better(_ a: AirModelKind, _ b: AirModelKind) -> String {
            guard let x = testPMSE[a], let y = testPMSE[b] else { return "" }
            let ratio = x.mean / y.mean
            return "\(a.displayName) \(fixed(x.mean, 0)) against \(b.displayName) \(fixed(y.mean, 0)) (\(ratio < 1 ? "\(fixed((1 - ratio) * 100, 0)) % lower" : "\(fixed((ratio - 1) * 100, 0)) % higher"))"
        }
        let (wd, we) = downwindMeans[.wipeNet]!, (rd, re) = downwindMeans[.reducedLSTM]!
        var md = "# airnet table4: forecast scores of six models (AirNet submission, Table 4)\n\n"
        md += fieldDescription(data, path) + "\n\n"
        md += "Training: \(plan.epochs) epochs of Adam over the training winter's windows (2 whole-grid windows a batch), \(plan.seeds) seed(s) from \(context.seed); hidden size \(plan.hidden) for LSTM, GRU and LSTM*. "
        md += "Scores at the \(data.field.stations.count) station cells over all windows and the 24 lead times; POD = hits/(hits+misses), FAR = false alarms/(hits+false alarms), CSI = hits/(hits+misses+false alarms) (the standard definitions, which the paper's Table 4 follows; its Eq. 3 and 5 swap POD and CSI); PMSE in (µg/m³)². Mean ± standard deviation over seeds.\n\n"
        md += table.text + "\n"
        md += "What the runs show (test winter, mean over seeds): removing meteorology: " + better(.lstmStar, .lstm) + "; "
        md += better(.reducedLSTM, .persistence) + "; " + better(.wipeNet, .reducedLSTM) + ".\n\n"
        md += "Downwind of a source (\(downwindCount) of \(mask.count) test window-station pairs: a source cell 2-4 cells upwind along the station's mean forecast-horizon wind):\n\n"
        md += downwind.text + "\n"
        func change(_ a: Double, _ b: Double) -> String {
            a < b ? "lowers it by \(fixed((1 - a / b) * 100, 0)) %" : "raises it by \(fixed((a / b - 1) * 100, 0)) %"
        }
        md += "WipeNet against ReducedLSTM: downwind of a source \(fixed(wd, 0)) against \(fixed(rd, 0)) (the redistribution \(change(wd, rd))), "
        md += "elsewhere \(fixed(we, 0)) against \(fixed(re, 0)) (\(change(we, re))), means over seeds.\n\n"
        md += "Scores per seed: `\(csvPath)`; every model's forecasts and observations: `forecasts_{validation,test}.npy` and `observations_{validation,test}.npy` ([windows, stations, 24], µg/m³) in the model directories under `\((results[0].directory as NSString).deletingLastPathComponent)`. "
        md += String(format: "Time: %.0f s.\n", Date().timeIntervalSince(start))
        return try writeSummary(md, title: "airnet table4", context: context, name: "airnet-table4.md", outputs: [csvPath])
    }

    // MARK: maps

    static func maps(_ context: ExperimentContext) throws -> ExperimentReport {
        let start = Date()
        let (plan, data, results, path) = try setUp(context)
        let n = data.field.n
        // The test window whose issue time has the highest mean PM.
        let window = data.test.max { a, b in
            data.field.frame(time: a + 15, .pm).reduce(0, +) < data.field.frame(time: b + 15, .pm).reduce(0, +)
        }!
        let shown: [AirModelKind] = [.persistence, .lstm, .lstmStar, .reducedLSTM, .wipeNet]
        var panels = [FieldPanel]()
        let leads = leadHours.map { $0 / 3 }
        for lead in leads {
            let t = window + data.scheme.history - 1 + lead
            panels.append(FieldPanel(title: "truth, +\(lead * 3) h", subtitle: data.field.dateLabel(time: t),
                                     values: data.field.frame(time: t, .pm),
                                     wind: (data.field.frame(time: t, .u), data.field.frame(time: t, .v)),
                                     stations: data.field.stations))
        }
        for kind in shown {
            let result = results.first { $0.kind == kind }!
            let model = try forecaster(result, hidden: plan.hidden)
            let grid = model.gridForecast(data: data, window: window)
            for lead in leads {
                let t = window + data.scheme.history - 1 + lead
                let truth = data.field.frame(time: t, .pm)
                let mse = zip(grid[lead - 1], truth).map { Double(($0 - $1) * ($0 - $1)) }.reduce(0, +) / Double(n * n)
                panels.append(FieldPanel(title: "\(kind.displayName), +\(lead * 3) h", subtitle: "grid RMSE \(fixed(mse.squareRoot(), 1)) µg/m³",
                                         values: grid[lead - 1]))
            }
        }
        let figure = FieldFigure(panels: panels, n: n, columns: leads.count,
                                 title: "Forecasts issued \(data.field.dateLabel(time: window + 15)) (test winter), seed \(results.first { $0.kind == .wipeNet }!.seed); truth with wind and stations",
                                 colorbarLabel: "PM (µg/m³)")
        let png = try context.writeFigure(figure.render(panelSize: 210), "airnet-maps.png")
        var md = "# airnet maps: true and forecast PM fields\n\n" + fieldDescription(data, path) + "\n\n"
        md += "One test window (the one whose issue time has the highest mean PM), forecast at +3, +24, +48 and +72 h by persistence, LSTM, LSTM*, ReducedLSTM and WipeNet (first seed), on one colour scale; each panel gives the forecast's RMSE over the whole grid.\n\n"
        md += "![maps](airnet-maps.png)\n\n" + String(format: "Time: %.0f s.\n", Date().timeIntervalSince(start))
        return try writeSummary(md, title: "airnet maps", context: context, name: "airnet-maps.md", outputs: [png])
    }

    // MARK: lead-time

    static func leadTime(_ context: ExperimentContext) throws -> ExperimentReport {
        let start = Date()
        let (_, data, results, path) = try setUp(context)
        let leads = data.scheme.leads, hours = (1...leads).map { Double($0 * 3) }
        var csiSeries = [CurveSeries](), pmseSeries = [CurveSeries]()
        var csv = ["model,lead_hours,csi_mean,csi_sd,pmse_mean,pmse_sd"]
        var table = MarkdownTable(header: ["model"] + leadHours.map { "CSI \($0) h" } + leadHours.map { "PMSE \($0) h" },
                                  rightAligned: [false] + Array(repeating: true, count: 2 * leadHours.count))
        for (k, kind) in kinds.enumerated() {
            let runs = results.filter { $0.kind == kind }
            var csi = [Spread](), pm = [Spread]()
            for lead in 1...leads {
                let pairs = runs.map { $0.test.atLead(lead) }
                csi.append(Spread(pairs.map { ContingencyTable(forecast: $0.forecast, observed: $0.observed, threshold: data.threshold).csi }))
                pm.append(Spread(pairs.map { meanSquaredError($0.forecast, $0.observed) }))
                csv.append("\(kind.rawValue),\(lead * 3),\(csi.last!.mean),\(csi.last!.sd),\(pm.last!.mean),\(pm.last!.sd)")
            }
            let color = Colormap.tab10Color(k)
            csiSeries.append(CurveSeries(name: kind.displayName, x: hours, y: csi.map(\.mean), color: color, dashed: kind == .persistence))
            pmseSeries.append(CurveSeries(name: kind.displayName, x: hours, y: pm.map(\.mean), color: color, dashed: kind == .persistence))
            if runs.count > 1 {
                csiSeries[k].bandLower = csi.map { $0.mean - $0.sd }; csiSeries[k].bandUpper = csi.map { $0.mean + $0.sd }
                pmseSeries[k].bandLower = pm.map { $0.mean - $0.sd }; pmseSeries[k].bandUpper = pm.map { $0.mean + $0.sd }
            }
            table.append([kind.displayName] + leadHours.map { csi[$0 / 3 - 1].text(3) } + leadHours.map { pm[$0 / 3 - 1].text(0) })
        }
        var figure = CurvesFigure(panels: [
            CurvesPanel(series: csiSeries, title: "CSI (event: PM ≥ \(fixed(Double(data.threshold), 0)) µg/m³)", xLabel: "lead time (h)", yLabel: "CSI"),
            CurvesPanel(series: pmseSeries, title: "PMSE at the stations", xLabel: "lead time (h)", yLabel: "PMSE ((µg/m³)²)"),
        ], columns: 2)
        figure.panels[0].legend = false
        figure.title = "Scores against lead time, test winter (mean ± sd over seeds)"
        let png = try context.writeFigure(try figure.render(width: 1150, height: 460), "airnet-lead-time.png")
        let csvPath = try context.figurePath("airnet-lead-time.csv")
        try AtomicFile.write(csv.joined(separator: "\n") + "\n", to: csvPath)
        var md = "# airnet lead-time: CSI and PMSE against lead time\n\n" + fieldDescription(data, path) + "\n\n"
        md += table.text + "\n![lead time](airnet-lead-time.png)\n\nEvery lead: `\(csvPath)`. " + String(format: "Time: %.0f s.\n", Date().timeIntervalSince(start))
        return try writeSummary(md, title: "airnet lead-time", context: context, name: "airnet-lead-time.md", outputs: [png, csvPath])
    }

    // MARK: information

    static func information(_ context: ExperimentContext) throws -> ExperimentReport {
        let start = Date()
        let plan = AirNetPlan.plan(context)
        let (field, fieldPath) = try field(context, plan)
        let settings = AirRunSubject.settings(dataSource: fieldPath, epochs: plan.informationEpochs, learningRate: 0.02, batchWindows: 2,
                                              seed: context.seed, checkpointInterval: 5, schedule: "every", dtype: "float32")
        let runPath = try context.runDirectory("reduced-lstm-seed\(context.seed)")
        var run: AirRunSubject.Run
        if AtomicFile.exists(RunDirectory(runPath).manifest) {
            run = try AirRunSubject.Run.resume(at: runPath, requested: settings) { try AirRunSubject.subject($0, field: field) }
        } else {
            run = try AirRunSubject.Run.start(settings: settings, at: runPath) { try AirRunSubject.subject($0, field: field) }
        }
        try run.run { p in context.progress.update(p.epoch, p.totalEpochs, "training the recorded ReducedLSTM") }
        context.progress.finish()
        let configuration = EstimatorConfiguration.binning(.edges(bins: 8))
        let table = try ActivationSource.run(runPath).estimate(EstimationRequest(configuration: configuration, samples: .test))
        try table.write(to: runPath + "/mi-binning-8.csv")
        var plane = InformationPlaneFigure(panels: [InformationPlanePanel(title: "test-winter windows at the stations", points: RunFigures.informationPoints(table))])
        plane.title = "ReducedLSTM states over the 24 forecast steps (binning, 8 bins)"
        plane.logEpochs = false
        let png = try context.writeFigure(try plane.render(width: 800, height: 560), "airnet-information.png")
        let reader = try RunReader(path: runPath)
        let metrics = try reader.metrics()
        let ixt = table.column("I_XT")!, ity = table.column("I_TY")!
        var md = "# airnet information: the ReducedLSTM's cell and hidden state in the information plane\n\n"
        md += "Run: `\(runPath)` (the run `infoplane train --task air --field \(fieldPath) --epochs \(plan.informationEpochs) --lr 0.02 --seed \(context.seed)` writes), every epoch recorded. "
        md += "T: layer 1 the cell state c_t (the forecast concentration) and layer 2 the hidden state h_t = c_t - c̄ over the 24 forecast steps of each test-winter window at each station (\(reader.manifest.testCount) samples); "
        md += "Y: the quartile of the observed PM at the station at +72 h. Binning: 8 equal-width bins over each layer's range, so I(X;T) = H(T) ≤ log2(\(reader.manifest.testCount)) = \(fixed(log2(Double(reader.manifest.testCount)), 2)) bits.\n\n"
        var t = MarkdownTable(header: ["epoch", "train loss", "validation loss", "I(X;T) cell", "I(T;Y) cell", "I(X;T) hidden", "I(T;Y) hidden"],
                              rightAligned: Array(repeating: true, count: 7))
        let epochs = Array(Set(table.rows.map(\.epoch))).sorted()
        let shownEpochs = epochs.count <= 8 ? epochs : (0..<8).map { epochs[$0 * (epochs.count - 1) / 7] }
        for e in shownEpochs {
            let i1 = table.rows.firstIndex { $0.epoch == e && $0.layer == 1 }!, i2 = table.rows.firstIndex { $0.epoch == e && $0.layer == 2 }!
            let m = metrics.first { $0.epoch == e }!
            t.append(["\(e)", fixed(m.trainLoss, 4), fixed(m.testLoss, 4), fixed(ixt[i1], 3), fixed(ity[i1], 3), fixed(ixt[i2], 3), fixed(ity[i2], 3)])
        }
        md += t.text + "\n"
        let first = table.rows.firstIndex { $0.epoch == epochs.first! && $0.layer == 1 }!, last = table.rows.firstIndex { $0.epoch == epochs.last! && $0.layer == 1 }!
        let peak = zip(table.rows, ixt).filter { $0.0.layer == 1 }.map(\.1).max()!
        md += "Cell state from epoch \(epochs.first!) to \(epochs.last!): I(T;Y) \(fixed(ity[first], 3)) → \(fixed(ity[last], 3)) bits, I(X;T) \(fixed(ixt[first], 3)) → \(fixed(ixt[last], 3)) bits (peak \(fixed(peak, 3))). "
        md += ity[last] > ity[first] ? "Training raises what the forecast state carries about the 72 h class. " : "Training does not raise what the forecast state carries about the 72 h class. "
        md += peak - ixt[last] > 0.25 ? "I(X;T) falls after its peak by \(fixed(peak - ixt[last], 2)) bits.\n\n" : "I(X;T) shows no drop of more than 0.25 bit after its peak: no compression phase here.\n\n"
        md += "![information plane](airnet-information.png)\n\n" + String(format: "Time: %.0f s.\n", Date().timeIntervalSince(start))
        return try writeSummary(md, title: "airnet information", context: context, name: "airnet-information.md", outputs: [png, runPath + "/mi-binning-8.csv"])
    }
}
