// Where a sweep stands, read from its directory (run manifests, tables,
// shard tables, failure records, logs) and, when Slurm is there, from squeue.
// Job accounting (sacct) is not needed: a task that failed says so in
// DIR/failed/, and one that was killed leaves a partial run or nothing.

import ActivationStore
import ArrayIO
import Foundation

/// The state of one run or one table.
public enum TaskState: Sendable, Equatable, CustomStringConvertible {
    case done
    case queued(String)
    /// Started and stopped before the end (killed, timed out, preempted): resumes from its checkpoint.
    case partial(String)
    case failed(String)
    case missing

    public var description: String {
        switch self {
        case .done: "done"
        case let .queued(s): s.lowercased()
        case let .partial(s): "partial (\(s))"
        case .failed: "failed"
        case .missing: "missing"
        }
    }

    public var isDone: Bool { self == .done }
}

/// The state of every run, table and the final outputs.
public struct SweepStatus: Sendable {
    public var plan: SweepPlan
    public var runs: [TaskState]
    /// By run, then estimate.
    public var tables: [[TaskState]]
    /// Done shards of each (run, estimate) that is not done.
    public var shardsDone: [[Int]]
    /// Whether every figure and the audit are written.
    public var finalDone: Bool
    /// The training and estimate array indices (lines of train.tasks and estimate.tasks)
    /// that are neither done nor queued.
    public var missingTrainTasks: [Int]
    public var missingShards: [Int]
    /// The failure text (the error and the log's last lines) of each failed item, by name.
    public var failures: [(name: String, text: String)]

