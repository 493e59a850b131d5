// The saxe2018 experiments on the 12-bit task: seed averages against hand
// values and against the per-seed tables on disk, every output written at a
// tiny scale, the binning verdict table against the per-estimator tables, and
// the SNR drop definition.

import ActivationStore
import Analysis
import ArrayIO
@testable import Experiments
import Foundation
import Testing

@Suite struct Saxe2018Tests {
    static func table(_ values: [[Double]]) -> InformationTable {
        // Rows (epoch 0, layer 1), (0, 2), (5, 1), (5, 2).
        let keys = [(0, 1), (0, 2), (5, 1), (5, 2)]
        return InformationTable(columns: ["I_XT", "I_TY", "H_T"],
                                rows: zip(keys, values).map { InformationTable.Row(epoch: $0.0, layer: $0.1, values: $1) })
    }

    @Test func seedAverageByHand() throws {
        let a = Self.table([[1, 0.5, 1], [2, 0.2, 2], [3, 0.9, 3], [4, 0.1, 4]])
        let b = Self.table([[3, 0.5, 3], [2, 0.4, 2], [5, 0.7, 5], [0, 0.3, 0]])
        let avg = try averageOverSeeds([a, b])
        #expect(avg.seeds == 2)
        #expect(avg.mean.column("I_XT") == [2, 2, 4, 2])
        #expect(avg.mean.column("I_TY")!.enumerated().allSatisfy { abs($0.element - [0.5, 0.3, 0.8, 0.2][$0.offset]) < 1e-12 })
        // Sample s.d. of {x, y} is |x − y| / √2.
        let sd = avg.standardDeviation.column("I_XT")!
        for (k, expected) in [2.0, 0, 2, 4].enumerated() { #expect(abs(sd[k] - expected / 2.0.squareRoot()) < 1e-12) }
        #expect(avg.combined.columns == ["I_XT", "I_TY", "H_T", "I_XT_sd", "I_TY_sd", "H_T_sd"])
        // One seed: the table itself, zero spread.
        let one = try averageOverSeeds([a])
        #expect(one.mean.rows == a.rows)
        #expect(one.standardDeviation.column("I_XT") == [0, 0, 0, 0])
        // Mismatched rows or columns are refused.
        var c = b
        c.rows[2].epoch = 6
        #expect(throws: ExperimentError.self) { try averageOverSeeds([a, c]) }
        #expect(throws: ExperimentError.self) { try averageOverSeeds([]) }
    }

    @Test func snrDropIsTheFirstFallBelowOneAfterThePeak() {
        func rows(_ snr: [Double]) -> [LayerGradientStatistics] {
            snr.enumerated().map { LayerGradientStatistics(epoch: $0.offset + 1, layer: 1, meanNorm: $0.element, standardDeviationNorm: 1,
                                                           weightNorm: 1, batches: 13) }
        }
        // Dips below 1 before the peak (epoch 2) do not count.
        #expect(Saxe2018.snrPeakEpoch(rows([1.2, 0.8, 5, 3, 0.9, 2, 0.5])) == 3)
        #expect(Saxe2018.snrDropEpoch(rows([1.2, 0.8, 5, 3, 0.9, 2, 0.5])) == 5)
        #expect(Saxe2018.snrDropEpoch(rows([1.2, 3, 2])) == nil)
    }

    static func temporary() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("saxe-\(UUID().uuidString)").path
    }

    static func context(_ root: String, _ name: String, epochs: Int, seeds: Int? = nil) -> ExperimentContext {
        ExperimentContext(runs: root + "/runs/saxe2018/" + name, figures: root + "/figures", scale: .quick, seeds: seeds,
                          epochs: epochs, workers: 2)
    }

