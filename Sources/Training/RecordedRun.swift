// Training with recording: the run directory written as training goes,
// committed through the manifest, checkpointed, and resumable, for any model
// that names its recordable tensors (`RecordableModel`, trained through an
// `EpochTraining`). `RecordedRun` is the MLP tasks of `infoplane train`.
//
// Commit protocol, for each committed epoch E (a recorded epoch, a
// checkpoint epoch, or the last epoch):
//   1. the activation files of E (if recorded), each atomically;
//   2. metrics.csv and gradients.csv with every row up to E, atomically;
//   3. checkpoint-next.npz (if E is a checkpoint epoch), atomically;
//   4. manifest.json with epochs_completed = E (and checkpoint_epoch = E),
//      atomically — the commit;
//   5. checkpoint-next.npz renamed onto checkpoint.npz.
// A kill between steps leaves files the manifest does not yet vouch for;
// resuming restarts from the checkpoint the manifest names and rewrites them
// with the same bytes. That checkpoint is never overwritten before the
// manifest moves on: until step 4 it is checkpoint.npz, after it
// checkpoint-next.npz (whose rename a resume completes).

#if canImport(Glibc)
import Glibc
#endif
import ActivationStore
import ArrayIO
import Datasets
import NeuralNets
import Tensors

/// What a training run reports as it goes.
public struct TrainingProgress: Sendable {
    public var epoch: Int
    public var totalEpochs: Int
    public var metrics: EpochMetrics
}

/// An error in starting or resuming a run.
public struct RunError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The samples whose recorded tensors a run writes, as its sample files hold
/// them (inputs.npy, labels.npy, train_mask.npy, and with label noise
/// true_labels.npy and corrupted_mask.npy), in activation-row order.
public struct RecordedSamples: Sendable {
    /// Inputs [N, …], fed to `RecordableModel.recordedActivations`.
    public var inputs: Tensor
    /// The label of each sample (what the estimators use as Y).
    public var labels: [Int]
    /// Whether each sample is a training sample.
    public var trainMask: [Bool]
    /// The memorization record of a run with label noise (nil: none).
    public var labelNoise: LabelNoiseTracking?

    public init(inputs: Tensor, labels: [Int], trainMask: [Bool], labelNoise: LabelNoiseTracking? = nil) {
        precondition(inputs.rank >= 1 && inputs.shape[0] == labels.count && labels.count == trainMask.count,
                     "RecordedSamples: inputs \(inputs.shape), \(labels.count) labels, \(trainMask.count) mask entries")
        if let labelNoise {
            precondition(labelNoise.trueLabels.count == labels.count && labelNoise.corrupted.count == labels.count,
                         "RecordedSamples: label-noise records of \(labelNoise.trueLabels.count) samples for \(labels.count)")
        }
        self.inputs = inputs
        self.labels = labels
        self.trainMask = trainMask
        self.labelNoise = labelNoise
    }
}

/// What a run with corrupted training labels records of them: label-noise.csv
/// per epoch (from the trainer's predictions on its training samples), and
/// the recorded samples' true labels and corruption marks.
public struct LabelNoiseTracking: Sendable {
    /// The labels trained on (some corrupted), in the trainer's training order.
    public var trainLabels: [Int]
    /// The true labels of the training samples, in the same order.
    public var trueTrainLabels: [Int]
    /// Whether each training sample's label was corrupted, in the same order.
    public var corruptedTrain: [Bool]
    /// The true label of each recorded sample (true_labels.npy).
    public var trueLabels: [Int]
    /// Whether each recorded sample's label was corrupted (corrupted_mask.npy).
    public var corrupted: [Bool]

    public init(trainLabels: [Int], trueTrainLabels: [Int], corruptedTrain: [Bool], trueLabels: [Int], corrupted: [Bool]) {
        precondition(trainLabels.count == trueTrainLabels.count && trainLabels.count == corruptedTrain.count,
                     "LabelNoiseTracking: \(trainLabels.count) training labels, \(trueTrainLabels.count) true labels, \(corruptedTrain.count) marks")
        self.trainLabels = trainLabels
        self.trueTrainLabels = trueTrainLabels
        self.corruptedTrain = corruptedTrain
        self.trueLabels = trueLabels
        self.corrupted = corrupted
    }
}

/// What a run trains and records: a trainer at epoch 0 (its model freshly
/// initialized from the settings' seed) and the recorded samples. A run
/// builds its subject from its settings both when it starts and when it
/// resumes, so the builder must give the same subject for the same settings.
public struct RunSubject<Training: EpochTraining> {
    public var trainer: Training
    public var samples: RecordedSamples

    public init(trainer: Training, samples: RecordedSamples) {
        self.trainer = trainer
        self.samples = samples
    }
}

