// The driver that estimates a whole run: every requested (epoch, layer), in parallel.
//
// The command-line tool (`infoplane estimate`) and the demo call this with a closure that
// loads one layer's activations at one epoch; the driver selects the samples, applies the
// chosen estimator, and returns one row of numbers (bits) per (epoch, layer) in the order
// asked. It deliberately does no file I/O and no CSV formatting: the caller owns both.

import Dispatch
import Foundation
import Tensors

/// One layer at one epoch of a run (layers numbered as the caller numbers them).
public struct LayerEpoch: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var epoch: Int
    public var layer: Int
    public init(epoch: Int, layer: Int) { self.epoch = epoch; self.layer = layer }
    public static func < (a: LayerEpoch, b: LayerEpoch) -> Bool { (a.epoch, a.layer) < (b.epoch, b.layer) }
    public var description: String { "epoch \(epoch), layer \(layer)" }
}

/// The binning discretizations selectable for a whole run.
public enum BinningScheme: Sendable, Hashable {
    /// Shwartz-Ziv & Tishby's float32 `linspace(-1, 1, bins)` edges (see `Discretization.edges`).
    case edges(bins: Int, fixBelowRangeQuirk: Bool = false)
    /// `bins` equal bins between fixed bounds (see `Discretization.uniform`).
    case uniform(bins: Int, lower: Float, upper: Float)
    /// `floor(a / width)` (see `Discretization.width`).
    case width(Float)
    /// Saxe et al.'s procedure for unbounded activations: `bins` equal bins between the minimum
    /// and maximum over all units and all requested epochs (of the selected samples), per layer,
    /// or over all requested layers together when `pooledOverLayers` is true.
    case global(bins: Int, pooledOverLayers: Bool = false)
}

/// Which estimator a run uses, and its parameters.
public enum EstimatorConfiguration: Sendable, Hashable {
    /// Plug-in binning estimates (bits).
    case binning(BinningScheme)
    /// Kolchinsky-Tracey KDE bounds with noise variance s2 (reported in bits).
    case kde(noiseVariance: Double, bound: KDEBound)
    /// Kraskov-Stögbauer-Grassberger I(X;T) with k neighbours (algorithm 1 or 2) and Ross's
    /// I(T;Y), reported in bits. With `noiseVariance`, both are of T + Z, Z Gaussian of that
    /// variance per unit (the finite form of I(X;T) for a deterministic T of a continuous X);
    /// `seed` seeds the tie-breaking jitter and the noise. `inputs` says how X is read.
    case knn(k: Int, algorithm: KSGAlgorithm, noiseVariance: Double?, seed: UInt64, inputs: KNNInputs = .continuous)

    /// The value columns of each row, after `epoch,layer`:
    /// binning and a single KDE bound give `I_XT, I_TY, H_T`; KDE with both bounds gives
    /// `I_XT_lower, I_XT_upper, I_TY_lower, I_TY_upper`; kNN gives `I_XT, I_TY`. All in bits.
    public var columns: [String] {
        switch self {
        case .kde(_, .both): ["I_XT_lower", "I_XT_upper", "I_TY_lower", "I_TY_upper"]
        case .knn: ["I_XT", "I_TY"]
        default: ["I_XT", "I_TY", "H_T"]
        }
    }

    /// The estimator's family name: binning, kde or knn.
    public var name: String {
        switch self {
        case .binning: "binning"
        case .kde: "kde"
        case .knn: "knn"
        }
    }

