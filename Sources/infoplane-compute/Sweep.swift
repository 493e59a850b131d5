// `infoplane sweep`: a sweep file's runs, estimates, figures and audit, on
// this machine's cores or as Slurm job arrays, with the same bytes out.
//
// Both executors run the same tasks (`sweep task`): training a run (skipped
// when complete, resumed when partial), estimating a shard of a run's epochs
// (skipped when its table is there), and the final step (merging shards into
// tables, figures, audit). The sweep file format is in Sources/Sweeps/SweepFile.swift
// and the README.

import ActivationStore
import Analysis
import ArgumentParser
import ArrayIO
import Foundation
import PlotCommands
import Plotting
import RunFigures
import Sweeps
import Tensors
import Training

struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Sweeps over seeds and settings, run here or as Slurm job arrays.",
        discussion: """
        A sweep file (JSON) gives a task's settings, axes to vary, the estimates every run gets, and whether to \
        draw figures and audit the runs. Examples:
          infoplane sweep plan sweeps/activations.json
          infoplane sweep run sweeps/activations.json --executor local
          infoplane sweep run sweeps/activations.json --executor slurm --throttle 8 --time 00:30:00
          infoplane sweep run sweeps/activations.json --executor slurm --dry-run
          infoplane sweep status sweeps/activations.json
          infoplane sweep resume sweeps/activations.json
        """,
        subcommands: [SweepPlanCommand.self, SweepRunCommand.self, SweepStatusCommand.self, SweepResumeCommand.self, SweepTaskCommand.self]
    )
}

/// The sweep file and the Slurm options that override its own.
struct SweepOptions: ParsableArguments {
    @Argument(help: "The sweep file (JSON).")
    var file: String

    @Option(help: "Slurm: the partition.")
    var partition: String?

    @Option(help: "Slurm: the time limit of each job (e.g. 00:30:00).")
    var time: String?

    @Option(help: "Slurm: CPUs per task. (default: 1)")
    var cpusPerTask: Int?

    @Option(help: "Slurm: memory per task (e.g. 1G).")
    var mem: String?

    @Option(help: "Slurm: the account.")
    var account: String?

    @Option(help: "Slurm: a further sbatch option (e.g. --qos=short); repeatable.")
    var sbatch: [String] = []

    @Option(help: "Slurm: at most this many array tasks at once (--array=...%N).")
    var throttle: Int?

    @Option(help: "Slurm: runs trained one after the other by one array task. (default: 1)")
    var runsPerTask: Int?

    @Option(help: "Slurm: recorded epochs per estimate task. (default: all of a run)")
    var epochsPerShard: Int?

    func validate() throws {
        for (name, value) in [("--cpus-per-task", cpusPerTask), ("--throttle", throttle), ("--runs-per-task", runsPerTask),
                              ("--epochs-per-shard", epochsPerShard)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1 (got \(value))") }
        }
        if let bad = sbatch.first(where: { !$0.hasPrefix("-") }) { throw ValidationError("--sbatch takes an option such as --qos=short (got \"\(bad)\")") }
    }

    var overrides: SlurmOptions {
        var o = SlurmOptions()
        o.partition = partition
        o.time = time
        o.cpusPerTask = cpusPerTask
        o.memory = mem
        o.account = account
        o.extra = sbatch
        o.throttle = throttle
        if let runsPerTask { o.runsPerTask = runsPerTask }
        o.epochsPerShard = epochsPerShard
        return o
    }

    /// The checked plan; every training setting and estimate option is checked by
    /// `train`'s and `estimate`'s own rules before anything is written.
    func load() throws -> LoadedSweep {
        try LoadedSweep(file: file, overrides: overrides)
    }
}

/// A sweep's plan with each run's resolved settings.
struct LoadedSweep {
    var plan: SweepPlan
    var settings: [RunSettings]

