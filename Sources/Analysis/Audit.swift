// "Does compression track generalization here?" as a table, a figure and a
// number, for any set of runs.
//
// Per run and layer: the compression of the layer (the smoothed peak minus
// the smoothed final I(X;T), bits, and the verdict of `CompressionRule`, the
// rule of the demo and the `reproduce` summaries) and the run's
// generalization gap at its last recorded epoch (test minus training loss,
// and test minus training error). Runs that fail the inclusion rule (final
// training accuracy below a stated value) are listed and left out of
// everything below. Runs that differ only by their seeds form a group; per
// group and layer, the mean over seeds of each quantity with a bootstrap
// percentile interval over seeds, the seeds that compress and the cross-seed
// verdict of `SeedVerdict`. Over all (run, layer) points, Spearman's rank
// correlation between compression and the error gap, with a bootstrap
// interval that resamples whole runs (a run's layers share its gap, so they
// are not independent points).
//
// Run kinds:
// - recorded network runs (manifest.json): loss = cross-entropy in nats from
//   metrics.csv, error = 1 − accuracy; the information from an MI table in
//   the run (`mi-binning.csv` by default, any `--estimates` name). When the
//   default table is missing, it is estimated with the default estimator,
//   binning with 30 equal-width bins over each layer's range of activations
//   (`.binning(.edges(bins: 30))`, the 12-bit tanh setting of Shwartz-Ziv &
//   Tishby and Saxe et al.), and written to the run as mi-binning.csv;
// - linear student-teacher runs (settings.json, `LinearRunDirectory`): the
//   exact information.csv; loss = ½ mean squared error (the training
//   objective), error = mean squared error.
//
// The compression intervals are `SeedBootstrap` intervals seeded by `seed`
// (each from a fresh generator, as in the summaries); the gap intervals and
// the correlation draw from one `RandomGenerator` seeded by `seed`, in a
// fixed order: same runs, same seed, same numbers.

import ActivationStore
import ArrayIO
import Foundation
import Tensors
import Plotting
import Training

/// One run's numbers.
public struct AuditRun: Sendable, Equatable {
    public var path: String
    /// "recorded" or "linear".
    public var kind: String
    /// The task: gaps of runs of one task are comparable ("linear-teacher", "tishby", ...).
    public var task: String
    /// Runs with the same key differ only by seed.
    public var groupKey: String
    /// A short description of the group (task, architecture, optimizer, data).
    public var groupLabel: String
    public var seed: UInt64
    /// The information table used (file name in the run).
    public var estimates: String
    public var finalEpoch: Int
    public var trainLoss: Double
    public var testLoss: Double
    public var trainError: Double
    public var testError: Double
    /// The final training accuracy (nil for regression runs, which always count).
    public var trainingAccuracy: Double?
    public var layers: [LayerCompression]

    public var lossGap: Double { testLoss - trainLoss }
    public var errorGap: Double { testError - trainError }
}

/// One group's numbers for one layer.
public struct AuditGroupLayer: Sendable, Equatable {
    public var groupLabel: String
    public var layer: Int
    public var seeds: Int
    /// The per-seed verdicts, the mean smoothed drop with its interval, and the cross-seed verdict.
    public var verdict: SeedVerdict
    public var compression: Interval { verdict.drop }
    public var lossGap: Interval
    public var errorGap: Interval
}

/// Spearman's rank correlation with its bootstrap interval.
public struct RankCorrelation: Sendable, Equatable {
    /// ρ over all (run, layer) points; NaN when either variable is constant.
    public var rho: Double
    public var lower: Double
    public var upper: Double
    public var points: Int
    public var runs: Int
    /// Bootstrap resamples with a defined ρ.
    public var resamples: Int
}

/// The options of an audit.
public struct AuditOptions: Sendable {
    /// The MI table of recorded runs, a file name inside each run.
    public var estimates: String
    /// Bootstrap resamples.
    public var resamples: Int
    /// The bootstrap's seed.
    public var seed: UInt64
    /// The interval's coverage, e.g. 0.95.
    public var confidence: Double
    /// Compression below this many bits counts as none (0) in the rank
    /// correlation: such falls are SGD or estimator noise (an exact linear
    /// run jitters by 10⁻⁵ bits), and ranking them would sort runs by noise.
    /// The tables keep the raw values.
    public var resolution: Double
    /// The compression verdict.
    public var rule: CompressionRule
    /// Which runs count.
    public var inclusion: RunInclusion

