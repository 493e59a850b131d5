// `infoplane reproduce SUITE --experiment NAME`: the published experiments,
// each with its paper's settings as defaults, from training to figures and a
// Markdown summary.

import ActivationStore
import Analysis
import ArgumentParser
import Experiments
import Foundation
import Tensors

struct Reproduce: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Reproduce a published experiment: train, estimate, draw, summarize.",
        discussion: """
        Suites and experiments:
        \(Experiments.suites.map { suite in
            "  \(suite.name): \(suite.abstract)\n" + Experiments.suite(suite.name).map { "    \($0.name): \($0.abstract)" }.joined(separator: "\n")
        }.joined(separator: "\n"))

        Runs go to RUNS/SUITE/EXPERIMENT (complete runs are reused, interrupted ones resumed); figures and a Markdown summary go to FIGURES/SUITE-EXPERIMENT*. --scale quick is a small version for tests; standard (the default) is each experiment's stated default; full is the paper's size.
        """
    )

    @Argument(help: "The suite: \(Experiments.suites.map(\.name).joined(separator: ", ")).")
    var suite: String

    @Option(help: "The experiment, or all.")
    var experiment: String = "all"

    @Option(help: "Size: quick, standard or full.")
    var scale: String = "standard"

    @Flag(help: "The paper's size (same as --scale full).")
    var full = false

    @Option(help: "The first seed.")
    var seed: UInt64 = 1

    @Option(help: "Seeds to average over, where the experiment averages.")
    var seeds: Int?

    @Option(help: "Epochs per run (default: the experiment's).")
    var epochs: Int?

    @Option(help: "Another data source where the experiment takes one (the original 12-bit data directory).")
    var data: String?

    @Option(help: "Root directory for runs.")
    var runs: String = "runs"

    @Option(help: "Directory for figures and summaries.")
    var figures: String = "figures"

    @Option(help: "Concurrent training runs.")
    var workers: Int = 2

    @Option(help: "Recorded epochs in the running median of the compression rule (odd).")
    var window: Int = CompressionRule.defaultWindow

    func validate() throws {
        guard Experiments.suites.contains(where: { $0.name == suite }) else {
            throw ValidationError("unknown suite \"\(suite)\" (known: \(Experiments.suites.map(\.name).joined(separator: ", ")))")
        }
        let names = Experiments.suite(suite).map(\.name)
        if experiment != "all" && !names.contains(experiment) {
            throw ValidationError("unknown experiment \"\(experiment)\" in \(suite) (known: \((names + ["all"]).joined(separator: ", ")))")
        }
        guard ExperimentScale(rawValue: scale) != nil else {
            throw ValidationError("--scale must be quick, standard or full (got \"\(scale)\")")
        }
        if let seeds, seeds < 1 { throw ValidationError("--seeds must be at least 1") }
        if let epochs, epochs < 2 { throw ValidationError("--epochs must be at least 2") }
        if workers < 1 { throw ValidationError("--workers must be at least 1") }
        if window < 1 || window % 2 == 0 { throw ValidationError("--window must be an odd number of recorded epochs (got \(window))") }
    }

    func run() throws {
        BLASCore.restartWithRecognizedCoreIfNeeded()
        let chosen = experiment == "all" ? Experiments.suite(suite) : [Experiments.find(suite: suite, name: experiment)!]
        let terminal = TerminalProgress()
        let box = ProgressBox(terminal)
        let progress = ProgressReporter(update: { box.update($0, $1, message: $2) }, finish: { box.finish() })
        for item in chosen {
            let start = Date()
            let context = ExperimentContext(
                runs: runs + "/" + suite + "/" + item.name, figures: figures, seed: seed,
                scale: full ? .full : ExperimentScale(rawValue: scale)!, seeds: seeds, epochs: epochs, data: data,
                workers: workers, progress: progress, log: { print($0) }, rule: CompressionRule(window: window))
            let report = try item.run(context)
            print("\n" + report.markdown)
            print(String(format: "%@ %@: %.1f s. Summary: %@", suite, item.name, Date().timeIntervalSince(start), report.summaryPath))
            if !report.outputs.isEmpty { print("Outputs: " + report.outputs.joined(separator: ", ")) }
        }
    }
}
