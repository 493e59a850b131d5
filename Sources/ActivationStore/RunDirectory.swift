// The layout of a run directory, and reading it back.
//
//   manifest.json                          settings and the commit record
//   inputs.npy                             float32 [N, features] (or [N, …]), all samples
//   labels.npy                             int64 [N]
//   train_mask.npy                         bool [N], true for training samples
//   activations/epoch-<E>-layer-<L>.npy    float32 or float16 [N, width_L]
//                                          ([N] + shape_L for tensors of higher rank)
//   metrics.csv                            one row per epoch 0...epochs_completed
//   gradients.csv                          one row per recorded epoch ≥ 1 and layer
//   checkpoint.npz                         weights, optimizer state, RNG, histories
//   checkpoint-next.npz                    (briefly) the checkpoint being committed
//   weights.npz                            final weights W1, b1, … (complete runs)
//
// One file per epoch and layer (rather than one per layer with an epoch
// axis): each is written once, atomically, and never appended to, so a kill
// at any moment leaves only whole files; a reader memory-maps nothing and
// loads exactly the (epoch, layer) it analyses; and the names are those of
// `infoplane estimate --activations`, so a run directory and activations
// exported from PyTorch are read by the same code.

import ArrayIO

/// Paths inside a run directory.
public struct RunDirectory: Sendable {
    /// The directory.
    public let path: String

    public init(_ path: String) {
        self.path = path.hasSuffix("/") && path.count > 1 ? String(path.dropLast()) : path
    }

    public var manifest: String { path + "/manifest.json" }
    public var inputs: String { path + "/inputs.npy" }
    public var labels: String { path + "/labels.npy" }
    public var trainMask: String { path + "/train_mask.npy" }
    public var activationsDirectory: String { path + "/activations" }
    public var metrics: String { path + "/metrics.csv" }
    public var gradients: String { path + "/gradients.csv" }
    public var checkpoint: String { path + "/checkpoint.npz" }
    /// A new checkpoint, written before the manifest that names its epoch and
    /// renamed onto `checkpoint` after it (see RecordedRun's commit protocol).
    public var nextCheckpoint: String { path + "/checkpoint-next.npz" }
    public var weights: String { path + "/weights.npz" }

    /// The file of layer `layer` (1-based) at epoch `epoch`.
    public func activations(epoch: Int, layer: Int) -> String {
        activationsDirectory + "/" + Self.activationFileName(epoch: epoch, layer: layer)
    }

    /// `epoch-<E>-layer-<L>.npy`.
    public static func activationFileName(epoch: Int, layer: Int) -> String {
        "epoch-\(epoch)-layer-\(layer).npy"
    }

    /// Parses `epoch-<E>-layer-<L>.npy` into (E, L); nil for other names.
    public static func parseActivationFileName(_ name: String) -> (epoch: Int, layer: Int)? {
        guard name.hasPrefix("epoch-"), name.hasSuffix(".npy") else { return nil }
        let core = name.dropFirst(6).dropLast(4)
        let parts = core.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1] == "layer", let e = Int(parts[0]), let l = Int(parts[2]),
              e >= 0, l >= 1, String(e) == parts[0], String(l) == parts[2] else { return nil }
        return (e, l)
    }

    /// Reads and validates the manifest.
    ///
    /// - Throws: `FileError` when the directory or its manifest is missing
    ///   (not a run directory) or the manifest is damaged.
    public func readManifest() throws -> RunManifest {
        guard AtomicFile.isDirectory(path) else {
            throw FileError(path: path, reason: "no such run directory")
        }
        guard AtomicFile.exists(manifest) else {
            throw FileError(path: manifest, reason: "missing manifest: not a run directory, or a run that never committed an epoch")
        }
        return try RunManifest.decode(JSONLimits.read(manifest), path: manifest)
    }
}

/// A committed run, opened for reading.
public struct RunReader: Sendable {
    public let directory: RunDirectory
    public let manifest: RunManifest

