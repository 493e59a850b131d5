// `infoplane estimate`: mutual information per layer and epoch, into a CSV.

import ActivationStore
import Analysis
import ArgumentParser
import Foundation
import Tensors
import InfoTheory

struct Estimate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Estimate I(X;T) and I(T;Y) for every recorded layer and epoch.",
        discussion: """
        Writes a CSV (bits) with the header epoch,layer,I_XT,I_TY,H_T, or, for KDE with both bounds,
        epoch,layer,I_XT_lower,I_XT_upper,I_TY_lower,I_TY_upper; the estimator and its parameters go
        to a JSON file beside it (same name, .json). Default output: mi-<estimator>.csv in the run
        or activation directory.

        Binning discretizations:
          edges    Shwartz-Ziv & Tishby's code: float32 linspace(-1, 1, bins) edges, digitize - 1;
                   values below -1 share the top bucket (their quirk) unless --fix-edges-quirk
          uniform  bins equal bins between --lower and --upper
          width    floor(a / --width) (Saxe et al.: 0.07 for the 12-bit task, 0.5 for MNIST)
          global   bins equal bins between the minimum and maximum over all units and epochs,
                   per layer or pooled over layers (Saxe et al. for ReLU, 100 bins)

        Examples:
          infoplane estimate runs/tanh --estimator binning --discretization edges --bins 30
          infoplane estimate runs/relu --discretization global --bins 100
          infoplane estimate runs/tanh --estimator kde --noise-variance 0.1 --bound both --samples test
          infoplane estimate --activations exported/ --labels y.npy --inputs x.npy
        """
    )

    @Argument(help: "An InfoPlane run directory.")
    var runDirectory: String?

    @Option(help: "A directory of epoch-<E>-layer-<L>.npy files (N x d each), instead of a run.")
    var activations: String?

    @Option(help: "Labels for --activations: N integers or N x k one-hot rows (.npy).")
    var labels: String?

    @Option(help: "Inputs for --activations (.npy, N rows), for H(T|X) when inputs repeat.")
    var inputs: String?

    @Option(help: "binning or kde.")
    var estimator: String = "binning"

    @Option(help: "Binning discretization: edges, uniform, width or global.")
    var discretization: String = "edges"

    @Option(help: "Number of bins (default: 30, or 100 for global).")
    var bins: Int?

    @Option(help: "Lower bound for uniform bins.")
    var lower: Float?

    @Option(help: "Upper bound for uniform bins.")
    var upper: Float?

    @Option(help: "Bin width for width binning.")
    var width: Float?

    @Flag(help: "Put values below -1 in the bottom bucket (edges), instead of the original code's top bucket.")
    var fixEdgesQuirk = false

    @Option(help: "Global binning range: per-layer or pooled.")
    var globalRange: String = "per-layer"

    @Option(help: "KDE noise variance s2.")
    var noiseVariance: Double = 0.1

    @Option(help: "KDE bound: upper, lower or both.")
    var bound: String = "both"

    @Option(help: "Samples: all, train or test.")
    var samples: String = "all"

    @Option(help: "Epochs to estimate, comma-separated (default: all recorded).")
    var epochs: String?

    @Option(name: .shortAndLong, help: "Output CSV file.")
    var output: String?

    func validate() throws {
        if (runDirectory == nil) == (activations == nil) { throw ValidationError("give either a run directory or --activations DIR") }
        if activations != nil && labels == nil { throw ValidationError("--activations needs --labels y.npy") }
        if runDirectory != nil && (labels != nil || inputs != nil) { throw ValidationError("--labels and --inputs go with --activations") }
        if !["binning", "kde"].contains(estimator) { throw ValidationError("unknown estimator \"\(estimator)\" (use binning or kde)") }
        if !["edges", "uniform", "width", "global"].contains(discretization) {
            throw ValidationError("unknown discretization \"\(discretization)\" (use edges, uniform, width or global)")
        }
        if let bins, bins < 2 { throw ValidationError("--bins must be at least 2 (got \(bins))") }
        if estimator == "binning" && discretization == "uniform" {
            guard let lower, let upper, lower < upper else { throw ValidationError("uniform binning needs --lower < --upper") }
        }
        if estimator == "binning" && discretization == "width" {
            guard let width, width > 0 else { throw ValidationError("width binning needs a positive --width") }
        }
        if !["per-layer", "pooled"].contains(globalRange) { throw ValidationError("--global-range must be per-layer or pooled") }
        if !(noiseVariance > 0) { throw ValidationError("--noise-variance must be positive") }
        if KDEBound(rawValue: bound) == nil { throw ValidationError("--bound must be upper, lower or both") }
        if SampleSelection(rawValue: samples) == nil { throw ValidationError("--samples must be all, train or test") }
        if let epochs, parseEpochs(epochs) == nil { throw ValidationError("--epochs must be integers separated by commas") }
        if let output, !output.hasSuffix(".csv") { throw ValidationError("the output must be a .csv file") }
    }

    func parseEpochs(_ text: String) -> [Int]? {
        let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return values.isEmpty || values.contains(nil) ? nil : values.map { $0! }
    }

    var estimatorConfiguration: EstimatorConfiguration {
        if estimator == "kde" { return .kde(noiseVariance: noiseVariance, bound: KDEBound(rawValue: bound)!) }
        switch discretization {
        case "uniform": return .binning(.uniform(bins: bins ?? 30, lower: lower!, upper: upper!))
        case "width": return .binning(.width(width!))
        case "global": return .binning(.global(bins: bins ?? 100, pooledOverLayers: globalRange == "pooled"))
        default: return .binning(.edges(bins: bins ?? 30, fixBelowRangeQuirk: fixEdgesQuirk))
        }
    }

    func run() throws {
        // The KDE distances are GEMMs; binning never calls BLAS.
        if estimator == "kde" { BLASCore.restartWithRecognizedCoreIfNeeded() }
        let source = try runDirectory.map(ActivationSource.run)
            ?? ActivationSource.exported(directory: activations!, labels: labels!, inputs: inputs)
        let request = EstimationRequest(configuration: estimatorConfiguration, samples: SampleSelection(rawValue: samples)!,
                                        epochs: epochs.flatMap(parseEpochs))
        let progress = TerminalProgress()
        let box = ProgressBox(progress)
        let table = try source.estimate(request) { done, total in box.update(done, total) }
        progress.finish()
        let path = output ?? (source.path + "/mi-\(estimator).csv")
        try table.write(to: path)
        print(path)
    }
}

/// Serializes progress callbacks from worker threads.
final class ProgressBox: @unchecked Sendable {
    private let progress: TerminalProgress
    private let lock = NSLock()
    init(_ progress: TerminalProgress) { self.progress = progress }
    func update(_ done: Int, _ total: Int, message: String = "layer-epochs") {
        lock.lock()
        defer { lock.unlock() }
        progress.update(done, of: total, message)
    }
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        progress.finish()
    }
}