/// A training run of the MLP tasks (`infoplane train`) recorded into a run directory.
public typealias RecordedRun = InstrumentedRun<ClassificationTrainer<RecordedMLP>>

/// A training run of any recordable model, recorded into a run directory:
/// the epoch schedule, the commit protocol, checkpoints and resumption are
/// the same for every model; the model names what is recorded.
public struct InstrumentedRun<Training: EpochTraining> {
    /// The run's settings.
    public let settings: RunSettings
    /// The directory.
    public let directory: RunDirectory
    /// The program name and version written into manifests.
    public static var software: String { "infoplane 0.1.0" }

    private let schedule: Set<Int>
    private var manifest: RunManifest
    /// The trainer, with the current model.
    public private(set) var trainer: Training
    private var metrics: [EpochMetrics] = []
    /// The gradient statistics not yet handed to the writer (which keeps the
    /// whole table for the checkpoints).
    private var gradientRows: [LayerGradientStatistics] = []
    /// The inputs of the recorded samples, in file order.
    private let recordedInputs: Tensor
    /// The recorded tensors' shapes, [N] + each one's per-sample shape.
    private let recordedShapes: [[Int]]
    /// The labels the memorization record compares (runs with label noise).
    private let labelNoise: LabelNoiseTracking?
    /// The memorization rows not yet handed to the writer (runs with label noise).
    private var noiseRows: [LabelNoiseMetrics] = []
    /// Recorded epochs whose activation files are written (not yet durable)
    /// but not yet listed in the manifest: the next commit adds them.
    private var pendingRecords: [Int] = []
    /// When the last commit was handed to the writer (monotonic seconds).
    private var lastCommit = monotonicSeconds()
    /// The thread that writes the run's files, in order.
    private let writer = RunWriter()
    /// The tables as the writer holds them.
    private let tables: RunTables
    /// How many metrics rows the writer has.
    private var metricsHandedOver = 0

    /// The least time between two commits of recorded epochs that are not
    /// checkpoints, in seconds.
    ///
    /// A commit makes the written files durable with one `sync` and then
    /// rewrites the manifest; on the 12-bit task, where an epoch takes a few
    /// milliseconds and the log schedule records hundreds of them, committing
    /// every recorded epoch spent more time waiting for the disk than
    /// training. Between commits the activation files are written at once
    /// (the kernel has them), so a crash loses at most this much work past
    /// the last checkpoint, which a resume redoes byte for byte. Checkpoints
    /// and the last epoch always commit.
    public var commitInterval: Double = 1

    /// The schedule named in the settings.
    public static func schedule(_ settings: RunSettings) throws -> EpochSchedule {
        guard let schedule = EpochSchedule(settings.schedule) else {
            throw RunError("unknown schedule \"\(settings.schedule)\" (use every, every:K, log, log:N, ibsgd, or a list such as 0,10,100)")
        }
        return schedule
    }

    /// The optimizer the settings describe, with their weight decay.
    public static func optimizer(_ settings: RunSettings) throws -> any Optimizer {
        let o = settings.optimizer
        guard let lrText = o["learning_rate"], let lr = Float(lrText) else {
            throw RunError("optimizer settings lack a learning_rate")
        }
        let decay = try weightDecay(settings.weightDecay)
        switch o["name"] {
        case "adam": return Adam(learningRate: lr, weightDecay: decay)
        case "sgd": return SGD(learningRate: lr, momentum: Float(o["momentum"] ?? "0") ?? 0, weightDecay: decay)
        default: throw RunError("unknown optimizer \"\(o["name"] ?? "")\" (use adam or sgd)")
        }
    }

    /// Parses `l2:λ`, `decoupled:λ` or `pytorch:λ` (nil: no decay).
    public static func weightDecay(_ text: String?) throws -> WeightDecay {
        guard let text else { return .none }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let value = Float(parts[1]), value >= 0 else {
            throw RunError("weight decay must be l2:λ, decoupled:λ or pytorch:λ with λ ≥ 0 (got \"\(text)\")")
        }
        switch parts[0] {
        case "l2": return .l2(value)
        case "decoupled": return .decoupled(value)
        case "pytorch": return .decoupledScaledByLearningRate(value)
        default: throw RunError("unknown weight decay form \"\(parts[0])\" (use l2, decoupled or pytorch)")
        }
    }

    /// The learning-rate schedule the settings name (nil: constant).
    public static func learningRateSchedule(_ text: String?) throws -> LearningRateSchedule {
        guard let text else { return .constant }
        guard let schedule = LearningRateSchedule(text) else {
            throw RunError("unknown learning-rate schedule \"\(text)\" (use constant, step:K:F, cosine:T or sgdr:T0:TMULT)")
        }
        return schedule
    }

