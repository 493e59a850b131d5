// The frame every reproduced experiment shares: where its runs and figures
// go, how large it runs, how it reports progress, and what it returns (the
// figures it wrote and a Markdown summary). The experiments themselves live
// in their own files; this file holds no experiment.

import ActivationStore
import Analysis
import ArrayIO
import Foundation
import Plotting

/// How large an experiment runs.
///
/// `standard` is each experiment's default: the paper's settings where they
/// fit two CPU cores in minutes, a stated reduction otherwise. `full` is the
/// paper's size. `quick` is a small version for tests and notebook checks: it
/// exercises every code path and writes every file, but its numbers are not
/// meant to show the paper's effect.
public enum ExperimentScale: String, Sendable, CaseIterable, Codable {
    case quick, standard, full
}

/// Progress callbacks; thread-safe closures, called from worker threads.
public struct ProgressReporter: Sendable {
    /// Reports `done` of `total` units of work with a message.
    public var update: @Sendable (_ done: Int, _ total: Int, _ message: String) -> Void
    /// Ends the current progress line.
    public var finish: @Sendable () -> Void

    public init(update: @escaping @Sendable (Int, Int, String) -> Void, finish: @escaping @Sendable () -> Void) {
        self.update = update
        self.finish = finish
    }

    /// Reports nothing.
    public static let silent = ProgressReporter(update: { _, _, _ in }, finish: {})
}

/// Where and how an experiment runs.
public struct ExperimentContext: Sendable {
    /// The directory for this experiment's runs (created as needed); runs that
    /// are already complete there are reused, interrupted ones resumed.
    public var runs: String
    /// The directory for figures and the Markdown summary.
    public var figures: String
    /// The first seed; experiments over several seeds use seed, seed + 1, ...
    public var seed: UInt64
    /// The size to run at.
    public var scale: ExperimentScale
    /// Seeds to average over, when the experiment averages (nil: its default).
    public var seeds: Int?
    /// Epochs per run (nil: the experiment's default at this scale).
    public var epochs: Int?
    /// Another data source, for experiments that take one (the 12-bit
    /// experiments accept the original data directory).
    public var data: String?
    /// Concurrent training runs (both cores by default).
    public var workers: Int
    /// Progress on a terminal.
    public var progress: ProgressReporter
    /// Lines for the user (the printed summary); not the Markdown file.
    public var log: @Sendable (String) -> Void
    /// The compression verdict of every summary.
    public var rule: CompressionRule
    /// The bootstrap of every cross-seed interval.
    public var bootstrap: SeedBootstrap

    public init(runs: String, figures: String, seed: UInt64 = 1, scale: ExperimentScale = .standard,
                seeds: Int? = nil, epochs: Int? = nil, data: String? = nil, workers: Int = 2,
                progress: ProgressReporter = .silent, log: @escaping @Sendable (String) -> Void = { _ in },
                rule: CompressionRule = CompressionRule(), bootstrap: SeedBootstrap = SeedBootstrap()) {
        self.rule = rule
        self.bootstrap = bootstrap
        self.runs = runs
        self.figures = figures
        self.seed = seed
        self.scale = scale
        self.seeds = seeds
        self.epochs = epochs
        self.data = data
        self.workers = workers
        self.progress = progress
        self.log = log
    }

    /// `runs/name`, created.
    public func runDirectory(_ name: String) throws -> String {
        let path = runs + "/" + name
        try AtomicFile.createDirectory(path)
        return path
    }

    /// `figures/name`: the path for one output file (the directory created).
    public func figurePath(_ name: String) throws -> String {
        try AtomicFile.createDirectory(figures)
        return figures + "/" + name
    }

    /// Writes `canvas` as the PNG `name` in the figures directory; returns its path.
    public func writeFigure(_ canvas: Canvas, _ name: String) throws -> String {
        let path = try figurePath(name)
        try canvas.writePNG(to: path)
        return path
    }
}

/// What an experiment produced.
public struct ExperimentReport: Sendable {
    /// The suite and experiment, e.g. "saxe2018 fig1".
    public var title: String
    /// The Markdown summary (also written to `summaryPath`).
    public var markdown: String
    /// The summary file.
    public var summaryPath: String
    /// Figures and tables written.
    public var outputs: [String]

    public init(title: String, markdown: String, summaryPath: String, outputs: [String]) {
        self.title = title
        self.markdown = markdown
        self.summaryPath = summaryPath
        self.outputs = outputs
    }
}

/// A reproducible experiment: a name within a suite and the code that runs it.
public struct Experiment: Sendable {
    /// The suite: "saxe2018", "adamw" or "mixup".
    public var suite: String
    /// The experiment's name within the suite, e.g. "fig1".
    public var name: String
    /// One line for `--help`: what it reproduces (figure numbers of the paper).
    public var abstract: String
    /// Runs it: trains (reusing complete runs), estimates, draws, summarizes.
    public var run: @Sendable (ExperimentContext) throws -> ExperimentReport

    public init(suite: String, name: String, abstract: String,
                run: @escaping @Sendable (ExperimentContext) throws -> ExperimentReport) {
        self.suite = suite
        self.name = name
        self.abstract = abstract
        self.run = run
    }
}

/// An error in an experiment's set-up or data.
public struct ExperimentError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