    init(file: String, overrides: SlurmOptions) throws {
        let path = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        let text: String
        do {
            // The JSON limits (64 MiB, refused from the size; 64 levels, as the sweep parser's own).
            let bytes = try JSONLimits.read(path)
            guard let decoded = String(validating: bytes, as: UTF8.self) else {
                throw FileError(path: path, reason: "not valid UTF-8 text")
            }
            text = decoded
        } catch let e as FileError {
            throw SweepFailure("cannot read the sweep file: \(e)")
        }
        do {
            let sweep = try SweepFile(text: text, path: path)
            try Self.checkEstimates(sweep)
            var resolved = [RunSettings]()
            plan = try SweepPlan(file: sweep, slurm: overrides, epochsOf: { run in
                let s = try Self.settings(of: run, file: sweep)
                resolved.append(s)
                guard let schedule = EpochSchedule(s.schedule) else {
                    throw SweepError(file: sweep.path, keyPath: "settings.record", "unknown schedule \"\(s.schedule)\"")
                }
                return schedule.epochs(total: s.epochs)
            })
            settings = resolved
        } catch let e as SweepError {
            throw SweepFailure(e.description)
        }
    }

    /// `train`'s settings for a run, each value checked on its own (so that an error
    /// names its key), then all together.
    static func settings(of run: SweepRun, file: SweepFile) throws -> RunSettings {
        for value in run.settings {
            do {
                _ = try Train.parse(["--out", "run"] + value.arguments(kind: SweepSchema.training[value.key]!))
            } catch {
                throw SweepError(file: file.path, keyPath: value.keyPath, Train.message(for: error))
            }
            if value.key == "task" && value.text == "progan" {
                throw SweepError(file: file.path, keyPath: value.keyPath, "sweeps train recorded networks; progan runs are not supported")
            }
        }
        let varying = run.settings.filter { !$0.keyPath.hasPrefix("settings.") }.map(\.keyPath)
        let train: Train
        do {
            train = try Train.parse(["--out", "run"] + run.trainArguments)
        } catch {
            throw SweepError(file: file.path, keyPath: varying.isEmpty ? "settings" : "settings with " + varying.joined(separator: ", "),
                             Train.message(for: error))
        }
        return try train.settings(over: nil)
    }

    /// Each estimate entry's options by `estimate`'s rules.
    static func checkEstimates(_ file: SweepFile) throws {
        let estimateAxes = file.axes.filter { !$0.variesRuns }
        for entry in file.estimates {
            for value in entry.options + estimateAxes.flatMap(\.values) {
                do {
                    _ = try Estimate.parse(["run"] + value.arguments(kind: SweepSchema.estimate[value.key]!))
                } catch {
                    throw SweepError(file: file.path, keyPath: value.keyPath, Estimate.message(for: error))
                }
            }
            let kinds = SweepSchema.estimate
            do {
                _ = try Estimate.parse(["run"] + entry.options.flatMap { $0.arguments(kind: kinds[$0.key]!) })
            } catch {
                throw SweepError(file: file.path, keyPath: entry.keyPath, Estimate.message(for: error))
            }
        }
    }
}

// MARK: - plan

struct SweepPlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the runs and jobs a sweep file expands to, and where each writes; writes nothing.")

    @OptionGroup var options: SweepOptions

    func run() throws {
        print(try options.load().plan.description)
    }
}

// MARK: - run

struct SweepRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a sweep: every run, estimate, figure and the audit.",
        discussion: """
        --executor local trains --workers runs at a time on this machine (one BLAS thread each), then estimates \
        each table over all epochs, draws the figures and audits the runs. --executor slurm writes train.sbatch, \
        estimate.sbatch, final.sbatch, their task lists and submit.sh into the sweep directory's slurm/ and \
        submits them (--dry-run: writes them only). Complete runs and tables are skipped and partial runs resume, \
        so running a sweep again finishes what is missing.
        """)

    @OptionGroup var options: SweepOptions

    @Option(help: "local or slurm.")
    var executor: String = "local"

    @Option(help: "local: concurrent training runs. (default: the cores)")
    var workers: Int?

    @Flag(help: "slurm: write the scripts without submitting them.")
    var dryRun = false

    @Flag(help: "slurm: wait until the sweep's jobs have left the queue, then print its status.")
    var wait = false

    func validate() throws {
        if !["local", "slurm"].contains(executor) { throw ValidationError("--executor must be local or slurm (got \"\(executor)\")") }
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
        if executor == "local" && (dryRun || wait) { throw ValidationError("--dry-run and --wait go with --executor slurm") }
        if dryRun && wait { throw ValidationError("--dry-run submits nothing to wait for") }
    }

    func run() throws {
        BLASCore.restartWithRecognizedCoreIfNeeded()
        let sweep = try options.load()
        if executor == "local" {
            let ok = try SweepTasks(sweep).runLocally(workers: workers ?? ProcessInfo.processInfo.activeProcessorCount)
            if !ok { throw ExitCode.failure }
            return
        }
        if !dryRun {
            // Two tasks must never train one run directory at once.
            let probe = SlurmScripts(plan: sweep.plan, executable: SweepTasks.executablePath)
            let (queue, _) = Slurm.queue(probe)
            if !queue.isEmpty {
                throw SweepFailure("sweep \(sweep.plan.file.name) has \(queue.count) jobs in the queue (job \(queue[0].jobID)); "
                                   + "see `infoplane sweep status \(options.file)`, and submit what is missing with `infoplane sweep resume`")
            }
        }
        let scripts = try SweepTasks(sweep).writeSlurmScripts()
        if dryRun {
            print("Wrote \(scripts.trainScript), \(scripts.estimateScript), \(scripts.finalScript), \(scripts.submitScript)")
            print("Submit with: sh \(scripts.submitScript)")
            return
        }
        try Slurm.submit(scripts, trainTasks: nil, shards: nil, final: true)
        if wait { try Slurm.waitAndReport(sweep, scripts) }
    }
}