    /// Reads the state of `plan`'s outputs; `queue` holds the sweep's queued jobs.
    public init(plan: SweepPlan, scripts: SlurmScripts, queue: [QueueEntry], logLines: Int = 5) {
        self.plan = plan
        let trainName = scripts.jobName("train"), estimateName = scripts.jobName("estimate")
        func queued(_ name: String, _ index: Int) -> QueueEntry? {
            queue.first { $0.name == name && $0.arrayIndex == index }
        }
        // The task lists as submitted (they may have been written with other blocks).
        let trainLines = (try? AtomicFile.readText(scripts.trainTasks))?.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            ?? plan.trainTasks.map { plan.trainTaskArguments($0) }
        let shardLines = (try? AtomicFile.readText(scripts.estimateTasks))?.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            ?? plan.shards.map { plan.shardTaskArguments($0) }
        func lastLines(_ path: String) -> String {
            guard let text = try? AtomicFile.readText(path) else { return "" }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let tail = lines.suffix(logLines + (lines.last == "" ? 1 : 0)).filter { !$0.isEmpty }
            return tail.isEmpty ? "" : "\n    log \(path):\n" + tail.map { "      " + $0 }.joined(separator: "\n")
        }
        var failures = [(String, String)]()

        var runs = [TaskState]()
        for r in plan.runs.indices {
            let name = plan.runs[r].name
            let task = trainLines.firstIndex { $0.first == "train" && $0.dropFirst().contains(name) }
            let failure = plan.failurePath(SweepPlan.taskKey(["train", name]))
            let directory = RunDirectory(plan.runDirectory(r))
            var state = TaskState.missing
            var progress: String?
            if AtomicFile.exists(directory.manifest), let m = try? directory.readManifest() {
                progress = "epoch \(m.epochsCompleted) of \(m.settings.epochs)"
                state = m.complete ? .done : .partial(progress!)
            }
            if !state.isDone {
                if let task, let q = queued(trainName, task) {
                    state = .queued(q.state + (progress.map { ", \($0)" } ?? ""))
                } else if let text = try? AtomicFile.readText(failure) {
                    state = .failed(text)
                    failures.append((name, text.trimmingCharacters(in: .newlines)
                                     + (task.map { lastLines(scripts.logPath(stage: "train", index: $0)) } ?? "")))
                }
            }
            runs.append(state)
        }
        self.runs = runs
        missingTrainTasks = trainLines.indices.filter { t in
            let names = trainLines[t].dropFirst()
            return queued(trainName, t) == nil && names.contains { n in plan.runs.firstIndex { $0.name == n }.map { !runs[$0].isDone } ?? false }
        }

        tables = []
        shardsDone = []
        var missingShards = [Int]()
        for r in plan.runs.indices {
            var row = [TaskState](), doneRow = [Int]()
            for e in plan.estimates.indices {
                let key = "\(plan.runs[r].name)/\(plan.estimates[e].name)"
                if isCompleteTable(plan.tablePath(run: r, estimate: e)) {
                    row.append(.done); doneRow.append(0); continue
                }
                let shards = plan.shards(run: r, estimate: e)
                var done = 0
                var state = TaskState.missing
                var failureText = [String]()
                for s in shards {
                    let arguments = plan.shardTaskArguments(s)
                    let index = shardLines.firstIndex(of: arguments)
                    if isCompleteTable(plan.shardPath(s)) { done += 1; continue }
                    if let index, let q = queued(estimateName, index) {
                        state = .queued(q.state)
                    } else if let text = try? AtomicFile.readText(plan.failurePath(SweepPlan.taskKey(arguments))) {
                        failureText.append("epochs \(s.epochs.first!)-\(s.epochs.last!): " + text.trimmingCharacters(in: .newlines)
                                           + (index.map { lastLines(scripts.logPath(stage: "estimate", index: $0)) } ?? ""))
                        if index != nil { missingShards.append(index!) }
                    } else if let index {
                        missingShards.append(index)
                    }
                }
                if !failureText.isEmpty, case .missing = state {
                    state = .failed(failureText.joined(separator: "\n"))
                    // A run that is not done explains its tables' failures; list only the run's.
                    if runs[r].isDone { failures.append((key, failureText.joined(separator: "\n  "))) }
                } else if case .missing = state, done > 0 {
                    state = .partial("\(done) of \(shards.count) shards")
                }
                row.append(state)
                doneRow.append(done)
            }
            tables.append(row)
            shardsDone.append(doneRow)
        }
        self.missingShards = missingShards.sorted()

        var final = true
        if plan.file.figures {
            for r in plan.runs.indices { for e in plan.estimates.indices where !AtomicFile.exists(plan.figurePath(run: r, estimate: e)) { final = false } }
        }
        if plan.auditEstimate != nil && !AtomicFile.exists(plan.auditDirectory + "/audit.md") { final = false }
        if let text = try? AtomicFile.readText(plan.failurePath("final")) {
            failures.append(("final", text.trimmingCharacters(in: .newlines) + lastLines(scripts.logPath(stage: "final", index: nil))))
        }
        finalDone = final && tables.allSatisfy { $0.allSatisfy(\.isDone) }
        self.failures = failures
    }

    /// Whether every run, table, figure and the audit are done.
    public var isComplete: Bool { runs.allSatisfy(\.isDone) && finalDone }

    /// The status as text: a line per run with its tables, then the failures.
    public var description: String {
        var lines = [String]()
        let doneRuns = runs.filter(\.isDone).count
        let doneTables = tables.joined().filter(\.isDone).count
        lines.append("Sweep \(plan.file.name): \(doneRuns) of \(runs.count) runs done, \(doneTables) of \(runs.count * plan.estimates.count) tables done"
                     + (finalDone ? ", figures and audit done" : ""))
        let width = plan.runs.map(\.name.count).max() ?? 0
        for (r, run) in plan.runs.enumerated() {
            var line = "  " + run.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + runs[r].description
            if !plan.estimates.isEmpty {
                line += "  |  " + plan.estimates.indices.map { e in "\(plan.estimates[e].name): \(tables[r][e])" }.joined(separator: ", ")
            }
            lines.append(line)
        }
        if !failures.isEmpty {
            lines.append("")
            lines.append("Failures:")
            for (name, text) in failures { lines.append("  \(name): \(text)") }
        }
        return lines.joined(separator: "\n")
    }
}