    /// The estimator's name and parameters as strings, to record beside the results.
    public var parameters: [(name: String, value: String)] {
        switch self {
        case let .binning(scheme):
            var p: [(String, String)] = [("estimator", "binning")]
            switch scheme {
            case let .edges(bins, fix):
                p += [("discretization", "edges"), ("bins", "\(bins)"), ("fix_below_range_quirk", "\(fix)")]
            case let .uniform(bins, lower, upper):
                p += [("discretization", "uniform"), ("bins", "\(bins)"), ("lower", "\(lower)"), ("upper", "\(upper)")]
            case let .width(w):
                p += [("discretization", "width"), ("width", "\(w)")]
            case let .global(bins, pooled):
                p += [("discretization", "global"), ("bins", "\(bins)"), ("global_range", pooled ? "pooled" : "per-layer")]
            }
            return p + [("units", "bits")]
        case let .kde(s2, bound):
            return [("estimator", "kde"), ("noise_variance", "\(s2)"), ("bound", bound.rawValue), ("units", "bits")]
        case let .knn(k, algorithm, s2, seed, inputs):
            var form = "continuous (KSG)"
            if case let .discrete(m) = inputs { form = "discrete (Ross, \(m) noise draws a sample)" }
            return [("estimator", "knn"), ("k", "\(k)"), ("algorithm", "\(algorithm.rawValue)"),
                    ("noise_variance", s2.map { "\($0)" } ?? "none"), ("seed", "\(seed)"), ("inputs", form),
                    ("jitter", "1e-10 x max(1, mean |column|) after standardizing"), ("units", "bits")]
        }
    }
}

/// How the kNN estimator reads the inputs X for I(X;T).
public enum KNNInputs: Sendable, Hashable {
    /// X as a point in R^d: KSG between X and T (or T + Z).
    case continuous
    /// X as a discrete variable, one value per distinct input (the 12-bit task's 4096 inputs),
    /// and T + Z the noisy layer: each sample's T is drawn `replicates` times with independent
    /// noise Z, and Ross's discrete-label form estimates I(X; T + Z) with the inputs as the
    /// classes. This is h(T + Z) - h(Z) for X uniform over the inputs, the quantity the KDE
    /// bounds of Kolchinsky & Tracey enclose. Needs a noise variance: without noise, I(X;T) of a
    /// deterministic T is H(T), log2 N when the N outputs differ.
    case discrete(replicates: Int)
}

/// One output row: an (epoch, layer) and its values in `EstimatorConfiguration.columns` order.
public struct InformationPlaneRow: Sendable, Equatable {
    public var epoch: Int
    public var layer: Int
    /// Bits, in the order of `EstimatorConfiguration.columns`; for a layer estimated in parts
    /// (one per position), the average over the parts.
    public var values: [Double]
    /// The values of each part, when the layer was estimated in more than one.
    public var parts: [[Double]]?
}

/// Estimates I(X;T) and I(T;Y) for many layers and epochs of one run on all cores.
///
/// Labels and input groups are given for all N stored samples; `sampleIndices` (for example
/// the test samples) selects the rows every estimate uses, applied alike to activations,
/// labels and inputs.
public struct InformationPlaneEstimation: Sendable {
    public let configuration: EstimatorConfiguration
    /// Threads to use (default 2, the cores of the reference machine).
    public let workers: Int
    let storedRows: Int
    let sampleIndices: [Int]?
    let labels: [Int]
    let inputGroups: [Int]?
    let inputs: ActivationMatrix?

