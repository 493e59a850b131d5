// The deep linear student of Saxe et al. (ICLR 2018, §5, Fig. 3B), its
// training by gradient descent on a linear teacher's data, and the records
// of training error, generalization error and per-layer information.
//
// The student is a bias-free stack of weight matrices in Double, with its own
// forward and backward pass (three GEMMs per layer). It deliberately does not
// use `MLP`: every `Dense` layer carries a bias, and the paper's linear model
// has none (Eq. 4: Ŷ = W_tot X); a private bias-free stack keeps the
// gradients exactly those of the paper's model and avoids the Float tape for
// a model whose gradient is three lines. The information measure is passed
// in as a closure (usually `InfoTheory.GaussianInformation.information`), so
// the trainer runs without it and any exact or estimated measure can be used;
// its results are InfoTheory's `GaussianLayerInformation` records.
//
// Loss normalisation. Training minimises L = (1/2P) Σ_μ ‖ŷ^μ - y^μ‖², the
// paper's ½‖·‖² per sample, averaged over the P samples of a batch. Every
// *error* recorded is twice that, the plain per-sample squared error
// (1/P) Σ_μ ‖ŷ^μ - y^μ‖² (summed over outputs), so that the test error is an
// unbiased estimate of the generalization error
//
//     E_g = E‖W_tot x + … - y‖² = v ‖W_o - W_tot‖_F² + N_o σ_o²,  x ~ N(0, v I).
//
// With the paper's inputs v = 1/N_i and N_o = 1 this is
// ‖W_o - W_tot‖_F²/N_i + σ_o². The paper's Eq. 5 prints
// E_g = ‖W_o - W_tot‖_F² + σ_o², which is this quantity only for unit-variance
// inputs; we record both (`generalizationError`, and `equationFive` =
// ‖W_o - W_tot‖_F² + N_o σ_o², the printed form), and the tests check the
// first against Monte Carlo test error.
//
// [saxe2018]: https://openreview.net/forum?id=ry_WPG-A-

import ArrayIO
import Datasets
import InfoTheory
import Tensors

/// A deep linear network without biases: Ŷ = W_L ⋯ W_1 x.
///
/// `weights[l]` is W_{l+1}, [widths[l+1], widths[l]] row-major, so a batch
/// X [B, widths[0]] maps to H_l = H_{l-1} W_lᵀ [B, widths[l]].
public struct LinearStudent: Sendable, Equatable {
    /// Widths, input first: [N_i, N_1, …, N_o].
    public let widths: [Int]
    /// W_1 … W_L, each [widths[l+1], widths[l]] row-major.
    public var weights: [[Double]]

    /// Small random weights: every entry of W_l ~ N(0, initialScale² / fan-in),
    /// fan-in = widths[l-1] (the width of the layer's input).
    ///
    /// `initialScale` 1 keeps activation variances roughly constant through
    /// the layers (LeCun scaling); the paper starts "from small random
    /// weights", so pick `initialScale` < 1 (e.g. 0.01 for one hidden layer).
    /// Deep stacks escape the saddle at zero in a time that grows as the
    /// product of the layers' scales shrinks: use larger scales for them.
    /// Draw order: W_1 row by row, then W_2, …
    public init(widths: [Int], initialScale: Double, rng: inout RandomGenerator) {
        precondition(widths.count >= 2 && widths.allSatisfy { $0 > 0 }, "LinearStudent: widths \(widths)")
        precondition(initialScale >= 0, "LinearStudent: initial scale \(initialScale)")
        var w = [[Double]]()
        for l in 0..<(widths.count - 1) {
            let std = initialScale / Double(widths[l]).squareRoot()
            w.append((0..<(widths[l] * widths[l + 1])).map { _ in std * rng.normal() })
        }
        self.widths = widths
        weights = w
    }

    /// A student with the given weights.
    public init(widths: [Int], weights: [[Double]]) {
        precondition(widths.count >= 2 && weights.count == widths.count - 1, "LinearStudent: \(weights.count) matrices for widths \(widths)")
        for l in weights.indices {
            precondition(weights[l].count == widths[l] * widths[l + 1],
                         "LinearStudent: W_\(l + 1) has \(weights[l].count) entries, expected \(widths[l + 1])×\(widths[l])")
        }
        self.widths = widths
        self.weights = weights
    }

    /// The number of weight layers L.
    public var layerCount: Int { weights.count }