// MARK: - status

struct SweepStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Which runs and tables of a sweep are done, queued, partial, failed (with the error and the log's end) or missing.",
        discussion: "Read from the sweep directory and, when Slurm is there, squeue. Exits with status 1 unless the sweep is complete.")

    @OptionGroup var options: SweepOptions

    @Option(help: "Lines of a failed task's log to show.")
    var logLines: Int = 5

    func run() throws {
        let sweep = try options.load()
        let scripts = SlurmScripts(plan: sweep.plan, executable: SweepTasks.executablePath)
        let (queue, note) = Slurm.queue(scripts)
        let status = SweepStatus(plan: sweep.plan, scripts: scripts, queue: queue, logLines: max(0, logLines))
        print(status.description)
        if let note { print(note) }
        if !status.isComplete { throw ExitCode.failure }
    }
}

// MARK: - resume

struct SweepResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Run only what a sweep is missing: on Slurm, resubmit the missing array tasks; locally, run the sweep again.",
        discussion: "The executor defaults to the one the sweep was run with (slurm when its slurm/jobs.txt exists).")

    @OptionGroup var options: SweepOptions

    @Option(help: "local or slurm.")
    var executor: String?

    @Option(help: "local: concurrent training runs. (default: the cores)")
    var workers: Int?

    @Flag(help: "slurm: wait until the sweep's jobs have left the queue, then print its status.")
    var wait = false

    func run() throws {
        BLASCore.restartWithRecognizedCoreIfNeeded()
        let sweep = try options.load()
        let scripts = SlurmScripts(plan: sweep.plan, executable: SweepTasks.executablePath)
        let chosen = executor ?? (AtomicFile.exists(scripts.plan.slurmDirectory + "/jobs.txt") ? "slurm" : "local")
        guard ["local", "slurm"].contains(chosen) else { throw SweepFailure("--executor must be local or slurm (got \"\(chosen)\")") }
        if chosen == "local" {
            if !(try SweepTasks(sweep).runLocally(workers: workers ?? ProcessInfo.processInfo.activeProcessorCount)) { throw ExitCode.failure }
            return
        }
        guard AtomicFile.exists(scripts.trainTasks) else {
            throw SweepFailure("\(scripts.trainTasks) is missing: submit the sweep first with `infoplane sweep run \(options.file) --executor slurm`")
        }
        let (queue, note) = Slurm.queue(scripts)
        if let note { throw SweepFailure(note) }
        let status = SweepStatus(plan: sweep.plan, scripts: scripts, queue: queue)
        if status.isComplete {
            print("Sweep \(sweep.plan.file.name) is complete; nothing to submit.")
            return
        }
        let finalQueued = queue.contains { $0.name == scripts.jobName("final") }
        try Slurm.submit(scripts, trainTasks: status.missingTrainTasks, shards: status.missingShards, final: !finalQueued)
        if wait { try Slurm.waitAndReport(sweep, scripts) }
    }
}

// MARK: - task