    /// A driver for one run.
    ///
    /// - Parameters:
    ///   - labels: Y for each of the N stored samples.
    ///   - inputGroups: X as one integer per stored sample (equal for equal inputs), or nil when
    ///     every input is distinct.
    ///   - sampleIndices: the rows to use (each in `0..<N`), or nil for all.
    ///   - inputs: X itself, N rows (kNN estimates I(X;T) from it; the others ignore it).
    /// - Throws: `InfoTheoryError.rowCountMismatch` when `inputGroups` or `inputs` has another
    ///   length, `.invalidParameter` for a bad configuration, kNN without inputs, or an index
    ///   out of range.
    public init(configuration: EstimatorConfiguration, labels: [Int], inputGroups: [Int]? = nil,
                sampleIndices: [Int]? = nil, inputs: ActivationMatrix? = nil, workers: Int = 2) throws {
        let n = labels.count
        if let inputGroups, inputGroups.count != n {
            throw InfoTheoryError.rowCountMismatch(activationRows: inputGroups.count, expected: n, what: "labels")
        }
        if let inputs, inputs.rows != n {
            throw InfoTheoryError.rowCountMismatch(activationRows: inputs.rows, expected: n, what: "labels")
        }
        if let sampleIndices {
            if sampleIndices.isEmpty { throw InfoTheoryError.invalidParameter("no samples selected") }
            if let bad = sampleIndices.first(where: { $0 < 0 || $0 >= n }) {
                throw InfoTheoryError.invalidParameter("sample index \(bad) out of 0..<\(n)")
            }
        }
        switch configuration {
        case let .binning(scheme):
            switch scheme {
            case let .edges(bins, fix): try Discretization.edges(bins: bins, fixBelowRangeQuirk: fix).validate()
            case let .uniform(bins, lower, upper): try Discretization.uniform(bins: bins, lower: lower, upper: upper).validate()
            case let .width(w): try Discretization.width(w).validate()
            case let .global(bins, _): try Discretization.uniform(bins: bins, lower: 0, upper: 1).validate()
            }
        case let .kde(s2, _):
            _ = try KDEEstimator(noiseVariance: s2)
        case let .knn(k, algorithm, s2, seed, form):
            _ = try KSGEstimator(k: k, algorithm: algorithm, seed: seed, noiseVariance: s2)
            switch form {
            case .continuous:
                guard inputs != nil else {
                    throw InfoTheoryError.invalidParameter("the kNN estimate of I(X;T) needs the inputs X")
                }
            case let .discrete(m):
                guard m >= 2 else { throw InfoTheoryError.invalidParameter("discrete inputs need at least 2 noise draws a sample, got \(m)") }
                guard s2 != nil else {
                    throw InfoTheoryError.invalidParameter("the kNN estimate of I(X;T) for discrete inputs needs a noise variance")
                }
            }
        }
        self.configuration = configuration
        self.workers = max(1, workers)
        self.storedRows = n
        self.sampleIndices = sampleIndices
        self.labels = sampleIndices.map { $0.map { labels[$0] } } ?? labels
        self.inputGroups = inputGroups.map { g in sampleIndices.map { $0.map { g[$0] } } ?? g }
        self.inputs = inputs.map { x in sampleIndices.map { x.selectingRows($0) } ?? x }
    }

    /// Estimates every (epoch, layer) in `tasks`, each from one N x d matrix.
    ///
    /// - Parameters:
    ///   - tasks: the layer-epochs, in the order of the returned rows.
    ///   - activations: loads one layer at one epoch as N x d (all stored samples); called from
    ///     worker threads, once per task (twice for `global` binning: once for the bounds).
    ///   - progress: called after each task with (completed, total), from worker threads.
    /// - Returns: one row per task, in the order of `tasks`.
    /// - Throws: the first error (in task order) from `activations`, or an `InfoTheoryError`
    ///   wrapped in `.atLayerEpoch(epoch:layer:underlying:)`.
    public func run(_ tasks: [LayerEpoch],
                    activations: @escaping @Sendable (LayerEpoch) throws -> ActivationMatrix,
                    progress: (@Sendable (_ completed: Int, _ total: Int) -> Void)? = nil) throws -> [InformationPlaneRow] {
        try run(tasks, parts: { [try activations($0)] }, progress: progress)
    }