    /// The maps of every layer from the input: M_l = W_l ⋯ W_1,
    /// [widths[l], widths[0]] row-major, for l = 1…L; the last is W_tot.
    public var layerMaps: [[Double]] {
        var maps = [[Double]]()
        var m = weights[0]
        maps.append(m)
        for l in 1..<max(1, weights.count) {
            m = doubleMatmul(weights[l], m, m: widths[l + 1], k: widths[l], n: widths[0])
            maps.append(m)
        }
        return maps
    }

    /// W_tot = W_L ⋯ W_1, [N_o, N_i].
    public var totalMap: [Double] { layerMaps.last! }

    /// Ŷ = X W_totᵀ for inputs X [count, N_i]: [count, N_o].
    public func predict(_ inputs: [Double], count: Int) -> [Double] {
        forward(inputs, count: count).last!
    }

    /// Mean per-sample squared error (1/P) Σ_μ ‖ŷ^μ - y^μ‖² over `samples`
    /// (twice the training loss L).
    public func squaredError(on samples: RegressionSamples) -> Double {
        precondition(samples.inputCount == widths.first! && samples.outputCount == widths.last!,
                     "LinearStudent: samples \(samples.inputCount)→\(samples.outputCount) for widths \(widths)")
        if samples.count == 0 { return 0 }
        let y = predict(samples.inputs, count: samples.count)
        var total = 0.0
        for (a, b) in zip(y, samples.targets) { total += (a - b) * (a - b) }
        return total / Double(samples.count)
    }

    /// L = (1/2B) Σ_μ ‖ŷ^μ - y^μ‖² on rows `rows` of `samples`, and dL/dW_l.
    ///
    /// Backward pass: G_L = (Ŷ - Y)/B [B, N_o]; dW_l = G_lᵀ H_{l-1};
    /// G_{l-1} = G_l W_l.
    public func lossAndGradients(_ samples: RegressionSamples, rows: ArraySlice<Int>) -> (loss: Double, gradients: [[Double]]) {
        let b = rows.count, ni = widths.first!, no = widths.last!
        precondition(b > 0, "LinearStudent: empty batch")
        var x = [Double](), y = [Double]()
        x.reserveCapacity(b * ni)
        y.reserveCapacity(b * no)
        for r in rows {
            x.append(contentsOf: samples.inputs[(r * ni)..<((r + 1) * ni)])
            y.append(contentsOf: samples.targets[(r * no)..<((r + 1) * no)])
        }
        let h = forward(x, count: b)
        var g = h.last!
        var loss = 0.0
        for j in g.indices {
            let d = g[j] - y[j]
            loss += d * d
            g[j] = d / Double(b)
        }
        loss /= 2 * Double(b)
        var gradients = [[Double]](repeating: [], count: weights.count)
        for l in stride(from: weights.count - 1, through: 0, by: -1) {
            // dW_l = G_lᵀ [N_{l+1}, B] × H_{l-1} [B, N_l].
            let input = l == 0 ? x : h[l - 1]
            gradients[l] = doubleMatmul(g, input, m: widths[l + 1], k: b, n: widths[l], transposeA: true)
            if l > 0 { g = doubleMatmul(g, weights[l], m: b, k: widths[l + 1], n: widths[l]) }
        }
        return (loss, gradients)
    }

    /// H_1 … H_L for inputs [count, N_i].
    func forward(_ x: [Double], count: Int) -> [[Double]] {
        precondition(x.count == count * widths[0], "LinearStudent: \(x.count) inputs for \(count)×\(widths[0])")
        var outputs = [[Double]]()
        var h = x
        for l in weights.indices {
            h = doubleMatmul(h, weights[l], m: count, k: widths[l], n: widths[l + 1], transposeB: true)
            outputs.append(h)
        }
        return outputs
    }
}

/// C = op(A) op(B), row-major, op(A) [m, k], op(B) [k, n], through dgemm.
func doubleMatmul(_ a: [Double], _ b: [Double], m: Int, k: Int, n: Int,
            transposeA: Bool = false, transposeB: Bool = false) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    if m == 0 || n == 0 { return c }
    if k == 0 { return c }
    a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
            c.withUnsafeMutableBufferPointer { cp in
                BLAS.dgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                           a: ap.baseAddress!, lda: transposeA ? m : k,
                           b: bp.baseAddress!, ldb: transposeB ? k : n,
                           c: cp.baseAddress!, ldc: n)
            }
        }
    }
    return c
}

// MARK: Training and records

