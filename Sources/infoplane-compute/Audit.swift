// `infoplane audit RUN ...`: does compression track generalization in these
// runs? Per run and layer the compression and the generalization gap, per
// group of seeds their means with bootstrap intervals, a CSV, a Markdown
// table, a scatter figure and Spearman's ρ with its bootstrap interval.

import ActivationStore
import Analysis
import ArgumentParser
import ArrayIO
import Foundation
import Plotting

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Does compression track generalization? Compression against generalization gap over a set of runs.",
        discussion: """
        Each RUN is a recorded network run (manifest.json, metrics.csv) or a linear student-teacher run \
        (settings.json, metrics.csv, information.csv). Per run and layer: compression = smoothed peak minus \
        smoothed final I(X;T) in bits, and its verdict by the rule of `demo` and `reproduce` (running median of \
        --window recorded epochs; compressed when the drop exceeds max(0.25 bit, 5 % of the peak) and \
        --noise-multiple times the curve's noise, 1.4826 × the MAD of its epoch-to-epoch differences / √2), \
        from the run's MI table: --estimates, mi-binning.csv by default; the exact \
        information.csv for linear runs), and the gap at the last recorded epoch: test minus training loss \
        (cross-entropy in nats; ½ mean squared error for linear runs) and error (1 − accuracy; mean squared \
        error for linear runs). A recorded run without mi-binning.csv is estimated with the default estimator, \
        binning with 30 equal-width bins over each layer's range, and the table is written into the run.

        Runs whose final training accuracy is below --minimum-training-accuracy (default 0.9) are listed and \
        left out of the groups and of ρ (linear runs, without an accuracy, always count). \
        Runs whose settings differ only by seed form a group: per group and layer, the mean over seeds with a \
        percentile bootstrap interval, the seeds that compress, and the cross-seed verdict (the interval's lower \
        end above the bar). Spearman's ρ between compression and error gap over all (run, layer) \
        points (compression below --resolution bits, default 0.01, counted as 0), with a bootstrap interval \
        resampling whole runs, pooled and within each task (only the within-task numbers carry a verdict). Writes NAME.csv, NAME.md and NAME.png \
        into --output and prints the Markdown. Same runs and --seed: same numbers.
        """
    )

    @Argument(help: "Run directories.")
    var runs: [String]

    @Option(help: "The MI table inside each recorded run.")
    var estimates: String = AuditOptions.defaultEstimates

    @Option(help: "Bootstrap resamples.")
    var resamples: Int = 2000

    @Option(help: "Seed of the bootstrap.")
    var seed: UInt64 = 1

    @Option(help: "Coverage of the intervals.")
    var confidence: Double = 0.95

    @Option(help: "Compression below this many bits counts as none in the rank correlation (noise).")
    var resolution: Double = 0.01

    @Option(help: "Recorded epochs in the running median of the compression rule (odd).")
    var window: Int = CompressionRule.defaultWindow

    @Option(help: "The smoothed drop must exceed this many noise standard deviations.")
    var noiseMultiple: Double = CompressionRule.defaultNoiseMultiple

    @Option(help: "Runs with a lower final training accuracy are excluded (0 keeps all).")
    var minimumTrainingAccuracy: Double = AuditOptions.defaultInclusion.minimumTrainingAccuracy

    @Option(help: "Directory for the CSV, Markdown and figure.")
    var output: String = "figures"

    @Option(help: "Base name of the outputs.")
    var name: String = "audit"

    @Option(help: "Title of the figure and Markdown.")
    var title: String = "Does compression track generalization?"

    func validate() throws {
        if runs.isEmpty { throw ValidationError("give at least one run directory") }
        if resamples < 1 { throw ValidationError("--resamples must be at least 1") }
        if !(confidence > 0 && confidence < 1) { throw ValidationError("--confidence must be between 0 and 1 (got \(confidence))") }
        if !(resolution >= 0) { throw ValidationError("--resolution must be at least 0 (got \(resolution))") }
        if name.isEmpty || name.contains("/") { throw ValidationError("--name must be a file name without /") }
        if window < 1 || window % 2 == 0 { throw ValidationError("--window must be an odd number of recorded epochs (got \(window))") }
        if !(noiseMultiple >= 0) { throw ValidationError("--noise-multiple must be at least 0 (got \(noiseMultiple))") }
        if !(minimumTrainingAccuracy >= 0 && minimumTrainingAccuracy <= 1) {
            throw ValidationError("--minimum-training-accuracy must be between 0 and 1 (got \(minimumTrainingAccuracy))")
        }
    }

    func run() throws {
        let options = AuditOptions(estimates: estimates, resamples: resamples, seed: seed, confidence: confidence, resolution: resolution,
                                   rule: CompressionRule(window: window, noiseMultiple: noiseMultiple),
                                   inclusion: RunInclusion(minimumTrainingAccuracy: minimumTrainingAccuracy))
        let audit: Audit
        do {
            audit = try Audit(paths: runs, options: options, progress: { FileHandle.standardError.write(($0 + "\n").data(using: .utf8)!) })
        } catch let error as AuditError {
            throw ValidationError(error.description)
        }
        try AtomicFile.createDirectory(output)
        let base = output + "/" + name
        try AtomicFile.write(audit.csvText, to: base + ".csv")
        var written = [base + ".csv", base + ".md", base + ".png"]
        var markdown = "# \(title)\n\n" + audit.markdown() + "\n![gap against compression](\(name).png)\n"
        try auditFigure(audit, title: title).render(width: 720, height: 520).writePNG(to: base + ".png")
        if audit.taskCorrelations.count > 1 {
            for (task, _) in audit.taskCorrelations {
                let file = name + "-" + task.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" } + ".png"
                try auditFigure(audit, title: "\(task): \(title.lowercased().hasPrefix("does") ? "compression and generalization" : title)", task: task)
                    .render(width: 720, height: 520).writePNG(to: output + "/" + file)
                markdown += "\n![\(task)](\(file))\n"
                written.append(output + "/" + file)
            }
        }
        try AtomicFile.write(markdown, to: base + ".md")
        print(markdown)
        print("Wrote " + written.joined(separator: ", "))
    }
}