    public static let defaultEstimates = "mi-binning.csv"
    /// The default inclusion rule: final training accuracy at least 0.9 (the 12-bit task's, whose chance level is 0.52).
    public static let defaultInclusion = RunInclusion(minimumTrainingAccuracy: 0.9)

    public init(estimates: String = AuditOptions.defaultEstimates, resamples: Int = 2000, seed: UInt64 = 1, confidence: Double = 0.95,
                resolution: Double = 0.01, rule: CompressionRule = CompressionRule(), inclusion: RunInclusion = AuditOptions.defaultInclusion) {
        self.estimates = estimates
        self.rule = rule
        self.inclusion = inclusion
        self.resolution = resolution
        self.resamples = resamples
        self.seed = seed
        self.confidence = confidence
    }
}

/// An audit error naming the run and the problem.
public struct AuditError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The audit of a set of runs.
public struct Audit: Sendable {
    public var runs: [AuditRun]
    public var groups: [AuditGroupLayer]
    public var correlation: RankCorrelation
    /// The smallest and largest error gap of each task (for the answer when ρ is undefined).
    var gapRanges: [String: (Double, Double)] {
        var r = [String: (Double, Double)]()
        for run in included {
            let old = r[run.task] ?? (run.errorGap, run.errorGap)
            r[run.task] = (min(old.0, run.errorGap), max(old.1, run.errorGap))
        }
        return r
    }
    /// ρ within each task, in order of first appearance (one entry when all runs share a task).
    public var taskCorrelations: [(task: String, correlation: RankCorrelation)]
    public var options: AuditOptions
    /// The runs that pass the inclusion rule, and those that do not (listed, left out of groups and ρ).
    public var included: [AuditRun]
    public var excluded: [AuditRun]

    /// Loads every run and computes the table and the correlation.
    ///
    /// - Throws: `AuditError` naming the run for a directory that is not a
    ///   run, a run without metrics, or an MI table without I(X;T).
    public init(paths: [String], options: AuditOptions = AuditOptions(),
                progress: (@Sendable (String) -> Void)? = nil) throws {
        guard !paths.isEmpty else { throw AuditError("no runs to audit") }
        let runs = try paths.map { try Audit.load($0, options: options, progress: progress) }
        self.init(runs: runs, options: options)
    }

    /// The table and correlation of loaded runs.
    public init(runs: [AuditRun], options: AuditOptions = AuditOptions()) {
        self.runs = runs
        self.options = options
        let split = options.inclusion.split(runs) { $0.trainingAccuracy }
        included = split.included
        excluded = split.excluded
        let runs = split.included
        var rng = RandomGenerator(seed: options.seed)
        let bootstrap = SeedBootstrap(resamples: options.resamples, confidence: options.confidence, seed: options.seed)
        // Groups in order of first appearance.
        var order = [String](), members = [String: [AuditRun]]()
        for r in runs {
            if members[r.groupKey] == nil { order.append(r.groupKey) }
            members[r.groupKey, default: []].append(r)
        }
        var groups = [AuditGroupLayer]()
        for key in order {
            let rs = members[key]!
            let layers = Set(rs.flatMap { $0.layers.map(\.layer) }).sorted()
            for layer in layers {
                let with = rs.filter { $0.layers.contains { $0.layer == layer } }
                let c = with.map { r in r.layers.first { $0.layer == layer }! }
                groups.append(AuditGroupLayer(
                    groupLabel: rs[0].groupLabel, layer: layer, seeds: with.count,
                    verdict: SeedVerdict(layer: layer, perSeed: c, rule: options.rule, bootstrap: bootstrap),
                    lossGap: Audit.bootstrapMean(with.map(\.lossGap), options: options, rng: &rng),
                    errorGap: Audit.bootstrapMean(with.map(\.errorGap), options: options, rng: &rng)))
            }
        }
        self.groups = groups
        correlation = Audit.correlation(runs, options: options, rng: &rng)
        var tasks = [String]()
        for r in runs where !tasks.contains(r.task) { tasks.append(r.task) }
        if tasks.count == 1 {
            taskCorrelations = [(tasks[0], correlation)]
        } else {
            taskCorrelations = tasks.map { task in
                (task, Audit.correlation(runs.filter { $0.task == task }, options: options, rng: &rng))
            }
        }
    }

    // MARK: Statistics