    /// Estimates every (epoch, layer) in `tasks`, each from one or more N x d matrices (the
    /// positions of a structured layer, see `LayerReduction.perPosition`): a task's values are
    /// the average over its parts, and each part's are kept in `InformationPlaneRow.parts`.
    ///
    /// - Parameters:
    ///   - parts: loads one layer at one epoch as N x d matrices (all stored samples, at least
    ///     one matrix); called as `activations` is in `run(_:activations:progress:)`.
    public func run(_ tasks: [LayerEpoch],
                    parts activations: @escaping @Sendable (LayerEpoch) throws -> [ActivationMatrix],
                    progress: (@Sendable (_ completed: Int, _ total: Int) -> Void)? = nil) throws -> [InformationPlaneRow] {
        let outer = tasks.count >= workers ? workers : 1
        let inner = outer == 1 ? workers : 1
        // With outer > 1, parallelMap's workers make their GEMMs on 1 BLAS thread each.

        let counter = ProgressCounter(total: tasks.count * (isGlobal ? 2 : 1), report: progress)
        let load: @Sendable (LayerEpoch) throws -> [ActivationMatrix] = { [storedRows, sampleIndices] task in
            do {
                let parts = try activations(task)
                if parts.isEmpty { throw InfoTheoryError.invalidParameter("no matrix to estimate") }
                return try parts.map { m in
                    if m.rows != storedRows {
                        throw InfoTheoryError.rowCountMismatch(activationRows: m.rows, expected: storedRows, what: "labels")
                    }
                    return sampleIndices.map { m.selectingRows($0) } ?? m
                }
            } catch let error as InfoTheoryError {
                throw InfoTheoryError.atLayerEpoch(epoch: task.epoch, layer: task.layer, underlying: error)
            }
        }

        // One matrix's values, in `configuration.columns` order.
        let estimateOne: @Sendable (LayerEpoch, ActivationMatrix) throws -> [Double]
        switch configuration {
        case let .binning(scheme):
            let estimator = try BinningEstimator(labels: labels, inputGroups: inputGroups)
            var perLayer: [Int: Discretization] = [:]
            var fixed: Discretization?
            switch scheme {
            case let .edges(bins, fix): fixed = .edges(bins: bins, fixBelowRangeQuirk: fix)
            case let .uniform(bins, lower, upper): fixed = .uniform(bins: bins, lower: lower, upper: upper)
            case let .width(w): fixed = .width(w)
            case let .global(bins, pooled):
                // Pass 1: the bounds, streaming one layer-epoch at a time.
                let ranges = try parallelMap(tasks.count, workers: outer) { k -> ActivationRange in
                    var r = ActivationRange()
                    for m in try load(tasks[k]) {
                        try Self.wrap(tasks[k]) { try m.validate(); return [] }
                        r.update(with: m)
                    }
                    counter.advance()
                    return r
                }
                var byLayer: [Int: ActivationRange] = [:]
                var all = ActivationRange()
                for (task, r) in zip(tasks, ranges) {
                    byLayer[task.layer, default: ActivationRange()].formUnion(r)
                    all.formUnion(r)
                }
                for (layer, r) in byLayer where !r.isEmpty {
                    perLayer[layer] = (pooled ? all : r).discretization(bins: bins)
                }
            }
            estimateOne = { [perLayer, fixed] task, m in
                let e = try estimator.estimate(m, discretization: fixed ?? perLayer[task.layer]!)
                return [e.inputInformation, e.labelInformation, e.entropy]
            }
        case let .kde(s2, bound):
            let estimator = try KDEEstimator(noiseVariance: s2, bound: bound, labels: labels, workers: inner)
            estimateOne = { _, m in
                let e = try estimator.estimate(m)
                switch bound {
                case .both:
                    let lo = e.lower!.bits, up = e.upper!.bits
                    return [lo.inputInformation, up.inputInformation, lo.labelInformation!, up.labelInformation!]
                case .upper, .lower:
                    let b = (bound == .upper ? e.upper! : e.lower!).bits
                    return [b.inputInformation, b.labelInformation!, b.entropy]
                }
            }
        case let .knn(k, algorithm, s2, seed, form):
            let estimator = try KSGEstimator(k: k, algorithm: algorithm, seed: seed, noiseVariance: s2, workers: inner)
            let y = labels
            let ln2 = 0.693_147_180_559_945_3
            switch form {
            case .continuous:
                let x = inputs!
                estimateOne = { _, m in
                    [try estimator.mutualInformation(x, m) / ln2, try estimator.labelInformation(m, labels: y) / ln2]
                }
            case let .discrete(replicates):
                let groups = inputGroups ?? Array(0..<labels.count)
                let replicatedGroups = groups.flatMap { [Int](repeating: $0, count: replicates) }
                let plain = try KSGEstimator(k: k, algorithm: algorithm, seed: seed, workers: inner)
                let sd = Float(s2!.squareRoot())
                estimateOne = { _, m in
                    // Draw r of sample i is row i·replicates + r: t_i + Z, Z ~ N(0, s2) per unit.
                    var rng = RandomGenerator(seed: seed ^ 0x6E6F_6973_7920_5854)
                    var noisy = [Float](repeating: 0, count: m.rows * replicates * m.columns)
                    for i in 0..<m.rows {
                        for r in 0..<replicates {
                            let base = (i * replicates + r) * m.columns
                            for c in 0..<m.columns { noisy[base + c] = m.scalars[i * m.columns + c] + sd * Float(rng.normal()) }
                        }
                    }
                    let t = ActivationMatrix(rows: m.rows * replicates, columns: m.columns, scalars: noisy)
                    return [try plain.labelInformation(t, labels: replicatedGroups) / ln2,
                            try estimator.labelInformation(m, labels: y) / ln2]
                }
            }
        }

        let results = try parallelMap(tasks.count, workers: outer) { k -> (values: [Double], parts: [[Double]]?) in
            let task = tasks[k]
            let parts = try load(task)
            let values = try parts.map { m in try Self.wrap(task) { try estimateOne(task, m) } }
            counter.advance()
            if values.count == 1 { return (values[0], nil) }
            let mean = values[0].indices.map { c in values.reduce(0) { $0 + $1[c] } / Double(values.count) }
            return (mean, values)
        }
        return zip(tasks, results).map {
            InformationPlaneRow(epoch: $0.epoch, layer: $0.layer, values: $1.values, parts: $1.parts)
        }
    }