    /// mixup with the settings' α (nil: none).
    public static func mixup(_ alpha: Double?) throws -> Mixup? {
        guard let alpha else { return nil }
        guard alpha > 0 && alpha.isFinite else { throw RunError("mixup α must be positive (got \(alpha))") }
        return Mixup(alpha: alpha)
    }

    /// The data of a run: the task's data set, with its training labels
    /// corrupted when the settings ask for label noise.
    public static func data(for settings: RunSettings) throws -> (data: Dataset, corruption: LabelCorruption?) {
        let data = try Tasks.dataset(for: settings)
        guard let fraction = settings.labelNoise else { return (data, nil) }
        let corruption = LabelNoise.corrupt(data, fraction: fraction, seed: settings.seed)
        return (corruption.dataset, corruption)
    }

    /// The rows whose activations a run records (`recordedSamples`: all, test or train).
    public static func recordedRows(_ settings: RunSettings, split: Split, count: Int) -> [Int] {
        switch settings.recordedSamples ?? "all" {
        case "test": split.test
        case "train": split.train
        default: Array(0..<count)
        }
    }

    /// Starts a new run of the subject `subject(settings)` builds in `path`,
    /// which must not already hold a run.
    ///
    /// - Parameter subject: builds the trainer and the recorded samples from
    ///   the settings (called again, with the same settings, by `resume`); it
    ///   checks the settings the run does not know (the model's, the data's).
    /// - Throws: `RunError` if `path` holds a manifest (nothing is touched) or
    ///   the settings are invalid, `FileError` if data cannot be read or files
    ///   cannot be written, and whatever `subject` throws.
    public static func start(settings: RunSettings, at path: String,
                             subject: (RunSettings) throws -> RunSubject<Training>) throws -> InstrumentedRun {
        let directory = RunDirectory(path)
        if AtomicFile.exists(directory.manifest) {
            throw RunError("\(path) already holds a run; use --resume \(path) to continue it, or choose another --out")
        }
        try validate(settings)
        let built = try subject(settings)
        let run = InstrumentedRun(settings: settings, directory: directory, subject: built)
        try AtomicFile.createDirectory(directory.activationsDirectory)
        // The sample files hold exactly the recorded samples, in activation-row order.
        let samples = built.samples, n = samples.labels.count
        try NPY.write(NPYArray(floats: samples.inputs.scalars, shape: samples.inputs.shape), to: directory.inputs)
        try NPY.write(NPYArray(int64s: samples.labels.map { Int64($0) }, shape: [n]), to: directory.labels)
        try NPY.write(NPYArray(bools: samples.trainMask, shape: [n]), to: directory.trainMask)
        if let noise = samples.labelNoise {
            try NPY.write(NPYArray(int64s: noise.trueLabels.map { Int64($0) }, shape: [n]), to: directory.trueLabels)
            try NPY.write(NPYArray(bools: noise.corrupted, shape: [n]), to: directory.corruptedMask)
        }
        try run.writeManifest()
        return run
    }

    /// Reopens the run in `path` to continue it from its last checkpoint.
    ///
    /// - Parameters:
    ///   - requested: settings given on the command line, which must equal
    ///     the run's (nil: take the run's).
    ///   - subject: the builder the run was started with.
    /// - Throws: `FileError` for a missing or damaged manifest or checkpoint,
    ///   or a manifest whose layers do not match what `subject` records;
    ///   `RunError` for settings that differ from the run's.
    public static func resume(at path: String, requested: RunSettings? = nil,
                              subject: (RunSettings) throws -> RunSubject<Training>) throws -> InstrumentedRun {
        let directory = RunDirectory(path)
        let manifest = try directory.readManifest()
        if let requested, requested != manifest.settings {
            throw RunError("cannot resume \(path) with other settings: " + requested.differences(from: manifest.settings).joined(separator: "; "))
        }
        try validate(manifest.settings)
        var run = InstrumentedRun(settings: manifest.settings, directory: directory, subject: try subject(manifest.settings))
        guard manifest.layers == run.manifest.layers, manifest.sampleCount == run.manifest.sampleCount else {
            throw FileError(path: directory.manifest, reason: "the manifest's layers or sample count do not match its settings")
        }
        run.manifest = manifest
        // Temporary files of writes a kill interrupted: never committed, never read.
        for folder in [directory.path, directory.activationsDirectory] where AtomicFile.isDirectory(folder) {
            for name in try AtomicFile.listDirectory(folder) where name.contains(".tmp-") {
                AtomicFile.remove(folder + "/" + name)
            }
        }
        // A checkpoint written before a kill: the committed one if the manifest
        // names its epoch (the kill fell between the manifest and the rename),
        // else never committed.
        if AtomicFile.exists(directory.nextCheckpoint) {
            if let epoch = manifest.checkpointEpoch, (try? Self.checkpointFileEpoch(directory.nextCheckpoint)) == epoch {
                try AtomicFile.move(directory.nextCheckpoint, onto: directory.checkpoint)
            } else {
                AtomicFile.remove(directory.nextCheckpoint)
            }
        }
        if let epoch = manifest.checkpointEpoch {
            try run.restoreCheckpoint(epoch: epoch)
        }
        // Without a checkpoint the run restarts from its seed: the same bytes again.
        return run
    }

