// The linear run directories, the saxe2018 linear experiments at the quick
// scale, and `Audit`: Spearman's ρ against a hand-computed case with ties,
// bootstrap intervals fixed by the seed, and every number of the audit table
// recomputed here from the runs' own CSV files.

import ActivationStore
import Analysis
import ArrayIO
import Experiments
import Foundation
import Tensors
import Testing
import Training

private func scratch(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
}

/// Rows of a CSV with a header, as dictionaries of strings (no quoted commas in the columns used).
private func csvRows(_ path: String) throws -> [[String: String]] {
    let lines = try AtomicFile.readText(path).split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
    let header = lines[0].split(separator: ",").map(String.init)
    return lines.dropFirst().map { line in
        Dictionary(uniqueKeysWithValues: zip(header, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
    }
}

private func smallLinear(seed: UInt64, batch: Int? = nil, epochs: Int = 40) -> LinearRunSettings {
    LinearRunSettings(inputCount: 20, trainCount: 20, testCount: 500, hiddenWidths: [10], epochs: epochs,
                      learningRate: 0.2, batchSize: batch, initialScale: 0.1, schedule: "every", dataSeed: seed, seed: seed)
}

@Suite struct SpearmanAndBootstrapTests {
    /// x = (1, 2, 2, 3), y = (1, 3, 2, 4): ranks (1, 2.5, 2.5, 4) and (1, 3, 2, 4);
    /// centred (−1.5, 0, 0, 1.5) and (−1.5, 0.5, −0.5, 1.5): ρ = 4.5 / √(4.5 · 5) = 0.948683…
    @Test func spearmanWithTiesByHand() {
        #expect(Audit.ranks([1, 2, 2, 3]) == [1, 2.5, 2.5, 4])
        #expect(Audit.ranks([5, 5, 5]) == [2, 2, 2])
        let rho = Audit.spearman([1, 2, 2, 3], [1, 3, 2, 4])
        #expect(abs(rho - 4.5 / (4.5 * 5.0).squareRoot()) < 1e-15)
        #expect(abs(rho - 0.9486832980505138) < 1e-12)
        // Monotone transforms do not change ρ; reversing one variable negates it.
        #expect(abs(Audit.spearman([1, 4, 4, 9], [1, 27, 8, 64]) - rho) < 1e-15)
        #expect(abs(Audit.spearman([1, 2, 2, 3], [4, 2, 3, 1]) + rho) < 1e-15)
        #expect(Audit.spearman([1, 1, 1], [1, 2, 3]).isNaN)
    }

    @Test func quantileIsNumPysLinear() {
        // numpy.quantile([1, 2, 4, 8], 0.25) = 1.75, 0.9 → 6.8.
        #expect(abs(Audit.quantile([1, 2, 4, 8], 0.25) - 1.75) < 1e-15)
        #expect(abs(Audit.quantile([1, 2, 4, 8], 0.9) - 6.8) < 1e-12)
    }

    @Test func bootstrapIsDeterministicPerSeed() {
        let values = [0.3, 1.2, -0.4, 2.2, 0.9, 0.1]
        func interval(_ seed: UInt64) -> Interval {
            var rng = RandomGenerator(seed: seed)
            return Audit.bootstrapMean(values, options: AuditOptions(resamples: 500, seed: seed), rng: &rng)
        }
        #expect(interval(7) == interval(7))
        #expect(interval(7) != interval(8))
        let i = interval(7)
        #expect(abs(i.mean - values.reduce(0, +) / 6) < 1e-15)
        #expect(i.lower < i.mean && i.mean < i.upper)
        #expect(i.lower >= values.min()! && i.upper <= values.max()!)
        var rng = RandomGenerator(seed: 1)
        let one = Audit.bootstrapMean([0.5], options: AuditOptions(), rng: &rng)
        #expect(one == Interval(mean: 0.5, lower: 0.5, upper: 0.5))
    }
}

@Suite struct LinearRunDirectoryTests {
    @Test func trainsReusesAndRefusesOtherSettings() throws {
        let root = scratch("linear-run")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = LinearRunDirectory(root + "/a")
        #expect(try dir.train(smallLinear(seed: 1)))
        let metrics = try AtomicFile.read(dir.metricsPath)
        #expect(try !dir.train(smallLinear(seed: 1)))
        #expect(try AtomicFile.read(dir.metricsPath) == metrics)
        // Same settings elsewhere: same bytes.
        try LinearRunDirectory(root + "/b").train(smallLinear(seed: 1))
        #expect(try AtomicFile.read(root + "/b/information.csv") == AtomicFile.read(dir.informationPath))
        #expect(try AtomicFile.read(root + "/b/weights-final-2.npy") == AtomicFile.read(dir.weightsPath("final", layer: 2)))
        do {
            try dir.train(smallLinear(seed: 2))
            Issue.record("other settings were not refused")
        } catch let e as LinearRunError {
            #expect(e.description.contains(root + "/a") && e.description.contains("seed"))
        }
    }

    /// The saved final weights give back the recorded I(X;T) of the hidden layer:
    /// ½ log₂ det(W Wᵀ/N_i + I), here through the 1×1 case by hand and the library's Cholesky.
    @Test func savedWeightsReproduceTheRecordedInformation() throws {
        let root = scratch("linear-weights")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let s = LinearRunSettings(inputCount: 8, trainCount: 16, testCount: 100, hiddenWidths: [1], epochs: 10,
                                  learningRate: 0.3, initialScale: 0.5, schedule: "every", dataSeed: 3, seed: 3)
        let dir = LinearRunDirectory(root)
        try dir.train(s)
        let w = try NPY.read(path: dir.weightsPath("final", layer: 1))
        #expect(w.dtype == .float64 && w.shape == [1, 8])
        let values = w.bytes.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        let variance = values.reduce(0) { $0 + $1 * $1 } / 8 + 1
        let expected = 0.5 * log2(variance)
        let rows = try csvRows(dir.informationPath).filter { $0["epoch"] == "10" && $0["layer"] == "1" }
        #expect(abs(Double(rows[0]["I_XT"]!)! - expected) < 1e-12)
    }
}

@Suite struct AuditTests {
    /// Two linear groups (GD, SGD; two seeds each) and a 12-bit tanh run on 30 % of
    /// the data trained here: every number of the audit recomputed from the CSVs.
    @Test func auditNumbersRecomputedFromTheRunsCSVs() throws {
        let root = scratch("audit")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var paths = [String]()
        for (name, batch) in [("gd", nil), ("sgd", 5)] as [(String, Int?)] {
            for seed in [UInt64(1), 2] {
                let path = root + "/\(name)-\(seed)"
                try LinearRunDirectory(path).train(smallLinear(seed: seed, batch: batch))
                paths.append(path)
            }
        }
        let tanh = root + "/tanh-1"
        // RecordedRun directly, not trainRuns: that sets the process-wide BLAS
        // thread count, which other tests running in parallel rely on.
        var recorded = try RecordedRun.start(settings: LinearExperiments.tanhThirtyPercent(seed: 1, epochs: 12), at: tanh)
        try recorded.run()
        paths.append(tanh)
        #expect(!AtomicFile.exists(tanh + "/mi-binning.csv"))
        // Every run counts here (the 12-epoch tanh run has not fitted; exclusion is tested below).
        let options = AuditOptions(resamples: 300, seed: 5, inclusion: .all)
        let audit = try Audit(paths: paths, options: options)
        // The default estimate was written into the run.
        #expect(AtomicFile.exists(tanh + "/mi-binning.csv"))
        #expect(audit.groups.map(\.seeds) == [2, 2, 2, 2, 1, 1, 1, 1, 1, 1])

        var xs = [Double](), ys = [Double]()
        for (path, run) in zip(paths, audit.runs) {
            let linear = path != tanh
            let table = try csvRows(path + (linear ? "/information.csv" : "/mi-binning.csv"))
            let metrics = try csvRows(path + "/metrics.csv")
            let last = metrics.last!
            let (trainLoss, testLoss, trainError, testError): (Double, Double, Double, Double)
            if linear {
                let tr = Double(last["train_error"]!)!, te = Double(last["test_error"]!)!
                (trainLoss, testLoss, trainError, testError) = (tr / 2, te / 2, tr, te)
            } else {
                (trainLoss, testLoss) = (Double(last["train_loss"]!)!, Double(last["test_loss"]!)!)
                (trainError, testError) = (1 - Double(last["train_accuracy"]!)!, 1 - Double(last["test_accuracy"]!)!)
            }
            #expect(run.lossGap == testLoss - trainLoss && run.errorGap == testError - trainError)
            let layers = Set(table.map { Int($0["layer"]!)! }).sorted()
            #expect(run.layers.map(\.layer) == layers)
            for layer in layers {
                let series = table.filter { Int($0["layer"]!)! == layer }.sorted { Int($0["epoch"]!)! < Int($1["epoch"]!)! }
                    .map { Double($0["I_XT"]!)! }
                // The compression rule's smoothed drop, recomputed with a plain running median of 5.
                let smoothed = series.indices.map { i -> Double in
                    let w = series[max(0, i - 2)...min(series.count - 1, i + 2)].sorted()
                    return w.count % 2 == 1 ? w[w.count / 2] : (w[w.count / 2 - 1] + w[w.count / 2]) / 2
                }
                let compression = smoothed.max()! - smoothed.last!
                let row = run.layers.first { $0.layer == layer }!
                #expect(abs(row.compression - compression) < 1e-12, "\(path) layer \(layer)")
                #expect(row.rawPeak == series.max()! && row.rawFinal == series.last!)
                xs.append(compression < 0.01 ? 0 : compression)
                ys.append(testError - trainError)
                // The CSV and the Markdown carry the same numbers.
                #expect(audit.csvText.contains("\(path),\"\(run.groupLabel)\",\(run.seed),1,\(layer),\(row.peak),"))
                #expect(audit.markdown().contains("| \(path) | \(run.seed) | yes | \(layer) | \(String(format: "%.4f", row.peak)) (\(row.peakEpoch))"))
                #expect(audit.markdown().contains("| \(String(format: "%.4f", row.compression)) | \(String(format: "%.4f", row.required)) (\(String(format: "%.4f", row.noise))) | \(row.compressed ? "yes" : "no") |"))
                #expect(audit.markdown().contains("| \(String(format: "%.4f", trainLoss)) / \(String(format: "%.4f", testLoss)) | \(String(format: "%.4f", testLoss - trainLoss)) |"))
            }
        }
        // Group means over the two seeds.
        let gdLayer1 = audit.groups[0]
        #expect(abs(gdLayer1.errorGap.mean - (audit.runs[0].errorGap + audit.runs[1].errorGap) / 2) < 1e-15)
        #expect(gdLayer1.errorGap.lower >= min(audit.runs[0].errorGap, audit.runs[1].errorGap))
        #expect(gdLayer1.errorGap.upper <= max(audit.runs[0].errorGap, audit.runs[1].errorGap))
        // ρ over all (run, layer) points.
        let rho = Audit.spearman(xs, ys)
        #expect(audit.correlation.rho == rho || (audit.correlation.rho.isNaN && rho.isNaN))
        #expect(audit.correlation.points == xs.count && audit.correlation.runs == 5)
        // Within each task: the linear runs' points come first (4 runs of 2 layers).
        #expect(audit.taskCorrelations.map(\.task) == ["linear-teacher", "tishby"])
        let linearRho = Audit.spearman(Array(xs.prefix(8)), Array(ys.prefix(8)))
        let reported = audit.taskCorrelations[0].correlation.rho
        #expect(reported == linearRho || (reported.isNaN && linearRho.isNaN))
        #expect(audit.answer.contains("no verdict") && audit.answer.contains("- tishby: ρ"))
        // Same seed, same audit; the figure draws.
        let again = try Audit(paths: paths, options: options)
        #expect(again.csvText == audit.csvText && again.markdown() == audit.markdown())
        _ = try auditFigure(audit, title: "test").render(width: 320, height: 240)

        // The default inclusion rule (training accuracy at least 0.9) leaves the unfitted
        // tanh run out of the groups and of ρ, names it, and keeps it in the per-run table.
        let accuracy = Double(try csvRows(tanh + "/metrics.csv").last!["train_accuracy"]!)!
        let strict = try Audit(paths: paths, options: AuditOptions(resamples: 300, seed: 5, inclusion: RunInclusion(minimumTrainingAccuracy: 1.01)))
        #expect(strict.excluded.map(\.path) == [tanh] && strict.included.count == 4)
        #expect(strict.groups.map(\.seeds) == [2, 2, 2, 2] && strict.correlation.runs == 4)
        #expect(strict.markdown().contains("Excluded: `\(tanh)` (training accuracy \(String(format: "%.3f", accuracy)))"))
        #expect(strict.csvText.contains("\(tanh),\"\(audit.runs[4].groupLabel)\",1,0,"))
    }

    @Test func badInputNamesTheRun() throws {
        let root = scratch("audit-bad")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try AtomicFile.createDirectory(root + "/empty")
        for (path, words) in [(root + "/missing", "no such run directory"), (root + "/empty", "not a run")] {
            do {
                _ = try Audit(paths: [path])
                Issue.record("\(path) was accepted")
            } catch let e as AuditError {
                #expect(e.description.contains(path) && e.description.contains(words), "\(e)")
            }
        }
        try LinearRunDirectory(root + "/linear").train(smallLinear(seed: 1, epochs: 3))
        try AtomicFile.write("epoch,layer,I_TY\n0,1,0.5\n", to: root + "/linear/information.csv")
        do {
            _ = try Audit(paths: [root + "/linear"])
            Issue.record("a table without I_XT was accepted")
        } catch {
            #expect("\(error)".contains(root + "/linear/information.csv") && "\(error)".contains("I_XT"), "\(error)")
        }
    }
}

@Suite struct Saxe2018LinearExperimentTests {
    /// The four linear experiments at the quick scale write their summaries and figures.
    @Test func quickExperimentsWriteTheirOutputs() throws {
        let root = scratch("saxe-linear")
        defer { try? FileManager.default.removeItem(atPath: root) }
        for name in ["linear", "relevant"] {
            let experiment = try #require(Experiments.find(suite: "saxe2018", name: name))
            let context = ExperimentContext(runs: root + "/runs/" + name, figures: root + "/figures", scale: .quick, epochs: 40, workers: 1)
            let report = try experiment.run(context)
            #expect(AtomicFile.exists(report.summaryPath))
            #expect(report.outputs.allSatisfy { AtomicFile.exists($0) } && !report.outputs.isEmpty)
            let settings = try LinearRunSettings.read(root + "/runs/\(name)/\(name == "linear" ? "gd" : "sgd")-seed-1/settings.json")
            #expect(settings.epochs == 40 && settings.inputCount == 100)
            if name == "relevant" {
                #expect(settings.relevantCount == 30 && settings.batchSize == 5)
                #expect(try AtomicFile.readText(root + "/runs/relevant/sgd-seed-1/information.csv").hasPrefix("epoch,layer,I_XT,I_TY,I_XT_relevant,I_XT_irrelevant\n"))
            }
        }
    }
}