struct SweepTaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "One task of a sweep, as the Slurm scripts run it: train RUN..., estimate RUN EST FIRST LAST, or final.",
        shouldDisplay: false)

    @Argument(help: "The sweep file.")
    var file: String

    @Argument(help: "train RUN..., estimate RUN ESTIMATE FIRST-EPOCH LAST-EPOCH, or final.")
    var task: [String]

    func validate() throws {
        guard let kind = task.first, ["train", "estimate", "final"].contains(kind) else {
            throw ValidationError("the task is train RUN..., estimate RUN ESTIMATE FIRST LAST, or final")
        }
        if kind == "train" && task.count < 2 { throw ValidationError("train needs at least one run name") }
        if kind == "estimate" && (task.count != 5 || Int(task[3]) == nil || Int(task[4]) == nil) {
            throw ValidationError("estimate needs RUN ESTIMATE FIRST-EPOCH LAST-EPOCH")
        }
        if kind == "final" && task.count != 1 { throw ValidationError("final takes no arguments") }
    }

    func run() throws {
        BLASCore.restartWithRecognizedCoreIfNeeded()
        let tasks = SweepTasks(try LoadedSweep(file: file, overrides: SlurmOptions()))
        let plan = tasks.sweep.plan
        func runIndex(_ name: String) throws -> Int {
            guard let r = plan.runs.firstIndex(where: { $0.name == name }) else {
                throw SweepFailure("the sweep has no run \(name) (runs: \(plan.runs.map(\.name).joined(separator: ", ")))")
            }
            return r
        }
        switch task[0] {
        case "train":
            var failed = false
            for name in task.dropFirst() {
                let r = try runIndex(name)
                if !tasks.recording(["train", name], { try tasks.train(r, progress: nil) }) { failed = true }
            }
            if failed { throw ExitCode.failure }
        case "estimate":
            let r = try runIndex(task[1])
            guard let e = plan.estimates.firstIndex(where: { $0.name == task[2] }) else {
                throw SweepFailure("the sweep has no estimate \(task[2]) (estimates: \(plan.estimates.map(\.name).joined(separator: ", ")))")
            }
            let (first, last) = (Int(task[3])!, Int(task[4])!)
            guard let shard = plan.shards(run: r, estimate: e).first(where: { $0.epochs.first == first && $0.epochs.last == last })
                    ?? Self.shard(plan, r, e, first, last) else {
                throw SweepFailure("no recorded epochs of \(task[1]) lie in \(first)...\(last)")
            }
            if !tasks.recording(Array(task), { try tasks.estimateShard(shard) }) { throw ExitCode.failure }
        default:
            if !tasks.recording(["final"], { try tasks.final() }) { throw ExitCode.failure }
        }
    }

    /// A shard over the recorded epochs in first...last (task lists written with other shard sizes).
    static func shard(_ plan: SweepPlan, _ r: Int, _ e: Int, _ first: Int, _ last: Int) -> EstimateShard? {
        let epochs = plan.recordedEpochs[r].filter { $0 >= first && $0 <= last }
        guard !epochs.isEmpty, !plan.estimates[e].needsAllEpochs || epochs == plan.recordedEpochs[r] else { return nil }
        return EstimateShard(run: r, estimate: e, epochs: epochs, isWhole: epochs == plan.recordedEpochs[r])
    }
}

// MARK: - The tasks

/// The tasks of a sweep, shared by both executors.
struct SweepTasks {
    var sweep: LoadedSweep
    var plan: SweepPlan { sweep.plan }

    init(_ sweep: LoadedSweep) { self.sweep = sweep }

    /// This executable, which the Slurm scripts run.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    /// Runs `body`; on failure writes its error to the task's failure record (and
    /// standard error) and returns false; on success removes an earlier record.
    func recording(_ task: [String], _ body: () throws -> Void) -> Bool {
        let path = plan.failurePath(SweepPlan.taskKey(task))
        do {
            try body()
            AtomicFile.remove(path)
            return true
        } catch {
            let message = Self.describe(error)
            writeStandardError("\(task.joined(separator: " ")): \(message)\n")
            try? AtomicFile.createDirectory(plan.directory + "/failed")
            try? AtomicFile.write(message + "\n", to: path)
            return false
        }
    }

    static func describe(_ error: any Error) -> String {
        if let e = error as? ValidationError { return e.message }
        if let e = error as? SweepFailure { return e.description }
        return "\(error)"
    }