/// How to train a linear student.
public struct LinearTrainingOptions: Sendable, Equatable {
    /// Hidden widths (input and output widths come from the teacher), e.g. [100].
    public var hiddenWidths: [Int]
    /// Passes over the training set.
    public var epochs: Int
    /// η in W ← W - η dL/dW.
    public var learningRate: Double
    /// Minibatch size; nil for full-batch gradient descent (one step per epoch).
    public var batchSize: Int?
    /// Standard deviation scale of the initial weights (see `LinearStudent.init`).
    public var initialScale: Double
    /// Epochs at which errors and information are recorded.
    public var schedule: EpochSchedule
    /// Seeds the student's weights and the minibatch order.
    public var seed: UInt64

    public init(hiddenWidths: [Int], epochs: Int, learningRate: Double, batchSize: Int? = nil,
                initialScale: Double = 0.01, schedule: EpochSchedule = .ibsgd, seed: UInt64 = 0) {
        self.hiddenWidths = hiddenWidths
        self.epochs = epochs
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.initialScale = initialScale
        self.schedule = schedule
        self.seed = seed
    }
}

/// One layer's information at one recorded epoch.
public struct LinearLayerRecord: Sendable, Equatable {
    public var epoch: Int
    /// 1 … L (L is the output layer).
    public var layer: Int
    public var information: GaussianLayerInformation

    public init(epoch: Int, layer: Int, information: GaussianLayerInformation) {
        self.epoch = epoch
        self.layer = layer
        self.information = information
    }
}

/// The errors at one recorded epoch, all per-sample squared errors summed
/// over outputs (twice the ½-normalised loss).
public struct LinearEpochRecord: Sendable, Equatable {
    public var epoch: Int
    /// (1/P) Σ ‖ŷ - y‖² on the training set.
    public var trainingError: Double
    /// The same on the test set.
    public var testError: Double
    /// E_g = v ‖W_o - W_tot‖_F² + N_o σ_o²: the expected test error.
    public var generalizationError: Double
    /// ‖W_o - W_tot‖_F².
    public var weightError: Double
    /// ‖W_o - W_tot‖_F² + N_o σ_o², Eq. 5 as printed (equal to E_g for unit-variance inputs).
    public var equationFive: Double

    public init(epoch: Int, trainingError: Double, testError: Double, generalizationError: Double,
                weightError: Double, equationFive: Double) {
        self.epoch = epoch
        self.trainingError = trainingError
        self.testError = testError
        self.generalizationError = generalizationError
        self.weightError = weightError
        self.equationFive = equationFive
    }
}

/// Everything a linear-student run records.
public struct LinearTrainingResult: Sendable, Equatable {
    public var epochs: [LinearEpochRecord]
    public var layers: [LinearLayerRecord]
    /// The student after the last epoch.
    public var student: LinearStudent

    public init(epochs: [LinearEpochRecord], layers: [LinearLayerRecord], student: LinearStudent) {
        self.epochs = epochs
        self.layers = layers
        self.student = student
    }
}

/// Trains a deep linear student on a teacher task and records as it goes.
public struct LinearStudentTrainer: Sendable {
    public let task: LinearTeacherTask
    public let options: LinearTrainingOptions
    public private(set) var student: LinearStudent
    public private(set) var epoch = 0
    private var rng: RandomGenerator

    /// - Precondition: positive epochs count ≥ 0, learning rate > 0, batch size in 1…P.
    public init(task: LinearTeacherTask, options: LinearTrainingOptions) {
        precondition(options.epochs >= 0 && options.learningRate > 0, "LinearStudentTrainer: \(options.epochs) epochs, rate \(options.learningRate)")
        precondition(task.train.count > 0, "LinearStudentTrainer: no training samples")
        if let b = options.batchSize { precondition(b > 0, "LinearStudentTrainer: batch size \(b)") }
        self.task = task
        self.options = options
        var rng = RandomGenerator(seed: options.seed)
        let widths = [task.teacher.inputCount] + options.hiddenWidths + [task.teacher.outputCount]
        student = LinearStudent(widths: widths, initialScale: options.initialScale, rng: &rng)
        self.rng = rng
    }