    /// Checks the settings every run uses: epochs, batch size, checkpoint
    /// interval, storage dtype and recording schedule.
    private static func validate(_ settings: RunSettings) throws {
        guard settings.epochs > 0 else { throw RunError("the number of epochs must be positive (got \(settings.epochs))") }
        guard settings.batchSize > 0 else { throw RunError("the batch size must be positive (got \(settings.batchSize))") }
        guard settings.checkpointInterval > 0 else { throw RunError("the checkpoint interval must be positive") }
        guard ["float32", "float16"].contains(settings.dtype) else { throw RunError("dtype must be float32 or float16") }
        _ = try schedule(settings)
    }

    /// A run of `subject`; `settings` must have passed `validate` (both
    /// `start` and `resume` check them before building the subject).
    private init(settings: RunSettings, directory: RunDirectory, subject: RunSubject<Training>) {
        self.settings = settings
        self.directory = directory
        let samples = subject.samples
        recordedInputs = samples.inputs
        labelNoise = samples.labelNoise
        tables = RunTables(tracksLabelNoise: samples.labelNoise != nil)
        let start = subject.trainer.epoch
        precondition(start == 0, "InstrumentedRun: the subject's trainer is at epoch \(start), not 0")
        trainer = subject.trainer
        schedule = Set(try! Self.schedule(settings).epochs(total: settings.epochs))
        let tensors = subject.trainer.model.recordedTensors
        precondition(!tensors.isEmpty, "InstrumentedRun: the model records no tensors")
        recordedShapes = tensors.map { [samples.labels.count] + $0.shape }
        let recordedTrain = samples.trainMask.filter { $0 }.count
        manifest = RunManifest(software: Self.software, settings: settings,
                               layers: tensors.enumerated().map { $0.element.layerDescription(index: $0.offset + 1) },
                               sampleCount: samples.labels.count, trainCount: recordedTrain,
                               testCount: samples.labels.count - recordedTrain,
                               plannedEpochs: schedule.sorted())
    }
}

// MARK: The MLP tasks

extension InstrumentedRun where Training == ClassificationTrainer<RecordedMLP> {
    /// Starts a new run of `settings.task` in `path`, which must not already hold a run.
    ///
    /// - Throws: `RunError` if `path` holds a manifest (nothing is touched),
    ///   `FileError` if data cannot be read or files cannot be written.
    public static func start(settings: RunSettings, at path: String) throws -> RecordedRun {
        try start(settings: settings, at: path, subject: mlpSubject)
    }

    /// Reopens the run in `path` to continue it from its last checkpoint.
    ///
    /// - Parameter requested: settings given on the command line, which must
    ///   equal the run's (nil: take the run's).
    /// - Throws: `FileError` for a missing or damaged manifest or checkpoint,
    ///   `RunError` for settings that differ from the run's.
    public static func resume(at path: String, requested: RunSettings? = nil) throws -> RecordedRun {
        try resume(at: path, requested: requested, subject: mlpSubject)
    }

    /// The current network.
    public var model: MLP { trainer.model.network }