    /// Opens the run at `path`.
    /// - Throws: `FileError` (see `RunDirectory.readManifest`).
    public init(path: String) throws {
        directory = RunDirectory(path)
        manifest = try directory.readManifest()
    }

    /// The committed activations of `layer` (1-based) at `epoch` as Float32,
    /// as an [N, width] matrix (a tensor of shape [N] + `shape` is read with
    /// each sample's values flattened in row-major order).
    ///
    /// - Throws: `FileError` if the epoch was not recorded, the layer does
    ///   not exist, or the file is missing, damaged or of the wrong shape.
    public func activations(epoch: Int, layer: Int) throws -> (values: [Float], rows: Int, columns: Int) {
        let file = directory.activations(epoch: epoch, layer: layer)
        guard manifest.recordedEpochs.contains(epoch) else {
            throw FileError(path: directory.path, reason: "epoch \(epoch) is not recorded in this run (recorded: \(summary(manifest.recordedEpochs)))")
        }
        guard layer >= 1 && layer <= manifest.layers.count else {
            throw FileError(path: directory.path, reason: "layer \(layer) does not exist (layers 1...\(manifest.layers.count))")
        }
        let array = try NPY.readFloats(path: file)
        let description = manifest.layers[layer - 1]
        let expected = [manifest.sampleCount] + description.sampleShape
        guard array.shape == expected else {
            throw FileError(path: file, reason: "shape \(array.shape), the manifest says \(expected)")
        }
        guard array.dtype == .float32 || array.dtype == .float16 else {
            throw FileError(path: file, reason: "dtype \(array.dtype), expected <f4 or <f2")
        }
        return (array.values, manifest.sampleCount, description.width)
    }

    /// The labels of all samples.
    public func labels() throws -> [Int] {
        let array = try NPY.read(path: directory.labels)
        guard array.shape == [manifest.sampleCount] else {
            throw FileError(path: directory.labels, reason: "shape \(array.shape), the manifest says [\(manifest.sampleCount)]")
        }
        do { return try array.ints() } catch { throw FileError(path: directory.labels, reason: "\(error)") }
    }

    /// The inputs of all samples, [N, features] (inputs of higher rank,
    /// [N, …], with each sample flattened in row-major order).
    public func inputs() throws -> (values: [Float], rows: Int, columns: Int) {
        let array = try NPY.readFloats(path: directory.inputs)
        guard array.shape.count >= 2, array.shape[0] == manifest.sampleCount else {
            throw FileError(path: directory.inputs, reason: "shape \(array.shape), the manifest says \(manifest.sampleCount) rows")
        }
        return (array.values, array.shape[0], array.shape.dropFirst().reduce(1, *))
    }

    /// Whether each sample is a training sample.
    public func trainMask() throws -> [Bool] {
        let array = try NPY.read(path: directory.trainMask)
        guard array.shape == [manifest.sampleCount], array.dtype == .bool else {
            throw FileError(path: directory.trainMask, reason: "expected bool [\(manifest.sampleCount)], got \(array.dtype) \(array.shape)")
        }
        return array.bools()
    }

    /// The committed metrics rows (epochs 0...epochs_completed).
    public func metrics() throws -> [EpochMetrics] {
        try RunCSV.readMetrics(directory.metrics).filter { $0.epoch <= manifest.epochsCompleted }
    }

    /// The committed gradient statistics.
    public func gradientStatistics() throws -> [LayerGradientStatistics] {
        guard AtomicFile.exists(directory.gradients) else { return [] }
        return try RunCSV.readGradients(directory.gradients).filter { $0.epoch <= manifest.epochsCompleted }
    }
}

/// A short list of epochs for messages: "0, 1, 2, …, 7999 (274 epochs)".
func summary(_ epochs: [Int]) -> String {
    if epochs.isEmpty { return "none" }
    if epochs.count <= 6 { return epochs.map(String.init).joined(separator: ", ") }
    return epochs.prefix(3).map(String.init).joined(separator: ", ") + ", …, \(epochs.last!) (\(epochs.count) epochs)"
}