    /// Trains run `r` to the end: skipped when complete, resumed when partial.
    func train(_ r: Int, progress: ((Int) -> Void)?) throws {
        let path = plan.runDirectory(r)
        var run: RecordedRun
        if AtomicFile.exists(RunDirectory(path).manifest) {
            run = try RecordedRun.resume(at: path, requested: sweep.settings[r])
            if run.isComplete { return }
        } else {
            try AtomicFile.createDirectory(path)
            run = try RecordedRun.start(settings: sweep.settings[r], at: path)
        }
        try BLAS.withThreads(1) {
            try run.run { p in progress?(p.epoch) }
        }
    }

    /// Fails unless run `r` is complete (its estimates wait for it).
    func requireComplete(_ r: Int) throws {
        let directory = RunDirectory(plan.runDirectory(r))
        guard AtomicFile.exists(directory.manifest) else {
            throw SweepFailure("run \(plan.runs[r].name) has not started (no \(directory.manifest)); its training task failed or has not run")
        }
        let m = try directory.readManifest()
        if !m.complete {
            throw SweepFailure("run \(plan.runs[r].name) is not complete (epoch \(m.epochsCompleted) of \(m.settings.epochs)); resume it first")
        }
    }

    /// `infoplane estimate` over some epochs of a run, into `output`.
    func estimate(_ r: Int, _ e: Int, epochs: [Int]?, output: String) throws {
        var arguments = [plan.runDirectory(r)] + plan.estimates[e].estimateArguments + ["-o", output]
        if let epochs { arguments += ["--epochs", epochs.map(String.init).joined(separator: ",")] }
        let command = try Estimate.parse(arguments)
        try command.run()
    }

    /// Estimates a shard into its shard table (skipped when it is there).
    func estimateShard(_ shard: EstimateShard) throws {
        let path = plan.shardPath(shard)
        if isCompleteTable(path) { return }
        try requireComplete(shard.run)
        try AtomicFile.createDirectory(String(path[..<path.lastIndex(of: "/")!]))
        try estimate(shard.run, shard.estimate, epochs: shard.epochs, output: path)
    }

    /// Merges shard tables into the run's tables, draws the figures and audits the runs.
    /// - Throws: a list of what is missing, after doing everything it can.
    func final() throws {
        var missing = [String]()
        var tablesDone = [[Bool]](repeating: [Bool](repeating: false, count: plan.estimates.count), count: plan.runs.count)
        for r in plan.runs.indices {
            for e in plan.estimates.indices {
                let path = plan.tablePath(run: r, estimate: e)
                if !isCompleteTable(path) {
                    let shards = plan.shards(run: r, estimate: e)
                    let absent = shards.filter { !isCompleteTable(plan.shardPath($0)) }
                    if !absent.isEmpty {
                        missing.append("\(plan.runs[r].name)/mi-\(plan.estimates[e].name).csv (\(absent.count) of \(shards.count) shards missing)")
                        continue
                    }
                    let tables = try shards.map { (plan.shardPath($0), try InformationTable.read(path: plan.shardPath($0))) }
                    let merged = try mergeShardTables(tables, epochs: shards.map(\.epochs))
                    try merged.write(to: path)
                }
                tablesDone[r][e] = true
                if plan.file.figures {
                    try AtomicFile.createDirectory(plan.directory + "/figures")
                    try drawFigure(run: r, estimate: e)
                }
            }
        }
        if let a = plan.auditEstimate {
            let incomplete = plan.runs.indices.filter { !tablesDone[$0][a] }
            if incomplete.isEmpty {
                try AtomicFile.createDirectory(plan.auditDirectory)
                let audit = try AuditCommand.parse(plan.runs.indices.map { plan.runDirectory($0) }
                                                   + ["--estimates", "mi-\(plan.estimates[a].name).csv", "--output", plan.auditDirectory])
                try audit.run()
            } else {
                missing.append("the audit (waits for mi-\(plan.estimates[a].name).csv of \(incomplete.map { plan.runs[$0].name }.joined(separator: ", ")))")
            }
        }
        if !missing.isEmpty {
            throw SweepFailure("missing: " + missing.joined(separator: "; "))
        }
    }

    /// The information plane of one run under one estimate.
    func drawFigure(run r: Int, estimate e: Int) throws {
        let table = try InformationTable.read(path: plan.tablePath(run: r, estimate: e))
        var figure = InformationPlaneFigure(panels: [
            InformationPlanePanel(title: "\(plan.runs[r].name) (\(plan.estimates[e].name))", points: informationPoints(table)),
        ])
        figure.logEpochs = true
        try figure.render(width: 640, height: 480).writePNG(to: plan.figurePath(run: r, estimate: e))
    }

