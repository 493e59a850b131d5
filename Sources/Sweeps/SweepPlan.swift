// Expanding a sweep file into its runs, estimates and estimate shards, and
// where each writes. Every name comes from the settings that vary, so the
// same file always gives the same plan.
//
//   DIR/runs/RUN/                    a run directory (`infoplane train`)
//   DIR/runs/RUN/mi-EST.csv          an estimate's table (`infoplane estimate`)
//   DIR/shards/RUN/EST/epochs-A-B.csv   one shard's rows (recorded epochs A…B)
//   DIR/figures/RUN-EST.png          the run's information plane under EST
//   DIR/audit/audit.{csv,md,png}     the audit over all runs
//   DIR/failed/TASK.txt              the error of a task's last failed attempt
//   DIR/slurm/                       the generated sbatch scripts, task lists, logs

/// One training run of a sweep.
public struct SweepRun: Sendable, Equatable {
    /// The run's name: `key-value` for each axis over a training setting, joined by `_`
    /// (`activation-tanh_seed-1`); `run` when no axis varies the runs.
    public var name: String
    /// The training options: the shared settings, then this run's axis values.
    public var settings: [SettingValue]

    /// The `infoplane train` arguments, without `--out`.
    public var trainArguments: [String] {
        settings.flatMap { $0.arguments(kind: SweepSchema.training[$0.key]!) }
    }

    /// The value given for `key`, if any.
    public func value(_ key: String) -> String? { settings.first { $0.key == key }?.text }
}

/// One estimate every run gets.
public struct SweepEstimate: Sendable, Equatable {
    /// The table's name: the entry's name or its estimator, with `_key-value` for each
    /// axis over an estimate option; the table is `mi-NAME.csv`.
    public var name: String
    public var options: [SettingValue]
    /// Where the entry is in the file (`estimates[1]`).
    public var keyPath: String

    /// The `infoplane estimate` arguments after the run directory, without `-o` and `--epochs`.
    public var estimateArguments: [String] {
        options.flatMap { $0.arguments(kind: SweepSchema.estimate[$0.key]!) }
    }

    /// Whether every epoch's estimate depends on the others (global binning's range),
    /// so that the estimate cannot be split by epochs.
    public var needsAllEpochs: Bool {
        options.contains { $0.key == "discretization" && $0.text == "global" }
            && (options.first { $0.key == "estimator" }?.text ?? "binning") == "binning"
    }
}

/// One estimate task: a run, an estimate and a contiguous range of its recorded epochs.
public struct EstimateShard: Sendable, Equatable {
    public var run: Int
    public var estimate: Int
    /// The recorded epochs of the shard, ascending.
    public var epochs: [Int]
    /// Whether the shard covers every recorded epoch of the run.
    public var isWhole: Bool

    public init(run: Int, estimate: Int, epochs: [Int], isWhole: Bool) {
        self.run = run
        self.estimate = estimate
        self.epochs = epochs
        self.isWhole = isWhole
    }
}

/// The runs, estimates and shards of a sweep, and the paths they write.
public struct SweepPlan: Sendable {
    public var file: SweepFile
    public var runs: [SweepRun]
    public var estimates: [SweepEstimate]
    /// Shards by run, then estimate, then epoch; each (run, estimate) covered once.
    public var shards: [EstimateShard]
    /// The recorded epochs of each run.
    public var recordedEpochs: [[Int]]
    /// The Slurm options: the file's, with the command line's over them.
    public var slurm: SlurmOptions

    /// Expands `file`.
    ///
    /// - Parameters:
    ///   - epochsOf: the recorded epochs of a run from its settings (the caller
    ///     resolves defaults and validates the settings, throwing a `SweepError`).
    ///   - slurm: options over the file's (from the command line).
    /// - Throws: `SweepError` when two runs or two estimates would share a name.
    public init(file: SweepFile, slurm overrides: SlurmOptions = SlurmOptions(),
                epochsOf: (SweepRun) throws -> [Int]) throws {
        self.file = file
        slurm = file.slurm.overridden(by: overrides)
        let runAxes = file.axes.filter(\.variesRuns)
        let estimateAxes = file.axes.filter { !$0.variesRuns }

        runs = []
        var seen: [String: [SettingValue]] = [:]
        for combination in product(runAxes.map(\.values)) {
            let name = combination.isEmpty ? "run" : combination.map { "\($0.key)-\(sanitized($0.text))" }.joined(separator: "_")
            if let other = seen[name] {
                throw SweepError(file: file.path, keyPath: combination.map(\.keyPath).joined(separator: ", "),
                                 "names the run directory \(name), as \(other.map(\.keyPath).joined(separator: ", ")) does")
            }
            seen[name] = combination
            runs.append(SweepRun(name: name, settings: file.settings + combination))
        }

        estimates = []
        var names: [String: String] = [:]
        for entry in file.estimates {
            let base = entry.name ?? entry.options.first { $0.key == "estimator" }!.text
            for combination in product(estimateAxes.map(\.values)) {
                let name = ([base] + combination.map { "\($0.key)-\(sanitized($0.text))" }).joined(separator: "_")
                if let other = names[name] {
                    throw SweepError(file: file.path, keyPath: entry.keyPath,
                                     "writes the table mi-\(name).csv, as \(other) does; give it a \"name\"")
                }
                names[name] = entry.keyPath
                estimates.append(SweepEstimate(name: name, options: entry.options + combination, keyPath: entry.keyPath))
            }
        }
        if let audit = file.auditEstimate, !audit.isEmpty, names[audit] == nil {
            throw SweepError(file: file.path, keyPath: "audit.estimate",
                             "no estimate is named \"\(audit)\" (estimates: \(estimates.map(\.name).joined(separator: ", ")))")
        }

        recordedEpochs = try runs.map(epochsOf)
        shards = []
        for (r, epochs) in self.recordedEpochs.enumerated() {
            for (e, estimate) in estimates.enumerated() {
                let size = estimate.needsAllEpochs ? epochs.count : min(epochs.count, slurm.epochsPerShard ?? epochs.count)
                for start in stride(from: 0, to: epochs.count, by: max(1, size)) {
                    let slice = Array(epochs[start..<min(epochs.count, start + size)])
                    shards.append(EstimateShard(run: r, estimate: e, epochs: slice, isWhole: slice.count == epochs.count))
                }
            }
        }
    }

