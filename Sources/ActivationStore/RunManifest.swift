// manifest.json: what a run is, and the commit record of what it has written.
//
// The manifest is written last, atomically, after every file it refers to.
// A reader trusts exactly what it lists: the recorded epochs whose activation
// files are complete, and the metrics up to `epochs_completed`. Anything else
// in the directory (files of an epoch being written when the process was
// killed) is ignored and rewritten, byte for byte the same, on resume.

import ArrayIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One recorded tensor of the network: a layer's output, a feature map, a
/// per-position state.
///
/// Its activation files hold one row per sample: [N, width] for a vector
/// (`shape` nil, as every MLP layer), [N] + `shape` otherwise (e.g.
/// [N, C, H, W] or [N, L, D]). The estimators read a sample's values as one
/// vector of `width` numbers either way.
public struct LayerDescription: Codable, Sendable, Equatable {
    /// 1-based layer number, as in file names.
    public var index: Int
    /// A name for legends ("layer 1", …, "softmax").
    public var name: String
    /// The number of values per sample (units of a vector, the product of `shape`).
    public var width: Int
    /// The activation function's name ("tanh", "relu", …, "softmax").
    public var activation: String
    /// The shape of one sample's tensor, without the sample axis, when it is
    /// not a vector (nil: [width]; absent from the manifest then, so vector
    /// layers are written as before `shape` existed).
    public var shape: [Int]?

    /// A vector layer of `width` units.
    public init(index: Int, name: String, width: Int, activation: String) {
        self.index = index
        self.name = name
        self.width = width
        self.activation = activation
        self.shape = nil
    }

    /// A recorded tensor of any rank ≥ 1; a rank-1 shape [w] is a vector
    /// layer of width w, described exactly as by `init(index:name:width:activation:)`.
    public init(index: Int, name: String, shape: [Int], activation: String) {
        precondition(!shape.isEmpty && shape.allSatisfy { $0 > 0 },
                     "LayerDescription: shape \(shape) of \"\(name)\" must have rank ≥ 1 and positive sizes")
        self.init(index: index, name: name, width: shape.reduce(1, *), activation: activation)
        self.shape = shape.count == 1 ? nil : shape
    }

    /// The shape of one sample's tensor: `shape`, or [width] for a vector.
    public var sampleShape: [Int] { shape ?? [width] }
}

/// The training settings of a run: everything needed to reproduce it.
public struct RunSettings: Codable, Sendable, Equatable {
    /// The task ("tishby", "tishby-original", "fashion-mnist").
    public var task: String
    /// Where the data came from ("generated", a directory, a package path).
    public var dataSource: String
    /// Widths from input to output.
    public var widths: [Int]
    /// The hidden activation.
    public var activation: String
    /// The weight initializer.
    public var initializer: String
    /// Optimizer name and hyper-parameters.
    public var optimizer: [String: String]
    /// Samples per minibatch.
    public var batchSize: Int
    /// The planned number of epochs.
    public var epochs: Int
    /// The seed of every random choice (weights, minibatch order, split).
    public var seed: UInt64
    /// The fraction of samples used for training.
    public var trainingFraction: Double
    /// "random" (seeded) or "leading" (the first rows, as in IDNNs).
    public var splitMethod: String
    /// Training subset size for large data sets (nil: all).
    public var trainingSubset: Int?
    /// Test subset size for large data sets (nil: all).
    public var testSubset: Int?
    /// The recording schedule's name (`every`, `every:K`, `log:N`, `ibsgd`, a list).
    public var schedule: String
    /// "post" (after the activation, as both papers) or "pre".
    public var activations: String
    /// "float32" or "float16".
    public var dtype: String
    /// Epochs between checkpoints.
    public var checkpointInterval: Int
    /// Weight decay as `l2:λ`, `decoupled:λ` (the paper's AdamW/SGDW) or
    /// `pytorch:λ` (decay scaled by the learning rate); nil for none.
    public var weightDecay: String?
    /// The learning-rate schedule (`constant`, `step:K:F`, `cosine:T`, `sgdr:T0:TMULT`); nil for constant.
    public var learningRateSchedule: String?
    /// mixup's α (Zhang et al. 2018); nil for plain training (ERM).
    public var mixupAlpha: Double?
    /// Whose activations are recorded: "all" (nil), "test" or "train". The
    /// run's inputs.npy, labels.npy and train_mask.npy then hold exactly the
    /// recorded samples, in the same order as the activation rows.
    public var recordedSamples: String?
    /// The fraction of training labels replaced by a different random class
    /// (seeded; nil or 0: none). The true labels are kept in true_labels.npy,
    /// the corrupted samples marked in corrupted_mask.npy, and label-noise.csv
    /// records the memorization of the corrupted labels per epoch.
    public var labelNoise: Double?
    /// Settings particular to a task's model (the translation task's model
    /// kind, teacher run, targets, copying), as names and values; nil for
    /// tasks that have none.
    public var subject: [String: String]?