    /// The local executor: every run on the worker pool, then every table over all
    /// epochs, then the final step. Returns whether everything succeeded.
    func runLocally(workers: Int) throws -> Bool {
        try AtomicFile.createDirectory(plan.directory + "/runs")
        let terminal = TerminalProgress()
        let box = ProgressBox(terminal)
        let state = LocalTrainingState(runs: plan.runs.count)
        let total = sweep.settings.reduce(0) { $0 + $1.epochs }
        BLAS.concurrentPerform(iterations: max(1, min(workers, plan.runs.count)), threads: 1) { _ in
            while let r = state.next() {
                let ok = recording(["train", plan.runs[r].name]) {
                    try train(r) { epoch in box.update(state.set(r, epoch), total, message: "training \(plan.runs.count) runs") }
                }
                box.update(state.set(r, sweep.settings[r].epochs), total, message: "training \(plan.runs.count) runs")
                if !ok { state.fail(r) }
            }
        }
        box.finish()
        var failed = state.failed.count
        for r in plan.runs.indices where !state.failed.contains(r) {
            for e in plan.estimates.indices {
                let path = plan.tablePath(run: r, estimate: e)
                if isCompleteTable(path) { continue }
                let whole = EstimateShard(run: r, estimate: e, epochs: plan.recordedEpochs[r], isWhole: true)
                if !recording(plan.shardTaskArguments(whole), { try estimate(r, e, epochs: nil, output: path) }) { failed += 1 }
            }
        }
        if !recording(["final"], { try final() }) { failed += 1 }
        let status = SweepStatus(plan: plan, scripts: SlurmScripts(plan: plan, executable: Self.executablePath), queue: [])
        print(status.description)
        return failed == 0
    }

    /// Writes the Slurm scripts, task lists and submit.sh into the sweep's slurm/.
    func writeSlurmScripts() throws -> SlurmScripts {
        let scripts = SlurmScripts(plan: plan, executable: Self.executablePath)
        try AtomicFile.createDirectory(scripts.logDirectory)
        try AtomicFile.createDirectory(plan.directory + "/runs")
        try AtomicFile.write(scripts.trainTaskList, to: scripts.trainTasks)
        try AtomicFile.write(scripts.estimateTaskList, to: scripts.estimateTasks)
        try AtomicFile.write(scripts.trainScriptText, to: scripts.trainScript)
        if !plan.shards.isEmpty { try AtomicFile.write(scripts.estimateScriptText, to: scripts.estimateScript) }
        try AtomicFile.write(scripts.finalScriptText, to: scripts.finalScript)
        try AtomicFile.write(scripts.submitScriptText, to: scripts.submitScript)
        chmod(scripts.submitScript, 0o755)
        return scripts
    }
}

/// The local executor's queue of runs, their epochs done, and the failed ones.
private final class LocalTrainingState: @unchecked Sendable {
    private let lock = NSLock()
    private var nextRun = 0
    private var done: [Int]
    private(set) var failed = Set<Int>()

    init(runs: Int) { done = [Int](repeating: 0, count: runs) }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard nextRun < done.count else { return nil }
        nextRun += 1
        return nextRun - 1
    }

    func set(_ r: Int, _ epoch: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        done[r] = epoch
        return done.reduce(0, +)
    }

    func fail(_ r: Int) {
        lock.lock(); defer { lock.unlock() }
        failed.insert(r)
    }
}

// MARK: - Slurm

/// Submitting to and reading from Slurm's commands.
enum Slurm {
    /// Runs a command found on PATH; returns its status, standard output and error.
    static func run(_ arguments: [String], in directory: String? = nil) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// `sbatch --parsable ARGS`; the job id.
    static func sbatch(_ arguments: [String], in directory: String) throws -> String {
        let result = try run(["sbatch", "--parsable"] + arguments, in: directory)
        guard result.status == 0, let id = result.output.split(separator: "\n").first?.split(separator: ";").first, Int(id) != nil else {
            let reason = result.status == 127 ? "sbatch is not installed or not on PATH" : result.error.trimmingCharacters(in: .whitespacesAndNewlines)
            throw SweepFailure("sbatch \(arguments.joined(separator: " ")) failed: \(reason)")
        }
        return String(id)
    }