    /// fig1 at a tiny scale: every file, and the average on disk equals the mean of the
    /// per-seed tables read back.
    @Test func fig1WritesEveryFileAndAveragesTheSeedTables() throws {
        let root = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = Self.context(root, "fig1", epochs: 16, seeds: 3)
        let report = try Saxe2018.fig1(context)
        #expect(report.outputs.map { ($0 as NSString).lastPathComponent } == ["saxe2018-fig1.png", "saxe2018-fig1-mi.png"])
        for path in report.outputs + [report.summaryPath] { #expect(AtomicFile.exists(path)) }
        for activation in ["tanh", "relu"] {
            let tables = try (1...3).map { try InformationTable.read(path: context.runs + "/\(activation)-seed\($0)/mi-binning.csv") }
            let average = try InformationTable.read(path: context.runs + "/average-\(activation).csv")
            #expect(average.rows.count == tables[0].rows.count)
            for (i, row) in average.rows.enumerated() {
                for (c, name) in ["I_XT", "I_TY", "H_T"].enumerated() {
                    let values = tables.map { $0.rows[i].values[c] }
                    let mean = values.reduce(0, +) / 3
                    let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2).squareRoot()
                    #expect(abs(row.values[average.columns.firstIndex(of: name)!] - mean) < 1e-12)
                    #expect(abs(row.values[average.columns.firstIndex(of: name + "_sd")!] - sd) < 1e-12)
                }
            }
            // The run's manifest records the paper's settings.
            let manifest = try RunReader(path: context.runs + "/\(activation)-seed1").manifest
            #expect(manifest.settings == TwelveBit.settings(activation: activation, epochs: 16, seed: 1))
        }
        #expect(report.markdown.contains("| 5 |"))
        #expect(report.markdown.contains(CompressionRule().description.dropFirst().prefix(60)))

        // The inclusion rule: at 16 epochs no run reaches 0.9 training accuracy, so the summary
        // names every run as excluded and the average is over all of them, labelled, and
        // `infoplane audit` of the same runs (every run counted) gives the same per-layer
        // intervals and cross-seed verdicts as the summary's tables.
        #expect(report.markdown.contains("Counted: none. Excluded: `tanh-seed1` (training accuracy"))
        #expect(report.markdown.contains("All seeds (none meets the rule; no verdict)"))
        let paths = ["tanh", "relu"].flatMap { a in (1...3).map { context.runs + "/\(a)-seed\($0)" } }
        let audit = try Audit(paths: paths, options: AuditOptions(inclusion: .all))
        #expect(audit.groups.count == 12)
        for (k, activation) in ["tanh", "ReLU"].enumerated() {
            let section = report.markdown.components(separatedBy: "## \(activation) (")[1]
            for g in audit.groups[(6 * k)..<(6 * k + 6)] {
                let name = g.layer == 6 ? "6 (output)" : "\(g.layer)"
                let row = section.split(separator: "\n").first { $0.hasPrefix("| \(name) |") }!
                let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                #expect(cells[4] == intervalText(g.compression, 2), "\(activation) layer \(g.layer)")
                #expect(cells[6] == "\(g.verdict.compressedSeeds)/3" && cells[7] == g.verdict.verdictText, "\(activation) layer \(g.layer)")
            }
        }

        // The curve bands stop at H(X) and H(Y): 4096 distinct inputs give 12 bits; the
        // labels' entropy by hand; no estimate exceeds either.
        let ceilings = try informationCeilings(run: context.runs + "/tanh-seed1")
        #expect(abs(ceilings.inputs - 12) < 1e-12)
        let labels = try RunReader(path: context.runs + "/tanh-seed1").labels()
        let p1 = Double(labels.filter { $0 == 1 }.count) / Double(labels.count)
        #expect(abs(ceilings.labels - (-p1 * log2(p1) - (1 - p1) * log2(1 - p1))) < 1e-12)
        for activation in ["tanh", "relu"] {
            let table = try InformationTable.read(path: context.runs + "/\(activation)-seed1/mi-binning.csv")
            for row in table.rows {
                #expect(row.values[0] <= ceilings.inputs + 1e-9 && row.values[1] <= ceilings.labels + 1e-9)
            }
        }
    }