    /// Runs `body`, naming the layer-epoch in any `InfoTheoryError` it throws.
    @discardableResult
    static func wrap(_ task: LayerEpoch, _ body: () throws -> [Double]) throws -> [Double] {
        do { return try body() } catch let error as InfoTheoryError {
            if case .atLayerEpoch = error { throw error }
            throw InfoTheoryError.atLayerEpoch(epoch: task.epoch, layer: task.layer, underlying: error)
        }
    }

    var isGlobal: Bool {
        if case .binning(.global) = configuration { return true }
        return false
    }
}

/// Thread-safe completion counter that forwards to the progress callback.
final class ProgressCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var completed = 0
    let total: Int
    let report: (@Sendable (Int, Int) -> Void)?

    init(total: Int, report: (@Sendable (Int, Int) -> Void)?) {
        self.total = total
        self.report = report
    }

    func advance() {
        lock.lock()
        completed += 1
        let c = completed
        lock.unlock()
        report?(c, total)
    }
}

/// Results and the first error of a parallel map, filled by several threads.
private final class ParallelResults<T>: @unchecked Sendable {
    let lock = NSLock()
    var results: [T?]
    var firstError: (index: Int, error: any Error)?
    var next = 0

    init(count: Int) { results = [T?](repeating: nil, count: count) }

    /// The next index to compute, or nil when done or after an error.
    func claim() -> Int? {
        lock.lock(); defer { lock.unlock() }
        if firstError != nil || next >= results.count { return nil }
        next += 1
        return next - 1
    }

    func store(_ index: Int, _ result: Result<T, any Error>) {
        lock.lock(); defer { lock.unlock() }
        switch result {
        case let .success(value): results[index] = value
        case let .failure(error):
            if firstError == nil || index < firstError!.index { firstError = (index, error) }
        }
    }
}

/// `(0..<count).map(body)` on `workers` threads, dynamically scheduled; rethrows the error of
/// the lowest failing index (work stops being handed out after the first failure). With more
/// than one worker, each makes its BLAS calls on 1 thread; with one, `body` runs on the caller's
/// thread at the caller's `BLAS.threads`.
func parallelMap<T>(_ count: Int, workers: Int, _ body: @escaping @Sendable (Int) throws -> T) throws -> [T] {
    let box = ParallelResults<T>(count: count)
    let work: @Sendable (Int) -> Void = { _ in
        while let k = box.claim() {
            box.store(k, Result { try body(k) })
        }
    }
    if workers <= 1 || count <= 1 {
        work(0)
    } else {
        BLAS.concurrentPerform(iterations: min(workers, count), threads: 1, execute: work)
    }
    if let failure = box.firstError { throw failure.error }
    return box.results.map { $0! }
}