    /// Ranks 1…n with ties given their average rank.
    public static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = [Double](repeating: 0, count: values.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = average }
            i = j + 1
        }
        return ranks
    }

    /// Pearson's correlation; NaN when either variable is constant or n < 2.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count, "pearson: \(x.count) and \(y.count) values")
        let n = Double(x.count)
        guard x.count >= 2 else { return .nan }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        guard sxx > 0 && syy > 0 else { return .nan }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Spearman's ρ: Pearson's correlation of the (average-tie) ranks.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double { pearson(ranks(x), ranks(y)) }

    /// The empirical quantile with linear interpolation (NumPy's default, "linear").
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double { SeedBootstrap.quantile(sorted, q) }

    /// The mean of `values` and the percentile interval of the means of
    /// `options.resamples` resamples with replacement (one value: the interval is the value).
    public static func bootstrapMean(_ values: [Double], options: AuditOptions, rng: inout RandomGenerator) -> Interval {
        SeedBootstrap.interval(values, resamples: options.resamples, confidence: options.confidence, rng: &rng)
    }

    /// ρ(compression, error gap) over all (run, layer) points, with the
    /// percentile interval of ρ over resamples of whole runs.
    public static func correlation(_ runs: [AuditRun], options: AuditOptions, rng: inout RandomGenerator) -> RankCorrelation {
        func points(_ rs: [AuditRun]) -> (x: [Double], y: [Double]) {
            var x = [Double](), y = [Double]()
            for r in rs {
                for l in r.layers {
                    x.append(l.compression < options.resolution ? 0 : l.compression)
                    y.append(r.errorGap)
                }
            }
            return (x, y)
        }
        let all = points(runs)
        let rho = spearman(all.x, all.y)
        var samples = [Double]()
        if runs.count > 1 {
            for _ in 0..<options.resamples {
                let pick = (0..<runs.count).map { _ in runs[rng.nextInt(below: runs.count)] }
                let p = points(pick)
                let r = spearman(p.x, p.y)
                if r.isFinite { samples.append(r) }
            }
        }
        samples.sort()
        let alpha = (1 - options.confidence) / 2
        return RankCorrelation(rho: rho, lower: quantile(samples, alpha), upper: quantile(samples, 1 - alpha),
                               points: all.x.count, runs: runs.count, resamples: samples.count)
    }

    // MARK: Loading

    /// One run's numbers from its directory.
    public static func load(_ path: String, options: AuditOptions = AuditOptions(),
                            progress: (@Sendable (String) -> Void)? = nil) throws -> AuditRun {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw AuditError("\(path): no such run directory")
        }
        if fm.fileExists(atPath: path + "/settings.json") { return try loadLinear(path, options: options) }
        if fm.fileExists(atPath: RunDirectory(path).manifest) { return try loadRecorded(path, options: options, progress: progress) }
        throw AuditError("\(path): not a run (neither manifest.json of a recorded run nor settings.json of a linear run)")
    }

    static func layers(_ table: InformationTable, path: String, rule: CompressionRule) throws -> [LayerCompression] {
        let rows = table.compression(rule: rule)
        guard !rows.isEmpty else {
            throw AuditError("\(path): no I_XT (or I_XT_upper) column with finite values (columns: \(table.columns.joined(separator: ", ")))")
        }
        return rows
    }

    static func loadLinear(_ path: String, options: AuditOptions) throws -> AuditRun {
        let dir = LinearRunDirectory(path)
        let settings: LinearRunSettings
        do { settings = try LinearRunSettings.read(dir.settingsPath) } catch { throw AuditError("\(error)") }
        guard AtomicFile.exists(dir.metricsPath), AtomicFile.exists(dir.informationPath) else {
            throw AuditError("\(path): linear run without metrics.csv and information.csv (not finished?)")
        }
        let metrics = try RunCSV.parse(try AtomicFile.readText(dir.metricsPath), header: LinearRunCSV.metricsHeader, path: dir.metricsPath)
        guard let last = metrics.last else { throw AuditError("\(dir.metricsPath): no recorded epoch") }
        let table = try InformationTable.read(path: dir.informationPath)
        var key = settings
        key.seed = 0
        key.dataSeed = 0
        let label = "linear \(settings.widths.map(String.init).joined(separator: "-"))\(settings.split ? " (\(settings.relevantCount) relevant)" : ""), \(settings.optimizerName), P \(settings.trainCount)"
        return AuditRun(path: path, kind: "linear", task: settings.task, groupKey: try key.json(), groupLabel: label, seed: settings.seed,
                        estimates: "information.csv (exact)", finalEpoch: Int(last[0]),
                        trainLoss: last[1] / 2, testLoss: last[2] / 2, trainError: last[1], testError: last[2],
                        trainingAccuracy: nil, layers: try layers(table, path: dir.informationPath, rule: options.rule))
    }

    static func loadRecorded(_ path: String, options: AuditOptions, progress: (@Sendable (String) -> Void)?) throws -> AuditRun {
        let reader: RunReader
        do { reader = try RunReader(path: path) } catch { throw AuditError("\(path): cannot read the run (\(error))") }
        let metrics = try reader.metrics()
        guard let last = metrics.last else { throw AuditError("\(path): no metrics recorded (metrics.csv is empty)") }
        let tablePath = path + "/" + options.estimates
        let table: InformationTable
        if AtomicFile.exists(tablePath) {
            table = try InformationTable.read(path: tablePath)
        } else if options.estimates == AuditOptions.defaultEstimates {
            progress?("\(path): no \(options.estimates); estimating with binning, 30 equal-width bins per layer")
            do {
                table = try ActivationSource.run(path).estimate(EstimationRequest(configuration: .binning(.edges(bins: 30))))
            } catch {
                throw AuditError("\(path): no \(options.estimates) and no activations to estimate it from (\(error))")
            }
            try table.write(to: tablePath)
        } else {
            throw AuditError("\(path): no \(options.estimates) (estimate it with `infoplane estimate`, or choose --estimates)")
        }
        let s = reader.manifest.settings
        var key = s
        key.seed = 0
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let keyText = String(decoding: try encoder.encode(key), as: UTF8.self)
        let label = "\(s.task) \(s.widths.map(String.init).joined(separator: "-")) \(s.activation), \(s.optimizer["name"] ?? "?"), train \(Int((s.trainingFraction * 100).rounded())) %"
        return AuditRun(path: path, kind: "recorded", task: s.task, groupKey: keyText, groupLabel: label, seed: s.seed,
                        estimates: options.estimates, finalEpoch: last.epoch,
                        trainLoss: last.trainLoss, testLoss: last.testLoss,
                        // A subject without an accuracy (a regression such as task air) counts
                        // its loss as the error, as linear runs do, and is always included.
                        trainError: last.trainAccuracy.isNaN ? last.trainLoss : 1 - last.trainAccuracy,
                        testError: last.testAccuracy.isNaN ? last.testLoss : 1 - last.testAccuracy,
                        trainingAccuracy: last.trainAccuracy.isNaN ? nil : last.trainAccuracy,
                        layers: try layers(table, path: tablePath, rule: options.rule))
    }

    // MARK: Output

    public static let csvHeader = "run,group,seed,included,layer,peak_I_XT,peak_epoch,final_I_XT,final_epoch,compression,noise,required,compressed,raw_peak_I_XT,raw_final_I_XT,train_loss,test_loss,loss_gap,train_error,test_error,error_gap,estimates"

    /// One row per (run, layer), excluded runs included (`included` 0), numbers
    /// in Swift's shortest round-trip form; peak, final and compression are smoothed.
    public var csvText: String {
        func quote(_ s: String) -> String { s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s }
        var lines = [Audit.csvHeader]
        let out = Set(excluded.map(\.path))
        for r in runs {
            for l in r.layers {
                lines.append([quote(r.path), quote(r.groupLabel), "\(r.seed)", out.contains(r.path) ? "0" : "1", "\(l.layer)", "\(l.peak)",
                              "\(l.peakEpoch)", "\(l.final)", "\(l.finalEpoch)", "\(l.compression)", "\(l.noise)", "\(l.required)",
                              l.compressed ? "1" : "0", "\(l.rawPeak)", "\(l.rawFinal)", "\(r.trainLoss)", "\(r.testLoss)", "\(r.lossGap)",
                              "\(r.trainError)", "\(r.testError)", "\(r.errorGap)", quote(r.estimates)].joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The rules, the excluded runs, the group table, the per-run table and the correlation, as Markdown.
    public func markdown(digits: Int = 4) -> String {
        func f(_ x: Double) -> String { x.isNaN ? "-" : String(format: "%.\(digits)f", x) }
        func iv(_ i: Interval) -> String { i.lower == i.upper ? f(i.mean) : "\(f(i.mean)) [\(f(i.lower)), \(f(i.upper))]" }
        let pct = Int((options.confidence * 100).rounded())
        let bootstrap = SeedBootstrap(resamples: options.resamples, confidence: options.confidence, seed: options.seed)
        var md = "**Compression rule.** " + options.rule.description.prefix(1).uppercased() + options.rule.description.dropFirst() + ".\n\n"
        md += "**Which runs count.** " + options.inclusion.description.prefix(1).uppercased() + options.inclusion.description.dropFirst()
        md += " (runs without an accuracy, the linear regression runs, always count). "
        if excluded.isEmpty {
            md += "No run is excluded.\n\n"
        } else {
            md += "Excluded: " + excluded.map { "`\($0.path)` (training accuracy \(String(format: "%.3f", $0.trainingAccuracy ?? .nan)))" }
                .joined(separator: ", ") + "; they appear in the per-run table and nowhere else.\n\n"
        }
        md += "**Across seeds.** Mean over seeds with a \(bootstrap); a group's layer compresses across seeds when the interval of its "
        md += "drop lies above the bar (the threshold at the mean smoothed peak, and \(options.rule.noiseMultiple == options.rule.noiseMultiple.rounded() ? String(Int(options.rule.noiseMultiple)) : "\(options.rule.noiseMultiple)") × the mean noise), with at least two seeds.\n\n"
        md += "## Per group and layer (mean over seeds [\(pct) % bootstrap interval])\n\n"
        md += "| group | layer | seeds | compression (bits, smoothed) | bar | seeds compressing | across seeds | loss gap | error gap |\n"
        md += "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |\n"
        for g in groups {
            md += "| \(g.groupLabel) | \(g.layer) | \(g.seeds) | \(iv(g.compression)) | \(f(g.verdict.required)) | \(g.verdict.compressedSeeds)/\(g.seeds) | \(g.verdict.verdictText) | \(iv(g.lossGap)) | \(iv(g.errorGap)) |\n"
        }
        md += "\n## Per run and layer\n\n"
        md += "Peak and final are the smoothed curve's (with their epochs); the raw curve's are in the column raw peak → final.\n\n"
        md += "| run | seed | counts | layer | peak I(X;T) (epoch) | final I(X;T) (epoch) | compression | bar (noise) | compressed | raw peak → final | train / test loss | loss gap | train / test error | error gap |\n"
        md += "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n"
        let out = Set(excluded.map(\.path))
        for r in runs {
            for l in r.layers {
                md += "| \(r.path) | \(r.seed) | \(out.contains(r.path) ? "no" : "yes") | \(l.layer) | \(f(l.peak)) (\(l.peakEpoch)) | \(f(l.final)) (\(l.finalEpoch)) | \(f(l.compression)) | \(f(l.required)) (\(f(l.noise))) | \(l.compressed ? "yes" : "no") | \(f(l.rawPeak)) → \(f(l.rawFinal)) | \(f(r.trainLoss)) / \(f(r.testLoss)) | \(f(r.lossGap)) | \(f(r.trainError)) / \(f(r.testError)) | \(f(r.errorGap)) |\n"
            }
        }
        md += "\n" + answer + "\n"
        return md
    }

    /// Below this many runs the answer states ρ and its interval but no verdict.
    public static let minimumRunsForVerdict = 5

    /// The answer to "does compression track generalization here?": ρ with its
    /// interval and a verdict per task (gaps of different tasks are not
    /// comparable, so a pooled ρ over several tasks is reported but judged not).
    public var answer: String {
        if taskCorrelations.count == 1 {
            return "Spearman's ρ between compression and the error gap " + Audit.describe(correlation, options: options)
                + constantNote(taskCorrelations[0].task, correlation)
        }
        var s = "Pooled over \(taskCorrelations.count) tasks, Spearman's ρ between compression and the error gap "
        s += Audit.describe(correlation, options: options, verdict: false)
        s += " This is no verdict: the gaps of different tasks are on different scales and the pooled ranks mostly sort the tasks. Within each task:\n"
        for (task, c) in taskCorrelations {
            s += "\n- \(task): ρ " + Audit.describe(c, options: options) + constantNote(task, c)
        }
        return s
    }

    /// When no run of a task compresses, what its gaps did instead.
    func constantNote(_ task: String, _ c: RankCorrelation) -> String {
        let rs = included.filter { $0.task == task }
        guard !c.rho.isFinite, rs.allSatisfy({ $0.layers.allSatisfy { $0.compression < options.resolution } }),
              let range = gapRanges[task] else { return "" }
        return String(format: " No layer of any run compresses by %g bit or more, while the error gap ranges from %.4g to %.4g: generalization varies without compression.",
                      options.resolution, range.0, range.1)
    }

    /// "over n points of m runs: ρ, interval. verdict."
    static func describe(_ c: RankCorrelation, options: AuditOptions, verdict: Bool = true) -> String {
        let pct = Int((options.confidence * 100).rounded())
        var s = "over \(c.points) (run, layer) points of \(c.runs) runs (compression below \(options.resolution) bit counted as 0): "
        guard c.rho.isFinite else {
            return s + "undefined (compression or gap is constant over these runs), so no answer from them."
        }
        s += String(format: "%.3f", c.rho)
        if c.resamples > 0 && c.lower.isFinite {
            s += String(format: ", %d %% bootstrap interval [%.3f, %.3f] (%d resamples of whole runs, seed %llu)", pct, c.lower, c.upper, c.resamples, options.seed)
        }
        s += "."
        guard verdict else { return s }
        if c.resamples == 0 || !c.lower.isFinite {
            s += " With one run there is no interval."
        } else if c.runs < Audit.minimumRunsForVerdict {
            s += " Fewer than \(Audit.minimumRunsForVerdict) runs: the interval is too coarse for a verdict."
        } else if c.lower > 0 {
            s += " More compression goes with a larger generalization gap (the interval excludes 0)."
        } else if c.upper < 0 {
            s += " More compression goes with a smaller generalization gap (the interval excludes 0): compression tracks generalization in these runs."
        } else {
            s += " The interval includes 0: compression does not track generalization in these runs."
        }
        return s
    }
}

/// The audit's scatter: error gap against compression, one marker per
/// (run, layer), one colour and shape per group, with the group's bootstrap
/// intervals as whiskers through its mean point; Spearman's ρ in the corner.
/// With `task`, only that task's runs and its own ρ (gaps of different tasks
/// are on different scales).
public func auditFigure(_ audit: Audit, title: String = "", task: String? = nil) -> ScatterFigure {
    let runs = audit.included.filter { task == nil || $0.task == task }
    var order = [String]()
    for r in runs where !order.contains(r.groupLabel) { order.append(r.groupLabel) }
    let shapes: [Marker.Shape] = [.circle, .square, .diamond, .triangle, .star]
    var series = [ScatterSeries]()
    for (k, label) in order.enumerated() {
        let rs = runs.filter { $0.groupLabel == label }
        var x = [Double](), y = [Double]()
        for r in rs { for l in r.layers { x.append(l.compression); y.append(r.errorGap) } }
        let color = Colormap.tab10Color(k)
        series.append(ScatterSeries(name: label, x: x, y: y, color: color.withAlpha(0.55), marker: shapes[k % shapes.count]))
        let g = audit.groups.filter { $0.groupLabel == label && $0.seeds > 1 }
        if !g.isEmpty {
            series.append(ScatterSeries(name: "", x: g.map(\.compression.mean), y: g.map(\.errorGap.mean),
                                        xInterval: g.map { ($0.compression.lower, $0.compression.upper) },
                                        yInterval: g.map { ($0.errorGap.lower, $0.errorGap.upper) },
                                        color: color, marker: shapes[k % shapes.count]))
        }
    }
    var figure = ScatterFigure(series: series)
    figure.title = title
    figure.xLabel = "Compression: smoothed peak − final I(X;T) (bits)"
    figure.yLabel = "Generalization gap: test − train error"
    // Falls of a few 10⁻⁵ bits would fill the axis: show at least 0 to 1 bit.
    let largest = runs.flatMap { $0.layers.map(\.compression) }.max() ?? 0
    if largest < 0.9 { figure.xLimits = (-0.05, 1.0) }
    let c = task.flatMap { t in audit.taskCorrelations.first { $0.task == t }?.correlation } ?? audit.correlation
    let prefix = task == nil && audit.taskCorrelations.count > 1 ? "pooled " : ""
    if c.rho.isFinite {
        figure.note = c.resamples > 0 && c.lower.isFinite
            ? String(format: "\(prefix)Spearman ρ = %.2f [%.2f, %.2f]", c.rho, c.lower, c.upper)
            : String(format: "\(prefix)Spearman ρ = %.2f", c.rho)
    } else {
        figure.note = "Spearman ρ undefined (no compression ≥ \(audit.options.resolution) bit)"
    }
    return figure
}