    public init(task: String, dataSource: String, widths: [Int], activation: String, initializer: String,
                optimizer: [String: String], batchSize: Int, epochs: Int, seed: UInt64,
                trainingFraction: Double, splitMethod: String, trainingSubset: Int? = nil, testSubset: Int? = nil,
                schedule: String, activations: String, dtype: String, checkpointInterval: Int,
                weightDecay: String? = nil, learningRateSchedule: String? = nil, mixupAlpha: Double? = nil,
                recordedSamples: String? = nil, labelNoise: Double? = nil, subject: [String: String]? = nil) {
        self.task = task
        self.dataSource = dataSource
        self.widths = widths
        self.activation = activation
        self.initializer = initializer
        self.optimizer = optimizer
        self.batchSize = batchSize
        self.epochs = epochs
        self.seed = seed
        self.trainingFraction = trainingFraction
        self.splitMethod = splitMethod
        self.trainingSubset = trainingSubset
        self.testSubset = testSubset
        self.schedule = schedule
        self.activations = activations
        self.dtype = dtype
        self.checkpointInterval = checkpointInterval
        self.weightDecay = weightDecay
        self.learningRateSchedule = learningRateSchedule
        self.mixupAlpha = mixupAlpha
        self.recordedSamples = recordedSamples
        self.labelNoise = labelNoise
        self.subject = subject
    }

    /// The names of the settings that differ between two runs, for error messages.
    public func differences(from other: RunSettings) -> [String] {
        var names = [String]()
        let mirrorA = Mirror(reflecting: self), mirrorB = Mirror(reflecting: other)
        for (a, b) in zip(mirrorA.children, mirrorB.children) where "\(a.value)" != "\(b.value)" {
            names.append("\(a.label ?? "?"): \(b.value) in the run, \(a.value) requested")
        }
        return names
    }
}

/// The contents of `manifest.json` (keys in snake_case: `format_version`,
/// `epochs_completed`, `recorded_epochs`, …).
public struct RunManifest: Codable, Sendable, Equatable {
    /// The version of this directory layout.
    public var formatVersion: Int
    /// The program that wrote the run.
    public var software: String
    /// How the run was trained.
    public var settings: RunSettings
    /// The recorded layers (tensors), input side first; for MLPs the last is
    /// the softmax output.
    public var layers: [LayerDescription]
    /// Samples in `inputs.npy` (training and test).
    public var sampleCount: Int
    /// Training samples (rows marked true in `train_mask.npy`).
    public var trainCount: Int
    /// Test samples.
    public var testCount: Int
    /// The epochs the schedule will record, for readers planning ahead.
    public var plannedEpochs: [Int]
    /// Training epochs completed and committed (metrics rows 0...this are valid).
    public var epochsCompleted: Int
    /// Epochs whose activation files are all written and valid.
    public var recordedEpochs: [Int]
    /// The epoch of the newest checkpoint, if any.
    public var checkpointEpoch: Int?
    /// Whether training finished and the final weights are written.
    public var complete: Bool

    /// The current directory-format version.
    public static let currentFormatVersion = 1

    public init(software: String, settings: RunSettings, layers: [LayerDescription], sampleCount: Int,
                trainCount: Int, testCount: Int, plannedEpochs: [Int]) {
        formatVersion = Self.currentFormatVersion
        self.software = software
        self.settings = settings
        self.layers = layers
        self.sampleCount = sampleCount
        self.trainCount = trainCount
        self.testCount = testCount
        self.plannedEpochs = plannedEpochs
        epochsCompleted = -1
        recordedEpochs = []
        checkpointEpoch = nil
        complete = false
    }

    /// Deterministic JSON: sorted keys, pretty-printed, trailing newline.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return Array(try encoder.encode(self)) + [10]
    }

    /// Decodes and validates a manifest read from `path`.
    ///
    /// - Throws: `FileError` naming `path` when the JSON is malformed, a
    ///   field is missing, the format version is unknown, or the commit
    ///   record is inconsistent.
    public static func decode(_ bytes: [UInt8], path: String) throws -> RunManifest {
        try JSONLimits.check(bytes, path: path)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let manifest: RunManifest
        do {
            manifest = try decoder.decode(RunManifest.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw FileError(path: path, reason: "damaged manifest (\(describe(error)))")
        } catch {
            throw FileError(path: path, reason: "damaged manifest (\(error))")
        }
        guard manifest.formatVersion == currentFormatVersion else {
            throw FileError(path: path, reason: "manifest format version \(manifest.formatVersion) is not supported (expected \(currentFormatVersion))")
        }
        guard manifest.layers.enumerated().allSatisfy({ $0.element.index == $0.offset + 1 && $0.element.width > 0 }),
              !manifest.layers.isEmpty else {
            throw FileError(path: path, reason: "damaged manifest (layers must be numbered 1, 2, … with positive widths)")
        }
        if let bad = manifest.layers.first(where: { l in
            l.shape.map { $0.isEmpty || !$0.allSatisfy { $0 > 0 } || $0.reduce(1, *) != l.width } ?? false
        }) {
            throw FileError(path: path, reason: "damaged manifest (layer \(bad.index) has shape \(bad.shape!) for width \(bad.width))")
        }
        guard manifest.recordedEpochs == manifest.recordedEpochs.sorted(),
              manifest.recordedEpochs.allSatisfy({ $0 >= 0 && $0 <= manifest.epochsCompleted }) else {
            throw FileError(path: path, reason: "damaged manifest (recorded epochs beyond epochs_completed or unsorted)")
        }
        return manifest
    }
}

private func describe(_ error: DecodingError) -> String {
    switch error {
    case .dataCorrupted(let context):
        return "not valid JSON" + (context.codingPath.isEmpty ? "" : " at \(path(context.codingPath))")
    case .keyNotFound(let key, let context):
        return "missing field \(path(context.codingPath + [key]))"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
        return "wrong type for \(path(context.codingPath))"
    @unknown default:
        return "\(error)"
    }
}

private func path(_ codingPath: [any CodingKey]) -> String {
    codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
}