    /// binning at a tiny scale: the verdict table lists, per estimator, exactly the hidden
    /// layers whose table (read back from disk) passes the threshold.
    @Test func binningVerdictTableMatchesThePerEstimatorTables() throws {
        let root = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = Self.context(root, "binning", epochs: 40)
        let report = try Saxe2018.binning(context)
        for path in report.outputs + [report.summaryPath] { #expect(AtomicFile.exists(path)) }
        for estimator in Saxe2018.binningEstimators {
            var cells = [String]()
            for activation in ["tanh", "relu"] {
                let table = try InformationTable.read(path: context.runs + "/\(activation)/mi-\(estimator.tag).csv")
                let layers = table.compression().filter { (1...5).contains($0.layer) && $0.compressed }.map(\.layer)
                cells.append(layers.isEmpty ? "none" : layers.map(String.init).joined(separator: ", "))
            }
            let line = "| \(Saxe2018.describe(estimator.scheme)) | \(cells[0]) | \(cells[1]) |"
            #expect(report.markdown.contains(line), "missing verdict row \(line)")
        }
    }

    /// estimators at a tiny scale: the three tables of each run, and a verdict table whose
    /// cells are the verdicts of those tables read back from disk.
    @Test func estimatorVerdictTableMatchesTheTables() throws {
        let root = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = Self.context(root, "estimators", epochs: 3)
        let report = try Saxe2018.estimators(context)
        #expect(report.outputs.map { ($0 as NSString).lastPathComponent } == ["saxe2018-estimators.png"])
        for layer in 1...5 {
            var cells = ["\(layer)"]
            for activation in ["tanh", "relu"] {
                for name in ["binning", "kde", "knn"] {
                    let table = try InformationTable.read(path: context.runs + "/\(activation)/mi-\(name).csv")
                    #expect(table.parameters["estimator"] == name)
                    cells.append(table.compression().first { $0.layer == layer }!.compressed ? "yes" : "no")
                }
            }
            #expect(report.markdown.contains("| " + cells.joined(separator: " | ") + " |"), "missing row for layer \(layer)")
        }
        // kNN read the binary inputs as a discrete X, with KDE's noise variance.
        let knn = try InformationTable.read(path: context.runs + "/tanh/mi-knn.csv")
        #expect(knn.parameters["inputs"]?.hasPrefix("discrete") == true && knn.parameters["noise_variance"] == "0.1")
    }

    /// The other experiments at a tiny scale write every figure and summary.
    @Test func otherExperimentsWriteEveryFile() throws {
        let root = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let expected = ["kde": ["saxe2018-kde.png", "saxe2018-kde-mi.png"], "snr": ["saxe2018-snr.png"],
                        "sgd-vs-bgd": ["saxe2018-sgd-vs-bgd.png"]]
        for experiment in Experiments.suite("saxe2018") where expected[experiment.name] != nil {
            let report = try experiment.run(Self.context(root, experiment.name, epochs: 6))
            #expect(report.outputs.map { ($0 as NSString).lastPathComponent } == expected[experiment.name]!)
            for path in report.outputs + [report.summaryPath] { #expect(AtomicFile.exists(path)) }
            #expect(report.summaryPath.hasSuffix("saxe2018-\(experiment.name).md"))
        }
        #expect(Set(["fig1", "kde", "snr", "sgd-vs-bgd", "binning"]).isSubset(of: Experiments.suite("saxe2018").map(\.name)))
    }

    /// kde reuses a KDE table with the same parameters and epochs, and recomputes one
    /// whose parameters differ.
    @Test func kdeReusesMatchingTablesOnly() throws {
        let root = Self.temporary()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let context = Self.context(root, "kde", epochs: 6)
        _ = try Saxe2018.kde(context)
        let file = context.runs + "/tanh-seed1/mi-kde.csv"
        let original = try InformationTable.read(path: file)
        // A marked value survives a second run: the table was read back, not recomputed.
        var marked = original
        marked.rows[0].values[0] = 123.5
        try marked.write(to: file)
        _ = try Saxe2018.kde(context)
        #expect(try InformationTable.read(path: file).rows[0].values[0] == 123.5)
        // Another noise variance in the parameters: recomputed, the original values back.
        marked.parameters["noise_variance"] = "0.5"
        try marked.write(to: file)
        _ = try Saxe2018.kde(context)
        let again = try InformationTable.read(path: file)
        #expect(again.rows == original.rows)
        #expect(again.parameters["noise_variance"] == "0.1")
    }
}
