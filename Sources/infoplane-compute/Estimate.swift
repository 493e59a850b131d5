// `infoplane estimate`: mutual information per layer and epoch, into a CSV.

import ActivationStore
import Analysis
import ArgumentParser
import Foundation
import Tensors
import InfoTheory
import PlotCommands

struct Estimate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "estimate",
        abstract: "Estimate I(X;T) and I(T;Y) for every recorded layer and epoch.",
        discussion: """
        Writes a CSV (bits) with the header epoch,layer,I_XT,I_TY,H_T (binning, one KDE bound),
        epoch,layer,I_XT_lower,I_XT_upper,I_TY_lower,I_TY_upper (KDE, both bounds) or
        epoch,layer,I_XT,I_TY (kNN); the estimator and its parameters go to a JSON file beside it
        (same name, .json). Default output: mi-<estimator>.csv in the run or activation directory.
        --estimator all writes mi-binning.csv, mi-kde.csv and mi-knn.csv there, from the same
        samples and epochs, for `infoplane plot infoplane RUN --compare-estimators`.

        kNN (Kraskov, Stögbauer & Grassberger 2004): I(X;T) by KSG algorithm 1 or 2 (max-norm, k
        neighbours, default 3) from the inputs X; I(T;Y) by Ross's (2014) form for a discrete Y.
        Each column is standardized and receives a seeded jitter of 1e-10 x max(1, mean |column|)
        to break ties (as scikit-learn does). Note: when T is a deterministic function of a
        continuous X, the true I(X;T) is infinite, and a kNN estimate of it is finite only because
        N is (it grows with N). For a finite quantity, estimate the noisy layer T + Z,
        Z ~ N(0, s2) per unit: --knn-noise-variance s2 (the quantity KDE bounds with
        --noise-variance). Discrete inputs (every input column with at most two values, as the
        12-bit task's, or inputs that repeat) are all at one max-norm distance from each other, so
        KSG cannot read them; with a noise variance, --knn-inputs auto (the default) then
        estimates I(X; T + Z) with X as a discrete variable: each sample's T drawn --knn-draws
        times with independent noise, Ross's form with the inputs as classes. Without a noise
        variance, auto keeps KSG and warns.

        Structured layers (a sample of shape C x H x W, feature maps in NCHW, or L x D, token
        positions first; the run's manifest or the exported .npy shape says which):
          auto           flatten when a sample has at most 512 values, else mean-pool
          flatten        all C*H*W (or L*D) values of a sample as one vector
          per-position   one estimate per spatial or token position (C or D features each),
                         written to <output>-positions.csv; the layer's row is their average
          mean-pool      each feature's mean over the positions (C or D values a sample)
          max-pool       each feature's maximum over the positions
          projection     the flattened vector times a fixed Gaussian matrix to --projection-dim
                         dimensions (entries N(0, 1/dim), seeded by --seed and the layer)

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
          infoplane estimate runs/tanh --estimator knn --k 3 --algorithm 2
          infoplane estimate runs/tanh --estimator all
          infoplane estimate --activations exported/ --labels y.npy --inputs x.npy
          infoplane estimate --activations convs/ --labels y.npy --estimator kde --reduce per-position
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

    @Option(help: "binning, kde, knn, or all (the three on the same samples).")
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

    @Option(help: "kNN: the number of neighbours k.")
    var k: Int = 3

    @Option(help: "kNN: KSG algorithm 1 or 2 for I(X;T).")
    var algorithm: Int = 1

    @Option(help: "kNN: estimate the noisy layer T + N(0, s2) instead of T (default: T itself).")
    var knnNoiseVariance: Double?

    @Option(help: "kNN: read X as continuous (KSG), discrete (Ross over noise draws; needs --knn-noise-variance), or auto.")
    var knnInputs: String = "auto"

    @Option(help: "kNN, discrete inputs: noise draws a sample.")
    var knnDraws: Int = 8

    @Option(help: "Seed of the kNN jitter and noise, and of random projections.")
    var seed: UInt64 = 0

    @Option(help: "Structured layers: auto, flatten, per-position, mean-pool, max-pool or projection.")
    var reduce: String = "auto"

    @Option(help: "Dimension of --reduce projection.")
    var projectionDim: Int = 64

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
        if !["binning", "kde", "knn", "all"].contains(estimator) {
            throw ValidationError("unknown estimator \"\(estimator)\" (use binning, kde, knn or all)")
        }
        if k < 1 { throw ValidationError("--k must be at least 1 (got \(k))") }
        if KSGAlgorithm(rawValue: algorithm) == nil { throw ValidationError("--algorithm must be 1 or 2 (got \(algorithm))") }
        if let s2 = knnNoiseVariance, !(s2 > 0 && s2.isFinite) { throw ValidationError("--knn-noise-variance must be positive") }
        if !["auto", "flatten", "per-position", "mean-pool", "max-pool", "projection"].contains(reduce) {
            throw ValidationError("unknown --reduce \"\(reduce)\" (use auto, flatten, per-position, mean-pool, max-pool or projection)")
        }
        if projectionDim < 1 { throw ValidationError("--projection-dim must be at least 1") }
        if !["auto", "continuous", "discrete"].contains(knnInputs) {
            throw ValidationError("--knn-inputs must be auto, continuous or discrete (got \"\(knnInputs)\")")
        }
        if knnInputs == "discrete" && knnNoiseVariance == nil {
            throw ValidationError("--knn-inputs discrete estimates I(X; T + Z): give --knn-noise-variance")
        }
        if knnDraws < 2 { throw ValidationError("--knn-draws must be at least 2") }
        if estimator == "all" && output != nil {
            throw ValidationError("--estimator all writes mi-binning.csv, mi-kde.csv and mi-knn.csv beside the run; drop -o")
        }
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

    /// The estimators asked for, in the order binning, kde, knn.
    func estimatorConfigurations(discreteInputs: Bool) -> [EstimatorConfiguration] {
        let discrete = knnInputs == "discrete" || (knnInputs == "auto" && discreteInputs && knnNoiseVariance != nil)
        let all: [String: EstimatorConfiguration] = [
            "binning": binningConfiguration,
            "kde": .kde(noiseVariance: noiseVariance, bound: KDEBound(rawValue: bound)!),
            "knn": .knn(k: k, algorithm: KSGAlgorithm(rawValue: algorithm)!, noiseVariance: knnNoiseVariance, seed: seed,
                        inputs: discrete ? .discrete(replicates: knnDraws) : .continuous),
        ]
        return (estimator == "all" ? ["binning", "kde", "knn"] : [estimator]).map { all[$0]! }
    }

    var reduction: LayerReduction {
        switch reduce {
        case "flatten": .flatten
        case "per-position": .perPosition
        case "mean-pool": .meanPool
        case "max-pool": .maxPool
        case "projection": .projection(dimension: projectionDim, seed: seed)
        default: .automatic
        }
    }

    var binningConfiguration: EstimatorConfiguration {
        switch discretization {
        case "uniform": return .binning(.uniform(bins: bins ?? 30, lower: lower!, upper: upper!))
        case "width": return .binning(.width(width!))
        case "global": return .binning(.global(bins: bins ?? 100, pooledOverLayers: globalRange == "pooled"))
        default: return .binning(.edges(bins: bins ?? 30, fixBelowRangeQuirk: fixEdgesQuirk))
        }
    }

    func run() throws {
        // The KDE distances and random projections are GEMMs; binning and kNN never call BLAS.
        if estimator == "kde" || estimator == "all" || reduce == "projection" { BLASCore.restartWithRecognizedCoreIfNeeded() }
        let source = try runDirectory.map(ActivationSource.run)
            ?? ActivationSource.exported(directory: activations!, labels: labels!, inputs: inputs)
        let discreteInputs = source.inputsAreBinary || source.inputGroups != nil
        let configurations = estimatorConfigurations(discreteInputs: discreteInputs)
        if case .knn(_, _, _, _, .continuous) = configurations.last {
            if source.inputs == nil {
                throw ValidationError("the kNN estimate of I(X;T) needs the inputs X: give --inputs x.npy with --activations")
            }
            if discreteInputs {
                writeStandardError("warning: the inputs of \(source.path) are discrete (binary columns or repeated rows): distinct "
                                   + "inputs are all at the same max-norm distance, so KSG's I(X;T) is set by the tie-breaking "
                                   + "jitter and means little (I(T;Y) is unaffected); give --knn-noise-variance to estimate "
                                   + "I(X; T + Z) with X as a discrete variable\n")
            }
        }
        for configuration in configurations {
            let request = EstimationRequest(configuration: configuration, samples: SampleSelection(rawValue: samples)!,
                                            epochs: epochs.flatMap(parseEpochs), reduction: reduction)
            let progress = TerminalProgress()
            let box = ProgressBox(progress)
            let estimate = try source.estimateWithPositions(request) { done, total in
                box.update(done, total, message: "layer-epochs (\(configuration.name))")
            }
            progress.finish()
            let path = output ?? (source.path + "/mi-\(configuration.name).csv")
            if let positions = estimate.positions {
                let positionsPath = String(path.dropLast(4)) + "-positions.csv"
                try positions.write(to: positionsPath)
                print(positionsPath)
            }
            try estimate.table.write(to: path)
            print(path)
        }
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