    // MARK: Paths

    public var directory: String { file.directory }
    public func runDirectory(_ r: Int) -> String { directory + "/runs/" + runs[r].name }
    public func tablePath(run r: Int, estimate e: Int) -> String { runDirectory(r) + "/mi-" + estimates[e].name + ".csv" }
    public func shardPath(_ s: EstimateShard) -> String {
        directory + "/shards/\(runs[s.run].name)/\(estimates[s.estimate].name)/epochs-\(s.epochs.first!)-\(s.epochs.last!).csv"
    }
    public func figurePath(run r: Int, estimate e: Int) -> String { directory + "/figures/\(runs[r].name)-\(estimates[e].name).png" }
    public var auditDirectory: String { directory + "/audit" }
    /// The estimate the audit reads, nil for no audit.
    public var auditEstimate: Int? {
        guard let name = file.auditEstimate else { return nil }
        return name.isEmpty ? 0 : estimates.firstIndex { $0.name == name }
    }
    public var slurmDirectory: String { directory + "/slurm" }
    public func failurePath(_ task: String) -> String { directory + "/failed/" + task + ".txt" }

    /// The shards of one (run, estimate), in epoch order.
    public func shards(run r: Int, estimate e: Int) -> [EstimateShard] {
        shards.filter { $0.run == r && $0.estimate == e }
    }

    // MARK: Tasks

    /// The training tasks: blocks of `runsPerTask` runs, by index.
    public var trainTasks: [[Int]] {
        stride(from: 0, to: runs.count, by: slurm.runsPerTask).map { Array($0..<min(runs.count, $0 + slurm.runsPerTask)) }
    }

    /// A training task's arguments to `infoplane sweep task FILE`.
    public func trainTaskArguments(_ block: [Int]) -> [String] { ["train"] + block.map { runs[$0].name } }

    /// An estimate shard's arguments to `infoplane sweep task FILE`.
    public func shardTaskArguments(_ s: EstimateShard) -> [String] {
        ["estimate", runs[s.run].name, estimates[s.estimate].name, "\(s.epochs.first!)", "\(s.epochs.last!)"]
    }

    /// The file name (under failed/) of a task's failure record.
    public static func taskKey(_ arguments: [String]) -> String { arguments.joined(separator: "-") }

    /// The plan as text: the runs, estimates and jobs and where each writes.
    public var description: String {
        var lines = ["Sweep \(file.name) (\(file.path)) in \(directory):"]
        lines.append("\(runs.count) run\(runs.count == 1 ? "" : "s") x \(estimates.count) estimate\(estimates.count == 1 ? "" : "s")"
                     + " = \(runs.count * estimates.count) table\(runs.count * estimates.count == 1 ? "" : "s"), in \(shards.count) estimate task\(shards.count == 1 ? "" : "s")")
        lines.append("")
        lines.append("Runs (infoplane train ... --out DIR):")
        for (r, run) in runs.enumerated() {
            lines.append("  \(runDirectory(r))  \(recordedEpochs[r].count) recorded epochs  \(run.trainArguments.joined(separator: " "))")
        }
        if !estimates.isEmpty {
            lines.append("")
            lines.append("Estimates (infoplane estimate RUN ... -o RUN/mi-NAME.csv):")
            for e in estimates { lines.append("  mi-\(e.name).csv  \(e.estimateArguments.joined(separator: " "))") }
        }
        let tasks = trainTasks
        lines.append("")
        lines.append("Jobs:")
        lines.append("  train: \(tasks.count) task\(tasks.count == 1 ? "" : "s") of \(slurm.runsPerTask) run\(slurm.runsPerTask == 1 ? "" : "s")")
        if !shards.isEmpty {
            lines.append("  estimate: \(shards.count) task\(shards.count == 1 ? "" : "s") (" + (slurm.epochsPerShard.map { "up to \($0) recorded epochs each" } ?? "one per run and estimate") + ")")
            let split = shards.filter { !$0.isWhole }
            for s in split.prefix(6) { lines.append("    \(shardPath(s))") }
            if split.count > 6 { lines.append("    … and \(split.count - 6) more shards under \(directory)/shards") }
        }
        var final = [String]()
        if !estimates.isEmpty { final.append("merge the tables") }
        if file.figures && !estimates.isEmpty { final.append("\(runs.count * estimates.count) figures in \(directory)/figures") }
        if let a = auditEstimate { final.append("the audit of mi-\(estimates[a].name).csv in \(auditDirectory)") }
        lines.append("  final: " + (final.isEmpty ? "nothing" : final.joined(separator: ", ")))
        return lines.joined(separator: "\n")
    }
}

/// Every combination of one value from each list, the first list varying slowest.
func product<T>(_ lists: [[T]]) -> [[T]] {
    lists.reduce([[]]) { partial, list in partial.flatMap { prefix in list.map { prefix + [$0] } } }
}

/// A value as part of a directory name: characters other than letters, digits, '.',
/// '-' and '_' become '_' (`decoupled:1e-4` → `decoupled_1e-4`).
func sanitized(_ text: String) -> String {
    String(text.map { isNameCharacter($0) ? $0 : "_" })
}