    /// The MLP settings (activation, what is recorded, optimizer, schedules,
    /// mixup, samples, label noise); the rest `validate` checks.
    private static func validateMLP(_ settings: RunSettings) throws {
        guard Activation(rawValue: settings.activation) != nil else {
            throw RunError("unknown activation \"\(settings.activation)\" (use \(Activation.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard ["post", "pre"].contains(settings.activations) else { throw RunError("activations must be post or pre") }
        _ = try optimizer(settings)
        _ = try learningRateSchedule(settings.learningRateSchedule)
        _ = try mixup(settings.mixupAlpha)
        if let samples = settings.recordedSamples, !["all", "test", "train"].contains(samples) {
            throw RunError("recorded samples must be all, test or train (got \"\(samples)\")")
        }
        if let noise = settings.labelNoise, !(noise >= 0 && noise <= 1) {
            throw RunError("label noise must be a fraction in [0, 1] (got \(noise))")
        }
    }

    /// The MLP of `settings` on its task's data (label noise applied), its
    /// trainer, and the recorded samples (`recordedSamples`).
    static func mlpSubject(_ settings: RunSettings) throws -> RunSubject<Training> {
        try validateMLP(settings)
        let (data, corruption) = try Self.data(for: settings)
        guard settings.widths.first == data.featureCount, settings.widths.last == data.classCount else {
            throw RunError("network \(settings.widths.map(String.init).joined(separator: "-")) does not fit \(data.featureCount) inputs and \(data.classCount) classes")
        }
        let rows = Self.recordedRows(settings, split: data.split, count: data.sampleCount)
        let inputs = rows == Array(0..<data.sampleCount) ? data.inputs : data.rows(rows).inputs
        var rng = RandomGenerator(seed: settings.seed)
        let activation = Activation(rawValue: settings.activation)!
        guard let initializer = Initializer(rawValue: settings.initializer) else {
            throw RunError("unknown initializer \"\(settings.initializer)\"")
        }
        let model = MLP(widths: settings.widths, hiddenActivation: activation, initializer: initializer, rng: &rng)
        let train = data.train, test = data.test
        let trainer = ClassificationTrainer(
            model: RecordedMLP(network: model, preActivation: settings.activations == "pre"),
            optimizer: try Self.optimizer(settings), rng: rng, batchSize: settings.batchSize,
            data: TrainingData(trainInputs: train.inputs, trainLabels: train.labels,
                               testInputs: test.inputs, testLabels: test.labels, classes: data.classCount),
            schedule: try Self.learningRateSchedule(settings.learningRateSchedule),
            mixup: try Self.mixup(settings.mixupAlpha))
        var isTrain = [Bool](repeating: false, count: data.sampleCount)
        for i in data.split.train { isTrain[i] = true }
        let noise = corruption.map { c in
            LabelNoiseTracking(trainLabels: train.labels, trueTrainLabels: data.split.train.map { c.trueLabels[$0] },
                               corruptedTrain: data.split.train.map { c.corrupted[$0] },
                               trueLabels: rows.map { c.trueLabels[$0] }, corrupted: rows.map { c.corrupted[$0] })
        }
        return RunSubject(trainer: trainer,
                          samples: RecordedSamples(inputs: inputs, labels: rows.map { data.labels[$0] },
                                                   trainMask: rows.map { isTrain[$0] }, labelNoise: noise))
    }
}

extension InstrumentedRun {
    /// The epoch training continues from.
    public var epoch: Int { trainer.epoch }
    /// Whether the run has finished.
    public var isComplete: Bool { manifest.complete }
    /// The metrics so far.
    public var metricsHistory: [EpochMetrics] { metrics }

    /// Trains to the planned number of epochs, recording and committing as it goes.
    ///
    /// - Parameters:
    ///   - stopAfter: stop (uncommitted work dropped as by a crash) after this
    ///     many epochs; for tests of resumption.
    ///   - progress: called after every epoch.
    ///
    /// Compiled for the MLP tasks too: `infoplane train` calls it from
    /// another module, which would otherwise run the unspecialized loop.
    @_specialize(where Training == ClassificationTrainer<RecordedMLP>)
    public mutating func run(stopAfter: Int? = nil, progress: (TrainingProgress) -> Void = { _ in }) throws {
        if manifest.complete { return }
        do {
            try train(stopAfter: stopAfter, progress: progress)
        } catch {
            // What was handed over is written (or dropped after the writer's
            // own error) before the caller sees the error.
            try? writer.drain()
            throw error
        }
        // Returning early (stopAfter), the files are those of a kill at this
        // moment with the writer idle.
        try writer.drain()
    }

    @_specialize(where Training == ClassificationTrainer<RecordedMLP>)
    private mutating func train(stopAfter: Int?, progress: (TrainingProgress) -> Void) throws {
        if trainer.epoch == 0 && metrics.isEmpty {
            let m = evaluate()
            metrics.append(m)
            if schedule.contains(0) { try record(epoch: 0) }
            try commit(epoch: 0, checkpoint: false)
            progress(TrainingProgress(epoch: 0, totalEpochs: settings.epochs, metrics: m))
        }
        while trainer.epoch < settings.epochs {
            if let stopAfter, trainer.epoch >= stopAfter { return }
            let next = trainer.epoch + 1
            let recorded = schedule.contains(next)
            var accumulator: GradientAccumulator? = recorded
                ? GradientAccumulator(counts: trainer.weights.map(\.count)) : nil
            trainer.trainEpoch(gradients: &accumulator)
            let m = evaluate()
            metrics.append(m)
            if let accumulator {
                gradientRows += accumulator.statistics(epoch: next, weights: trainer.weights)
            }
            let checkpoint = next % settings.checkpointInterval == 0 || next == settings.epochs
            if recorded { try record(epoch: next) }
            if checkpoint || (recorded && monotonicSeconds() - lastCommit >= commitInterval) {
                try commit(epoch: next, checkpoint: checkpoint)
            }
            progress(TrainingProgress(epoch: next, totalEpochs: settings.epochs, metrics: m))
        }
        try finish()
    }

    /// The epoch's metrics; with label noise, also its memorization row.
    private mutating func evaluate() -> EpochMetrics {
        guard let labelNoise else { return trainer.evaluate() }
        let (m, predictions) = trainer.evaluateWithTrainPredictions()
        guard let predictions else {
            preconditionFailure("InstrumentedRun: a run with label noise needs a trainer that predicts classes (\(Training.self) gives no predictions)")
        }
        noiseRows.append(LabelNoiseMetrics.measure(epoch: m.epoch, predictions: predictions, labels: labelNoise.trainLabels,
                                                   trueLabels: labelNoise.trueTrainLabels, corrupted: labelNoise.corruptedTrain,
                                                   testAccuracy: m.testAccuracy))
        return m
    }

    /// Computes the activations of a recorded epoch and hands them to the
    /// writer (durable at the next commit).
    private mutating func record(epoch: Int) throws {
        let outputs = trainer.model.recordedActivations(recordedInputs)
        precondition(outputs.count == recordedShapes.count,
                     "InstrumentedRun: \(Training.Model.self) recorded \(outputs.count) tensors, its recordedTensors name \(recordedShapes.count)")
        for (l, output) in outputs.enumerated() {
            precondition(output.shape == recordedShapes[l],
                         "InstrumentedRun: recorded tensor \(l + 1) (\"\(manifest.layers[l].name)\") of \(Training.Model.self) has shape \(output.shape), expected \(recordedShapes[l])")
            guard output.isFinite else {
                throw RunError("layer \(l + 1) has NaN or infinite activations at epoch \(epoch): training diverged (lower the learning rate)")
            }
        }
        let dtype: NPYDType = settings.dtype == "float16" ? .float16 : .float32
        let directory = directory
        try writer.submit(bytes: outputs.reduce(0) { $0 + 4 * $1.count }) {
            for (l, output) in outputs.enumerated() {
                try NPY.write(NPYArray(floats: output.scalars, shape: output.shape, as: dtype),
                              to: directory.activations(epoch: epoch, layer: l + 1), durability: .deferred)
            }
        }
        pendingRecords.append(epoch)
    }

    /// Commits epoch `epoch`: hands the writer the rows added since the last
    /// commit, the checkpoint state when asked, and the manifest that vouches
    /// for them. The writer writes the tables (and the checkpoint), makes
    /// everything written so far durable with one flush, then writes the
    /// manifest, listing the pending recorded epochs.
    private mutating func commit(epoch: Int, checkpoint: Bool) throws {
        let newMetrics = Array(metrics[metricsHandedOver...])
        let (newGradients, newNoise) = (gradientRows, noiseRows)
        metricsHandedOver = metrics.count
        gradientRows = []
        noiseRows = []
        let state = checkpoint ? checkpointState() : nil
        if checkpoint { manifest.checkpointEpoch = epoch }
        manifest.epochsCompleted = epoch
        if let first = pendingRecords.first {
            manifest.recordedEpochs = manifest.recordedEpochs.filter { $0 < first } + pendingRecords
            pendingRecords = []
        }
        let (directory, tables, manifest) = (directory, tables, manifest)
        let bytes = 64 * (newMetrics.count + newGradients.count + newNoise.count) + (state?.bytes ?? 0)
        try writer.submit(bytes: bytes) {
            tables.append(metrics: newMetrics, gradients: newGradients, noise: newNoise)
            try AtomicFile.write(tables.metricsCSV.bytes, to: directory.metrics, durability: .deferred)
            try AtomicFile.write(tables.gradientsCSV.bytes, to: directory.gradients, durability: .deferred)
            if tables.tracksLabelNoise {
                try AtomicFile.write(tables.noiseCSV.bytes, to: directory.labelNoise, durability: .deferred)
            }
            if let state {
                try AtomicFile.write(NPZ.encode(tables.checkpointArrays(state)), to: directory.nextCheckpoint, durability: .deferred)
            }
            // One flush for the whole batch, then the manifest (synchronized)
            // that vouches for it: a power loss cannot leave a manifest
            // pointing at files that never reached the disk.
            AtomicFile.flushFileSystem(containing: directory.path)
            try AtomicFile.write(manifest.encoded(), to: directory.manifest)
            if state != nil { try AtomicFile.move(directory.nextCheckpoint, onto: directory.checkpoint) }
        }
        lastCommit = monotonicSeconds()
    }

    /// Writes the weights and the completed manifest, then waits for the writer.
    private mutating func finish() throws {
        let parameters = trainer.model.parameters, names = trainer.model.parameterNames
        precondition(names.count == parameters.count,
                     "InstrumentedRun: \(Training.Model.self) names \(names.count) of its \(parameters.count) parameters")
        let arrays = zip(names, parameters).map { name, p in (name, NPYArray(floats: p.scalars, shape: p.shape)) }
        manifest.complete = true
        let (directory, manifest) = (directory, manifest)
        try writer.submit(bytes: parameters.reduce(0) { $0 + 4 * $1.count }) {
            try NPZ.write(arrays, to: directory.weights)
            try AtomicFile.write(manifest.encoded(), to: directory.manifest)
        }
        try writer.drain()
    }

    private func writeManifest() throws {
        try AtomicFile.write(manifest.encoded(), to: directory.manifest)
    }

    // MARK: Checkpoints

    /// What a checkpoint holds besides the tables: the parameters, the
    /// optimizer's state, the generator and the epoch.
    /// The state to checkpoint, in buffers of its own: the writer reads them while training
    /// goes on. (Sharing the trainer's buffers would be safe by copy-on-write, but the
    /// uniqueness check that makes it safe happens inside the uninstrumented Swift runtime,
    /// so ThreadSanitizer sees the optimizer's next in-place update race with the writer's
    /// read. The training thread's first update after a checkpoint would copy them anyway
    /// while the writer still held them.)
    private func checkpointState() -> CheckpointState {
        func own(_ t: Tensor) -> Tensor { Tensor(shape: t.shape, scalars: t.scalars.withUnsafeBufferPointer { Array($0) }) }
        var optimizer = trainer.optimizer.state
        optimizer.slots = optimizer.slots.map { $0.map(own) }
        return CheckpointState(parameters: trainer.model.parameters.map(own), optimizer: optimizer,
                               rngWords: trainer.rng.stateWords, epoch: trainer.epoch)
    }

    /// The epoch a checkpoint file says it holds.
    static func checkpointFileEpoch(_ path: String) throws -> Int {
        guard let entry = try NPZ.read(path: path).first(where: { $0.name == "epoch" }),
              let values = try? entry.array.int64s(), values.count == 1 else {
            throw FileError(path: path, reason: "damaged checkpoint: no epoch")
        }
        return Int(values[0])
    }

    private mutating func restoreCheckpoint(epoch: Int) throws {
        let path = directory.checkpoint
        let entries = try NPZ.read(path: path)
        var byName = [String: NPYArray]()
        for entry in entries { byName[entry.name] = entry.array }
        func array(_ name: String) throws -> NPYArray {
            guard let a = byName[name] else { throw FileError(path: path, reason: "damaged checkpoint: no array \"\(name)\"") }
            return a
        }
        func int(_ name: String) throws -> Int {
            guard let v = try? array(name).int64s(), v.count == 1 else {
                throw FileError(path: path, reason: "damaged checkpoint: \"\(name)\" is not one integer")
            }
            return Int(v[0])
        }
        guard try int("epoch") == epoch else {
            throw FileError(path: path, reason: "checkpoint is of epoch \(try int("epoch")), the manifest says \(epoch)")
        }
        var parameters = trainer.model.parameters
        for i in parameters.indices {
            let a = try array("param_\(i)")
            guard a.shape == parameters[i].shape else {
                throw FileError(path: path, reason: "parameter \(i) has shape \(a.shape), expected \(parameters[i].shape)")
            }
            parameters[i] = Tensor(shape: a.shape, scalars: a.floats())
        }
        trainer.model.parameters = parameters
        var state = trainer.optimizer.state
        state.step = try int("optimizer_step")
        if state.step > 0 {
            state.slots = try state.slots.indices.map { s in
                try parameters.indices.map { i in
                    let a = try array("optimizer_slot_\(s)_\(i)")
                    guard a.shape == parameters[i].shape else {
                        throw FileError(path: path, reason: "optimizer slot \(s) of parameter \(i) has shape \(a.shape)")
                    }
                    return Tensor(shape: a.shape, scalars: a.floats())
                }
            }
        }
        trainer.optimizer.state = state
        guard let words = try? array("rng_state").int64s(), words.count == 4 else {
            throw FileError(path: path, reason: "damaged checkpoint: rng_state is not 4 integers")
        }
        trainer.rng = RandomGenerator(state: words.map { UInt64(bitPattern: $0) })
        trainer.epoch = epoch
        let m = try array("metrics"), g = try array("gradients")
        guard m.shape.count == 2, m.shape[1] == 5, g.shape.count == 2, g.shape[1] == 6 else {
            throw FileError(path: path, reason: "damaged checkpoint: metrics or gradients history has the wrong shape")
        }
        let mv = m.doubles(), gv = g.doubles()
        metrics = (0..<m.shape[0]).map { r in
            EpochMetrics(epoch: Int(mv[5 * r]), trainLoss: mv[5 * r + 1], trainAccuracy: mv[5 * r + 2],
                         testLoss: mv[5 * r + 3], testAccuracy: mv[5 * r + 4])
        }
        gradientRows = (0..<g.shape[0]).map { r in
            LayerGradientStatistics(epoch: Int(gv[6 * r]), layer: Int(gv[6 * r + 1]), meanNorm: gv[6 * r + 2],
                                    standardDeviationNorm: gv[6 * r + 3], weightNorm: gv[6 * r + 4], batches: Int(gv[6 * r + 5]))
        }
        if labelNoise != nil {
            let a = try array("label_noise")
            guard a.shape.count == 2, a.shape[1] == 6, a.shape[0] == m.shape[0] else {
                throw FileError(path: path, reason: "damaged checkpoint: label_noise history has the wrong shape")
            }
            let v = a.doubles()
            noiseRows = (0..<a.shape[0]).map { r in LabelNoiseMetrics(values: Array(v[(6 * r)..<(6 * r + 6)])) }
        }
        guard metrics.count == epoch + 1 else {
            throw FileError(path: path, reason: "damaged checkpoint: \(metrics.count) metrics rows for epoch \(epoch)")
        }
    }
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// The state a checkpoint saves besides the tables, taken on the training
/// thread and encoded by the writer.
struct CheckpointState: Sendable {
    var parameters: [Tensor]
    var optimizer: OptimizerState
    var rngWords: [UInt64]
    var epoch: Int

    /// About the bytes it holds.
    var bytes: Int {
        4 * (parameters.reduce(0) { $0 + $1.count } + optimizer.slots.joined().reduce(0) { $0 + $1.count })
    }
}

/// The tables of a run as its writer keeps them: every row handed over so
/// far and the CSV text of each table. Only the writer's jobs touch it, one
/// at a time, in order.
final class RunTables: @unchecked Sendable {
    private(set) var metrics: [EpochMetrics] = []
    private(set) var gradients: [LayerGradientStatistics] = []
    private(set) var noise: [LabelNoiseMetrics] = []
    private(set) var metricsCSV = CSVText(header: EpochMetrics.csvHeader)
    private(set) var gradientsCSV = CSVText(header: LayerGradientStatistics.csvHeader)
    private(set) var noiseCSV = CSVText(header: LabelNoiseMetrics.csvHeader)
    /// Whether the run writes label-noise.csv.
    let tracksLabelNoise: Bool

    init(tracksLabelNoise: Bool) {
        self.tracksLabelNoise = tracksLabelNoise
    }

    func append(metrics newMetrics: [EpochMetrics], gradients newGradients: [LayerGradientStatistics],
                noise newNoise: [LabelNoiseMetrics]) {
        metrics += newMetrics
        gradients += newGradients
        noise += newNoise
        metricsCSV.append(newMetrics.lazy.map(\.csvRow))
        gradientsCSV.append(newGradients.lazy.map(\.csvRow))
        noiseCSV.append(newNoise.lazy.map(\.csvRow))
    }

    /// The arrays of checkpoint.npz, in file order: the parameters, the
    /// optimizer's step and slots, the generator, the epoch, and the tables.
    func checkpointArrays(_ state: CheckpointState) -> [(String, NPYArray)] {
        var arrays = [(String, NPYArray)]()
        for (i, p) in state.parameters.enumerated() {
            arrays.append(("param_\(i)", NPYArray(floats: p.scalars, shape: p.shape)))
        }
        arrays.append(("optimizer_step", NPYArray(int64s: [Int64(state.optimizer.step)], shape: [])))
        for (s, slot) in state.optimizer.slots.enumerated() {
            for (i, t) in slot.enumerated() {
                arrays.append(("optimizer_slot_\(s)_\(i)", NPYArray(floats: t.scalars, shape: t.shape)))
            }
        }
        arrays.append(("rng_state", NPYArray(int64s: state.rngWords.map { Int64(bitPattern: $0) }, shape: [4])))
        arrays.append(("epoch", NPYArray(int64s: [Int64(state.epoch)], shape: [])))
        arrays.append(("metrics", NPYArray(doubles: metrics.flatMap {
            [Double($0.epoch), $0.trainLoss, $0.trainAccuracy, $0.testLoss, $0.testAccuracy]
        }, shape: [metrics.count, 5])))
        arrays.append(("gradients", NPYArray(doubles: gradients.flatMap {
            [Double($0.epoch), Double($0.layer), $0.meanNorm, $0.standardDeviationNorm, $0.weightNorm, Double($0.batches)]
        }, shape: [gradients.count, 6])))
        if tracksLabelNoise {
            arrays.append(("label_noise", NPYArray(doubles: noise.flatMap(\.values), shape: [noise.count, 6])))
        }
        return arrays
    }
}
