// The Slurm form of a sweep: three sbatch scripts kept in DIR/slurm, each
// array task reading its arguments from a line of a task list, and a
// submit.sh that chains them as `infoplane sweep run --executor slurm` does:
//
//   train.sbatch     --array over train.tasks (a block of runs each), %N throttle
//   estimate.sbatch  --array over estimate.tasks (run, estimate, epoch range),
//                    after the training array (afterany: a failed run fails only
//                    its own estimate tasks)
//   final.sbatch     merges the shard tables, draws the figures and the audit,
//                    after the estimate array (afterany, for the same reason; it
//                    reports what is missing and fails if anything is)

import Foundation

/// The generated scripts and task lists of a sweep.
public struct SlurmScripts: Sendable {
    public var plan: SweepPlan
    /// The absolute path of the `infoplane-compute` (or `infoplane`) executable the tasks run.
    public var executable: String

    public init(plan: SweepPlan, executable: String) {
        self.plan = plan
        self.executable = executable
    }

    public var trainScript: String { plan.slurmDirectory + "/train.sbatch" }
    public var estimateScript: String { plan.slurmDirectory + "/estimate.sbatch" }
    public var finalScript: String { plan.slurmDirectory + "/final.sbatch" }
    public var submitScript: String { plan.slurmDirectory + "/submit.sh" }
    public var trainTasks: String { plan.slurmDirectory + "/train.tasks" }
    public var estimateTasks: String { plan.slurmDirectory + "/estimate.tasks" }
    public var logDirectory: String { plan.slurmDirectory + "/logs" }

    /// The log of an array task (the latest attempt; a resubmission overwrites it).
    public func logPath(stage: String, index: Int?) -> String {
        logDirectory + "/" + stage + (index.map { "-\($0)" } ?? "") + ".out"
    }

    /// The job names, by stage.
    public func jobName(_ stage: String) -> String { plan.file.name + "-" + stage }

    /// train.tasks: one line of `sweep task` arguments per training array task.
    public var trainTaskList: String {
        plan.trainTasks.map { plan.trainTaskArguments($0).joined(separator: " ") + "\n" }.joined()
    }

    /// estimate.tasks: one line per estimate shard.
    public var estimateTaskList: String {
        plan.shards.map { plan.shardTaskArguments($0).joined(separator: " ") + "\n" }.joined()
    }

    /// The #SBATCH lines every job shares.
    var resourceLines: [String] {
        let s = plan.slurm
        var lines = [String]()
        if let v = s.partition { lines.append("#SBATCH --partition=\(v)") }
        if let v = s.account { lines.append("#SBATCH --account=\(v)") }
        if let v = s.time { lines.append("#SBATCH --time=\(v)") }
        lines.append("#SBATCH --cpus-per-task=\(s.cpusPerTask ?? 1)")
        if let v = s.memory { lines.append("#SBATCH --mem=\(v)") }
        lines += s.extra.map { "#SBATCH \($0)" }
        return lines
    }

    func arrayScript(stage: String, tasks: String, count: Int, what: String) -> String {
        """
        #!/bin/bash
        # Sweep \(plan.file.name): \(what), one array task per line of \(tasks.split(separator: "/").last!).
        # Resubmit only some tasks with: sbatch --array=3,7 \(plan.slurmDirectory)/\(stage).sbatch
        #SBATCH --job-name=\(jobName(stage))
        #SBATCH --array=\(Self.arraySpec(Array(0..<count), throttle: plan.slurm.throttle))
        #SBATCH --output=\(directiveQuoted(logDirectory + "/" + stage + "-%a.out"))
        \(resourceLines.joined(separator: "\n"))
        set -eu
        line=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" \(shellQuoted(tasks)))
        exec \(shellQuoted(executable)) sweep task \(shellQuoted(plan.file.path)) $line

        """
    }

    public var trainScriptText: String {
        arrayScript(stage: "train", tasks: trainTasks, count: plan.trainTasks.count, what: "training")
    }

    public var estimateScriptText: String {
        arrayScript(stage: "estimate", tasks: estimateTasks, count: plan.shards.count, what: "estimates")
    }

    public var finalScriptText: String {
        """
        #!/bin/bash
        # Sweep \(plan.file.name): merge the estimate shards, draw the figures, audit the runs.
        #SBATCH --job-name=\(jobName("final"))
        #SBATCH --output=\(directiveQuoted(logDirectory + "/final.out"))
        \(resourceLines.joined(separator: "\n"))
        set -eu
        exec \(shellQuoted(executable)) sweep task \(shellQuoted(plan.file.path)) final

        """
    }

    /// submit.sh: the three jobs with their dependencies, as `sweep run --executor slurm` submits them.
    public var submitScriptText: String {
        var lines = ["#!/bin/bash",
                     "# Sweep \(plan.file.name): submits the training array, the estimate array after it and the final job.",
                     "set -eu",
                     "cd \(shellQuoted(plan.slurmDirectory))",
                     "train=$(sbatch --parsable train.sbatch)"]
        var last = "$train"
        if !plan.shards.isEmpty {
            lines.append("estimate=$(sbatch --parsable --dependency=afterany:$train estimate.sbatch)")
            last = "$estimate"
        }
        lines.append("final=$(sbatch --parsable --dependency=afterany:\(last) final.sbatch)")
        lines.append("echo \"train $train\(plan.shards.isEmpty ? "" : ", estimate $estimate"), final $final\"")
        return lines.joined(separator: "\n") + "\n"
    }

    /// `--array` text for task indices: ranges and singletons, then `%throttle`.
    /// [0, 1, 2, 5, 7, 8] → "0-2,5,7-8".
    public static func arraySpec(_ indices: [Int], throttle: Int?) -> String {
        var parts = [String]()
        var i = 0
        let sorted = indices.sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",") + (throttle.map { "%\($0)" } ?? "")
    }
}

/// A value of an `#SBATCH` line: in double quotes when it holds white space
/// (sbatch splits its directives at white space outside quotes).
func directiveQuoted(_ text: String) -> String {
    text.contains(where: { $0 == " " || $0 == "\t" }) ? "\"" + text + "\"" : text
}

/// `text` in single quotes for a POSIX shell.
public func shellQuoted(_ text: String) -> String {
    if !text.isEmpty && text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-+=:,@".contains($0)) }) { return text }
    return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// One line of `squeue -h -r -o '%i|%j|%T'`: a job (or array task) of the sweep.
public struct QueueEntry: Sendable, Equatable {
    public var jobID: String
    /// The array task index, nil for a job that is not an array task.
    public var arrayIndex: Int?
    public var name: String
    /// PENDING, RUNNING, COMPLETING, …
    public var state: String

    /// Parses squeue's lines; other lines (headers, blanks) are skipped.
    public static func parse(_ text: String) -> [QueueEntry] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard f.count == 3, !f[0].isEmpty else { return nil }
            let id = f[0].split(separator: "_", maxSplits: 1).map(String.init)
            return QueueEntry(jobID: id[0], arrayIndex: id.count == 2 ? Int(id[1]) : nil, name: f[1], state: f[2])
        }
    }
}