    /// Submits the training array (all tasks, or the given indices), the estimate
    /// array after it, and the final job after both; records the job ids in slurm/jobs.txt.
    static func submit(_ scripts: SlurmScripts, trainTasks: [Int]?, shards: [Int]?, final: Bool) throws {
        let plan = scripts.plan
        let directory = plan.slurmDirectory
        if let limit = maxArraySize() {
            for (stage, count, hint) in [("training", plan.trainTasks.count, "runs-per-task"), ("estimate", plan.shards.count, "epochs-per-shard")]
            where count > limit {
                throw SweepFailure("the \(stage) array has \(count) tasks, more than this cluster's MaxArraySize (\(limit) indices, 0...\(limit - 1)); "
                                   + "raise --\(hint) (or slurm.\(hint) in the sweep file)")
            }
        }
        var submitted = [String]()
        var last: String?
        let throttle = plan.slurm.throttle
        let trainIndices = trainTasks ?? Array(plan.trainTasks.indices)
        if !trainIndices.isEmpty {
            let id = try sbatch((trainTasks == nil ? [] : ["--array=" + SlurmScripts.arraySpec(trainIndices, throttle: throttle)]) + ["train.sbatch"],
                                in: directory)
            submitted.append("train \(id) \(SlurmScripts.arraySpec(trainIndices, throttle: nil))")
            last = id
        }
        let shardIndices = shards ?? Array(plan.shards.indices)
        if !shardIndices.isEmpty {
            var arguments = shards == nil ? [] : ["--array=" + SlurmScripts.arraySpec(shardIndices, throttle: throttle)]
            if let last { arguments.append("--dependency=afterany:\(last)") }
            let id = try sbatch(arguments + ["estimate.sbatch"], in: directory)
            submitted.append("estimate \(id) \(SlurmScripts.arraySpec(shardIndices, throttle: nil))")
            last = id
        }
        if final {
            let id = try sbatch((last.map { ["--dependency=afterany:\($0)"] } ?? []) + ["final.sbatch"], in: directory)
            submitted.append("final \(id)")
        }
        let jobs = directory + "/jobs.txt"
        let earlier = (try? AtomicFile.readText(jobs)) ?? ""
        try AtomicFile.write(earlier + submitted.map { $0 + "\n" }.joined(), to: jobs)
        print("Submitted " + (submitted.isEmpty ? "nothing" : submitted.joined(separator: "; ")) + " (logs in \(scripts.logDirectory))")
    }

    /// The cluster's MaxArraySize (array indices run from 0 to one below it), nil when unknown.
    static func maxArraySize() -> Int? {
        guard let result = try? run(["scontrol", "show", "config"]), result.status == 0 else { return nil }
        for line in result.output.split(separator: "\n") where line.hasPrefix("MaxArraySize") {
            return line.split(separator: "=").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        }
        return nil
    }

    /// The sweep's jobs in squeue, and a note when squeue cannot be asked.
    static func queue(_ scripts: SlurmScripts) -> ([QueueEntry], String?) {
        let names = ["train", "estimate", "final"].map(scripts.jobName).joined(separator: ",")
        guard let result = try? run(["squeue", "-h", "-r", "-o", "%i|%j|%T", "-n", names]) else {
            return ([], "(squeue could not be run: the status is read from the sweep directory only)")
        }
        if result.status != 0 {
            let reason = result.status == 127 ? "squeue is not installed" : result.error.trimmingCharacters(in: .whitespacesAndNewlines)
            return ([], "(\(reason): the status is read from the sweep directory only)")
        }
        return (QueueEntry.parse(result.output), nil)
    }

    /// Waits until none of the sweep's jobs is queued, then prints the status.
    static func waitAndReport(_ sweep: LoadedSweep, _ scripts: SlurmScripts) throws {
        while true {
            let (queue, note) = queue(scripts)
            if let note { throw SweepFailure(note) }
            if queue.isEmpty { break }
            Thread.sleep(forTimeInterval: 1)
        }
        let status = SweepStatus(plan: sweep.plan, scripts: scripts, queue: [])
        print(status.description)
        if !status.isComplete { throw ExitCode.failure }
    }
}

/// A sweep that cannot go on: the message is the whole report (no usage text).
struct SweepFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