    /// One pass over the training set: one full-batch step, or minibatch
    /// steps over a fresh permutation (the last batch may be smaller).
    public mutating func trainEpoch() {
        let p = task.train.count
        let b = min(options.batchSize ?? p, p)
        let order = b == p ? Array(0..<p) : rng.permutation(p)
        var start = 0
        while start < p {
            let rows = order[start..<min(start + b, p)]
            let (_, gradients) = student.lossAndGradients(task.train, rows: rows)
            for l in student.weights.indices {
                let eta = options.learningRate
                student.weights[l].withUnsafeMutableBufferPointer { w in
                    gradients[l].withUnsafeBufferPointer { g in
                        for j in 0..<w.count { w[j] -= eta * g[j] }
                    }
                }
            }
            start += b
        }
        epoch += 1
    }

    /// The errors of the current student.
    public func errors() -> LinearEpochRecord {
        let teacher = task.teacher
        let wTot = student.totalMap
        var weightError = 0.0
        for (a, b) in zip(teacher.weights, wTot) { weightError += (a - b) * (a - b) }
        let noise = Double(teacher.outputCount) * teacher.noiseVariance
        return LinearEpochRecord(epoch: epoch,
                                 trainingError: student.squaredError(on: task.train),
                                 testError: student.squaredError(on: task.test),
                                 generalizationError: teacher.inputVariance * weightError + noise,
                                 weightError: weightError, equationFive: weightError + noise)
    }

    /// Trains for the planned epochs, recording at the schedule's epochs.
    ///
    /// - Parameter information: given layer l's map M_l = W_l ⋯ W_1
    ///   ([rows, N_i] row-major) and its row count, returns its information
    ///   (nil: no information recorded). Errors it throws end training and
    ///   are rethrown.
    public mutating func run(information: ((_ map: [Double], _ rows: Int) throws -> GaussianLayerInformation)? = nil)
        rethrows -> LinearTrainingResult {
        let recorded = Set(options.schedule.epochs(total: options.epochs))
        var epochs = [LinearEpochRecord](), layers = [LinearLayerRecord]()
        func record() throws {
            epochs.append(errors())
            if let information {
                for (l, map) in student.layerMaps.enumerated() {
                    layers.append(LinearLayerRecord(epoch: epoch, layer: l + 1,
                                                    information: try information(map, student.widths[l + 1])))
                }
            }
        }
        if recorded.contains(epoch) { try record() }
        while epoch < options.epochs {
            trainEpoch()
            if recorded.contains(epoch) { try record() }
        }
        return LinearTrainingResult(epochs: epochs, layers: layers, student: student)
    }
}

// MARK: CSV

/// The CSV files of a linear-student run.
///
/// information.csv: `epoch,layer,I_XT,I_TY[,I_XT_relevant,I_XT_irrelevant]`
/// (bits; the last two columns only when every row has the split);
/// metrics.csv: `epoch,train_error,test_error,generalization_error,weight_error,equation5`.
/// Numbers in Swift's shortest round-trip form: same records, same bytes.
public enum LinearRunCSV {
    public static let metricsHeader = "epoch,train_error,test_error,generalization_error,weight_error,equation5"

    /// The text of metrics.csv.
    public static func metricsText(_ records: [LinearEpochRecord]) -> String {
        ([metricsHeader] + records.map {
            "\($0.epoch),\($0.trainingError),\($0.testError),\($0.generalizationError),\($0.weightError),\($0.equationFive)"
        }).joined(separator: "\n") + "\n"
    }

    /// The text of information.csv.
    public static func informationText(_ records: [LinearLayerRecord]) -> String {
        let split = !records.isEmpty && records.allSatisfy {
            $0.information.relevantInformation != nil && $0.information.irrelevantInformation != nil
        }
        let header = "epoch,layer,I_XT,I_TY" + (split ? ",I_XT_relevant,I_XT_irrelevant" : "")
        return ([header] + records.map { r in
            let i = r.information
            var line = "\(r.epoch),\(r.layer),\(i.inputInformation),\(i.outputInformation)"
            if split { line += ",\(i.relevantInformation!),\(i.irrelevantInformation!)" }
            return line
        }).joined(separator: "\n") + "\n"
    }

    /// Writes `metrics.csv` and `information.csv` into `directory` (created
    /// if missing), each atomically.
    ///
    /// - Throws: `FileError` naming the path that could not be written.
    public static func write(_ result: LinearTrainingResult, to directory: String) throws {
        try AtomicFile.createDirectory(directory)
        try AtomicFile.write(metricsText(result.epochs), to: directory + "/metrics.csv")
        try AtomicFile.write(informationText(result.layers), to: directory + "/information.csv")
    }
}
